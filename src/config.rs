//! Every setting, as a command-line flag with an environment-variable fallback, so that
//! `contract-review --help` is the complete reference. No global configuration: the parsed values
//! are handed to whatever needs them.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::defaults::Overrides;
use crate::store::DatabaseOptions;

/// What the service needs to start: the database, the configuration files, and the settings of
/// sign-in, HTTP and mail.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    pub database: DatabaseOptions,
    /// Where the embedded database and the mail files go by default.
    pub data_dir: PathBuf,
    pub overrides: Overrides,
    pub http: HttpSettings,
    pub auth: AuthSettings,
    pub mail: MailSettings,
    pub audit: AuditSettings,
}

impl Default for AuditSettings {
    fn default() -> Self {
        Self {
            checkpoint_dir: None,
            checkpoint_key_file: None,
            checkpoint_interval_minutes: DEFAULT_CHECKPOINT_INTERVAL_MINUTES,
        }
    }
}

impl Settings {
    /// The settings of a command: the global flags, and `serve`'s own when it is `serve`.
    pub fn new(global: &GlobalArgs, serve: Option<&ServeArgs>) -> Self {
        Self {
            database_url: global.database_url(),
            database: global.database_options(),
            data_dir: global.data_dir.clone(),
            overrides: global.overrides(),
            http: serve.map(|s| s.http.clone()).unwrap_or_default(),
            auth: serve.map(|s| s.auth.clone()).unwrap_or_default(),
            mail: serve.map(|s| s.mail.clone()).unwrap_or_default(),
            audit: serve.map(|s| s.audit.clone()).unwrap_or_default(),
        }
    }

    /// The mail URL given, or `.eml` files in the data folder.
    pub fn mail_url(&self) -> String {
        self.mail
            .mail_url
            .clone()
            .unwrap_or_else(|| format!("file://{}", self.data_dir.join("mail").display()))
    }
}

// Each default is written once, here; the flags and the `Default` impls both use it.
const DEFAULT_DATA_DIR: &str = "data";
const DEFAULT_DB_MAX_CONNECTIONS: u32 = 16;
const DEFAULT_BIND: &str = "127.0.0.1:8080";
const DEFAULT_MAIL_FROM: &str = "合同审查 <contract-review@localhost>";
const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";
const DEFAULT_MAIL_RETRY_FOR_HOURS: f64 = 24.0;
const DEFAULT_MAIL_RETRY_BASE_MS: u64 = 5_000;
const DEFAULT_MAIL_RETRY_MAX_SECS: u64 = 3_600;
const DEFAULT_MAIL_POLL_MS: u64 = 500;
const DEFAULT_MAIL_CONCURRENCY: u32 = 8;
const DEFAULT_REMINDER_INTERVAL_SECS: u64 = 300;
const DEFAULT_MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
const DEFAULT_MAX_UPLOAD_BYTES: usize = 20 * 1024 * 1024;
const DEFAULT_MAX_MATERIALS_BYTES: usize = 100 * 1024 * 1024;
const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 30;
const DEFAULT_TOKEN_TTL_HOURS: u32 = 12;
const DEFAULT_LOGIN_MAX_FAILURES_PER_ACCOUNT: u32 = 5;
const DEFAULT_LOGIN_MAX_FAILURES_PER_ADDRESS: u32 = 20;
const DEFAULT_LOGIN_WINDOW_MINUTES: u32 = 15;
const DEFAULT_CHECKPOINT_INTERVAL_MINUTES: u64 = 60;

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
    /// Where the embedded database and the mail files live when their URLs are not given.
    #[arg(
        long,
        env = "CONTRACT_REVIEW_DATA_DIR",
        default_value = DEFAULT_DATA_DIR,
        global = true
    )]
    pub data_dir: PathBuf,

    /// Database URL: `sqlite:PATH` (embedded) or `postgres://user:pass@host/db`. Default:
    /// `sqlite:DATA_DIR/contract-review.db`.
    #[arg(long, env = "CONTRACT_REVIEW_DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Largest number of pooled database connections.
    #[arg(
        long,
        env = "CONTRACT_REVIEW_DB_MAX_CONNECTIONS",
        default_value_t = DEFAULT_DB_MAX_CONNECTIONS,
        global = true
    )]
    pub db_max_connections: u32,

    /// SQLite durability: `full` survives power loss after every acknowledged write; `normal` is
    /// faster but may lose the last commits on power loss.
    #[arg(long, env = "CONTRACT_REVIEW_SQLITE_SYNCHRONOUS", value_enum, default_value_t = SqliteSync::Full, global = true)]
    pub sqlite_synchronous: SqliteSync,

    /// The review workflow definition (default: the built-in one; see `defaults export`).
    #[arg(long, env = "CONTRACT_REVIEW_WORKFLOW", global = true)]
    pub workflow: Option<PathBuf>,

    /// Public holidays and make-up working days, for review deadlines (default: built in).
    #[arg(long, env = "CONTRACT_REVIEW_CALENDAR", global = true)]
    pub calendar: Option<PathBuf>,

    /// The screening rule book (default: built in).
    #[arg(long, env = "CONTRACT_REVIEW_RULES", global = true)]
    pub rules: Option<PathBuf>,

    /// A folder laid out like the built-in templates (opinion.md, email/*.md, web/*); each file
    /// in it replaces the built-in one of the same name.
    #[arg(long, env = "CONTRACT_REVIEW_TEMPLATES_DIR", global = true)]
    pub templates_dir: Option<PathBuf>,

    /// Log output: `text` for people, `json` for log collectors. Levels come from RUST_LOG.
    #[arg(long, env = "CONTRACT_REVIEW_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

impl GlobalArgs {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            workflow: self.workflow.clone(),
            calendar: self.calendar.clone(),
            templates_dir: self.templates_dir.clone(),
            rules: self.rules.clone(),
        }
    }

    /// The database URL given, or the embedded database in the data folder.
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite:{}",
                self.data_dir.join("contract-review.db").display()
            )
        })
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
            .field("data_dir", &self.data_dir)
            .field("database_url", &redact_url(&self.database_url()))
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
    /// The workflow, rule book, calendar and templates built into the binary.
    #[command(subcommand)]
    Defaults(DefaultsCommand),
}

#[derive(Debug, Subcommand)]
pub enum DefaultsCommand {
    /// Write the built-in files under DIR (workflows/…, templates/…) for an operator to
    /// customise, then pass them with --workflow, --rules, --calendar and --templates-dir.
    Export {
        dir: PathBuf,
        /// Overwrite files that exist already.
        #[arg(long)]
        force: bool,
    },
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
    /// Recompute every hash chain and hold each contract against its chain; with a checkpoint,
    /// also check that no chain lost events since. Exit 1 naming the contract and event where
    /// something does not hold.
    Verify {
        /// A checkpoint written by `audit checkpoint` (or by `serve --checkpoint-dir`).
        #[arg(long, requires = "key_file")]
        checkpoint: Option<PathBuf>,
        /// The key the checkpoint was sealed with.
        #[arg(long, requires = "checkpoint")]
        key_file: Option<PathBuf>,
    },
    /// Seal the head of every chain with a key the database does not hold, and print the
    /// checkpoint (JSON). Keep it, and the key, away from the database.
    Checkpoint {
        /// At least 32 bytes, e.g. `head -c 32 /dev/urandom > audit.key`.
        #[arg(long)]
        key_file: PathBuf,
        /// Write the checkpoint here instead of printing it.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "CONTRACT_REVIEW_BIND", default_value = DEFAULT_BIND)]
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

    #[command(flatten)]
    pub audit: AuditSettings,
}

/// Periodic checkpoints of the audit trail, sealed with a key the database does not hold.
#[derive(Debug, Clone, Args)]
pub struct AuditSettings {
    /// Write a checkpoint of every audit chain's head into this folder periodically.
    #[arg(
        long,
        env = "CONTRACT_REVIEW_CHECKPOINT_DIR",
        requires = "checkpoint_key_file"
    )]
    pub checkpoint_dir: Option<PathBuf>,

    /// The key checkpoints are sealed with (at least 32 bytes); keep it off the database host.
    #[arg(
        long,
        env = "CONTRACT_REVIEW_CHECKPOINT_KEY_FILE",
        requires = "checkpoint_dir"
    )]
    pub checkpoint_key_file: Option<PathBuf>,

    /// Minutes between two checkpoints.
    #[arg(
        long,
        env = "CONTRACT_REVIEW_CHECKPOINT_INTERVAL_MINUTES",
        default_value_t = DEFAULT_CHECKPOINT_INTERVAL_MINUTES
    )]
    pub checkpoint_interval_minutes: u64,
}

/// E-mail: where it goes and how the dispatcher retries.
#[derive(Clone, Args)]
pub struct MailSettings {
    /// Where mail goes: `smtp://user:pass@host:587?tls=required` (also `tls=opportunistic`, and
    /// `tls=none` for a local relay), `smtps://user:pass@host:465`, or `file://DIR` to write
    /// `.eml` files. Default: `file://DATA_DIR/mail`.
    #[arg(long, env = "CONTRACT_REVIEW_MAIL_URL")]
    pub mail_url: Option<String>,

    /// The sender address of every e-mail.
    #[arg(
        long,
        env = "CONTRACT_REVIEW_MAIL_FROM",
        default_value = DEFAULT_MAIL_FROM
    )]
    pub mail_from: String,

    /// The service's public address, for links in e-mails.
    #[arg(
        long,
        env = "CONTRACT_REVIEW_PUBLIC_URL",
        default_value = DEFAULT_PUBLIC_URL
    )]
    pub public_url: String,

    /// How long a mail that keeps failing temporarily (the server unreachable, 4xx answers) is
    /// retried, in hours from its first failure, before it is marked failed. A permanent refusal
    /// (5xx) fails at once. Replaces a count of attempts: what an operator means is how long an
    /// outage may last, and the number of attempts that fit in it depends on the back-off.
    #[arg(
        long,
        env = "CONTRACT_REVIEW_MAIL_RETRY_FOR_HOURS",
        default_value_t = DEFAULT_MAIL_RETRY_FOR_HOURS,
        value_parser = positive_hours
    )]
    pub mail_retry_for_hours: f64,

    /// The first retry delay in milliseconds; it doubles with each attempt, with ±20 % jitter,
    /// up to `--mail-retry-max-secs`.
    #[arg(
        long,
        env = "CONTRACT_REVIEW_MAIL_RETRY_BASE_MS",
        default_value_t = DEFAULT_MAIL_RETRY_BASE_MS
    )]
    pub mail_retry_base_ms: u64,

    /// The longest wait between two attempts, in seconds.
    #[arg(
        long,
        env = "CONTRACT_REVIEW_MAIL_RETRY_MAX_SECS",
        default_value_t = DEFAULT_MAIL_RETRY_MAX_SECS
    )]
    pub mail_retry_max_secs: u64,

    /// How often the dispatcher looks for due mail, in milliseconds.
    #[arg(long, env = "CONTRACT_REVIEW_MAIL_POLL_MS", default_value_t = DEFAULT_MAIL_POLL_MS)]
    pub mail_poll_ms: u64,

    /// Mails sent at once (and SMTP connections kept open). It also bounds how many mails a
    /// crash can send twice: only a mail between the server's acceptance and its record can be,
    /// and each connection has at most one there. Against a local server, 8 connections already
    /// send over a thousand mails a second.
    #[arg(long, env = "CONTRACT_REVIEW_MAIL_CONCURRENCY", default_value_t = DEFAULT_MAIL_CONCURRENCY)]
    pub mail_concurrency: u32,

    /// How often deadlines are checked for reminders and escalations, in seconds.
    #[arg(
        long,
        env = "CONTRACT_REVIEW_REMINDER_INTERVAL_SECS",
        default_value_t = DEFAULT_REMINDER_INTERVAL_SECS
    )]
    pub reminder_interval_secs: u64,
}

impl MailSettings {
    /// How long temporary failures are retried.
    pub fn retry_for(&self) -> Duration {
        Duration::try_from_secs_f64(self.mail_retry_for_hours * 3600.0).unwrap_or(Duration::MAX)
    }
}

/// A number of hours above zero (fractions allowed).
fn positive_hours(raw: &str) -> Result<f64, String> {
    match raw.parse::<f64>() {
        Ok(hours) if hours.is_finite() && hours > 0.0 => Ok(hours),
        _ => Err(format!(
            "须为大于零的小时数 / must be a number of hours above zero, not {raw:?}"
        )),
    }
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            mail_url: None,
            mail_from: DEFAULT_MAIL_FROM.into(),
            public_url: DEFAULT_PUBLIC_URL.into(),
            mail_retry_for_hours: DEFAULT_MAIL_RETRY_FOR_HOURS,
            mail_retry_base_ms: DEFAULT_MAIL_RETRY_BASE_MS,
            mail_retry_max_secs: DEFAULT_MAIL_RETRY_MAX_SECS,
            mail_poll_ms: DEFAULT_MAIL_POLL_MS,
            mail_concurrency: DEFAULT_MAIL_CONCURRENCY,
            reminder_interval_secs: DEFAULT_REMINDER_INTERVAL_SECS,
        }
    }
}

impl fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailSettings")
            .field("mail_url", &self.mail_url.as_deref().map(redact_url))
            .field("mail_from", &self.mail_from)
            .field("public_url", &self.public_url)
            .field("mail_retry_for_hours", &self.mail_retry_for_hours)
            .field("mail_retry_base_ms", &self.mail_retry_base_ms)
            .field("mail_retry_max_secs", &self.mail_retry_max_secs)
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
    #[arg(long, env = "CONTRACT_REVIEW_MAX_BODY_BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,

    /// Largest uploaded file (a Word or PDF draft, a review material), in bytes; larger ones get
    /// 413 and nothing is stored.
    #[arg(long, env = "CONTRACT_REVIEW_MAX_UPLOAD_BYTES", default_value_t = DEFAULT_MAX_UPLOAD_BYTES)]
    pub max_upload_bytes: usize,

    /// Largest total of one contract's review materials, in bytes.
    #[arg(
        long,
        env = "CONTRACT_REVIEW_MAX_MATERIALS_BYTES",
        default_value_t = DEFAULT_MAX_MATERIALS_BYTES
    )]
    pub max_materials_bytes: usize,

    /// Seconds a request may take before it is abandoned (408).
    #[arg(
        long,
        env = "CONTRACT_REVIEW_REQUEST_TIMEOUT_SECS",
        default_value_t = DEFAULT_REQUEST_TIMEOUT_SECS
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

    /// What the service holds uploads to.
    pub fn upload_limits(&self) -> UploadLimits {
        UploadLimits {
            file_bytes: self.max_upload_bytes,
            materials_bytes: self.max_materials_bytes,
        }
    }
}

/// Upload limits: per file, and for one contract's materials together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadLimits {
    pub file_bytes: usize,
    pub materials_bytes: usize,
}

impl Default for UploadLimits {
    fn default() -> Self {
        HttpSettings::default().upload_limits()
    }
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            max_materials_bytes: DEFAULT_MAX_MATERIALS_BYTES,
            request_timeout_secs: DEFAULT_REQUEST_TIMEOUT_SECS,
            client_ip_header: None,
        }
    }
}

/// Sign-in and token policy.
#[derive(Debug, Clone, Args)]
pub struct AuthSettings {
    /// Hours an API token stays valid after sign-in.
    #[arg(long, env = "CONTRACT_REVIEW_TOKEN_TTL_HOURS", default_value_t = DEFAULT_TOKEN_TTL_HOURS)]
    pub token_ttl_hours: u32,

    /// Failed sign-ins allowed per account within the window before further attempts get 429.
    #[arg(
        long,
        env = "CONTRACT_REVIEW_LOGIN_MAX_FAILURES_PER_ACCOUNT",
        default_value_t = DEFAULT_LOGIN_MAX_FAILURES_PER_ACCOUNT
    )]
    pub login_max_failures_per_account: u32,

    /// Failed sign-ins allowed per client address within the window.
    #[arg(
        long,
        env = "CONTRACT_REVIEW_LOGIN_MAX_FAILURES_PER_ADDRESS",
        default_value_t = DEFAULT_LOGIN_MAX_FAILURES_PER_ADDRESS
    )]
    pub login_max_failures_per_address: u32,

    /// The sliding window for counting failed sign-ins, in minutes.
    #[arg(
        long,
        env = "CONTRACT_REVIEW_LOGIN_WINDOW_MINUTES",
        default_value_t = DEFAULT_LOGIN_WINDOW_MINUTES
    )]
    pub login_window_minutes: u32,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            token_ttl_hours: DEFAULT_TOKEN_TTL_HOURS,
            login_max_failures_per_account: DEFAULT_LOGIN_MAX_FAILURES_PER_ACCOUNT,
            login_max_failures_per_address: DEFAULT_LOGIN_MAX_FAILURES_PER_ADDRESS,
            login_window_minutes: DEFAULT_LOGIN_WINDOW_MINUTES,
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
        /// For a legal-affairs office: the prefix of its review letters' 文号, e.g. 示司审.
        #[arg(long)]
        opinion_prefix: Option<String>,
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
