//! The command line: each subcommand calls the same services as the HTTP API.

use std::process::ExitCode;

use anyhow::Context;
use tokio::io::AsyncBufReadExt;
use tokio::net::TcpListener;

use crate::config::{AdminCommand, Cli, Command, GlobalArgs, ServeArgs, redact_url};
use crate::service::directory::UserInput;
use crate::service::{Actor, Service, demo};
use crate::{App, Settings, shutdown_signal, store};

/// Runs the parsed command; the exit code tells scripts whether it worked.
pub async fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Serve(args) => serve(&cli.global, args).await,
        Command::Migrate => migrate(&cli.global).await,
        Command::Admin(command) => admin(&cli.global, command).await,
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
    let settings = Settings {
        database_url: global.database_url.clone(),
        database: global.database_options(),
        http: args.http,
        auth: args.auth,
    };
    let app = App::build(settings).await?;
    if args.demo {
        let logins = app
            .service()
            .seed_demo()
            .await
            .map_err(|e| anyhow::anyhow!("seeding the demo: {e}"))?;
        print_demo_logins(&logins, args.bind);
    }
    let listener = TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("binding {}", args.bind))?;
    tracing::info!(
        address = %listener.local_addr()?,
        database = %redact_url(&global.database_url),
        backend = app.service().store().backend(),
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
    println!(
        "试一试 / try: curl -s -X POST http://{bind}/api/v1/auth/login -H 'content-type: application/json' \
         -d '{{\"email\":\"clerk@edu.demo.gov.cn\",\"password\":\"{}\"}}'",
        demo::DEMO_PASSWORD
    );
}

async fn migrate(global: &GlobalArgs) -> anyhow::Result<()> {
    let store = store::connect(&global.database_url, &global.database_options()).await?;
    println!(
        "数据库已是最新 / database is up to date ({})",
        store.backend()
    );
    Ok(())
}

async fn admin(global: &GlobalArgs, command: AdminCommand) -> anyhow::Result<()> {
    let store = store::connect(&global.database_url, &global.database_options()).await?;
    let service = Service::new(store, Default::default()).await?;
    match command {
        AdminCommand::CreateAgency { name, parent } => {
            let parent_id = match parent {
                Some(parent) => Some(service.agency_named(&parent).await.map_err(anyhow_of)?.id),
                None => None,
            };
            let agency = service
                .create_agency(Actor::Operator, &name, parent_id)
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
                .create_user(Actor::Operator, input)
                .await
                .map_err(anyhow_of)?;
            println!("{}", serde_json::to_string(&user)?);
        }
    }
    Ok(())
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
            anyhow::anyhow!(lines.join("; "))
        }
        crate::error::Error::Internal(cause) => cause,
        other => anyhow::anyhow!(other.to_string()),
    }
}
