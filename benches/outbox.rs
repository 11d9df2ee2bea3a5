//! Outbox drain rate: queue N e-mails, then let the dispatcher send them to a local aiosmtpd
//! (Debian's python3-aiosmtpd) and print mails per second, for a few concurrency settings.
//!
//! cargo bench --bench outbox -- [--mails N] [--handler Mailbox|Sink]

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use contract_review::config::{AuthSettings, HttpSettings, MailSettings};
use contract_review::defaults::Overrides;
use contract_review::domain::ContractDraft;
use contract_review::domain::OutgoingMail;
use contract_review::notify::Dispatcher;
use contract_review::service::directory::UserInput;
use contract_review::service::{Caller, Service, now};
use contract_review::store::{DatabaseOptions, ReminderMail, SharedStore};
use contract_review::{App, Settings};
use uuid::Uuid;

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn start_smtp(
    handler: &str,
    maildir: &std::path::Path,
) -> anyhow::Result<(u16, tokio::process::Child)> {
    let port = free_port()?;
    let mut command = tokio::process::Command::new("/usr/bin/python3");
    command
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
        .args(["-c", &format!("aiosmtpd.handlers.{handler}")]);
    if handler == "Mailbox" {
        command.arg(maildir);
    }
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("starting aiosmtpd (apt-get install python3-aiosmtpd)")?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        if Instant::now() > deadline {
            bail!("aiosmtpd did not start");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok((port, child))
}

/// A service over a fresh SQLite database with one contract to hang the mails on.
/// The service, and the store under it for queuing mail in bulk.
async fn service(dir: &std::path::Path) -> anyhow::Result<(Service, SharedStore, Uuid)> {
    let url = format!("sqlite:{}", dir.join("outbox.db").display());
    let settings = Settings {
        database_url: url.clone(),
        database: DatabaseOptions::default(),
        data_dir: std::env::temp_dir(),
        http: HttpSettings::default(),
        auth: AuthSettings::default(),
        audit: Default::default(),
        mail: MailSettings::default(),
        overrides: Overrides::default(),
    };
    let service = App::build(settings).await?.service().clone();
    let fail = |e: contract_review::error::Error| anyhow::anyhow!("{e}");
    let agency = service
        .create_agency(Caller::Operator, "邮件压测局", None, None)
        .await
        .map_err(fail)?;
    let user = service
        .create_user(
            Caller::Operator,
            UserInput {
                email: "clerk@bench.cn".into(),
                name: "clerk".into(),
                agency_id: agency.id,
                roles: vec!["submitter".into()],
                password: "benchmark password".into(),
            },
        )
        .await
        .map_err(fail)?;
    let principal = contract_review::domain::Principal {
        user_id: user.id,
        agency_id: agency.id,
        email: user.email,
        name: user.name,
        roles: contract_review::domain::Roles::parse_list("submitter")
            .map_err(anyhow::Error::msg)?,
    };
    let draft = ContractDraft {
        title: "邮件压测合同".into(),
        contract_type: "procurement".into(),
        counterparty: "某公司".into(),
        amount_fen: 100,
        funding_source: Some("预算".into()),
        agency_party: "甲方".into(),
        signatories: vec!["signer@bench.cn".into()],
        body_markdown: "# 合同\n\n第一条 ……".into(),
    };
    let contract = match service
        .create_contract(&principal, draft, None)
        .await
        .map_err(fail)?
    {
        contract_review::service::idempotency::Idempotent::Fresh(detail) => detail.contract.id,
        contract_review::service::idempotency::Idempotent::Replayed(_) => bail!("replayed"),
    };
    let store = contract_review::store::connect(&url, &DatabaseOptions::default()).await?;
    Ok((service, store, contract))
}

async fn queue(
    store: &SharedStore,
    contract: Uuid,
    mails: usize,
    round: usize,
) -> anyhow::Result<()> {
    let body = "# 审查即将到期 / A review is due soon\n\n".to_owned()
        + &"合同审查提醒。Review reminder. ".repeat(20);
    let reminders: Vec<ReminderMail> = (0..mails)
        .map(|i| ReminderMail {
            kind: "reminder",
            day: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default()
                + chrono::Days::new(round as u64),
            message: OutgoingMail {
                id: Uuid::now_v7(),
                contract_id: Some(contract),
                event: "reminder".into(),
                recipient: format!("reviewer{i}@bench.cn"),
                subject: format!("【审查即将到期】压测 {i} / Review due soon"),
                body_text: body.clone(),
                body_html: format!("<p>{body}</p>"),
            },
        })
        .collect();
    let queued = store.enqueue_reminders(&reminders, now()).await?;
    if queued != mails {
        bail!("queued {queued} of {mails}");
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut mails = 2000;
    let mut handler = "Mailbox".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--mails" => mails = args.next().context("--mails N")?.parse()?,
            "--handler" => handler = args.next().context("--handler Mailbox|Sink")?,
            "--bench" => {}
            other => bail!("unknown argument {other}"),
        }
    }
    let dir = tempfile::tempdir()?;
    let (port, _smtp) = start_smtp(&handler, &dir.path().join("maildir")).await?;
    let (service, store, contract) = service(dir.path()).await?;
    for (round, concurrency) in [1u32, 8, 32, 64].into_iter().enumerate() {
        queue(&store, contract, mails, round).await?;
        let settings = MailSettings {
            mail_url: Some(format!("smtp://127.0.0.1:{port}?tls=none")),
            mail_from: "合同审查 <review@bench.cn>".into(),
            mail_concurrency: concurrency,
            ..MailSettings::default()
        };
        let dispatcher = Dispatcher::new(service.clone(), settings)?;
        let started = Instant::now();
        let mut sent = 0;
        loop {
            let claimed = dispatcher.drain_once().await?;
            if claimed == 0 {
                break;
            }
            sent += claimed;
        }
        let elapsed = started.elapsed().as_secs_f64();
        println!(
            "aiosmtpd {handler:<8} concurrency {concurrency:>2}: {sent} mails in {elapsed:.2} s = {:.0} mails/s",
            sent as f64 / elapsed
        );
    }
    Ok(())
}
