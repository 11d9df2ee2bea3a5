//! The hash-chained audit trail: appending to a subject's chain inside a change's transaction,
//! and reading chains back.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Conn, SqlStore};
use crate::domain::ContractState;
use crate::domain::audit::anchor::{ChainHead, ContractAnchor};
use crate::domain::audit::{AuditEntry, AuditRecord, SubjectKind};
use crate::store::{AuditStore, StoreResult};

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: Uuid,
    subject_kind: String,
    subject_id: Uuid,
    seq: i64,
    actor_id: Option<Uuid>,
    action: String,
    at: DateTime<Utc>,
    data: String,
    prev_hash: String,
    hash: String,
}

impl From<AuditRow> for AuditRecord {
    fn from(row: AuditRow) -> Self {
        AuditRecord {
            id: row.id,
            subject_kind: row.subject_kind,
            subject_id: row.subject_id,
            seq: row.seq,
            actor_id: row.actor_id,
            action: row.action,
            at: row.at,
            data: row.data,
            prev_hash: row.prev_hash,
            hash: row.hash,
        }
    }
}

const AUDIT_COLUMNS: &str =
    "id, subject_kind, subject_id, seq, actor_id, action, at, data, prev_hash, hash";

/// Appends `entry` to its subject's hash chain.
pub(super) async fn append(conn: &mut Conn, entry: AuditEntry) -> StoreResult<()> {
    let last: Option<(i64, String)> = sqlx::query_as(
        "SELECT seq, hash FROM audit_events WHERE subject_kind = $1 AND subject_id = $2
         ORDER BY seq DESC LIMIT 1",
    )
    .bind(entry.subject_kind.as_str())
    .bind(entry.subject_id)
    .fetch_optional(&mut *conn)
    .await?;
    let record = entry.chain(
        Uuid::now_v7(),
        last.as_ref().map(|(seq, hash)| (*seq, hash.as_str())),
    );
    insert(conn, record).await
}

/// Starts the chain of a subject that has none yet: there is no previous event to look up.
pub(super) async fn start(conn: &mut Conn, entry: AuditEntry) -> StoreResult<()> {
    insert(conn, entry.chain(Uuid::now_v7(), None)).await
}

/// Stores a record already placed in its chain; a contract's row keeps its chain's new head.
async fn insert(conn: &mut Conn, record: AuditRecord) -> StoreResult<()> {
    if record.subject_kind == SubjectKind::Contract.as_str() {
        sqlx::query("UPDATE contracts SET audit_seq = $1, audit_hash = $2 WHERE id = $3")
            .bind(record.seq)
            .bind(&record.hash)
            .bind(record.subject_id)
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query(
        "INSERT INTO audit_events (id, subject_kind, subject_id, seq, actor_id, action, at, data, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(record.id)
    .bind(record.subject_kind)
    .bind(record.subject_id)
    .bind(record.seq)
    .bind(record.actor_id)
    .bind(record.action)
    .bind(record.at)
    .bind(record.data)
    .bind(record.prev_hash)
    .bind(record.hash)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[async_trait]
impl AuditStore for SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn audit_trail(
        &self,
        kind: SubjectKind,
        subject_id: Uuid,
    ) -> StoreResult<Vec<AuditRecord>> {
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_events WHERE subject_kind = $1 AND subject_id = $2 ORDER BY seq"
        );
        let rows: Vec<AuditRow> = sqlx::query_as(&sql)
            .bind(kind.as_str())
            .bind(subject_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(AuditRecord::from).collect())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    #[tracing::instrument(level = "debug", skip_all)]
    async fn chain_heads(&self) -> StoreResult<Vec<ChainHead>> {
        let rows: Vec<(String, Uuid, i64, String)> = sqlx::query_as(
            "SELECT a.subject_kind, a.subject_id, a.seq, a.hash FROM audit_events a
             WHERE a.seq = (SELECT MAX(b.seq) FROM audit_events b
                            WHERE b.subject_kind = a.subject_kind AND b.subject_id = a.subject_id)
             ORDER BY a.subject_kind, a.subject_id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(subject_kind, subject_id, seq, hash)| ChainHead {
                subject_kind,
                subject_id,
                seq,
                hash,
            })
            .collect())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn contract_anchors(&self) -> StoreResult<Vec<ContractAnchor>> {
        #[derive(sqlx::FromRow)]
        struct AnchorRow {
            id: Uuid,
            #[sqlx(try_from = "String")]
            state: ContractState,
            body_version: i64,
            audit_seq: i64,
            audit_hash: String,
            versions: i64,
            transitions: i64,
        }
        let rows: Vec<AnchorRow> = sqlx::query_as(
            "SELECT c.id, c.state, c.body_version, c.audit_seq, c.audit_hash,
                    (SELECT COUNT(*) FROM contract_versions v WHERE v.contract_id = c.id) AS versions,
                    (SELECT COUNT(*) FROM contract_transitions t WHERE t.contract_id = c.id) AS transitions
             FROM contracts c ORDER BY c.id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| ContractAnchor {
                id: row.id,
                state: row.state,
                body_version: row.body_version,
                head_seq: row.audit_seq,
                head_hash: row.audit_hash,
                versions: row.versions,
                transitions: row.transitions,
            })
            .collect())
    }

    async fn all_audit_records(&self) -> StoreResult<Vec<AuditRecord>> {
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_events ORDER BY subject_kind, subject_id, seq"
        );
        let rows: Vec<AuditRow> = sqlx::query_as(&sql).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(AuditRecord::from).collect())
    }
}
