//! The screen's findings and checklist per body version, and waivers.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Conn, SqlStore, audit};
use crate::domain::audit::AuditEntry;
use crate::domain::{Finding, Waiver};
use crate::store::{ScreeningRecord, ScreeningStore, StoreResult};

#[derive(sqlx::FromRow)]
struct FindingRow {
    id: Uuid,
    body_version: i64,
    rule: String,
    category: String,
    severity: String,
    clause: String,
    start_offset: i64,
    end_offset: i64,
    excerpt: String,
    provision: String,
    citation: String,
    advice: String,
    spans: String,
    created_at: DateTime<Utc>,
    waived_by: Option<Uuid>,
    waived_at: Option<DateTime<Utc>>,
    waive_reason: Option<String>,
}

impl From<FindingRow> for Finding {
    fn from(row: FindingRow) -> Self {
        Finding {
            id: row.id,
            body_version: row.body_version,
            rule: row.rule,
            category: row.category,
            severity: row.severity,
            clause: row.clause,
            start_offset: row.start_offset,
            end_offset: row.end_offset,
            excerpt: row.excerpt,
            provision: row.provision,
            citation: row.citation,
            advice: row.advice,
            // Written by us as JSON; a row from before spans were kept has none.
            spans: serde_json::from_str(&row.spans).unwrap_or_default(),
            created_at: row.created_at,
            waived_by: row.waived_by,
            waived_at: row.waived_at,
            waive_reason: row.waive_reason,
        }
    }
}

/// Stores a screen's findings and checklist for one body version. Open findings of an earlier
/// screen of the same version are replaced; waived ones stay waived.
pub(super) async fn write(
    conn: &mut Conn,
    contract_id: Uuid,
    screening: &ScreeningRecord,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let version = screening.body_version;
    sqlx::query(
        "DELETE FROM findings WHERE contract_id = $1 AND body_version = $2 AND waived_at IS NULL",
    )
    .bind(contract_id)
    .bind(version)
    .execute(&mut *conn)
    .await?;
    let waived: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT rule, start_offset, end_offset FROM findings WHERE contract_id = $1 AND body_version = $2",
    )
    .bind(contract_id)
    .bind(version)
    .fetch_all(&mut *conn)
    .await?;
    for finding in &screening.findings {
        let key = (
            finding.rule.clone(),
            finding.start_offset,
            finding.end_offset,
        );
        if waived.contains(&key) {
            continue;
        }
        sqlx::query(
            "INSERT INTO findings (id, contract_id, body_version, rule, category, severity, clause, start_offset,
                 end_offset, excerpt, provision, advice, created_at, spans, citation)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(finding.id)
        .bind(contract_id)
        .bind(version)
        .bind(&finding.rule)
        .bind(&finding.category)
        .bind(&finding.severity)
        .bind(&finding.clause)
        .bind(finding.start_offset)
        .bind(finding.end_offset)
        .bind(&finding.excerpt)
        .bind(&finding.provision)
        .bind(&finding.advice)
        .bind(at)
        .bind(serde_json::to_string(&finding.spans).unwrap_or_else(|_| "[]".to_owned()))
        .bind(&finding.citation)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query("DELETE FROM screenings WHERE contract_id = $1 AND body_version = $2")
        .bind(contract_id)
        .bind(version)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO screenings (contract_id, body_version, checklist, screened_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(contract_id)
    .bind(version)
    .bind(&screening.checklist)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[async_trait]
impl ScreeningStore for SqlStore {
    #[tracing::instrument(level = "debug", skip_all, fields(contract_id = %contract_id))]
    async fn findings(&self, contract_id: Uuid, body_version: i64) -> StoreResult<Vec<Finding>> {
        let rows: Vec<FindingRow> = sqlx::query_as(
            "SELECT id, body_version, rule, category, severity, clause, start_offset, end_offset, excerpt,
                    provision, citation, advice, spans, created_at, waived_by, waived_at, waive_reason
             FROM findings WHERE contract_id = $1 AND body_version = $2 ORDER BY start_offset, id",
        )
        .bind(contract_id)
        .bind(body_version)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Finding::from).collect())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(contract_id = %contract_id))]
    async fn screening_checklist(
        &self,
        contract_id: Uuid,
        body_version: i64,
    ) -> StoreResult<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT checklist FROM screenings WHERE contract_id = $1 AND body_version = $2",
        )
        .bind(contract_id)
        .bind(body_version)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(checklist,)| checklist))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn waive_finding(&self, waiver: &Waiver) -> StoreResult<bool> {
        let (_writer, mut tx) = self.begin_write().await?;
        let waived: Option<(String, String)> = sqlx::query_as(
            "UPDATE findings SET waived_by = $1, waived_at = $2, waive_reason = $3
             WHERE id = $4 AND contract_id = $5 AND waived_at IS NULL
             RETURNING rule, severity",
        )
        .bind(waiver.actor_id)
        .bind(waiver.at)
        .bind(&waiver.reason)
        .bind(waiver.finding_id)
        .bind(waiver.contract_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((rule, severity)) = waived else {
            return Ok(false);
        };
        // A waiver changes what approval depends on: decisions planned before it are stale.
        sqlx::query("UPDATE contracts SET version = version + 1, updated_at = $1 WHERE id = $2")
            .bind(waiver.at)
            .bind(waiver.contract_id)
            .execute(&mut *tx)
            .await?;
        let entry = AuditEntry::finding_waived(waiver, &rule, &severity);
        audit::append(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(true)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(finding_id = %withdrawal.finding_id))]
    async fn withdraw_waiver(&self, withdrawal: &Waiver) -> StoreResult<bool> {
        let (_writer, mut tx) = self.begin_write().await?;
        let before: Option<(String, String)> = sqlx::query_as(
            "SELECT rule, waive_reason FROM findings
             WHERE id = $1 AND contract_id = $2 AND waived_at IS NOT NULL",
        )
        .bind(withdrawal.finding_id)
        .bind(withdrawal.contract_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((rule, withdrawn_reason)) = before else {
            return Ok(false);
        };
        sqlx::query(
            "UPDATE findings SET waived_by = NULL, waived_at = NULL, waive_reason = NULL WHERE id = $1",
        )
        .bind(withdrawal.finding_id)
        .execute(&mut *tx)
        .await?;
        // Approval depends on the open findings: decisions planned before this are stale.
        sqlx::query("UPDATE contracts SET version = version + 1, updated_at = $1 WHERE id = $2")
            .bind(withdrawal.at)
            .bind(withdrawal.contract_id)
            .execute(&mut *tx)
            .await?;
        let entry = AuditEntry::waiver_withdrawn(withdrawal, &rule, &withdrawn_reason);
        audit::append(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(true)
    }
}
