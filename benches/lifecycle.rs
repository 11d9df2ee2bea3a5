//! Load generator: N concurrent clients drive contracts through create → submit → approve → sign
//! over HTTP against the real service (SQLite, and PostgreSQL when `TEST_POSTGRES_URL` is set),
//! then pgbench (tpcb-like, same client count) runs against the same PostgreSQL for scale.
//!
//! cargo bench --bench lifecycle -- [--clients N] [--contracts-per-client M] [--pgbench-seconds S]

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use contract_review::config::{AuthSettings, HttpSettings, MailSettings};
use contract_review::defaults::Overrides;
use contract_review::service::Caller;
use contract_review::service::directory::UserInput;
use contract_review::store::DatabaseOptions;
use contract_review::{App, Settings};
use serde_json::{Value, json};
use sqlx::Connection;

const PASSWORD: &str = "benchmark password";

struct Options {
    clients: usize,
    contracts_per_client: usize,
    pgbench_seconds: u32,
}

fn options() -> anyhow::Result<Options> {
    let mut options = Options {
        clients: 8,
        contracts_per_client: 60,
        pgbench_seconds: 15,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .context("missing value")?
                .parse::<usize>()
                .context("not a number")
        };
        match arg.as_str() {
            "--clients" => options.clients = value()?,
            "--contracts-per-client" => options.contracts_per_client = value()?,
            "--pgbench-seconds" => options.pgbench_seconds = u32::try_from(value()?)?,
            "--bench" => {}
            other => bail!("unknown argument {other}"),
        }
    }
    Ok(options)
}

struct Tokens {
    submitter: String,
    reviewer: String,
    signatory: String,
}

/// Starts the service on `database_url` and signs in one user per role.
async fn start(
    database_url: &str,
    mail_dir: &std::path::Path,
) -> anyhow::Result<(String, Tokens, tokio::sync::oneshot::Sender<()>)> {
    let settings = Settings {
        database_url: database_url.to_owned(),
        database: DatabaseOptions::default(),
        data_dir: std::env::temp_dir(),
        http: HttpSettings::default(),
        auth: AuthSettings::default(),
        audit: Default::default(),
        mail: MailSettings {
            mail_url: Some(format!("file://{}", mail_dir.display())),
            ..MailSettings::default()
        },
        overrides: Overrides::default(),
    };
    let app = App::build(settings).await?;
    let service = app.service().clone();
    let root = service
        .create_agency(Caller::Operator, "压测市人民政府", None, None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let dept = service
        .create_agency(Caller::Operator, "压测局", Some(root.id), None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for (email, agency, role) in [
        ("clerk@bench.cn", dept.id, "submitter"),
        ("reviewer@bench.cn", root.id, "reviewer"),
        ("signer@bench.cn", dept.id, "signatory"),
    ] {
        let input = UserInput {
            email: email.into(),
            name: email.into(),
            agency_id: agency,
            roles: vec![role.into()],
            password: PASSWORD.into(),
        };
        service
            .create_user(Caller::Operator, input)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.serve(listener, async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let login = |email: &'static str| {
        let client = client.clone();
        let base = base.clone();
        async move {
            let body: Value = client
                .post(format!("{base}/api/v1/auth/login"))
                .json(&json!({ "email": email, "password": PASSWORD }))
                .send()
                .await?
                .json()
                .await?;
            body["token"]
                .as_str()
                .map(str::to_owned)
                .context("login failed")
        }
    };
    let tokens = Tokens {
        submitter: login("clerk@bench.cn").await?,
        reviewer: login("reviewer@bench.cn").await?,
        signatory: login("signer@bench.cn").await?,
    };
    Ok((base, tokens, stop))
}

async fn call(
    client: &reqwest::Client,
    url: String,
    token: &str,
    body: Value,
    latencies: &mut Vec<Duration>,
) -> anyhow::Result<Value> {
    let started = Instant::now();
    let response = client
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?;
    let status = response.status();
    let json: Value = response.json().await?;
    latencies.push(started.elapsed());
    if !status.is_success() {
        bail!("{status}: {json}");
    }
    Ok(json)
}

/// One client: `count` contracts, each created, submitted, approved and signed.
async fn client_loop(
    base: String,
    tokens: std::sync::Arc<Tokens>,
    count: usize,
) -> anyhow::Result<(Vec<Duration>, Vec<Duration>)> {
    let client = reqwest::Client::new();
    let (mut creates, mut transitions) = (Vec::new(), Vec::new());
    for i in 0..count {
        let contract = json!({
            "title": format!("压测合同 {i}"),
            "contract_type": "service",
            "counterparty": "压测供应商有限公司",
            "amount_fen": 1_000_000,
            "funding_source": "年度预算",
            "agency_party": "甲方",
            "signatories": ["signer@bench.cn"],
            "body_markdown": format!("# 采购合同 {i}\n\n第一条 货到验收合格后十日内付款。\n"),
        });
        let created = call(
            &client,
            format!("{base}/api/v1/contracts"),
            &tokens.submitter,
            contract,
            &mut creates,
        )
        .await?;
        let id = created["id"].as_str().context("id")?.to_owned();
        let sha = created["body_sha256"].clone();
        let fire = |name: &str| format!("{base}/api/v1/contracts/{id}/transitions/{name}");
        let c = call(
            &client,
            fire("submit"),
            &tokens.submitter,
            json!({ "expected_version": 1 }),
            &mut transitions,
        )
        .await?;
        let c = call(
            &client,
            fire("approve"),
            &tokens.reviewer,
            json!({ "expected_version": c["version"], "opinion": "同意" }),
            &mut transitions,
        )
        .await?;
        call(
            &client,
            fire("sign"),
            &tokens.signatory,
            json!({ "expected_version": c["version"], "body_sha256": sha }),
            &mut transitions,
        )
        .await?;
    }
    Ok((creates, transitions))
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

/// Runs the load; returns transitions per second.
async fn drive(label: &str, database_url: &str, options: &Options) -> anyhow::Result<f64> {
    let mail_dir = tempfile::tempdir()?;
    let (base, tokens, stop) = start(database_url, mail_dir.path()).await?;
    let tokens = std::sync::Arc::new(tokens);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..options.clients {
        tasks.spawn(client_loop(
            base.clone(),
            tokens.clone(),
            options.contracts_per_client,
        ));
    }
    let (mut creates, mut transitions) = (Vec::new(), Vec::new());
    while let Some(result) = tasks.join_next().await {
        let (c, t) = result??;
        creates.extend(c);
        transitions.extend(t);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let _ = stop.send(());
    transitions.sort();
    creates.sort();
    let rate = transitions.len() as f64 / elapsed;
    println!(
        "{label:<28} clients {:>2}  contracts {:>5}  transitions {:>6}  {:>8.0} transitions/s  ({:>6.0} requests/s)  \
         transition latency p50 {:>6.2} ms  p99 {:>6.2} ms  create p50 {:>6.2} ms  p99 {:>6.2} ms",
        options.clients,
        creates.len(),
        transitions.len(),
        rate,
        (transitions.len() + creates.len()) as f64 / elapsed,
        percentile(&transitions, 0.50),
        percentile(&transitions, 0.99),
        percentile(&creates, 0.50),
        percentile(&creates, 0.99),
    );
    Ok(rate)
}

fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

async fn fresh_postgres(admin_url: &str, name: &str) -> anyhow::Result<String> {
    let mut admin = sqlx::PgConnection::connect(admin_url).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await?;
    Ok(with_database(admin_url, name))
}

/// pgbench's own tpcb-like transactions per second, same client count, same server.
fn pgbench(url: &str, clients: usize, seconds: u32) -> anyhow::Result<f64> {
    let init = std::process::Command::new("pgbench")
        .args(["-i", "-q", "-s", "10", url])
        .output()?;
    if !init.status.success() {
        bail!(
            "pgbench -i failed: {}",
            String::from_utf8_lossy(&init.stderr)
        );
    }
    let run = std::process::Command::new("pgbench")
        .args([
            "-b",
            "tpcb-like",
            "-c",
            &clients.to_string(),
            "-j",
            "2",
            "-T",
            &seconds.to_string(),
            url,
        ])
        .output()?;
    let stdout = String::from_utf8_lossy(&run.stdout);
    let tps = stdout
        .lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse::<f64>().ok())
        .with_context(|| format!("no tps in pgbench output: {stdout}"))?;
    println!(
        "{:<28} clients {clients:>2}  {tps:>8.0} tpcb-like transactions/s  (pgbench -T {seconds})",
        "pgbench"
    );
    Ok(tps)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = options()?;
    let dir = tempfile::tempdir()?;
    let sqlite = format!("sqlite:{}", dir.path().join("bench.db").display());
    drive("sqlite (synchronous=FULL)", &sqlite, &options).await?;

    let Ok(admin_url) = std::env::var("TEST_POSTGRES_URL") else {
        println!(
            "PostgreSQL skipped: set TEST_POSTGRES_URL to a superuser URL to measure it and pgbench"
        );
        return Ok(());
    };
    let service_db = fresh_postgres(&admin_url, "cr_bench_service").await?;
    let ours = drive("postgres", &service_db, &options).await?;
    let pgbench_db = fresh_postgres(&admin_url, "cr_bench_pgbench").await?;
    let theirs = pgbench(&pgbench_db, options.clients, options.pgbench_seconds)?;
    println!(
        "ratio: contract-review transitions/s ÷ pgbench tps = {:.2}",
        ours / theirs
    );
    Ok(())
}
