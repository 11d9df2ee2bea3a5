//! contract-review: the mandatory legality review of agencies' contracts before signing.
//!
//! This file is the map: the modules below, from the outer shell to the pure core, and the
//! [`App`] that wires them. Data flows one way: a request (HTTP, a page or the command line)
//! reaches a use case in `service`, which loads from `store`, asks the pure core (`workflow`,
//! `screening`, `domain`) for a decision, and commits it in one transaction; `notify` sends the
//! mail that transaction queued.

/// The command line: each subcommand calls the same use cases as the API.
pub mod cli;
/// Every setting as a flag with an environment fallback, and the settings the service starts from.
pub mod config;
/// The workflow, rule book, calendar and templates built into the binary, and their overrides.
pub mod defaults;

/// Uploaded drafts and materials: Word and PDF to Markdown, file types read from their bytes.
pub mod documents;
/// Plain types of the domain, parsed once at the boundary; what the API and pages show. No I/O.
pub mod domain;
/// The one error type, mapped to RFC 9457 problem documents.
pub mod error;
/// The JSON API, the operational endpoints and the web pages.
pub mod http;
/// Sending the mail queued in the outbox.
pub mod notify;
/// Office files written for people: the opinion letter as Word, registers as Excel. No I/O.
pub mod office;
/// The configuration files, read and checked once at start-up.
pub mod resources;
/// `contract-review screen`: the legality screen offline, on files.
pub mod screen_cli;
/// The legality screen: clause tree, parties, rules, findings. No I/O.
pub mod screening;
/// The use cases: load, ask the pure core, commit in one transaction.
pub mod service;
/// Persistence, one file of SQL per aggregate, shared by SQLite and PostgreSQL.
pub mod store;
/// Logging and spans.
pub mod telemetry;
/// The Markdown templates of the opinion letter and the e-mails.
pub mod templates;
/// The review workflow: definition, engine, conditions, calendar, diagrams. No I/O.
pub mod workflow;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

pub use config::Settings;
use http::AppState;
use http::metrics::Metrics;
use notify::Dispatcher;
use resources::Resources;
use service::Service;

/// The assembled application: store, services, metrics, router.
pub struct App {
    state: AppState,
    dispatcher: Dispatcher,
    audit: config::AuditSettings,
}

/// Opens (and migrates) the database, loads and checks the workflow, calendar, rule book and
/// templates, and wires the services: what the API, the pages and the command line all use.
///
/// # Errors
/// When the database cannot be opened or migrated, or a configuration file is invalid.
pub async fn open_service(settings: &Settings) -> anyhow::Result<Service> {
    let store = store::connect(&settings.database_url, &settings.database).await?;
    let resources = Resources::load(&settings.overrides)?;
    Service::new(
        store,
        settings.auth.clone(),
        &settings.mail.public_url,
        resources,
    )
    .await
    .map(|service| service.with_upload_limits(settings.http.upload_limits()))
}

impl App {
    /// The service, the web pages and the mail dispatcher.
    ///
    /// # Errors
    /// See [`open_service`]; also an invalid page template or mail setting.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let service = open_service(&settings).await?;
        let pages = http::ui::Pages::load(&settings.overrides)?;
        let secure_cookies = settings.mail.public_url.starts_with("https://");
        let mut mail = settings.mail.clone();
        mail.mail_url = Some(settings.mail_url());
        let dispatcher = Dispatcher::new(service.clone(), mail)?;
        let state = AppState {
            service,
            metrics: Arc::new(Metrics::new()),
            http: Arc::new(settings.http),
            pages: Arc::new(pages),
            secure_cookies,
        };
        Ok(Self {
            state,
            dispatcher,
            audit: settings.audit,
        })
    }

    pub fn service(&self) -> &Service {
        &self.state.service
    }

    pub fn router(&self) -> axum::Router {
        http::router(self.state.clone())
    }

    /// Serves on `listener`, and sends queued mail, until `shutdown` completes; then finishes
    /// in-flight requests and the mail batch in hand.
    ///
    /// # Errors
    /// When the listener fails.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let router = self.router();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let dispatcher = tokio::spawn(self.dispatcher.run(stopped.clone()));
        if let (Some(dir), Some(key_file)) = (
            self.audit.checkpoint_dir.clone(),
            self.audit.checkpoint_key_file.clone(),
        ) {
            let every = std::time::Duration::from_secs(self.audit.checkpoint_interval_minutes * 60);
            let service = self.state.service.clone();
            tokio::spawn(checkpoints(service, dir, key_file, every, stopped));
        }
        let served = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving HTTP");
        let _ = stop.send(true);
        dispatcher.await.context("the mail dispatcher panicked")?;
        served
    }
}

/// Writes a sealed checkpoint of the audit trail into `dir` every `every`, until `stop`.
async fn checkpoints(
    service: Service,
    dir: std::path::PathBuf,
    key_file: std::path::PathBuf,
    every: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let every = every.max(std::time::Duration::from_secs(60));
    while !*stop.borrow() {
        if let Err(error) = write_checkpoint(&service, &dir, &key_file).await {
            tracing::error!(error = ?error, "writing an audit checkpoint failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => {}
        }
    }
}

async fn write_checkpoint(
    service: &Service,
    dir: &std::path::Path,
    key_file: &std::path::Path,
) -> anyhow::Result<()> {
    let key = std::fs::read(key_file)
        .with_context(|| format!("reading the checkpoint key {}", key_file.display()))?;
    let checkpoint = service
        .audit_checkpoint(&key)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let name = format!(
        "audit-checkpoint-{}.json",
        checkpoint.taken_at.format("%Y%m%dT%H%M%S%.6fZ")
    );
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(&checkpoint)?)
        .with_context(|| format!("writing {}", path.display()))?;
    tracing::info!(file = %path.display(), heads = checkpoint.heads.len(), "audit checkpoint written");
    Ok(())
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
