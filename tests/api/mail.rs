//! E-mail against a real SMTP server: aiosmtpd (Debian's python3-aiosmtpd) in its own process on a
//! free port, storing what it receives in a Maildir, read back with a real MIME parser.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use contract_review::config::MailSettings;
use mail_parser::{MessageParser, MimeHeaders};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::helpers::{Server, TestApp, World, fast_mail, problem, valid_contract};

const PYTHON: &str = "/usr/bin/python3";

/// Runs each story on SQLite and PostgreSQL, with an SMTP server; skips loudly without one.
macro_rules! with_smtp {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(smtp) = super::SmtpServer::start().await else { return };
                    let app = crate::helpers::TestApp::sqlite_with(Some(smtp.settings())).await;
                    super::$name(app, smtp).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(smtp) = super::SmtpServer::start().await else { return };
                    if let Some(app) = crate::helpers::TestApp::postgres_with(Some(smtp.settings())).await {
                        super::$name(app, smtp).await;
                    }
                }
            )*
        }
    };
}

with_smtp!(
    an_approval_mails_every_signatory_the_title_and_the_version_hash,
    a_refused_address_ends_failed_with_the_servers_error,
    reviews_due_tomorrow_are_reminded_and_overdue_ones_escalated,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgres_send_each_mail_once() {
    let Some(smtp) = SmtpServer::start().await else {
        return;
    };
    let Some(app) = TestApp::postgres_with(Some(smtp.settings())).await else {
        return;
    };
    let (_second, _) = Server::start(&app.database_url, smtp.settings(), Default::default())
        .await
        .expect("second instance");
    let world = World::build(&app).await;
    let mut contract = valid_contract("两个实例");
    contract["signatories"] = json!([
        "signer@a.gov.cn",
        "s2@a.gov.cn",
        "s3@a.gov.cn",
        "s4@a.gov.cn"
    ]);
    for i in 0..6 {
        contract["title"] = json!(format!("两个实例 {i}"));
        let created = app.create_contract(&world.submitter_a, &contract).await;
        let id = created["id"].as_str().unwrap();
        let submitted = app
            .fire_ok(
                &world.submitter_a,
                id,
                "submit",
                &json!({ "expected_version": 1 }),
            )
            .await;
        let body = json!({ "expected_version": submitted["version"], "opinion": "同意" });
        app.fire_ok(&world.reviewer, id, "approve", &body).await;
    }
    let queued = usize::try_from(app.scalar("SELECT COUNT(*) FROM outbox").await).unwrap();
    assert_eq!(
        queued,
        6 * (1 + 5),
        "per contract: one reviewer, then the submitter and four signatories"
    );

    let received = smtp.wait_for(queued).await;

    let ids: BTreeSet<String> = received.iter().map(|m| m.message_id.clone()).collect();
    assert_eq!(ids.len(), queued, "every mail once, none twice");
    assert_eq!(received.len(), queued);
}

/// One aiosmtpd process.
pub struct SmtpServer {
    port: u16,
    maildir: tempfile::TempDir,
    child: Option<Child>,
}

/// What the server received, parsed.
#[derive(Debug)]
pub struct Received {
    pub message_id: String,
    pub to: Vec<String>,
    pub subject: String,
    pub content_type: String,
    pub text: String,
    pub html: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl SmtpServer {
    /// An SMTP server on a free port, or `None` (said loudly) when aiosmtpd is not installed.
    pub async fn start() -> Option<Self> {
        let mut server = Self::reserve()?;
        server.listen().await;
        Some(server)
    }

    /// A port and a mailbox, with nothing listening yet: the server is "down".
    pub fn reserve() -> Option<Self> {
        let available = std::process::Command::new(PYTHON)
            .args(["-c", "import aiosmtpd"])
            .status()
            .is_ok_and(|s| s.success());
        if !available {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must run the mail tests: install python3-aiosmtpd"
            );
            eprintln!("SKIPPED: mail test needs aiosmtpd (apt-get install python3-aiosmtpd)");
            return None;
        }
        Some(Self {
            port: free_port(),
            maildir: tempfile::tempdir().expect("maildir"),
            child: None,
        })
    }

    /// Starts listening on the reserved port and waits until it accepts connections.
    pub async fn listen(&mut self) {
        let support = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support");
        let child = Command::new(PYTHON)
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{}", self.port),
            ])
            .args(["-c", "smtp_support.RejectingMailbox"])
            .arg(self.maildir.path().join("box"))
            .env("PYTHONPATH", support)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start aiosmtpd");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "aiosmtpd did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the server at once (SIGKILL), as a crashed mail server would; what it stored stays.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// The Message-ID of every message received, once per message stored (so twice for a mail
    /// delivered twice).
    pub fn message_ids(&self) -> Vec<String> {
        self.files()
            .iter()
            .filter_map(|path| std::fs::read(path).ok())
            .map(|raw| {
                MessageParser::default()
                    .parse_headers(&raw)
                    .and_then(|m| m.message_id().map(str::to_owned))
                    .unwrap_or_default()
            })
            .collect()
    }

    /// How many messages the server has stored.
    pub fn count(&self) -> usize {
        self.files().len()
    }

    /// Mail settings pointing at this server, without TLS (a local relay).
    pub fn settings(&self) -> MailSettings {
        MailSettings {
            mail_url: Some(format!("smtp://127.0.0.1:{}?tls=none", self.port)),
            mail_from: "合同审查 <review@city.gov.cn>".into(),
            public_url: "https://review.city.gov.cn".into(),
            ..fast_mail()
        }
    }

    fn files(&self) -> Vec<PathBuf> {
        ["new", "cur"]
            .iter()
            .filter_map(|sub| std::fs::read_dir(self.maildir.path().join("box").join(sub)).ok())
            .flatten()
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .collect()
    }

    pub fn received(&self) -> Vec<Received> {
        self.files()
            .iter()
            .map(|path| {
                let raw = std::fs::read(path).unwrap();
                let message = MessageParser::default()
                    .parse(&raw)
                    .expect("a parsable message");
                let content_type = message
                    .content_type()
                    .map(|ct| format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default()))
                    .unwrap_or_default();
                Received {
                    message_id: message.message_id().unwrap_or_default().to_owned(),
                    to: message
                        .to()
                        .map(|to| {
                            to.iter()
                                .filter_map(|a| a.address().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default(),
                    subject: message.subject().unwrap_or_default().to_owned(),
                    content_type,
                    text: message
                        .body_text(0)
                        .map(|t| t.into_owned())
                        .unwrap_or_default(),
                    html: message
                        .body_html(0)
                        .map(|h| h.into_owned())
                        .unwrap_or_default(),
                }
            })
            .collect()
    }

    /// Waits until at least `count` messages have arrived (30 s at most), then a little longer
    /// to catch any duplicate.
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.files().len() < count {
            assert!(
                Instant::now() < deadline,
                "only {} of {count} mails arrived",
                self.files().len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.received()
    }
}

/// Polls `sql` (a COUNT) until it reaches `expected` or 30 s pass.
async fn wait_count(app: &TestApp, sql: &str, expected: i64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let count = app.scalar(sql).await;
        if count == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{sql}: {count}, expected {expected}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn approved_contract(app: &TestApp, world: &World, contract: &Value) -> Value {
    let created = app.create_contract(&world.submitter_a, contract).await;
    let id = created["id"].as_str().unwrap();
    let submitted = app
        .fire_ok(
            &world.submitter_a,
            id,
            "submit",
            &json!({ "expected_version": 1 }),
        )
        .await;
    let body = json!({ "expected_version": submitted["version"], "opinion": "经审查，同意签订。" });
    app.fire_ok(&world.reviewer, id, "approve", &body).await
}

async fn an_approval_mails_every_signatory_the_title_and_the_version_hash(
    app: TestApp,
    smtp: SmtpServer,
) {
    let world = World::build(&app).await;
    let mut contract = valid_contract("办公家具采购合同");
    contract["signatories"] = json!(["signer@a.gov.cn", "deputy-signer@a.gov.cn"]);

    let approved = approved_contract(&app, &world, &contract).await;

    let sha = approved["approved_sha256"].as_str().unwrap().to_owned();
    // review_requested → the reviewer; approved → the submitter and both signatories.
    let received = smtp.wait_for(4).await;
    assert_eq!(received.len(), 4);
    for signatory in ["signer@a.gov.cn", "deputy-signer@a.gov.cn"] {
        let mail = received
            .iter()
            .find(|m| m.to == [signatory] && m.subject.contains("审查通过"))
            .unwrap_or_else(|| panic!("no approval mail for {signatory}: {received:#?}"));
        assert_eq!(mail.content_type, "multipart/alternative");
        assert!(
            mail.subject.contains("办公家具采购合同"),
            "{}",
            mail.subject
        );
        for part in [&mail.text, &mail.html] {
            assert!(part.contains("办公家具采购合同"), "{part}");
            assert!(part.contains(&sha), "{part}");
        }
        assert!(
            mail.html.contains("<table>"),
            "the HTML part is rendered Markdown"
        );
        assert!(
            mail.text.contains("https://review.city.gov.cn/contracts/"),
            "{}",
            mail.text
        );
        assert!(
            mail.message_id.ends_with("@city.gov.cn"),
            "{}",
            mail.message_id
        );
    }
    assert!(
        received
            .iter()
            .any(|m| m.to == ["reviewer@city.gov.cn"] && m.subject.contains("待审查"))
    );
    wait_count(&app, "SELECT COUNT(*) FROM outbox WHERE status = 'sent'", 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_mail_queued_while_the_server_is_down_arrives_once_it_is_back() {
    let Some(down) = SmtpServer::reserve() else {
        return;
    };
    let app = TestApp::sqlite_with(Some(down.settings())).await;
    mail_queued_while_the_server_is_down_arrives_once_it_is_back(app, down).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_mail_queued_while_the_server_is_down_arrives_once_it_is_back() {
    let Some(down) = SmtpServer::reserve() else {
        return;
    };
    let Some(app) = TestApp::postgres_with(Some(down.settings())).await else {
        return;
    };
    mail_queued_while_the_server_is_down_arrives_once_it_is_back(app, down).await;
}

async fn mail_queued_while_the_server_is_down_arrives_once_it_is_back(
    app: TestApp,
    mut down: SmtpServer,
) {
    let world = World::build(&app).await;
    for i in 0..3 {
        let mut contract = valid_contract(&format!("服务器宕机期间 {i}"));
        contract["signatories"] = json!([format!("signer{i}@a.gov.cn")]);
        approved_contract(&app, &world, &contract).await;
    }
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM outbox").await,
        9,
        "per contract: the reviewer, the submitter, the signatory"
    );
    // The decisions went through; the mail waits, each attempt's error recorded.
    let waiting = "SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND attempts > 0 AND last_error IS NOT NULL";
    wait_count(&app, waiting, 9).await;

    down.listen().await;
    let received = down.wait_for(9).await;

    assert_eq!(received.len(), 9);
    let ids: BTreeSet<_> = received.iter().map(|m| m.message_id.clone()).collect();
    assert_eq!(ids.len(), 9, "none twice");
    wait_count(&app, "SELECT COUNT(*) FROM outbox WHERE status = 'sent'", 9).await;
}

async fn a_refused_address_ends_failed_with_the_servers_error(app: TestApp, smtp: SmtpServer) {
    let world = World::build(&app).await;
    let mut contract = valid_contract("退信合同");
    contract["signatories"] = json!(["signer@a.gov.cn", "bounce@a.gov.cn"]);

    approved_contract(&app, &world, &contract).await;

    wait_count(
        &app,
        "SELECT COUNT(*) FROM outbox WHERE status = 'failed'",
        1,
    )
    .await;
    let failed: Value = app
        .get("/api/v1/outbox?status=failed", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    let failed = failed.as_array().unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["recipient"], "bounce@a.gov.cn");
    let error = failed[0]["last_error"].as_str().unwrap();
    assert!(
        error.contains("550") && error.contains("User unknown"),
        "{error}"
    );
    let delivered = smtp.wait_for(3).await;
    assert!(delivered.iter().all(|m| m.to != ["bounce@a.gov.cn"]));

    problem(
        app.get("/api/v1/outbox?status=failed", &world.reviewer)
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    problem(
        app.get("/api/v1/outbox?status=lost", &app.admin_token)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let id = failed[0]["id"].as_str().unwrap();
    let retried = app
        .post(
            &format!("/api/v1/outbox/{id}/retry"),
            &app.admin_token,
            &json!({}),
        )
        .await;
    assert_eq!(retried.status(), StatusCode::ACCEPTED);
    // Refused again, it comes back failed; a row that is not failed cannot be retried.
    wait_count(
        &app,
        "SELECT COUNT(*) FROM outbox WHERE status = 'failed' AND attempts = 1",
        1,
    )
    .await;
    let sent: Value = app
        .get("/api/v1/outbox?status=sent", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    let sent_id = sent[0]["id"].as_str().unwrap();
    let again = app
        .post(
            &format!("/api/v1/outbox/{sent_id}/retry"),
            &app.admin_token,
            &json!({}),
        )
        .await;
    problem(again, StatusCode::NOT_FOUND).await;
}

async fn reviews_due_tomorrow_are_reminded_and_overdue_ones_escalated(
    app: TestApp,
    smtp: SmtpServer,
) {
    let world = World::build(&app).await;
    app.user("lead@city.gov.cn", app.root_agency, &["lead_reviewer"])
        .await;
    let mut ids = Vec::new();
    for title in ["明天到期", "已经逾期"] {
        let created = app
            .create_contract(&world.submitter_a, &valid_contract(title))
            .await;
        let id = created["id"].as_str().unwrap().to_owned();
        app.fire_ok(
            &world.submitter_a,
            &id,
            "submit",
            &json!({ "expected_version": 1 }),
        )
        .await;
        ids.push(id);
    }
    let soon = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    app.execute_sql(&format!(
        "UPDATE contracts SET due_at = '{soon}' WHERE title = '明天到期'"
    ))
    .await;
    app.execute_sql(
        "UPDATE contracts SET due_at = '2026-01-05T16:00:00+00:00' WHERE title = '已经逾期'",
    )
    .await;

    // A second instance sweeps at once (its first sweep runs at start-up); so may the first.
    let (sweeper, _) = Server::start(&app.database_url, smtp.settings(), Default::default())
        .await
        .unwrap();
    wait_count(
        &app,
        "SELECT COUNT(*) FROM outbox WHERE event IN ('reminder', 'escalation')",
        2,
    )
    .await;
    let (_again, _) = Server::start(&app.database_url, smtp.settings(), Default::default())
        .await
        .unwrap();
    drop(sweeper);

    let received = smtp.wait_for(4).await;
    let reminder = received
        .iter()
        .find(|m| m.subject.contains("即将到期"))
        .expect("a reminder");
    assert_eq!(reminder.to, ["reviewer@city.gov.cn"]);
    assert!(reminder.text.contains("明天到期"));
    let escalation = received
        .iter()
        .find(|m| m.subject.contains("已逾期"))
        .expect("an escalation");
    assert_eq!(escalation.to, ["lead@city.gov.cn"]);
    assert!(escalation.text.contains("已经逾期"));
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM outbox WHERE event IN ('reminder', 'escalation')")
            .await,
        2,
        "a third sweep the same day queues nothing more"
    );
}
