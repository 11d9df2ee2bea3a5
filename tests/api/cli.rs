//! The real binary: admin commands, `migrate`, and `serve --demo` with a clean shutdown.

use std::process::Stdio;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use crate::helpers::TestApp;
use crate::on_both_backends;

const BIN: &str = env!("CARGO_BIN_EXE_contract-review");

on_both_backends!(operators_create_agencies_and_users_who_can_then_sign_in);

struct Output {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

async fn run(database_url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env("CONTRACT_REVIEW_DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).await.expect("write stdin");
    }
    drop(input);
    let output = child.wait_with_output().await.expect("binary output");
    Output {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

async fn operators_create_agencies_and_users_who_can_then_sign_in(app: TestApp) {
    let url = app.database_url.clone();
    let created = run(
        &url,
        &[
            "admin",
            "create-agency",
            "--name",
            "某县财政局",
            "--parent",
            "测试市人民政府",
        ],
        None,
    )
    .await;
    assert_eq!(created.code, Some(0), "{}", created.stderr);
    let agency: Value = serde_json::from_str(&created.stdout).expect("agency JSON");
    assert_eq!(agency["parent_id"], serde_json::json!(app.root_agency));

    let user = run(
        &url,
        &[
            "admin",
            "create-user",
            "--email",
            "Chen@Finance.gov.cn",
            "--name",
            "陈审查",
            "--agency",
            "某县财政局",
            "--role",
            "submitter,signatory",
            "--password-stdin",
        ],
        Some("a long enough secret\n"),
    )
    .await;
    assert_eq!(user.code, Some(0), "{}", user.stderr);
    let user: Value = serde_json::from_str(&user.stdout).expect("user JSON");
    assert_eq!(user["roles"], serde_json::json!(["submitter", "signatory"]));

    // The user the operator made signs in through the running service.
    let login = app
        .try_login("chen@finance.gov.cn", "a long enough secret")
        .await;
    assert_eq!(login.status(), StatusCode::OK);

    let unknown_parent = run(
        &url,
        &[
            "admin",
            "create-agency",
            "--name",
            "x",
            "--parent",
            "无此机构",
        ],
        None,
    )
    .await;
    assert_eq!(unknown_parent.code, Some(1));
    assert!(
        unknown_parent.stderr.contains("无此机构"),
        "{}",
        unknown_parent.stderr
    );

    let weak = run(
        &url,
        &[
            "admin",
            "create-user",
            "--email",
            "w@x.gov.cn",
            "--name",
            "w",
            "--agency",
            "某县财政局",
            "--role",
            "boss",
            "--password-stdin",
        ],
        Some("short\n"),
    )
    .await;
    assert_eq!(weak.code, Some(1));
    assert!(
        weak.stderr.contains("roles") && weak.stderr.contains("password"),
        "{}",
        weak.stderr
    );

    let no_stdin_flag = run(
        &url,
        &[
            "admin",
            "create-user",
            "--email",
            "w@x.gov.cn",
            "--name",
            "w",
            "--agency",
            "某县财政局",
            "--role",
            "submitter",
        ],
        None,
    )
    .await;
    assert_eq!(
        no_stdin_flag.code,
        Some(2),
        "clap refuses a password source other than stdin"
    );
}

#[tokio::test]
async fn migrate_creates_the_database_and_refuses_unknown_schemes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/cr.db");
    let url = format!("sqlite:{}", path.display());

    let migrated = run(&url, &["migrate"], None).await;

    assert_eq!(migrated.code, Some(0), "{}", migrated.stderr);
    assert!(path.exists());
    let again = run(&url, &["migrate"], None).await;
    assert_eq!(again.code, Some(0), "migrating twice is harmless");
    let unknown = run("mysql://localhost/x", &["migrate"], None).await;
    assert_eq!(unknown.code, Some(1));
    assert!(
        unknown.stderr.contains("unsupported database URL"),
        "{}",
        unknown.stderr
    );
}

/// `contract-review audit verify` on a database: (exit code, stdout, stderr).
pub async fn audit_verify(database_url: &str) -> (Option<i32>, String, String) {
    let output = run(database_url, &["audit", "verify"], None).await;
    (output.code, output.stdout, output.stderr)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `serve --demo`, checks the demo through the API, stops it with SIGTERM.
async fn serve_demo_once(database_url: &str) -> usize {
    let port = free_port();
    let mut child = Command::new(BIN)
        .args(["serve", "--demo", "--bind", &format!("127.0.0.1:{port}")])
        .env("CONTRACT_REVIEW_DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start serve");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(response) = client.get(format!("{base}/readyz")).send().await
            && response.status() == StatusCode::OK
        {
            break;
        }
        assert!(Instant::now() < deadline, "serve did not become ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let login: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(
            &serde_json::json!({ "email": "clerk@edu.demo.gov.cn", "password": "demo-pass-2026" }),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().expect("demo clerk signs in");
    let page: Value = client
        .get(format!("{base}/api/v1/contracts"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let pid = child.id().expect("pid").to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("serve stops on SIGTERM")
        .unwrap();
    assert!(status.success(), "clean shutdown exits 0, got {status}");
    let mut stdout = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout)
        .await
        .unwrap();
    assert!(
        stdout.contains("reviewer@demo.gov.cn") && stdout.contains("demo-pass-2026"),
        "{stdout}"
    );
    page["items"].as_array().unwrap().len()
}

#[tokio::test]
async fn serve_demo_seeds_idempotently_and_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("demo.db").display());
    assert_eq!(serve_demo_once(&url).await, 3, "three demo drafts");
    assert_eq!(serve_demo_once(&url).await, 3, "seeding again adds nothing");
}
