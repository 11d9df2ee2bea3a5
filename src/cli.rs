//! The command line: each subcommand calls the same services as the HTTP API.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use tokio::io::AsyncBufReadExt;
use tokio::net::TcpListener;

use crate::config::{
    AdminCommand, AuditCommand, Cli, Command, DefaultsCommand, GlobalArgs, ServeArgs,
    WorkflowCommand, redact_url,
};
use crate::defaults::Source;
use crate::domain::audit::anchor::Checkpoint;
use crate::resources::check_workflow;
use crate::service::directory::UserInput;
use crate::service::{Caller, Service, demo};
use crate::templates::Templates;
use crate::{App, Settings, open_service, shutdown_signal, store, workflow};

/// Runs the parsed command; the exit code tells scripts whether it worked.
pub async fn run(cli: Cli) -> ExitCode {
    if let Command::Screen(args) = &cli.command {
        return crate::screen_cli::run(&cli.global.overrides(), args).unwrap_or_else(|error| {
            eprintln!("错误 / error: {error:#}");
            ExitCode::FAILURE
        });
    }
    let result = match cli.command {
        Command::Serve(args) => serve(&cli.global, args).await,
        Command::Migrate => migrate(&cli.global).await,
        Command::Admin(command) => admin(&cli.global, command).await,
        Command::Workflow(command) => workflow_command(&cli.global, command),
        Command::Audit(AuditCommand::Verify {
            checkpoint,
            key_file,
        }) => audit_verify(&cli.global, checkpoint.zip(key_file)).await,
        Command::Audit(AuditCommand::Checkpoint { key_file, out }) => {
            audit_checkpoint(&cli.global, &key_file, out.as_deref()).await
        }
        Command::Defaults(DefaultsCommand::Export { dir, force }) => export_defaults(&dir, force),
        Command::Screen(_) => Ok(()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("错误 / error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(global: &GlobalArgs, args: ServeArgs) -> anyhow::Result<()> {
    let settings = Settings::new(global, Some(&args));
    let database_url = settings.database_url.clone();
    let app = App::build(settings).await?;
    if args.demo {
        let logins = app
            .service()
            .seed_demo()
            .await
            .map_err(|e| anyhow!("seeding the demo: {e}"))?;
        print_demo_logins(&logins, args.bind);
    }
    let listener = TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("binding {}", args.bind))?;
    tracing::info!(
        address = %listener.local_addr()?,
        database = %redact_url(&database_url),
        backend = app.service().backend_name(),
        workflow = %app.service().current_workflow().key(),
        "contract-review listening"
    );
    app.serve(listener, shutdown_signal()).await
}

fn print_demo_logins(logins: &[demo::DemoLogin], bind: std::net::SocketAddr) {
    println!(
        "演示账号 / demo logins (password 密码: {})",
        demo::DEMO_PASSWORD
    );
    for login in logins {
        println!("  {:<26} {:<14} {}", login.email, login.role, login.agency);
    }
    println!("在浏览器中打开 / open in a browser: http://{bind}/login");
    println!(
        "或用 API / or the API: curl -s -X POST http://{bind}/api/v1/auth/login -H 'content-type: application/json' \
         -d '{{\"email\":\"clerk@edu.demo.gov.cn\",\"password\":\"{}\"}}'",
        demo::DEMO_PASSWORD
    );
}

async fn migrate(global: &GlobalArgs) -> anyhow::Result<()> {
    let store = store::connect(&global.database_url(), &global.database_options()).await?;
    println!(
        "数据库已是最新 / database is up to date ({})",
        store.backend()
    );
    Ok(())
}

async fn service(global: &GlobalArgs) -> anyhow::Result<Service> {
    open_service(&Settings::new(global, None)).await
}

async fn admin(global: &GlobalArgs, command: AdminCommand) -> anyhow::Result<()> {
    let service = service(global).await?;
    match command {
        AdminCommand::CreateAgency {
            name,
            parent,
            opinion_prefix,
        } => {
            let parent_id = match parent {
                Some(parent) => Some(service.agency_named(&parent).await.map_err(anyhow_of)?.id),
                None => None,
            };
            let agency = service
                .create_agency(
                    Caller::Operator,
                    &name,
                    parent_id,
                    opinion_prefix.as_deref(),
                )
                .await
                .map_err(anyhow_of)?;
            println!("{}", serde_json::to_string(&agency)?);
        }
        AdminCommand::CreateUser {
            email,
            name,
            agency,
            role,
            password_stdin: _,
        } => {
            let agency = service.agency_named(&agency).await.map_err(anyhow_of)?;
            let password = read_password_line().await?;
            let input = UserInput {
                email,
                name,
                agency_id: agency.id,
                roles: role
                    .split(',')
                    .map(|r| r.trim().to_owned())
                    .filter(|r| !r.is_empty())
                    .collect(),
                password,
            };
            let user = service
                .create_user(Caller::Operator, input)
                .await
                .map_err(anyhow_of)?;
            println!("{}", serde_json::to_string(&user)?);
        }
    }
    Ok(())
}

/// `workflow check` and `workflow graph`: offline, no database.
fn workflow_command(global: &GlobalArgs, command: WorkflowCommand) -> anyhow::Result<()> {
    let (file, graph) = match command {
        WorkflowCommand::Check { file } => (file, false),
        WorkflowCommand::Graph { file } => (file, true),
    };
    let overrides = global.overrides();
    let source = match file {
        Some(path) => Source {
            origin: path.display().to_string(),
            name: path.display().to_string(),
            text: std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?,
        },
        None => overrides.workflow()?,
    };
    let definition = check_workflow(&source, &Templates::load(&overrides)?)?;
    if graph {
        print!("{}", workflow::graph::mermaid(&definition, None));
    } else {
        println!(
            "{}: {} 合法 / valid: {} states, {} transitions",
            source.origin,
            definition.key(),
            definition.states.len(),
            definition.transitions.len()
        );
    }
    Ok(())
}

/// `defaults export DIR`: the built-in files, for an operator to customise.
fn export_defaults(dir: &Path, overwrite: bool) -> anyhow::Result<()> {
    let written = crate::defaults::export(dir, overwrite)?;
    for path in &written {
        println!("{}", path.display());
    }
    println!(
        "已写出 {} 个文件 / wrote {} files. 使用方法 / use them with:\n  --workflow {wf} --rules {rules} --calendar {cal} --templates-dir {tpl}",
        written.len(),
        written.len(),
        wf = dir.join("workflows/contract-review.toml").display(),
        rules = dir.join("workflows/screening-rules.toml").display(),
        cal = dir.join("workflows/calendar-cn.toml").display(),
        tpl = dir.join("templates").display(),
    );
    Ok(())
}

async fn audit_verify(
    global: &GlobalArgs,
    checkpoint: Option<(PathBuf, PathBuf)>,
) -> anyhow::Result<()> {
    let checkpoint = match checkpoint {
        Some((file, key_file)) => Some((read_checkpoint(&file)?, read_key(&key_file)?)),
        None => None,
    };
    let service = service(global).await?;
    let report = service
        .verify_audit(checkpoint.as_ref().map(|(c, key)| (c, key.as_slice())))
        .await
        .map_err(anyhow_of)?;
    if report.broken.is_empty() {
        println!(
            "审计链完好 / audit trail intact: {} chains, {} events, {} contracts verified{}",
            report.chains,
            report.events,
            report.contracts,
            if checkpoint.is_some() {
                format!(", {} checkpoint heads present", report.checkpoint_heads)
            } else {
                String::new()
            }
        );
        return Ok(());
    }
    for broken in &report.broken {
        let event = broken
            .event_id
            .map(|id| format!(" at event {id}"))
            .unwrap_or_default();
        eprintln!(
            "审计链断裂 / audit chain broken: {} {}{event} (seq {}): {}",
            broken.subject_kind, broken.subject_id, broken.seq, broken.reason
        );
    }
    Err(anyhow!(
        "{} problems in {} audit chains",
        report.broken.len(),
        report.chains
    ))
}

/// `audit checkpoint`: every chain's head, sealed, printed or written to `out`.
async fn audit_checkpoint(
    global: &GlobalArgs,
    key_file: &Path,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    let key = read_key(key_file)?;
    let service = service(global).await?;
    let checkpoint = service.audit_checkpoint(&key).await.map_err(anyhow_of)?;
    let json = serde_json::to_string_pretty(&checkpoint)?;
    match out {
        Some(path) => std::fs::write(path, json + "\n")
            .with_context(|| format!("writing {}", path.display()))?,
        None => println!("{json}"),
    }
    Ok(())
}

fn read_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading the key {}", path.display()))
}

fn read_checkpoint(path: &Path) -> anyhow::Result<Checkpoint> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the checkpoint {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a checkpoint", path.display()))
}

/// The first line of standard input, without its line ending.
async fn read_password_line() -> anyhow::Result<String> {
    let mut line = String::new();
    tokio::io::BufReader::new(tokio::io::stdin())
        .read_line(&mut line)
        .await
        .context("reading the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Service errors carry their field messages; show them to the operator.
fn anyhow_of(error: crate::error::Error) -> anyhow::Error {
    match error {
        crate::error::Error::Invalid(errors) => {
            let lines: Vec<_> = errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect();
            anyhow!(lines.join("; "))
        }
        crate::error::Error::Internal(cause) => cause,
        other => anyhow!(other.to_string()),
    }
}
