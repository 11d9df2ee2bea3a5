//! Re-embed the migrations, the workflow files and the templates whenever one changes or a file
//! is added (sqlx::migrate! and include_dir! read them at compile time).
fn main() {
    for dir in ["migrations", "workflows", "templates"] {
        println!("cargo:rerun-if-changed={dir}");
    }
}
