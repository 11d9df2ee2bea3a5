//! The court-judgment register: judgments, payments, and the half-yearly summary.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{SqlStore, audit, scope_cte, scope_params, unique_as_duplicate};
use crate::domain::audit::{AuditEntry, AuditMeta};
use crate::domain::{
    Judgment, JudgmentKind, JudgmentPayment, JudgmentStatus, JudgmentSummary, Visibility,
};
use crate::store::{JudgmentStore, StoreResult};

#[derive(sqlx::FromRow)]
struct JudgmentRow {
    id: Uuid,
    case_number: String,
    court: String,
    agency_id: Uuid,
    #[sqlx(try_from = "String")]
    kind: JudgmentKind,
    amount_due_fen: i64,
    amount_paid_fen: i64,
    effective_on: NaiveDate,
    due_on: Option<NaiveDate>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<JudgmentRow> for Judgment {
    fn from(row: JudgmentRow) -> Self {
        Judgment {
            id: row.id,
            case_number: row.case_number,
            court: row.court,
            agency_id: row.agency_id,
            kind: row.kind,
            amount_due_fen: row.amount_due_fen,
            amount_paid_fen: row.amount_paid_fen,
            effective_on: row.effective_on,
            due_on: row.due_on,
            status: JudgmentStatus::of(row.amount_due_fen, row.amount_paid_fen),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    agency_id: Uuid,
    agency: String,
    unpaid_count: i64,
    outstanding_fen: i64,
    paid_in_period_fen: i64,
}

impl From<SummaryRow> for JudgmentSummary {
    fn from(row: SummaryRow) -> Self {
        JudgmentSummary {
            agency_id: row.agency_id,
            agency: row.agency,
            unpaid_count: row.unpaid_count,
            outstanding_fen: row.outstanding_fen,
            paid_in_period_fen: row.paid_in_period_fen,
        }
    }
}

const JUDGMENT_COLUMNS: &str =
    "j.id, j.case_number, j.court, j.agency_id, j.kind, j.amount_due_fen,
        j.amount_paid_fen, j.effective_on, j.due_on, j.created_at, j.updated_at";

#[async_trait]
impl JudgmentStore for SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn create_judgment(&self, judgment: &Judgment, meta: AuditMeta) -> StoreResult<()> {
        let (_writer, mut tx) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO judgments (id, case_number, court, agency_id, kind, amount_due_fen, amount_paid_fen,
                 effective_on, due_on, status, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(judgment.id)
        .bind(&judgment.case_number)
        .bind(&judgment.court)
        .bind(judgment.agency_id)
        .bind(judgment.kind.as_str())
        .bind(judgment.amount_due_fen)
        .bind(judgment.amount_paid_fen)
        .bind(judgment.effective_on)
        .bind(judgment.due_on)
        .bind(judgment.status.as_str())
        .bind(judgment.created_at)
        .bind(judgment.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(unique_as_duplicate("judgment with this case number"))?;
        audit::append(&mut tx, AuditEntry::judgment_registered(judgment, meta)).await?;
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
    async fn judgment(&self, id: Uuid) -> StoreResult<Option<Judgment>> {
        let sql = format!("SELECT {JUDGMENT_COLUMNS} FROM judgments j WHERE j.id = $1");
        let row: Option<JudgmentRow> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(Judgment::from))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn list_judgments(&self, visibility: Visibility) -> StoreResult<Vec<Judgment>> {
        let (root, descend) = scope_params(visibility);
        let sql = format!(
            "{} SELECT {JUDGMENT_COLUMNS} FROM judgments j
             WHERE j.agency_id IN (SELECT id FROM scope) ORDER BY j.effective_on DESC, j.id",
            scope_cte!()
        );
        let rows: Vec<JudgmentRow> = sqlx::query_as(&sql)
            .bind(root)
            .bind(descend)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(Judgment::from).collect())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn record_judgment_payment(
        &self,
        payment: &JudgmentPayment,
        meta: AuditMeta,
    ) -> StoreResult<bool> {
        let (_writer, mut tx) = self.begin_write().await?;
        let updated: Option<(Uuid, i64, i64)> = sqlx::query_as(
            "UPDATE judgments SET amount_paid_fen = amount_paid_fen + $1, updated_at = $2
             WHERE id = $3
             RETURNING agency_id, amount_paid_fen, amount_due_fen",
        )
        .bind(payment.amount_fen)
        .bind(meta.at)
        .bind(payment.judgment_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((agency_id, paid, due)) = updated else {
            return Ok(false);
        };
        sqlx::query("UPDATE judgments SET status = $1 WHERE id = $2")
            .bind(JudgmentStatus::of(due, paid).as_str())
            .bind(payment.judgment_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO judgment_payments (id, judgment_id, amount_fen, paid_on, recorded_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(Uuid::now_v7())
        .bind(payment.judgment_id)
        .bind(payment.amount_fen)
        .bind(payment.paid_on)
        .bind(meta.actor_id)
        .bind(meta.at)
        .execute(&mut *tx)
        .await?;
        let entry = AuditEntry::judgment_paid(agency_id, payment, (paid, due), meta);
        audit::append(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(true)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn unpaid_judgments(&self, agency_id: Uuid) -> StoreResult<Vec<(JudgmentKind, i64)>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT kind, amount_due_fen - amount_paid_fen FROM judgments
             WHERE agency_id = $1 AND amount_paid_fen < amount_due_fen",
        )
        .bind(agency_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(kind, outstanding)| {
                JudgmentKind::parse(&kind).ok().map(|k| (k, outstanding))
            })
            .collect())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn judgment_report(
        &self,
        visibility: Visibility,
        start: NaiveDate,
        end: NaiveDate,
    ) -> StoreResult<Vec<JudgmentSummary>> {
        let (root, descend) = scope_params(visibility);
        // Paid by the end of the period, per judgment: everything paid, less the payments made
        // after it. What was already paid when the judgment was registered has no payment row and
        // counts as paid from the start. CAST keeps SUM an integer on PostgreSQL.
        let sql = format!(
            "{} , standing AS (
                 SELECT j.id, j.agency_id, j.amount_due_fen,
                        j.amount_paid_fen - CAST(COALESCE((SELECT SUM(p.amount_fen) FROM judgment_payments p
                                       WHERE p.judgment_id = j.id AND p.paid_on > $4), 0) AS BIGINT) AS paid_by_end
                 FROM judgments j
                 WHERE j.effective_on <= $4 AND j.agency_id IN (SELECT id FROM scope)
             )
             SELECT a.id AS agency_id, a.name AS agency,
                    CAST((SELECT COUNT(*) FROM standing s WHERE s.agency_id = a.id AND s.paid_by_end < s.amount_due_fen) AS BIGINT) AS unpaid_count,
                    CAST(COALESCE((SELECT SUM(s.amount_due_fen - s.paid_by_end) FROM standing s
                                   WHERE s.agency_id = a.id AND s.paid_by_end < s.amount_due_fen), 0) AS BIGINT) AS outstanding_fen,
                    CAST(COALESCE((SELECT SUM(p.amount_fen) FROM judgment_payments p JOIN judgments j ON j.id = p.judgment_id
                                   WHERE j.agency_id = a.id AND p.paid_on >= $3 AND p.paid_on <= $4), 0) AS BIGINT) AS paid_in_period_fen
             FROM agencies a
             WHERE a.id IN (SELECT agency_id FROM standing)
             ORDER BY a.name",
            scope_cte!()
        );
        let rows: Vec<SummaryRow> = sqlx::query_as(&sql)
            .bind(root)
            .bind(descend)
            .bind(start)
            .bind(end)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(JudgmentSummary::from).collect())
    }
}
