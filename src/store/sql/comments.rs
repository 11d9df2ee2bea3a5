//! 批注: reviewers' comments on clauses and how the clerk dealt with each.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{SqlStore, audit};
use crate::domain::audit::{AuditEntry, AuditMeta};
use crate::domain::{ClauseComment, Resolution};
use crate::store::{StoreError, StoreResult};

#[derive(sqlx::FromRow)]
struct CommentRow {
    id: Uuid,
    contract_id: Uuid,
    body_version: i64,
    clause: String,
    comment: String,
    suggestion: Option<String>,
    author_id: Uuid,
    created_at: DateTime<Utc>,
    resolution: Option<String>,
    resolution_note: Option<String>,
    resolved_by: Option<Uuid>,
    resolved_at: Option<DateTime<Utc>>,
}

impl TryFrom<CommentRow> for ClauseComment {
    type Error = StoreError;

    fn try_from(row: CommentRow) -> Result<Self, Self::Error> {
        let resolution = row
            .resolution
            .map(|raw| {
                raw.parse::<Resolution>()
                    .map_err(|e| sqlx::Error::Decode(format!("resolution {raw:?}: {e}").into()))
            })
            .transpose()?;
        Ok(ClauseComment {
            id: row.id,
            contract_id: row.contract_id,
            body_version: row.body_version,
            clause: row.clause,
            comment: row.comment,
            suggestion: row.suggestion,
            author_id: row.author_id,
            created_at: row.created_at,
            resolution,
            resolution_note: row.resolution_note,
            resolved_by: row.resolved_by,
            resolved_at: row.resolved_at,
        })
    }
}

impl SqlStore {
    pub(super) async fn insert_comment(&self, comment: &ClauseComment) -> StoreResult<()> {
        let (_writer, mut tx) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO clause_comments (id, contract_id, body_version, clause, comment, suggestion,
                 author_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(comment.id)
        .bind(comment.contract_id)
        .bind(comment.body_version)
        .bind(&comment.clause)
        .bind(&comment.comment)
        .bind(&comment.suggestion)
        .bind(comment.author_id)
        .bind(comment.created_at)
        .execute(&mut *tx)
        .await?;
        audit::append(&mut tx, AuditEntry::comment_added(comment)).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn select_comments(
        &self,
        contract_id: Uuid,
    ) -> StoreResult<Vec<ClauseComment>> {
        let rows: Vec<CommentRow> = sqlx::query_as(
            "SELECT id, contract_id, body_version, clause, comment, suggestion, author_id,
                    created_at, resolution, resolution_note, resolved_by, resolved_at
             FROM clause_comments WHERE contract_id = $1 ORDER BY created_at, id",
        )
        .bind(contract_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(ClauseComment::try_from).collect()
    }

    pub(super) async fn update_resolution(
        &self,
        resolved: &ClauseComment,
        meta: AuditMeta,
    ) -> StoreResult<bool> {
        let (_writer, mut tx) = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE clause_comments SET resolution = $1, resolution_note = $2, resolved_by = $3,
                 resolved_at = $4
             WHERE id = $5 AND contract_id = $6 AND resolution IS NULL",
        )
        .bind(resolved.resolution.map(Resolution::as_str))
        .bind(&resolved.resolution_note)
        .bind(resolved.resolved_by)
        .bind(resolved.resolved_at)
        .bind(resolved.id)
        .bind(resolved.contract_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            return Ok(false);
        }
        audit::append(&mut tx, AuditEntry::comment_resolved(resolved, meta)).await?;
        tx.commit().await?;
        Ok(true)
    }
}
