//! The SQL both backends share. `store/mod.rs` compiles this folder twice, once with `Db` naming
//! SQLite and once PostgreSQL, so every query is written once and type-checked against each
//! backend with concrete types (no generic trait bounds). SQLite and PostgreSQL agree on `$N`
//! placeholders, `WITH RECURSIVE`, `RETURNING` and the types used here (UUID, BIGINT, BOOLEAN,
//! UTC timestamps); what they disagree on comes from [`Backend`]. Parameters are always bound,
//! never formatted into the text.

mod audit;
mod comments;
mod contracts;
mod delegations;
mod directory;
mod documents;
mod idempotency;
mod judgments;
mod outbox;
mod reports;
mod review;
mod rows;
mod screening;
mod sessions;
mod signatories;

use async_trait::async_trait;
use sqlx::Pool;
use tokio::sync::{Mutex, MutexGuard};
use uuid::Uuid;

use super::Db;
use crate::domain::Visibility;
use crate::store::backend::Backend;
use crate::store::{PoolStats, Store, StoreError, StoreResult};

/// A connection of this backend, inside or outside a transaction.
type Conn = <Db as sqlx::Database>::Connection;
type Transaction = sqlx::Transaction<'static, Db>;

pub(in crate::store) struct SqlStore {
    pool: Pool<Db>,
    /// Held for the length of every write transaction on single-writer backends.
    write_lock: Option<Mutex<()>>,
    /// Where ordinary writers queue for `write_lock`, so that at most one of them waits on it
    /// at a time and the outbox's delivery records (which queue on `write_lock` directly) go
    /// ahead of the rest: the shorter a sent mail waits for its record, the fewer mails a crash
    /// sends twice.
    ordinary_writers: Mutex<()>,
}

impl SqlStore {
    pub(in crate::store) fn new(pool: Pool<Db>) -> Self {
        Self {
            pool,
            write_lock: <Db as Backend>::SINGLE_WRITER.then(|| Mutex::new(())),
            ordinary_writers: Mutex::new(()),
        }
    }

    /// Waits for the writers queued before this one (single-writer backends only).
    #[tracing::instrument(level = "debug", skip_all)]
    async fn write_turn(&self) -> Option<MutexGuard<'_, ()>> {
        match &self.write_lock {
            Some(lock) => {
                let _queued = self.ordinary_writers.lock().await;
                Some(lock.lock().await)
            }
            None => None,
        }
    }

    /// Like [`Self::begin_write`], but ahead of every ordinary writer still queued: at most the
    /// writer in its turn and one other go first.
    #[tracing::instrument(level = "debug", skip_all)]
    async fn begin_outbox_write(&self) -> StoreResult<(Option<MutexGuard<'_, ()>>, Transaction)> {
        let turn = match &self.write_lock {
            Some(lock) => Some(lock.lock().await),
            None => None,
        };
        let tx = self.pool.begin_with(<Db as Backend>::BEGIN_WRITE).await?;
        Ok((turn, tx))
    }

    /// Opens a write transaction in this writer's turn.
    #[tracing::instrument(level = "debug", skip_all)]
    async fn begin_write(&self) -> StoreResult<(Option<MutexGuard<'_, ()>>, Transaction)> {
        let turn = self.write_turn().await;
        let tx = self.pool.begin_with(<Db as Backend>::BEGIN_WRITE).await?;
        Ok((turn, tx))
    }
}

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> &'static str {
        <Db as Backend>::BACKEND_NAME
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            open: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
        }
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// The agencies a [`Visibility`] covers, as a CTE named `scope`. Binds `$1` (the root agency,
/// NULL for all) and `$2` (whether to descend to sub-agencies); see [`scope_params`].
macro_rules! scope_cte {
    () => {
        "WITH RECURSIVE scope(id) AS (
             SELECT id FROM agencies WHERE $1 IS NULL OR id = $1
             UNION
             SELECT a.id FROM agencies a JOIN scope s ON a.parent_id = s.id WHERE $2
         ) "
    };
}
use scope_cte;

/// The agencies above and including `$1`, as a CTE named `up`: whose staff's jurisdiction
/// covers an agency.
const UP_CTE: &str = "WITH RECURSIVE up(id, parent_id) AS (
         SELECT id, parent_id FROM agencies WHERE id = $1
         UNION SELECT a.id, a.parent_id FROM agencies a JOIN up ON a.id = up.parent_id
     ) ";

/// The binds of [`scope_cte`].
fn scope_params(visibility: Visibility) -> (Option<Uuid>, bool) {
    match visibility {
        Visibility::All => (None, false),
        Visibility::Subtree(root) => (Some(root), true),
        Visibility::Agency(id) => (Some(id), false),
    }
}

/// Turns a unique-constraint violation into [`StoreError::Duplicate`]; recognised by kind, which
/// both backends report (SQLite names no constraint).
fn unique_as_duplicate(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |error| match error.as_database_error().map(|e| e.kind()) {
        Some(sqlx::error::ErrorKind::UniqueViolation) => StoreError::Duplicate(what),
        _ => StoreError::Database(error),
    }
}
