//! Every setting, as a command-line flag with an environment-variable fallback, so that
//! `contract-review --help` is the complete reference. No global configuration: the parsed values
//! are handed to whatever needs them.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::resources::ResourcePaths;
use crate::store::DatabaseOptions;

#[derive(Debug, Parser)]
#[command(
    name = "contract-review",
    version,
    about = "合同合法性审查 / Mandatory legality review of agency contracts"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Args)]
pub struct GlobalArgs {
    /// Database URL: `sqlite:PATH` (embedded, the default) or `postgres://user:pass@host/db`.
    #[arg(
        long,
        env = "CONTRACT_REVIEW_DATABASE_URL",
        default_value = "sqlite:data/contract-review.db",
        global = true
    )]
    pub database_url: String,

    /// Largest number of pooled database connections.
    #[arg(
        long,
        env = "CONTRACT_REVIEW_DB_MAX_CONNECTIONS",
        default_value_t = 16,
        global = true
    )]
    pub db_max_connections: u32,

    /// SQLite durability: `full` survives power loss after every acknowledged write; `normal` is
    /// faster but may lose the last commits on power loss.
    #[arg(long, env = "CONTRACT_REVIEW_SQLITE_SYNCHRONOUS", value_enum, default_value_t = SqliteSync::Full, global = true)]
    pub sqlite_synchronous: SqliteSync,

    /// The review workflow definition.
    #[arg(
        long,
        env = "CONTRACT_REVIEW_WORKFLOW",
        default_value = "workflows/contract-review.toml",
        global = true
    )]
    pub workflow: PathBuf,

    /// Public holidays and make-up working days, for review deadlines.
    #[arg(
        long,
        env = "CONTRACT_REVIEW_CALENDAR",
        default_value = "workflows/calendar-cn.toml",
        global = true
    )]
    pub calendar: PathBuf,

    /// The screening rule book.
    #[arg(
        long,
        env = "CONTRACT_REVIEW_RULES",
        default_value = "workflows/screening-rules.toml",
        global = true
    )]
    pub rules: PathBuf,

    /// The directory holding opinion.md and email/*.md.
    #[arg(
        long,
        env = "CONTRACT_REVIEW_TEMPLATES_DIR",
        default_value = "templates",
        global = true
    )]
    pub templates_dir: PathBuf,

    /// Log output: `text` for people, `json` for log collectors. Levels come from RUST_LOG.
    #[arg(long, env = "CONTRACT_REVIEW_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

impl GlobalArgs {
    pub fn resource_paths(&self) -> ResourcePaths {
        ResourcePaths {
            workflow: self.workflow.clone(),
            calendar: self.calendar.clone(),
            templates: self.templates_dir.clone(),
            rules: self.rules.clone(),
        }
    }

    pub fn database_options(&self) -> DatabaseOptions {
        DatabaseOptions {
            max_connections: self.db_max_connections,
            sqlite_synchronous_full: self.sqlite_synchronous == SqliteSync::Full,
            ..DatabaseOptions::default()
        }
    }
}

impl fmt::Debug for GlobalArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GlobalArgs")
            .field("database_url", &redact_url(&self.database_url))
            .field("db_max_connections", &self.db_max_connections)
            .field("sqlite_synchronous", &self.sqlite_synchronous)
            .field("workflow", &self.workflow)
            .field("calendar", &self.calendar)
            .field("rules", &self.rules)
            .field("templates_dir", &self.templates_dir)
            .field("log_format", &self.log_format)
            .finish()
    }
}

/// `scheme://user:secret@host` → `scheme://user:***@host`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _secret)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SqliteSync {
    Full,
    Normal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (creates and migrates the database first).
    Serve(ServeArgs),
    /// Create the database if needed and apply the migrations, then exit.
    Migrate,
    /// Manage agencies and users from the command line.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Check or draw a workflow definition, offline.
    #[command(subcommand)]
    Workflow(WorkflowCommand),
    /// Check the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Screen contract drafts offline for prohibited activities. Exit status: 0 without blocking
    /// findings, 2 with them, 1 on error.
    Screen(ScreenArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ScreenArgs {
    /// Markdown contract drafts.
    #[arg(required_unless_present = "eval")]
    pub files: Vec<PathBuf>,

    /// Measure the screen on a labelled corpus directory instead (see tests/corpus/README.md):
    /// precision and recall per category and overall.
    #[arg(long, conflicts_with_all = ["facts", "contract_type", "agency_party"])]
    pub eval: Option<PathBuf>,

    /// The contract type (overrides --facts): procurement, construction, service, lease,
    /// guarantee, investment, other.
    #[arg(long = "type")]
    pub contract_type: Option<String>,

    /// How the contract names the agency, e.g. 甲方 or "the County" (overrides --facts).
    #[arg(long)]
    pub agency_party: Option<String>,

    /// The submission's facts as JSON: contract_type, agency_party, counterparty, amount_fen,
    /// funding_source, title, unpaid_judgments [{kind, outstanding_fen}].
    #[arg(long)]
    pub facts: Option<PathBuf>,

    #[arg(long, value_enum, default_value_t = ScreenFormat::Text)]
    pub format: ScreenFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScreenFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum WorkflowCommand {
    /// Validate a workflow file (default: --workflow); exit 1 naming each problem's line.
    Check { file: Option<PathBuf> },
    /// Print a workflow as a Mermaid state diagram.
    Graph { file: Option<PathBuf> },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute every hash chain; exit 1 naming the contract and event where one breaks.
    Verify,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "CONTRACT_REVIEW_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Seed a demo agency tree, users and drafts (idempotent) and print their logins.
    #[arg(long, env = "CONTRACT_REVIEW_DEMO")]
    pub demo: bool,

    #[command(flatten)]
    pub http: HttpSettings,

    #[command(flatten)]
    pub auth: AuthSettings,

    #[command(flatten)]
    pub mail: MailSettings,
}

/// E-mail: where it goes and how the dispatcher retries.
#[derive(Clone, Args)]
pub struct MailSettings {
    /// Where mail goes: `smtp://user:pass@host:587?tls=required` (also `tls=opportunistic`, and
    /// `tls=none` for a local relay), `smtps://user:pass@host:465`, or `file://DIR` to write
    /// `.eml` files.
    #[arg(
        long,
        env = "CONTRACT_REVIEW_MAIL_URL",
        default_value = "file://data/mail"
    )]
    pub mail_url: String,

    /// The sender address of every e-mail.
    #[arg(
        long,
        env = "CONTRACT_REVIEW_MAIL_FROM",
        default_value = "合同审查 <contract-review@localhost>"
    )]
    pub mail_from: String,

    /// The service's public address, for links in e-mails.
    #[arg(
        long,
        env = "CONTRACT_REVIEW_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub public_url: String,

    /// Attempts before a mail that keeps failing temporarily is marked failed.
    #[arg(long, env = "CONTRACT_REVIEW_MAIL_MAX_ATTEMPTS", default_value_t = 8)]
    pub mail_max_attempts: u32,

    /// The first retry delay in milliseconds; it doubles with each attempt (up to an hour).
    #[arg(
        long,
        env = "CONTRACT_REVIEW_MAIL_RETRY_BASE_MS",
        default_value_t = 5_000
    )]
    pub mail_retry_base_ms: u64,

    /// How often the dispatcher looks for due mail, in milliseconds.
    #[arg(long, env = "CONTRACT_REVIEW_MAIL_POLL_MS", default_value_t = 500)]
    pub mail_poll_ms: u64,

    /// Mails sent at once (and SMTP connections kept open). Each SMTP message costs a few round
    /// trips, so throughput comes from sending in parallel.
    #[arg(long, env = "CONTRACT_REVIEW_MAIL_CONCURRENCY", default_value_t = 32)]
    pub mail_concurrency: u32,

    /// How often deadlines are checked for reminders and escalations, in seconds.
    #[arg(
        long,
        env = "CONTRACT_REVIEW_REMINDER_INTERVAL_SECS",
        default_value_t = 300
    )]
    pub reminder_interval_secs: u64,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            mail_url: "file://data/mail".into(),
            mail_from: "合同审查 <contract-review@localhost>".into(),
            public_url: "http://127.0.0.1:8080".into(),
            mail_max_attempts: 8,
            mail_retry_base_ms: 5_000,
            mail_poll_ms: 500,
            mail_concurrency: 32,
            reminder_interval_secs: 300,
        }
    }
}

impl fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailSettings")
            .field("mail_url", &redact_url(&self.mail_url))
            .field("mail_from", &self.mail_from)
            .field("public_url", &self.public_url)
            .field("mail_max_attempts", &self.mail_max_attempts)
            .field("mail_retry_base_ms", &self.mail_retry_base_ms)
            .field("mail_poll_ms", &self.mail_poll_ms)
            .field("mail_concurrency", &self.mail_concurrency)
            .field("reminder_interval_secs", &self.reminder_interval_secs)
            .finish()
    }
}

/// Limits the HTTP layer enforces.
#[derive(Debug, Clone, Args)]
pub struct HttpSettings {
    /// Largest accepted request body, in bytes (larger ones get 413).
    #[arg(long, env = "CONTRACT_REVIEW_MAX_BODY_BYTES", default_value_t = 2 * 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Seconds a request may take before it is abandoned (408).
    #[arg(
        long,
        env = "CONTRACT_REVIEW_REQUEST_TIMEOUT_SECS",
        default_value_t = 30
    )]
    pub request_timeout_secs: u64,

    /// Behind a reverse proxy: the header carrying the client's address (e.g. X-Forwarded-For),
    /// used for per-address sign-in limits. Unset: the connection's peer address.
    #[arg(long, env = "CONTRACT_REVIEW_CLIENT_IP_HEADER")]
    pub client_ip_header: Option<String>,
}

impl HttpSettings {
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: 2 * 1024 * 1024,
            request_timeout_secs: 30,
            client_ip_header: None,
        }
    }
}

/// Sign-in and token policy.
#[derive(Debug, Clone, Args)]
pub struct AuthSettings {
    /// Hours an API token stays valid after sign-in.
    #[arg(long, env = "CONTRACT_REVIEW_TOKEN_TTL_HOURS", default_value_t = 12)]
    pub token_ttl_hours: u32,

    /// Failed sign-ins allowed per account within the window before further attempts get 429.
    #[arg(
        long,
        env = "CONTRACT_REVIEW_LOGIN_MAX_FAILURES_PER_ACCOUNT",
        default_value_t = 5
    )]
    pub login_max_failures_per_account: u32,

    /// Failed sign-ins allowed per client address within the window.
    #[arg(
        long,
        env = "CONTRACT_REVIEW_LOGIN_MAX_FAILURES_PER_ADDRESS",
        default_value_t = 20
    )]
    pub login_max_failures_per_address: u32,

    /// The sliding window for counting failed sign-ins, in minutes.
    #[arg(
        long,
        env = "CONTRACT_REVIEW_LOGIN_WINDOW_MINUTES",
        default_value_t = 15
    )]
    pub login_window_minutes: u32,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            token_ttl_hours: 12,
            login_max_failures_per_account: 5,
            login_max_failures_per_address: 20,
            login_window_minutes: 15,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an agency, optionally below a parent agency.
    CreateAgency {
        /// The agency's unique name, e.g. 某市财政局.
        #[arg(long)]
        name: String,
        /// The parent agency's name.
        #[arg(long)]
        parent: Option<String>,
    },
    /// Create a user; the password is read from standard input.
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// The name of the user's agency.
        #[arg(long)]
        agency: String,
        /// Comma-separated roles: submitter, reviewer, lead_reviewer, signatory, admin, auditor.
        #[arg(long)]
        role: String,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_in_urls() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/cr"),
            "postgres://app:***@db:5432/cr"
        );
        assert_eq!(redact_url("sqlite:data/x.db"), "sqlite:data/x.db");
        assert_eq!(redact_url("postgres://db/cr"), "postgres://db/cr");
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
