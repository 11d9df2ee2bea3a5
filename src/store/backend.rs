//! What differs between SQLite and PostgreSQL: how to connect, which migrations to run, how a
//! writing transaction begins, how outbox rows are claimed. Everything else is the shared SQL in
//! `sql/`.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Database, Pool, Postgres, Sqlite};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Pool settings shared by both backends.
#[derive(Debug, Clone)]
pub struct DatabaseOptions {
    pub max_connections: u32,
    /// How long a writer waits for SQLite's lock before giving up.
    pub busy_timeout: Duration,
    /// `synchronous=FULL` (the default) makes every acknowledged decision survive a power loss;
    /// `NORMAL` trades that for throughput and must be chosen explicitly.
    pub sqlite_synchronous_full: bool,
}

impl Default for DatabaseOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            busy_timeout: Duration::from_secs(5),
            sqlite_synchronous_full: true,
        }
    }
}

/// The per-backend pieces the shared SQL relies on.
pub(super) trait Backend: Database {
    const BACKEND_NAME: &'static str;
    /// Opens a transaction that will write. SQLite must take its write lock up front, or a
    /// read-then-write transaction fails with a busy snapshot when another writer went first.
    const BEGIN_WRITE: &'static str;
    /// SQLite allows one writer at a time. Queuing writers in the process, instead of letting
    /// each connection poll the lock with SQLite's sleeping busy handler, keeps write latency
    /// flat under concurrency.
    const SINGLE_WRITER: bool;
    /// Claims due outbox rows. PostgreSQL skips rows another dispatcher has locked; SQLite has
    /// one writer at a time, so a plain UPDATE … RETURNING is already exclusive.
    /// Binds: $1 now, $2 lease end, $3 limit, $4 'sending', $5 'pending', $6 the claimer.
    const CLAIM_OUTBOX: &'static str;
}

impl Backend for Sqlite {
    const BACKEND_NAME: &'static str = "sqlite";
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    const SINGLE_WRITER: bool = true;
    const CLAIM_OUTBOX: &'static str = "UPDATE outbox SET status = $4, claimed_until = $2, claimed_by = $6, attempts = attempts + 1
         WHERE id IN (
             SELECT id FROM outbox
             WHERE (status = $5 AND next_attempt_at <= $1) OR (status = $4 AND claimed_until < $1)
             ORDER BY next_attempt_at LIMIT $3)
         RETURNING id, contract_id, event, recipient, subject, body_text, body_html, status, attempts,
                   next_attempt_at, retry_until, last_error, created_at, sent_at";
}

impl Backend for Postgres {
    const BACKEND_NAME: &'static str = "postgres";
    const BEGIN_WRITE: &'static str = "BEGIN";
    const SINGLE_WRITER: bool = false;
    const CLAIM_OUTBOX: &'static str = "UPDATE outbox SET status = $4, claimed_until = $2, claimed_by = $6, attempts = attempts + 1
         WHERE id IN (
             SELECT id FROM outbox
             WHERE (status = $5 AND next_attempt_at <= $1) OR (status = $4 AND claimed_until < $1)
             ORDER BY next_attempt_at LIMIT $3
             FOR UPDATE SKIP LOCKED)
         RETURNING id, contract_id, event, recipient, subject, body_text, body_html, status, attempts,
                   next_attempt_at, retry_until, last_error, created_at, sent_at";
}

/// Opens (creating it if needed) and migrates an SQLite database.
pub(super) async fn open_sqlite(
    url: &str,
    options: &DatabaseOptions,
) -> anyhow::Result<Pool<Sqlite>> {
    let synchronous = if options.sqlite_synchronous_full {
        SqliteSynchronous::Full
    } else {
        SqliteSynchronous::Normal
    };
    let connect = SqliteConnectOptions::from_str(url)
        .with_context(|| format!("parsing the SQLite URL {url:?}"))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .foreign_keys(true)
        .busy_timeout(options.busy_timeout)
        .synchronous(synchronous);
    if let Some(dir) = Path::new(connect.get_filename())
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the database directory {}", dir.display()))?;
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(options.max_connections)
        .connect_with(connect)
        .await
        .with_context(|| format!("opening the SQLite database {url:?}"))?;
    SQLITE_MIGRATIONS
        .run(&pool)
        .await
        .context("applying the SQLite migrations")?;
    Ok(pool)
}

/// Connects to and migrates a PostgreSQL database.
pub(super) async fn open_postgres(
    url: &str,
    options: &DatabaseOptions,
) -> anyhow::Result<Pool<Postgres>> {
    let pool = PgPoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await
        .context("connecting to PostgreSQL")?;
    POSTGRES_MIGRATIONS
        .run(&pool)
        .await
        .context("applying the PostgreSQL migrations")?;
    Ok(pool)
}
