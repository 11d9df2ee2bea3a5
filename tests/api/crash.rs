//! Faults under load, against the real binary and a real SMTP server (aiosmtpd):
//!
//! - `kill -9` of the service in the middle of a load of transitions: on SQLite one instance,
//!   restarted; on PostgreSQL two instances, each killed in turn while the other takes over its
//!   mail;
//! - the SMTP server down for a minute (`OUTAGE_SECS`) while mail is queued under load.
//!
//! Afterwards every acknowledged transition is present, `audit verify` is clean, and every mail
//! reached the SMTP server exactly once, counted by Message-ID (which is derived from the outbox
//! row). Each test prints its figures. `CRASH_KILLS` (default 2) sets how many kills a run makes,
//! `CRASH_PACE_MS` a pause before each request (to keep a release build below what the mail
//! server takes), `OUTAGE_SECS` (default 60) how long the mail server is down, `CRASH_BIN` another build to
//! run (the release one, to measure it), `CRASH_KEEP_LOGS` keeps the instances' logs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use contract_review::Settings;
use contract_review::config::{AuthSettings, HttpSettings, MailSettings};
use contract_review::defaults::Overrides;
use contract_review::service::Caller;
use contract_review::service::directory::UserInput;
use contract_review::store::DatabaseOptions;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;
use tokio::process::{Child, Command};
use uuid::Uuid;

use crate::helpers::{PASSWORD, TestDatabase, valid_contract};
use crate::mail::SmtpServer;

const BIN: &str = env!("CARGO_BIN_EXE_contract-review");

/// The binary under test; `CRASH_BIN` may name another build (say the release one) to measure it.
fn binary() -> String {
    std::env::var("CRASH_BIN").unwrap_or_else(|_| BIN.to_owned())
}
/// The sender; Message-IDs are `<row id@city.gov.cn>`.
const MAIL_FROM: &str = "合同审查 <review@city.gov.cn>";
const REVIEWERS: usize = 4;
/// `--mail-concurrency`: also the most mails one crash can double (see `Tally::assert_once_but_for`).
const MAIL_CONCURRENCY: usize = 8;
const CLIENTS: usize = 6;
/// Acknowledged operations between two kills, and after the last one.
const OPS_PER_ROUND: usize = 120;

// ---- the tests -------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_kill_9_under_load_loses_nothing_and_mails_each_once() {
    let Some(smtp) = SmtpServer::start().await else {
        return;
    };
    let db = TestDatabase::sqlite();
    crash_run("sqlite", &db, smtp, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_instances_kill_9_one_the_other_takes_over_its_mail() {
    let Some(smtp) = SmtpServer::start().await else {
        return;
    };
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    crash_run("postgres", &db, smtp, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_smtp_down_for_a_minute_under_load_loses_and_doubles_nothing() {
    let Some(smtp) = SmtpServer::start().await else {
        return;
    };
    let db = TestDatabase::sqlite();
    outage_run("sqlite", &db, smtp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_smtp_down_for_a_minute_under_load_loses_and_doubles_nothing() {
    let Some(smtp) = SmtpServer::start().await else {
        return;
    };
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    outage_run("postgres", &db, smtp).await;
}

/// Where the instances keep their data and logs; kept (and named) when `CRASH_KEEP_LOGS` is set.
fn workdir() -> tempfile::TempDir {
    let mut work = tempfile::tempdir().unwrap();
    if std::env::var_os("CRASH_KEEP_LOGS").is_some() {
        work.disable_cleanup(true);
        eprintln!("instance logs in {}", work.path().display());
    }
    work
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Load, `CRASH_KILLS` × kill -9 (each instance in turn; a single one is restarted at once,
/// one of two only after the other has sent what it held), then the checks.
async fn crash_run(backend: &str, db: &TestDatabase, smtp: SmtpServer, instances: usize) {
    // Arrange
    let work = workdir();
    seed(&db.url).await;
    let mail_url = smtp.settings().mail_url.unwrap();
    let mut fleet = Vec::new();
    for i in 0..instances {
        fleet.push(Instance::start(&db.url, &mail_url, work.path(), &format!("i{i}")).await);
    }
    let load = Load::start(&fleet).await;
    load.pace(Duration::from_millis(env_number("CRASH_PACE_MS", 0)));
    let kills = env_number("CRASH_KILLS", 2);
    let started = Instant::now();

    // Act
    let mut takeovers = Vec::new();
    for round in 0..kills {
        load.wait_for_ops(OPS_PER_ROUND * (round as usize + 1))
            .await;
        wait_until_mail_in_flight(&db.url).await;
        // At a random moment of the mail's flow, not just when a batch was claimed (the low
        // bits of a v7 UUID are random).
        let random = u64::try_from(Uuid::now_v7().as_u128() % 1000).unwrap_or(0);
        tokio::time::sleep(Duration::from_millis(random)).await;
        let victim = round as usize % instances;

        fleet[victim].kill9().await;
        let held = uuids(&db.url, "SELECT id FROM outbox WHERE status = 'sending'").await;
        let killed_at = Instant::now();
        if instances == 1 {
            fleet[victim].restart().await;
        } else {
            load.without(&fleet[victim].base);
        }
        let taken_over = wait_until_sent(&db.url, &held).await;
        assert!(
            taken_over.is_some(),
            "the mail claimed at the kill was not sent within a minute ({:.0} s)",
            killed_at.elapsed().as_secs_f64()
        );
        takeovers.push((held.len(), taken_over.unwrap_or_default()));
        if instances > 1 {
            fleet[victim].restart().await;
            load.with(&fleet[victim].base);
        }
    }
    load.wait_for_ops(OPS_PER_ROUND * (kills as usize + 1))
        .await;
    let figures = load.stop().await;
    let load_secs = started.elapsed().as_secs_f64();

    // Assert
    let (expected, received) = drain(db, &smtp).await;
    let present = check_present(&fleet[0].base, &figures).await;
    let audit = audit_verify(&db.url).await;
    let mut windows = Vec::new();
    for instance in &mut fleet {
        instance.terminate().await;
        windows.extend(instance.windows());
    }
    let tally = Tally::of(&expected, &received);

    println!(
        "crash test, {backend}, {instances} instance(s), {kills} × kill -9 over {load_secs:.1} s: \
         acknowledged {} operations ({} contracts; {} requests cut off, {} refused), present {present}; \
         audit verify: {audit}",
        figures.acknowledged, figures.contracts, figures.cut_off, figures.refused
    );
    for (i, (held, took)) in takeovers.iter().enumerate() {
        println!(
            "  kill {}: {held} mails claimed (sending) at the kill, all sent {:.1} s after it",
            i + 1,
            took.as_secs_f64()
        );
    }
    tally.print();
    print_windows(&windows, tally.expected as f64 / load_secs);
    assert_eq!(
        present, figures.acknowledged,
        "every acknowledged operation is present"
    );
    assert!(audit.starts_with("ok"), "audit verify: {audit}");
    tally.assert_once_but_for(usize::try_from(kills).unwrap_or(0) * MAIL_CONCURRENCY);
}

/// Load, the SMTP server killed while mail is in flight and kept down for `OUTAGE_SECS` (60)
/// while the load goes on, then back; then the checks.
async fn outage_run(backend: &str, db: &TestDatabase, mut smtp: SmtpServer) {
    // Arrange
    let work = workdir();
    seed(&db.url).await;
    let mail_url = smtp.settings().mail_url.unwrap();
    let mut fleet = vec![Instance::start(&db.url, &mail_url, work.path(), "i0").await];
    let load = Load::start(&fleet).await;
    load.pace(Duration::from_millis(300));
    let outage = Duration::from_secs(env_number("OUTAGE_SECS", 60));

    // Act
    load.wait_for_ops(40).await;
    wait_until_mail_in_flight(&db.url).await;
    smtp.stop().await;
    let down_at = Instant::now();
    let before = load.acknowledged();
    tokio::time::sleep(outage / 2).await;
    let waiting = outbox_waiting(&fleet[0].base, &load.admin, &db.url).await;
    tokio::time::sleep(outage.saturating_sub(down_at.elapsed())).await;
    let during = load.acknowledged() - before;
    smtp.listen().await;
    let back_at = Instant::now();
    load.wait_for_ops(load.acknowledged() + 20).await;
    let figures = load.stop().await;

    // Assert
    let (expected, received) = drain(db, &smtp).await;
    let recovered = back_at.elapsed();
    let present = check_present(&fleet[0].base, &figures).await;
    let audit = audit_verify(&db.url).await;
    fleet[0].terminate().await;
    let tally = Tally::of(&expected, &received);
    let failed = scalar(
        &db.url,
        "SELECT COUNT(*) FROM outbox WHERE status = 'failed'",
    )
    .await;

    println!(
        "outage test, {backend}: SMTP down {:.0} s; {during} operations acknowledged meanwhile, \
         {} in all, present {present}; halfway through the outage {} mails waited, retried up to {} times \
         ({} listed by GET /outbox); drained {:.1} s after the server was back; failed {failed}; audit verify: {audit}",
        back_at.duration_since(down_at).as_secs_f64(),
        figures.acknowledged,
        waiting.count,
        waiting.most_attempts,
        waiting.listed,
        recovered.as_secs_f64(),
    );
    tally.print();
    assert!(during > 0, "the load went on during the outage");
    assert!(
        waiting.count > 0 && waiting.most_attempts > 1 && waiting.without_deadline == 0,
        "mail waited and was retried, each with its deadline: {waiting:?}"
    );
    assert!(
        waiting.listed > 0 && waiting.listed_in_full,
        "GET /outbox shows pending mail with attempts and next try: {waiting:?}"
    );
    assert_eq!(failed, 0, "an outage of a minute turns no mail failed");
    assert_eq!(present, figures.acknowledged);
    assert!(audit.starts_with("ok"), "audit verify: {audit}");
    tally.assert_once_but_for(0);
}

// ---- the service, as an operator runs it --------------------------------------------------

/// The agencies and people of the load: an admin and reviewers in the city government, a clerk
/// and a signatory in one of its departments.
async fn seed(url: &str) {
    let data = tempfile::tempdir().unwrap();
    let settings = Settings {
        database_url: url.to_owned(),
        database: DatabaseOptions::default(),
        data_dir: data.path().to_owned(),
        overrides: Overrides::default(),
        http: HttpSettings::default(),
        auth: AuthSettings::default(),
        audit: Default::default(),
        mail: MailSettings::default(),
    };
    let service = contract_review::open_service(&settings)
        .await
        .expect("open the database");
    let root = service
        .create_agency(Caller::Operator, "测试市人民政府", None, None)
        .await
        .expect("root agency");
    let dept = service
        .create_agency(Caller::Operator, "甲局", Some(root.id), None)
        .await
        .expect("department");
    let mut people = vec![
        ("admin@city.gov.cn", root.id, "admin"),
        ("clerk@a.gov.cn", dept.id, "submitter"),
        ("signer@a.gov.cn", dept.id, "signatory"),
    ];
    let reviewers: Vec<String> = (0..REVIEWERS)
        .map(|i| format!("reviewer{i}@city.gov.cn"))
        .collect();
    people.extend(reviewers.iter().map(|r| (r.as_str(), root.id, "reviewer")));
    for (email, agency_id, role) in people {
        service
            .create_user(
                Caller::Operator,
                UserInput {
                    email: email.into(),
                    name: email.into(),
                    agency_id,
                    roles: vec![role.into()],
                    password: PASSWORD.into(),
                },
            )
            .await
            .expect("user");
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `contract-review serve` in its own process, on a fixed port so that it restarts where it was.
struct Instance {
    base: String,
    args: Vec<String>,
    log: PathBuf,
    child: Option<Child>,
}

impl Instance {
    async fn start(database_url: &str, mail_url: &str, work: &Path, name: &str) -> Self {
        let port = free_port();
        let data = work.join(name);
        let args = [
            "--log-format",
            "json",
            "--database-url",
            database_url,
            "--data-dir",
            &data.display().to_string(),
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--mail-url",
            mail_url,
            "--mail-from",
            MAIL_FROM,
            "--mail-poll-ms",
            "25",
            "--mail-retry-base-ms",
            "100",
            "--mail-retry-max-secs",
            "2",
            "--mail-concurrency",
            &MAIL_CONCURRENCY.to_string(),
        ]
        .map(str::to_owned)
        .to_vec();
        let mut instance = Self {
            base: format!("http://127.0.0.1:{port}"),
            args,
            log: work.join(format!("{name}.log")),
            child: None,
        };
        instance.restart().await;
        instance
    }

    /// Starts the process (again) and waits until it is ready.
    async fn restart(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let mut child = Command::new(binary())
            .args(&self.args)
            .env(
                "RUST_LOG",
                std::env::var("CRASH_RUST_LOG")
                    .unwrap_or_else(|_| "warn,contract_review::notify=info".into()),
            )
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("start contract-review serve");
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = client.get(format!("{}/readyz", self.base)).send().await;
            if ready.is_ok_and(|r| r.status() == StatusCode::OK) {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("serve exited with {status}: {}", self.log_text());
            }
            assert!(Instant::now() < deadline, "serve did not become ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.child = Some(child);
    }

    /// SIGKILL: no shutdown, no flushing, the way a crash ends a process.
    async fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.expect("kill -9");
        }
    }

    /// SIGTERM, and wait for the clean shutdown (which logs the dispatcher's last figures).
    async fn terminate(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Some(pid) = child.id() {
                let _ = std::process::Command::new("kill")
                    .args(["-TERM", &pid.to_string()])
                    .status();
            }
            if tokio::time::timeout(Duration::from_secs(20), child.wait())
                .await
                .is_err()
            {
                let _ = child.kill().await;
            }
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The dispatcher's reports of its accepted-to-recorded window: (mails, mean ms, max ms).
    fn windows(&self) -> Vec<(u64, f64, f64)> {
        self.log_text()
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|entry| {
                entry["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("accepted-to-recorded"))
            })
            .filter_map(|entry| {
                Some((
                    entry["mails"].as_u64()?,
                    entry["mean_ms"].as_f64()?,
                    entry["max_ms"].as_f64()?,
                ))
            })
            .collect()
    }
}

fn print_windows(windows: &[(u64, f64, f64)], mails_per_sec: f64) {
    let mails: u64 = windows.iter().map(|w| w.0).sum();
    if mails == 0 {
        return;
    }
    let mean = windows.iter().map(|w| w.0 as f64 * w.1).sum::<f64>() / mails as f64;
    let max = windows.iter().map(|w| w.2).fold(0.0, f64::max);
    println!(
        "  accepted-to-recorded window (instances that ended cleanly): mean {mean:.2} ms, max {max:.1} ms over {mails} mails; \
         at {mails_per_sec:.0} mails/s that is {:.2} mails inside it at any moment (the server's time before it answers not counted)",
        mails_per_sec * mean / 1000.0
    );
}

/// `contract-review audit verify`: "ok: …" with its report, or what it said when it failed.
async fn audit_verify(database_url: &str) -> String {
    let output = Command::new(binary())
        .args(["--database-url", database_url, "audit", "verify"])
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("run audit verify");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout).trim(),
        String::from_utf8_lossy(&output.stderr).trim()
    );
    if output.status.success() {
        format!("ok ({said})")
    } else {
        format!("exit {:?}: {said}", output.status.code())
    }
}

// ---- the load --------------------------------------------------------------------------

/// Several clients, each driving contracts through create → submit → approve → sign and noting
/// every operation the service acknowledged with a 2xx.
struct Load {
    shared: Arc<Shared>,
    clients: Vec<tokio::task::JoinHandle<()>>,
    admin: String,
}

struct Tokens {
    submitter: String,
    reviewer: String,
    signatory: String,
}

#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    /// Where the clients send requests (instances that are up).
    bases: Mutex<Vec<String>>,
    /// Contract id → each acknowledged (state, version).
    acked: Mutex<BTreeMap<String, Vec<(String, i64)>>>,
    acknowledged: AtomicUsize,
    cut_off: AtomicUsize,
    refused: AtomicUsize,
    pause: Mutex<Duration>,
}

/// What the load saw.
struct Figures {
    acknowledged: usize,
    contracts: usize,
    cut_off: usize,
    refused: usize,
    acked: BTreeMap<String, Vec<(String, i64)>>,
    /// A token that sees every contract (the admin's).
    reader: String,
}

async fn login(client: &reqwest::Client, base: &str, email: &str) -> String {
    let response = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .expect("login");
    assert_eq!(response.status(), StatusCode::OK, "login of {email}");
    let body: Value = response.json().await.expect("token JSON");
    body["token"].as_str().expect("token").to_owned()
}

impl Load {
    async fn start(fleet: &[Instance]) -> Self {
        let client = reqwest::Client::new();
        let base = &fleet[0].base;
        let tokens = Arc::new(Tokens {
            submitter: login(&client, base, "clerk@a.gov.cn").await,
            reviewer: login(&client, base, "reviewer0@city.gov.cn").await,
            signatory: login(&client, base, "signer@a.gov.cn").await,
        });
        let admin = login(&client, base, "admin@city.gov.cn").await;
        let shared = Arc::new(Shared {
            bases: Mutex::new(fleet.iter().map(|i| i.base.clone()).collect()),
            ..Shared::default()
        });
        let clients = (0..CLIENTS)
            .map(|n| {
                let (shared, tokens) = (Arc::clone(&shared), Arc::clone(&tokens));
                tokio::spawn(async move { client_loop(n, &shared, &tokens).await })
            })
            .collect();
        Self {
            shared,
            clients,
            admin,
        }
    }

    fn acknowledged(&self) -> usize {
        self.shared.acknowledged.load(Ordering::SeqCst)
    }

    fn pace(&self, pause: Duration) {
        *self.shared.pause.lock().unwrap() = pause;
    }

    fn without(&self, base: &str) {
        self.shared.bases.lock().unwrap().retain(|b| b != base);
    }

    fn with(&self, base: &str) {
        self.shared.bases.lock().unwrap().push(base.to_owned());
    }

    async fn wait_for_ops(&self, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(90);
        while self.acknowledged() < count {
            assert!(
                Instant::now() < deadline,
                "only {} of {count} operations acknowledged",
                self.acknowledged()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn stop(self) -> Figures {
        self.shared.stop.store(true, Ordering::SeqCst);
        for client in self.clients {
            client.await.expect("a load client panicked");
        }
        let acked = self.shared.acked.lock().unwrap().clone();
        Figures {
            acknowledged: self.shared.acknowledged.load(Ordering::SeqCst),
            contracts: acked.len(),
            cut_off: self.shared.cut_off.load(Ordering::SeqCst),
            refused: self.shared.refused.load(Ordering::SeqCst),
            acked,
            reader: self.admin,
        }
    }
}

/// What became of one request.
enum Answer {
    Acknowledged(Value),
    /// No answer (the connection was cut): the outcome is unknown, so it is not counted.
    CutOff,
    Refused,
}

async fn client_loop(n: usize, shared: &Shared, tokens: &Tokens) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let mut turn = n;
    while !shared.stop.load(Ordering::SeqCst) {
        let base = {
            let bases = shared.bases.lock().unwrap();
            bases[turn % bases.len()].clone()
        };
        turn += 1;
        if !lifecycle(&client, &base, shared, tokens, n).await {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// One contract through its life; false when a request was cut off or refused.
async fn lifecycle(
    client: &reqwest::Client,
    base: &str,
    shared: &Shared,
    tokens: &Tokens,
    n: usize,
) -> bool {
    let post = async |token: &str, path: String, body: Value| -> Answer {
        let pause = *shared.pause.lock().unwrap();
        tokio::time::sleep(pause).await;
        let sent = client
            .post(format!("{base}/api/v1{path}"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await;
        let Ok(response) = sent else {
            return Answer::CutOff;
        };
        if !response.status().is_success() {
            return Answer::Refused;
        }
        match response.json::<Value>().await {
            Ok(value) => Answer::Acknowledged(value),
            Err(_) => Answer::CutOff,
        }
    };
    let note = |answer: Answer| -> Option<Value> {
        match answer {
            Answer::Acknowledged(contract) => {
                let id = contract["id"].as_str()?.to_owned();
                let state = contract["state"].as_str()?.to_owned();
                let version = contract["version"].as_i64()?;
                shared
                    .acked
                    .lock()
                    .unwrap()
                    .entry(id)
                    .or_default()
                    .push((state, version));
                shared.acknowledged.fetch_add(1, Ordering::SeqCst);
                Some(contract)
            }
            Answer::CutOff => {
                shared.cut_off.fetch_add(1, Ordering::SeqCst);
                None
            }
            Answer::Refused => {
                shared.refused.fetch_add(1, Ordering::SeqCst);
                None
            }
        }
    };
    let mut draft = valid_contract(&format!("压力测试 {n}-{}", Uuid::now_v7()));
    draft["signatories"] = json!(["signer@a.gov.cn"]);
    // A service contract needs no review materials, so the load is transitions alone.
    draft["contract_type"] = json!("service");
    let Some(created) = note(post(&tokens.submitter, "/contracts".into(), draft).await) else {
        return false;
    };
    let Some(id) = created["id"].as_str().map(str::to_owned) else {
        return false;
    };
    let sha = created["body_sha256"].clone();
    let fire = |name: &str| format!("/contracts/{id}/transitions/{name}");
    let mut contract = created;
    let steps = [
        (&tokens.submitter, "submit", json!({})),
        (
            &tokens.reviewer,
            "approve",
            json!({ "opinion": "经审查，同意签订。" }),
        ),
        (&tokens.signatory, "sign", json!({ "body_sha256": sha })),
    ];
    for (token, name, mut body) in steps {
        body["expected_version"] = contract["version"].clone();
        match note(post(token, fire(name), body).await) {
            Some(next) => contract = next,
            None => return false,
        }
    }
    true
}

// ---- the checks --------------------------------------------------------------------------

/// How many acknowledged operations the service still shows: one is present when the contract
/// is at its version with its state, or at a later version.
async fn check_present(base: &str, figures: &Figures) -> usize {
    let client = reqwest::Client::new();
    let mut present = 0;
    let mut lost = Vec::new();
    for (id, acks) in &figures.acked {
        let response = client
            .get(format!("{base}/api/v1/contracts/{id}"))
            .bearer_auth(&figures.reader)
            .send()
            .await
            .expect("GET contract");
        let now: Value = if response.status() == StatusCode::OK {
            response.json().await.expect("contract JSON")
        } else {
            Value::Null
        };
        let stored = now["version"].as_i64().unwrap_or(0);
        for (state, version) in acks {
            if stored > *version || (stored == *version && now["state"] == state.as_str()) {
                present += 1;
            } else {
                lost.push(format!(
                    "{id}: acknowledged {state} v{version}, stored {now}"
                ));
            }
        }
    }
    assert!(lost.is_empty(), "acknowledged but lost: {lost:#?}");
    present
}

/// Mails expected (the outbox rows) and the Message-IDs received, once the outbox has drained.
async fn drain(db: &TestDatabase, smtp: &SmtpServer) -> (BTreeSet<String>, Vec<String>) {
    // Fails only when the outbox stops draining for 30 s.
    let mut deadline = Instant::now() + Duration::from_secs(30);
    let mut last_open = i64::MAX;
    loop {
        let open = scalar(
            &db.url,
            "SELECT COUNT(*) FROM outbox WHERE status <> 'sent'",
        )
        .await;
        if open == 0 {
            break;
        }
        let failed = scalar(
            &db.url,
            "SELECT COUNT(*) FROM outbox WHERE status = 'failed'",
        )
        .await;
        assert_eq!(failed, 0, "no mail may fail");
        if open < last_open {
            last_open = open;
            deadline = Instant::now() + Duration::from_secs(30);
        }
        assert!(Instant::now() < deadline, "{open} mails still not sent");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let expected: BTreeSet<String> = uuids(&db.url, "SELECT id FROM outbox")
        .await
        .into_iter()
        .map(|id| format!("{id}@city.gov.cn"))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while smtp.count() < expected.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A little longer, to catch a late duplicate.
    tokio::time::sleep(Duration::from_millis(500)).await;
    (expected, smtp.message_ids())
}

/// Mails expected, delivered, doubled, missing.
struct Tally {
    expected: usize,
    delivered: usize,
    doubled: usize,
    missing: Vec<String>,
    unexpected: Vec<String>,
}

impl Tally {
    fn of(expected: &BTreeSet<String>, received: &[String]) -> Self {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for id in received {
            *counts.entry(id.as_str()).or_default() += 1;
        }
        Self {
            expected: expected.len(),
            delivered: counts.keys().filter(|id| expected.contains(**id)).count(),
            doubled: counts.values().map(|n| n - 1).sum(),
            missing: expected
                .iter()
                .filter(|id| !counts.contains_key(id.as_str()))
                .cloned()
                .collect(),
            unexpected: counts
                .keys()
                .filter(|id| !expected.contains(**id))
                .map(|id| (*id).to_owned())
                .collect(),
        }
    }

    fn print(&self) {
        println!(
            "  mails: expected {}, delivered {}, doubled {}, missing {}",
            self.expected,
            self.delivered,
            self.doubled,
            self.missing.len()
        );
    }

    /// Every mail delivered, none that was not queued, and at most `doubles` twice. Only a mail
    /// between the server's acceptance and its record can be sent again after a crash, and a
    /// dispatcher has at most one such mail per connection, so a crash doubles at most
    /// `--mail-concurrency` mails (before these changes: its whole claimed batch).
    fn assert_once_but_for(&self, doubles: usize) {
        assert!(
            self.missing.is_empty(),
            "never delivered: {:?}",
            self.missing
        );
        assert!(
            self.unexpected.is_empty(),
            "not in the outbox: {:?}",
            self.unexpected
        );
        assert_eq!(self.delivered, self.expected);
        assert!(
            self.doubled <= doubles,
            "{} mails delivered twice, more than the {doubles} a crash can leave between the server's acceptance and the record",
            self.doubled
        );
    }
}

/// Mail waiting for the server: what the outbox holds, and what `GET /outbox` shows of it.
#[derive(Debug)]
struct Waiting {
    /// Pending mails already tried at least once.
    count: i64,
    most_attempts: i64,
    /// Retried mails without a retry deadline (there should be none).
    without_deadline: i64,
    /// Rows `GET /outbox?status=pending` listed, and whether each had its attempts, next try
    /// and retry deadline.
    listed: usize,
    listed_in_full: bool,
}

async fn outbox_waiting(base: &str, admin: &str, url: &str) -> Waiting {
    let retried = "FROM outbox WHERE status = 'pending' AND attempts > 0";
    let listed: Value = reqwest::Client::new()
        .get(format!("{base}/api/v1/outbox?status=pending"))
        .bearer_auth(admin)
        .send()
        .await
        .expect("GET /outbox")
        .json()
        .await
        .expect("outbox JSON");
    let rows = listed.as_array().cloned().unwrap_or_default();
    Waiting {
        count: scalar(url, &format!("SELECT COUNT(*) {retried}")).await,
        most_attempts: scalar(url, &format!("SELECT COALESCE(MAX(attempts), 0) {retried}")).await,
        without_deadline: scalar(
            url,
            &format!("SELECT COUNT(*) {retried} AND retry_until IS NULL"),
        )
        .await,
        listed: rows.len(),
        listed_in_full: rows.iter().all(|m| {
            m["attempts"].is_i64()
                && m["next_attempt_at"].is_string()
                && m.get("retry_until").is_some()
        }),
    }
}

/// Waits (up to 30 s) until some mail is claimed and being sent, so that the kill finds mail in
/// flight.
async fn wait_until_mail_in_flight(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while scalar(url, "SELECT COUNT(*) FROM outbox WHERE status = 'sending'").await == 0 {
        assert!(Instant::now() < deadline, "no mail was ever in flight");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// How long until every one of `ids` is sent (at most 60 s; `None` if they were not).
async fn wait_until_sent(url: &str, ids: &[Uuid]) -> Option<Duration> {
    let started = Instant::now();
    let wanted: BTreeSet<Uuid> = ids.iter().copied().collect();
    while started.elapsed() < Duration::from_secs(60) {
        let sent: BTreeSet<Uuid> = uuids(url, "SELECT id FROM outbox WHERE status = 'sent'")
            .await
            .into_iter()
            .collect();
        if wanted.is_subset(&sent) {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

// ---- the database, read directly ------------------------------------------------------------

async fn scalar(url: &str, sql: &str) -> i64 {
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.expect("connect");
        sqlx::query_scalar(sql)
            .fetch_one(&mut conn)
            .await
            .expect(sql)
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
        sqlx::query_scalar(sql)
            .fetch_one(&mut conn)
            .await
            .expect(sql)
    }
}

async fn uuids(url: &str, sql: &str) -> Vec<Uuid> {
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.expect("connect");
        sqlx::query_scalar(sql)
            .fetch_all(&mut conn)
            .await
            .expect(sql)
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
        sqlx::query_scalar(sql)
            .fetch_all(&mut conn)
            .await
            .expect(sql)
    }
}
