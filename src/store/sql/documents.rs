//! The files of a contract: the Word or PDF file each body came from, its review materials,
//! and the points and answers of 退回补正. Files live in the database, so that every instance
//! of the service serves the same ones.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Conn, SqlStore, audit, review};
use crate::domain::audit::{AuditEntry, AuditMeta};
use crate::domain::{
    AnswerKind, Attachment, DraftFile, FileContent, MaterialKind, StoredFile, SupplementPoint,
};
use crate::store::{
    DocumentStore, MaterialChange, StoreError, StoreResult, SupplementStep, TransitionRecord,
};

#[derive(sqlx::FromRow)]
struct FileRow {
    file_name: String,
    media_type: String,
    size_bytes: i64,
    sha256: String,
}

impl From<FileRow> for StoredFile {
    fn from(row: FileRow) -> Self {
        StoredFile {
            file_name: row.file_name,
            media_type: row.media_type,
            size_bytes: row.size_bytes,
            sha256: row.sha256,
        }
    }
}

#[derive(sqlx::FromRow)]
struct AttachmentRow {
    id: Uuid,
    contract_id: Uuid,
    #[sqlx(try_from = "String")]
    kind: MaterialKind,
    #[sqlx(flatten)]
    file: FileRow,
    uploaded_by: Uuid,
    uploaded_at: DateTime<Utc>,
}

impl From<AttachmentRow> for Attachment {
    fn from(row: AttachmentRow) -> Self {
        Attachment {
            id: row.id,
            contract_id: row.contract_id,
            kind: row.kind,
            file: row.file.into(),
            uploaded_by: row.uploaded_by,
            uploaded_at: row.uploaded_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct DraftFileRow {
    contract_id: Uuid,
    body_version: i64,
    #[sqlx(flatten)]
    file: FileRow,
    uploaded_by: Uuid,
    uploaded_at: DateTime<Utc>,
    content: Vec<u8>,
}

#[derive(sqlx::FromRow)]
struct PointRow {
    request_id: Uuid,
    number: i64,
    text: String,
    requested_at: DateTime<Utc>,
    answer: Option<String>,
    answer_note: Option<String>,
    answered_at: Option<DateTime<Utc>>,
}

impl From<PointRow> for SupplementPoint {
    fn from(row: PointRow) -> Self {
        SupplementPoint {
            request_id: row.request_id,
            number: row.number,
            text: row.text,
            requested_at: row.requested_at,
            answer: row.answer.and_then(|a| a.parse::<AnswerKind>().ok()),
            answer_note: row.answer_note,
            answered_at: row.answered_at,
        }
    }
}

const ATTACHMENT_COLUMNS: &str =
    "id, contract_id, kind, file_name, media_type, size_bytes, sha256, uploaded_by, uploaded_at";

/// Keeps the file a body version was converted from.
pub(super) async fn keep_draft_file(
    conn: &mut Conn,
    draft: &FileContent<DraftFile>,
) -> StoreResult<()> {
    let meta = &draft.meta;
    sqlx::query(
        "INSERT INTO draft_files (contract_id, body_version, file_name, media_type, size_bytes,
             sha256, content, uploaded_by, uploaded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(meta.contract_id)
    .bind(meta.body_version)
    .bind(&meta.file.file_name)
    .bind(&meta.file.media_type)
    .bind(meta.file.size_bytes)
    .bind(&meta.file.sha256)
    .bind(&draft.bytes)
    .bind(meta.uploaded_by)
    .bind(meta.uploaded_at)
    .execute(&mut *conn)
    .await?;
    audit::append(conn, AuditEntry::draft_file_kept(meta)).await
}

/// Writes what a transition does to 补正: the points it asks, or the answers it gives.
pub(super) async fn write_supplement(conn: &mut Conn, t: &TransitionRecord) -> StoreResult<()> {
    match &t.supplement {
        SupplementStep::None => {}
        SupplementStep::Request(points) => {
            for (number, text) in (1_i64..).zip(points) {
                sqlx::query(
                    "INSERT INTO supplement_points (request_id, number, contract_id, text, requested_at)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(t.step.id)
                .bind(number)
                .bind(t.contract_id)
                .bind(text)
                .bind(t.step.at)
                .execute(&mut *conn)
                .await?;
            }
        }
        SupplementStep::Answer(answers) => {
            for answer in answers {
                sqlx::query(
                    "UPDATE supplement_points SET answer = $1, answer_note = $2, answered_by = $3,
                         answered_at = $4
                     WHERE contract_id = $5 AND number = $6 AND answered_at IS NULL",
                )
                .bind(answer.kind.as_str())
                .bind(&answer.note)
                .bind(t.step.id)
                .bind(t.step.at)
                .bind(t.contract_id)
                .bind(answer.point)
                .execute(&mut *conn)
                .await?;
            }
        }
    }
    Ok(())
}

/// A change to what was approved voids the approval: the manifest signed must be the one
/// reviewed.
pub(super) async fn clear_approval(conn: &mut Conn, contract_id: Uuid) -> StoreResult<()> {
    sqlx::query(
        "UPDATE contracts SET approved_sha256 = NULL, approved_manifest_sha256 = NULL WHERE id = $1",
    )
    .bind(contract_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn add_material(
    conn: &mut Conn,
    file: &FileContent<Attachment>,
    max_total_bytes: i64,
) -> StoreResult<()> {
    let a = &file.meta;
    // PostgreSQL sums BIGINT as NUMERIC: cast it back for both databases.
    let (held,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(size_bytes), 0) AS BIGINT) FROM attachments
         WHERE contract_id = $1 AND removed_at IS NULL",
    )
    .bind(a.contract_id)
    .fetch_one(&mut *conn)
    .await?;
    if held.saturating_add(a.file.size_bytes) > max_total_bytes {
        return Err(StoreError::TooLarge);
    }
    sqlx::query(
        "INSERT INTO attachments (id, contract_id, kind, file_name, media_type, size_bytes, sha256,
             content, uploaded_by, uploaded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(a.id)
    .bind(a.contract_id)
    .bind(a.kind.as_str())
    .bind(&a.file.file_name)
    .bind(&a.file.media_type)
    .bind(a.file.size_bytes)
    .bind(&a.file.sha256)
    .bind(&file.bytes)
    .bind(a.uploaded_by)
    .bind(a.uploaded_at)
    .execute(&mut *conn)
    .await?;
    audit::append(conn, AuditEntry::material_added(a)).await
}

async fn remove_material(
    conn: &mut Conn,
    (contract_id, id): (Uuid, Uuid),
    meta: AuditMeta,
) -> StoreResult<bool> {
    let removed = sqlx::query(
        "UPDATE attachments SET removed_by = $1, removed_at = $2
         WHERE contract_id = $3 AND id = $4 AND removed_at IS NULL",
    )
    .bind(meta.actor_id)
    .bind(meta.at)
    .bind(contract_id)
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if removed == 0 {
        return Ok(false);
    }
    audit::append(conn, AuditEntry::material_removed(contract_id, id, meta)).await?;
    Ok(true)
}

#[async_trait]
impl DocumentStore for SqlStore {
    #[tracing::instrument(level = "debug", skip_all, fields(contract_id = %contract_id))]
    async fn attachments(&self, contract_id: Uuid) -> StoreResult<Vec<Attachment>> {
        let sql = format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM attachments
             WHERE contract_id = $1 AND removed_at IS NULL ORDER BY uploaded_at, id"
        );
        let rows: Vec<AttachmentRow> = sqlx::query_as(&sql)
            .bind(contract_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(Attachment::from).collect())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(contract_id = %contract_id))]
    async fn attachment(
        &self,
        contract_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<FileContent<Attachment>>> {
        #[derive(sqlx::FromRow)]
        struct WithContent {
            #[sqlx(flatten)]
            attachment: AttachmentRow,
            content: Vec<u8>,
        }
        let sql = format!(
            "SELECT {ATTACHMENT_COLUMNS}, content FROM attachments WHERE contract_id = $1 AND id = $2"
        );
        let row: Option<WithContent> = sqlx::query_as(&sql)
            .bind(contract_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| FileContent {
            meta: row.attachment.into(),
            bytes: row.content,
        }))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn change_material(
        &self,
        change: &MaterialChange,
        max_total_bytes: i64,
        transition: Option<&TransitionRecord>,
    ) -> StoreResult<bool> {
        let (_writer, mut tx) = self.begin_write().await?;
        let (contract_id, changed) = match change {
            MaterialChange::Add(file) => {
                add_material(&mut tx, file, max_total_bytes).await?;
                (file.meta.contract_id, true)
            }
            MaterialChange::Remove {
                contract_id,
                id,
                by,
                at,
            } => {
                let meta = AuditMeta {
                    actor_id: Some(*by),
                    at: *at,
                };
                let removed = remove_material(&mut tx, (*contract_id, *id), meta).await?;
                (*contract_id, removed)
            }
        };
        if !changed {
            return Ok(false);
        }
        if let Some(transition) = transition {
            clear_approval(&mut tx, contract_id).await?;
            review::write_transition(&mut tx, transition).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(contract_id = %contract_id))]
    async fn draft_file(&self, contract_id: Uuid) -> StoreResult<Option<FileContent<DraftFile>>> {
        let row: Option<DraftFileRow> = sqlx::query_as(
            "SELECT d.contract_id, d.body_version, d.file_name, d.media_type, d.size_bytes, d.sha256,
                    d.uploaded_by, d.uploaded_at, d.content
             FROM draft_files d WHERE d.contract_id = $1
             ORDER BY d.body_version DESC LIMIT 1",
        )
        .bind(contract_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| FileContent {
            meta: DraftFile {
                contract_id: row.contract_id,
                body_version: row.body_version,
                file: row.file.into(),
                uploaded_by: row.uploaded_by,
                uploaded_at: row.uploaded_at,
            },
            bytes: row.content,
        }))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(contract_id = %contract_id))]
    async fn supplement_points(&self, contract_id: Uuid) -> StoreResult<Vec<SupplementPoint>> {
        let rows: Vec<PointRow> = sqlx::query_as(
            "SELECT request_id, number, text, requested_at, answer, answer_note, answered_at
             FROM supplement_points WHERE contract_id = $1 ORDER BY requested_at, number",
        )
        .bind(contract_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(SupplementPoint::from).collect())
    }
}
