//! The built binary, copied into an empty folder, runs with nothing beside it: the workflow, the
//! rule book, the calendar and every template are inside it; `defaults export` writes them out
//! and the exported files work as overrides.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_contract-review");

/// The binary copied into a fresh empty folder, and that folder.
fn binary_alone() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("contract-review");
    std::fs::copy(BIN, &copy).unwrap();
    (dir, copy)
}

async fn run_in(dir: &Path, binary: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(binary)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("run the copied binary");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_binary_alone_checks_the_workflow_and_screens_a_file() {
    let (dir, binary) = binary_alone();

    let (code, stdout, stderr) = run_in(dir.path(), &binary, &["workflow", "check"]).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("contract-review@2"), "{stdout}");

    std::fs::write(
        dir.path().join("draft.md"),
        "# 施工合同\n\n第三条 乙方垫资施工，工程竣工后甲方再行支付。\n",
    )
    .unwrap();
    let (code, stdout, stderr) = run_in(
        dir.path(),
        &binary,
        &["screen", "--type", "construction", "draft.md"],
    )
    .await;
    assert_eq!(code, Some(2), "a blocking finding: {stdout}{stderr}");
    assert!(stdout.contains("垫资"), "{stdout}");
}

#[tokio::test]
async fn the_binary_alone_serves_the_demo_with_its_data_under_data_dir() {
    let (dir, binary) = binary_alone();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(&binary)
        .args([
            "serve",
            "--demo",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
            "state",
        ])
        .current_dir(dir.path())
        .env_clear()
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start serve");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let login = loop {
        if let Ok(response) = client
            .get(format!("http://127.0.0.1:{port}/login"))
            .send()
            .await
        {
            break response;
        }
        assert!(Instant::now() < deadline, "serve did not answer");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(login.status(), StatusCode::OK);
    let page = login.text().await.unwrap();
    assert!(page.contains("name=\"email\""), "{page}");
    assert!(
        dir.path().join("state/contract-review.db").exists(),
        "the database lives under --data-dir"
    );
    child.kill().await.unwrap();
}

#[tokio::test]
async fn exported_defaults_are_the_built_in_ones_and_work_as_overrides() {
    let (dir, binary) = binary_alone();

    let (code, stdout, stderr) = run_in(dir.path(), &binary, &["defaults", "export", "mine"]).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("--templates-dir"), "{stdout}");
    let exported = dir.path().join("mine");
    for file in [
        "workflows/contract-review.toml",
        "workflows/screening-rules.toml",
        "workflows/calendar-cn.toml",
        "templates/opinion.md",
        "templates/email/approved.md",
        "templates/web/contract.html",
        "templates/web/site.css",
    ] {
        let ours = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap();
        assert_eq!(std::fs::read(exported.join(file)).unwrap(), ours, "{file}");
    }

    let (code, _, stderr) = run_in(dir.path(), &binary, &["defaults", "export", "mine"]).await;
    assert_eq!(code, Some(1), "an existing export is not overwritten");
    assert!(stderr.contains("--force"), "{stderr}");

    let workflow = exported.join("workflows/contract-review.toml");
    let source = std::fs::read_to_string(&workflow).unwrap();
    std::fs::write(&workflow, source.replace("version = 2", "version = 7")).unwrap();
    let (code, stdout, stderr) = run_in(
        dir.path(),
        &binary,
        &[
            "workflow",
            "check",
            "--workflow",
            "mine/workflows/contract-review.toml",
            "--templates-dir",
            "mine/templates",
        ],
    )
    .await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("contract-review@7"), "{stdout}");
}
