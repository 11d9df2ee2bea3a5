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

on_both_backends!(
    operators_create_agencies_and_users_who_can_then_sign_in,
    audit_verify_finds_a_tampered_event,
    audit_verify_finds_chains_cut_short_and_states_set_by_hand,
    contracts_finish_under_the_workflow_version_they_started_with,
);

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

async fn audit_verify_finds_a_tampered_event(app: TestApp) {
    let world = crate::helpers::World::build(&app).await;
    let contract = app
        .create_contract(
            &world.submitter_a,
            &crate::helpers::valid_contract("被篡改的合同"),
        )
        .await;
    let id = contract["id"].as_str().unwrap().to_owned();
    app.fire_ok(
        &world.submitter_a,
        &id,
        "submit",
        &serde_json::json!({ "expected_version": 1 }),
    )
    .await;
    let (code, stdout, _) = audit_verify(&app.database_url).await;
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("audit trail intact"), "{stdout}");

    // Someone with database access bypasses the append-only trigger and edits history.
    let disable = if app.database_url.starts_with("sqlite:") {
        "DROP TRIGGER audit_events_append_only_update"
    } else {
        "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"
    };
    app.execute_sql(disable).await;
    app.execute_sql(
        "UPDATE audit_events SET data = REPLACE(data, 'submit', 'approve') WHERE action = 'contract.transition'",
    )
    .await;

    let (code, _, stderr) = audit_verify(&app.database_url).await;

    assert_eq!(code, Some(1));
    assert!(stderr.contains(&format!("contract {id}")), "{stderr}");
    assert!(stderr.contains("seq 4"), "{stderr}");
    assert!(stderr.contains("hash does not match"), "{stderr}");
}

async fn audit_verify_finds_chains_cut_short_and_states_set_by_hand(app: TestApp) {
    let world = crate::helpers::World::build(&app).await;
    for title in ["截短的合同", "改状态的合同", "删光的合同"] {
        let contract = app
            .create_contract(&world.submitter_a, &crate::helpers::valid_contract(title))
            .await;
        app.fire_ok(
            &world.submitter_a,
            contract["id"].as_str().unwrap(),
            "submit",
            &serde_json::json!({ "expected_version": 1 }),
        )
        .await;
    }
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("audit.key");
    std::fs::write(&key, [7u8; 32]).unwrap();
    let checkpoint = dir.path().join("checkpoint.json");
    let (key, checkpoint) = (key.to_str().unwrap(), checkpoint.to_str().unwrap());
    let sealed = run(
        &app.database_url,
        &[
            "audit",
            "checkpoint",
            "--key-file",
            key,
            "--out",
            checkpoint,
        ],
        None,
    )
    .await;
    assert_eq!(sealed.code, Some(0), "{}", sealed.stderr);
    let (code, stdout, stderr) = audit_verify(&app.database_url).await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");

    // Someone with database access removes the last event of one chain, sets another
    // contract's state by hand, and removes a third contract's whole chain.
    let disable = if app.database_url.starts_with("sqlite:") {
        "DROP TRIGGER audit_events_append_only_delete"
    } else {
        "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"
    };
    app.execute_sql(disable).await;
    let of =
        |title: &str| format!("subject_id IN (SELECT id FROM contracts WHERE title = '{title}')");
    app.execute_sql(&format!(
        "DELETE FROM audit_events WHERE seq = 4 AND {}",
        of("截短的合同")
    ))
    .await;
    app.execute_sql("UPDATE contracts SET state = 'approved' WHERE title = '改状态的合同'")
        .await;
    app.execute_sql(&format!(
        "DELETE FROM audit_events WHERE {}",
        of("删光的合同")
    ))
    .await;

    let (code, _, stderr) = audit_verify(&app.database_url).await;
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("events were removed"), "{stderr}");
    assert!(
        stderr.contains("changed without an audit event"),
        "{stderr}"
    );
    assert!(stderr.contains("has no audit events"), "{stderr}");

    // Covering the tracks on the contract rows too still leaves the checkpoint's word.
    app.execute_sql(&format!(
        "UPDATE contracts SET audit_seq = 1, audit_hash = (SELECT hash FROM audit_events WHERE seq = 1 AND {}) WHERE title = '截短的合同'",
        of("截短的合同")
    ))
    .await;
    let against = run(
        &app.database_url,
        &[
            "audit",
            "verify",
            "--checkpoint",
            checkpoint,
            "--key-file",
            key,
        ],
        None,
    )
    .await;
    assert_eq!(against.code, Some(1), "{}", against.stderr);
    assert!(
        against
            .stderr
            .contains("shorter than the checkpoint recorded"),
        "{}",
        against.stderr
    );
    assert!(
        against.stderr.contains("checkpoint is gone"),
        "{}",
        against.stderr
    );
    std::fs::write(dir.path().join("audit.key"), [8u8; 32]).unwrap();
    let forged = run(
        &app.database_url,
        &[
            "audit",
            "verify",
            "--checkpoint",
            checkpoint,
            "--key-file",
            key,
        ],
        None,
    )
    .await;
    assert_eq!(forged.code, Some(1));
    assert!(
        forged.stderr.contains("seal does not match"),
        "{}",
        forged.stderr
    );
}

/// A copy of the default workflow with `change` applied, in a temporary directory.
fn workflow_variant(
    dir: &std::path::Path,
    name: &str,
    change: impl Fn(String) -> String,
) -> std::path::PathBuf {
    let source = std::fs::read_to_string("workflows/contract-review.toml").unwrap();
    let path = dir.join(name);
    std::fs::write(&path, change(source)).unwrap();
    path
}

async fn contracts_finish_under_the_workflow_version_they_started_with(app: TestApp) {
    let world = crate::helpers::World::build(&app).await;
    let mut contract = crate::helpers::valid_contract("按旧规则审查的合同");
    contract["amount_fen"] = serde_json::json!(100_000_000); // 1,000,000 yuan: no lead review under v2
    contract["contract_type"] = serde_json::json!("service"); // needs no materials
    let old = app.create_contract(&world.submitter_a, &contract).await;
    let old_id = old["id"].as_str().unwrap().to_owned();
    let in_review = app
        .fire_ok(
            &world.submitter_a,
            &old_id,
            "submit",
            &serde_json::json!({ "expected_version": 1 }),
        )
        .await;

    // Version 2 lowers the lead-review threshold to 500,000 yuan; a second instance loads it.
    let dir = tempfile::tempdir().unwrap();
    let v2 = workflow_variant(dir.path(), "v2.toml", |s| {
        s.replace("version = 2", "version = 3")
            .replace("500_000_000", "50_000_000")
    });
    let resources = |workflow| contract_review::defaults::Overrides {
        workflow: Some(workflow),
        ..Default::default()
    };
    let (second, _) =
        crate::helpers::Server::start(&app.database_url, Default::default(), resources(v2))
            .await
            .expect("a newer workflow version starts");
    let client = reqwest::Client::new();
    let approve = |base: String, id: String, version: i64| {
        let client = client.clone();
        let token = world.reviewer.clone();
        async move {
            let response = client
                .post(format!("{base}/api/v1/contracts/{id}/transitions/approve"))
                .bearer_auth(token)
                .json(&serde_json::json!({ "expected_version": version, "opinion": "同意" }))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<Value>().await.unwrap()
        }
    };

    let finished = approve(
        second.base.clone(),
        old_id,
        in_review["version"].as_i64().unwrap(),
    )
    .await;
    assert_eq!(
        finished["state"], "approved",
        "v1 rules: no lead review below 5,000,000 yuan"
    );
    assert_eq!(finished["workflow_version"], 2);

    let new = client
        .post(format!("{}/api/v1/contracts", second.base))
        .bearer_auth(&world.submitter_a)
        .json(&contract)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(new["workflow_version"], 3);
    let new_id = new["id"].as_str().unwrap().to_owned();
    let submitted = app
        .fire_ok(
            &world.submitter_a,
            &new_id,
            "submit",
            &serde_json::json!({ "expected_version": 1 }),
        )
        .await;
    // The first instance never read v2 from its file, yet follows it for the new contract.
    let routed = approve(
        app.base.clone(),
        new_id,
        submitted["version"].as_i64().unwrap(),
    )
    .await;
    assert_eq!(
        routed["state"], "lead_review",
        "v2 rules apply to contracts started under v2"
    );

    // Changing the rules without a new version is refused: contracts in flight rely on them.
    let sneaky = workflow_variant(dir.path(), "sneaky.toml", |s| {
        s.replace("version = 2", "version = 3")
            .replace("sla_days = 5", "sla_days = 9")
    });
    let refused =
        crate::helpers::Server::start(&app.database_url, Default::default(), resources(sneaky))
            .await;
    let message = format!("{:#}", refused.err().expect("refused"));
    assert!(message.contains("raise `version`"), "{message}");
}

#[tokio::test]
async fn the_service_refuses_to_start_on_a_broken_workflow_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("cr.db").display());
    let broken = workflow_variant(dir.path(), "broken.toml", |s| {
        s.replacen(
            r#"guards = ["own_agency"]"#,
            r#"guards = ["own_agency", "full_moon"]"#,
            1,
        )
    });
    let line = std::fs::read_to_string(&broken)
        .unwrap()
        .lines()
        .position(|l| l.contains("full_moon"))
        .unwrap()
        + 1;
    let broken = broken.to_str().unwrap().to_owned();

    let serve = run(
        &url,
        &["serve", "--bind", "127.0.0.1:0", "--workflow", &broken],
        None,
    )
    .await;

    assert_eq!(serve.code, Some(1));
    assert!(
        serve
            .stderr
            .contains(&format!("broken.toml:{line}: unknown guard `full_moon`")),
        "{}",
        serve.stderr
    );

    let check = run(&url, &["workflow", "check", &broken], None).await;
    assert_eq!(check.code, Some(1));
    assert!(
        check.stderr.contains(&format!("broken.toml:{line}:")),
        "{}",
        check.stderr
    );

    let good = run(&url, &["workflow", "check"], None).await;
    assert_eq!(good.code, Some(0), "{}", good.stderr);
    assert!(good.stdout.contains("contract-review@2"), "{}", good.stdout);

    let graph = run(&url, &["workflow", "graph"], None).await;
    assert_eq!(graph.code, Some(0));
    assert!(
        graph.stdout.starts_with("stateDiagram-v2"),
        "{}",
        graph.stdout
    );
    assert!(
        graph
            .stdout
            .contains("legal_review --> lead_review : approve ["),
        "{}",
        graph.stdout
    );
    assert!(
        graph
            .stdout
            .contains("approved --> legal_review : revise_approved (body changed)"),
        "{}",
        graph.stdout
    );
}

#[tokio::test]
async fn screen_flags_drafts_offline_with_exit_codes_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let draft = dir.path().join("guarantee.md");
    std::fs::write(
        &draft,
        "# 合作协议\n\n甲方（出让方）：某县人民政府\n乙方：某某投资有限公司\n\n## 第三条 融资\n\n乙方向银行贷款的，某县人民政府为该笔贷款提供连带责任保证。\n\n## 第四条 履约\n\n乙方应向甲方提交履约保函。\n",
    )
    .unwrap();
    let clean = dir.path().join("clean.md");
    std::fs::write(&clean, "# 采购合同\n\n第一条 验收合格后十日内付款。\n").unwrap();
    let facts = dir.path().join("facts.json");
    std::fs::write(&facts, r#"{"contract_type": "service", "counterparty": "某某投资有限公司", "unpaid_judgments": []}"#).unwrap();
    let (draft, clean, facts) = (
        draft.to_str().unwrap(),
        clean.to_str().unwrap(),
        facts.to_str().unwrap(),
    );

    let flagged = run(
        "sqlite::memory:",
        &["screen", "--facts", facts, "--format", "json", draft],
        None,
    )
    .await;

    assert_eq!(flagged.code, Some(2), "{}", flagged.stderr);
    let reports: Value = serde_json::from_str(&flagged.stdout).unwrap();
    let findings = reports[0]["findings"].as_array().unwrap();
    assert_eq!(
        findings.len(),
        1,
        "the performance bond is not a guarantee by the agency: {findings:#?}"
    );
    let finding = &findings[0];
    assert_eq!(finding["category"], "guarantee");
    assert_eq!(finding["severity"], "block");
    assert_eq!(finding["provision"], "三(一)");
    assert_eq!(finding["clause"], "合作协议 › 第三条 融资");
    let source = std::fs::read_to_string(draft).unwrap();
    let (start, end) = (
        finding["start"].as_u64().unwrap() as usize,
        finding["end"].as_u64().unwrap() as usize,
    );
    assert!(source[start..end].contains("提供连带责任保证"));
    let checklist = reports[0]["checklist"].as_array().unwrap();
    assert_eq!(
        checklist.len(),
        10,
        "nine prohibitions and the payment terms"
    );
    assert!(
        checklist
            .iter()
            .any(|c| c["category"] == "guarantee" && c["status"] == "flagged")
    );

    let passed = run(
        "sqlite::memory:",
        &["screen", "--type", "procurement", clean],
        None,
    )
    .await;
    assert_eq!(passed.code, Some(0), "{}", passed.stderr);
    assert!(passed.stdout.contains("✓"), "{}", passed.stdout);

    let unknown_type = run(
        "sqlite::memory:",
        &["screen", "--type", "loan", clean],
        None,
    )
    .await;
    assert_eq!(unknown_type.code, Some(1));
    assert!(
        unknown_type.stderr.contains("loan"),
        "{}",
        unknown_type.stderr
    );
    let missing = run("sqlite::memory:", &["screen", "/no/such/file.md"], None).await;
    assert_eq!(missing.code, Some(1));
}
