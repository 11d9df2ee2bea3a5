//! contract-review: the mandatory legality review of agencies' contracts before signing.
//!
//! This file builds the [`App`] from its [`Settings`] and serves it; everything else lives in
//! the modules: the pure core (`domain`), the I/O shell (`store`, `http`) and the use cases
//! between them (`service`).

pub mod cli;
pub mod config;
pub mod defaults;
pub mod domain;
pub mod error;
pub mod http;
pub mod notify;
pub mod resources;
pub mod screen_cli;
pub mod screening;
pub mod service;
pub mod store;
pub mod telemetry;
pub mod templates;
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
        Ok(Self { state, dispatcher })
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
        let dispatcher = tokio::spawn(self.dispatcher.run(stopped));
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
