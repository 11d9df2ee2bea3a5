//! Contracts: intake, reading within a view, listing with filters and a keyset cursor, and
//! immutable body versions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::rows::{CONTRACT_COLUMNS, ContractRow, FROM_CONTRACTS};
use super::{SqlStore, audit, documents, idempotency, review, scope_cte, scope_params};
use crate::domain::audit::{AuditEntry, AuditMeta};
use crate::domain::{
    Contract, ContractDetail, ContractState, ContractVersion, DraftFile, Facts, FileContent,
    Visibility,
};
use crate::store::{
    BodyChange, ContractFilter, ContractStore, FactRevision, FactsChange, SavedResponse,
    StoreError, StoreResult, TransitionRecord,
};

#[derive(sqlx::FromRow)]
struct ContractWithBody {
    #[sqlx(flatten)]
    contract: ContractRow,
    body_markdown: String,
}

#[derive(sqlx::FromRow)]
struct VersionRow {
    number: i64,
    sha256: String,
    created_by: Uuid,
    created_at: DateTime<Utc>,
}

impl From<VersionRow> for ContractVersion {
    fn from(row: VersionRow) -> Self {
        ContractVersion {
            number: row.number,
            sha256: row.sha256,
            created_by: row.created_by,
            created_at: row.created_at,
        }
    }
}

/// `%text%` for a case-insensitive LIKE, with the wildcard characters in `text` escaped.
fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[async_trait]
impl ContractStore for SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn create_contract(
        &self,
        detail: &ContractDetail,
        original: Option<&FileContent<DraftFile>>,
        saved: Option<&SavedResponse>,
    ) -> StoreResult<()> {
        let c = &detail.contract;
        let (_writer, mut tx) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO contracts (id, agency_id, title, contract_type, counterparty, amount_fen,
                 funding_source, agency_party, state, version, body_version, workflow_id, workflow_version,
                 created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(c.id)
        .bind(c.agency_id)
        .bind(&c.title)
        .bind(c.contract_type.as_str())
        .bind(&c.counterparty)
        .bind(c.amount_fen)
        .bind(&c.funding_source)
        .bind(&c.agency_party)
        .bind(c.state.as_str())
        .bind(c.version)
        .bind(c.body_version)
        .bind(&c.workflow_id)
        .bind(c.workflow_version)
        .bind(c.created_by)
        .bind(c.created_at)
        .bind(c.updated_at)
        .execute(&mut *tx)
        .await?;
        for email in &detail.signatories {
            sqlx::query("INSERT INTO contract_signatories (contract_id, email) VALUES ($1, $2)")
                .bind(c.id)
                .bind(email)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO contract_versions (contract_id, number, body_markdown, sha256, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(c.id)
        .bind(c.body_version)
        .bind(&detail.body_markdown)
        .bind(&c.body_sha256)
        .bind(c.created_by)
        .bind(c.created_at)
        .execute(&mut *tx)
        .await?;
        audit::start(&mut tx, AuditEntry::contract_created(detail)).await?;
        if let Some(original) = original {
            documents::keep_draft_file(&mut tx, original).await?;
        }
        if let Some(saved) = saved {
            idempotency::save(&mut tx, saved).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
    async fn contract(
        &self,
        id: Uuid,
        visibility: Visibility,
    ) -> StoreResult<Option<ContractDetail>> {
        let (root, descend) = scope_params(visibility);
        let sql = format!(
            "{} SELECT {CONTRACT_COLUMNS}, v.body_markdown {FROM_CONTRACTS}
             WHERE c.id = $3 AND c.agency_id IN (SELECT id FROM scope)",
            scope_cte!()
        );
        let row: Option<ContractWithBody> = sqlx::query_as(&sql)
            .bind(root)
            .bind(descend)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let signatories: Vec<(String,)> = sqlx::query_as(
            "SELECT email FROM contract_signatories WHERE contract_id = $1 ORDER BY email",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(Some(ContractDetail {
            contract: row.contract.into(),
            body_markdown: row.body_markdown,
            signatories: signatories.into_iter().map(|(email,)| email).collect(),
        }))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn list_contracts(
        &self,
        visibility: Visibility,
        filter: &ContractFilter,
    ) -> StoreResult<Vec<Contract>> {
        let (root, descend) = scope_params(visibility);
        let pattern = filter.text.as_deref().map(like_pattern);
        let sql = format!(
            "{} SELECT {CONTRACT_COLUMNS} {FROM_CONTRACTS}
             WHERE c.agency_id IN (SELECT id FROM scope)
               AND ($3 IS NULL OR c.state = $3)
               AND ($4 IS NULL OR LOWER(c.title) LIKE $4 ESCAPE '\\' OR LOWER(c.counterparty) LIKE $4 ESCAPE '\\')
               AND ($5 IS NULL OR c.id < $5)
               AND ($7 IS NULL OR (c.due_at IS NOT NULL AND c.due_at < $7))
               AND ($8 IS NULL OR EXISTS (SELECT 1 FROM contract_signatories s
                                          WHERE s.contract_id = c.id AND s.email = $8))
             ORDER BY c.id DESC
             LIMIT $6",
            scope_cte!()
        );
        let rows: Vec<ContractRow> = sqlx::query_as(&sql)
            .bind(root)
            .bind(descend)
            .bind(filter.state.map(ContractState::as_str))
            .bind(pattern)
            .bind(filter.before)
            .bind(filter.limit)
            .bind(filter.overdue_at)
            .bind(&filter.signatory)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(Contract::from).collect())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn replace_body(
        &self,
        change: &BodyChange,
        transition: Option<&TransitionRecord>,
    ) -> StoreResult<()> {
        let version = &change.version;
        let (_writer, mut tx) = self.begin_write().await?;
        let bumped: Option<(i64,)> = sqlx::query_as(
            "UPDATE contracts SET version = version + 1, body_version = body_version + 1, updated_at = $1,
                 approved_sha256 = NULL, approved_manifest_sha256 = NULL
             WHERE id = $2 AND version = $3 AND body_version + 1 = $4
             RETURNING body_version",
        )
        .bind(version.created_at)
        .bind(change.contract_id)
        .bind(change.expected_version)
        .bind(version.number)
        .fetch_optional(&mut *tx)
        .await?;
        if bumped.is_none() {
            return Err(StoreError::Stale);
        }
        sqlx::query(
            "INSERT INTO contract_versions (contract_id, number, body_markdown, sha256, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(change.contract_id)
        .bind(version.number)
        .bind(&change.body_markdown)
        .bind(&version.sha256)
        .bind(version.created_by)
        .bind(version.created_at)
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            AuditEntry::body_replaced(change.contract_id, version),
        )
        .await?;
        if let Some(original) = &change.original {
            documents::keep_draft_file(&mut tx, original).await?;
        }
        if let Some(transition) = transition {
            review::write_transition(&mut tx, transition).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(id = %change.contract_id))]
    async fn revise_facts(
        &self,
        change: &FactsChange,
        transition: Option<&TransitionRecord>,
    ) -> StoreResult<()> {
        let facts = &change.after;
        let (_writer, mut tx) = self.begin_write().await?;
        let bumped = sqlx::query(
            "UPDATE contracts SET version = version + 1, updated_at = $1, title = $2,
                 contract_type = $3, counterparty = $4, amount_fen = $5, funding_source = $6,
                 agency_party = $7, approved_sha256 = NULL, approved_manifest_sha256 = NULL
             WHERE id = $8 AND version = $9",
        )
        .bind(change.changed_at)
        .bind(&facts.title)
        .bind(facts.contract_type.as_str())
        .bind(&facts.counterparty)
        .bind(facts.amount_fen)
        .bind(&facts.funding_source)
        .bind(&facts.agency_party)
        .bind(change.contract_id)
        .bind(change.expected_version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if bumped == 0 {
            return Err(StoreError::Stale);
        }
        sqlx::query("DELETE FROM contract_signatories WHERE contract_id = $1")
            .bind(change.contract_id)
            .execute(&mut *tx)
            .await?;
        for email in &facts.signatories {
            sqlx::query("INSERT INTO contract_signatories (contract_id, email) VALUES ($1, $2)")
                .bind(change.contract_id)
                .bind(email)
                .execute(&mut *tx)
                .await?;
        }
        let json = |facts: &Facts| serde_json::to_string(facts).unwrap_or_default();
        sqlx::query(
            "INSERT INTO fact_revisions (id, contract_id, before, after, changed_by, changed_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(change.id)
        .bind(change.contract_id)
        .bind(json(&change.before))
        .bind(json(&change.after))
        .bind(change.changed_by)
        .bind(change.changed_at)
        .execute(&mut *tx)
        .await?;
        let meta = AuditMeta {
            actor_id: Some(change.changed_by),
            at: change.changed_at,
        };
        let entry = AuditEntry::facts_revised(change.contract_id, &change.before, facts, meta);
        audit::append(&mut tx, entry).await?;
        if let Some(transition) = transition {
            review::write_transition(&mut tx, transition).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(contract_id = %contract_id))]
    async fn fact_revisions(&self, contract_id: Uuid) -> StoreResult<Vec<FactRevision>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            id: Uuid,
            before: String,
            after: String,
            changed_by: Uuid,
            changed_at: DateTime<Utc>,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, before, after, changed_by, changed_at FROM fact_revisions
             WHERE contract_id = $1 ORDER BY changed_at, id",
        )
        .bind(contract_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                let parse = |text: &str| {
                    serde_json::from_str(text)
                        .map_err(|e| StoreError::Database(sqlx::Error::Decode(Box::new(e))))
                };
                Ok(FactRevision {
                    id: row.id,
                    before: parse(&row.before)?,
                    after: parse(&row.after)?,
                    changed_by: row.changed_by,
                    changed_at: row.changed_at,
                })
            })
            .collect()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(contract_id = %contract_id))]
    async fn contract_versions(&self, contract_id: Uuid) -> StoreResult<Vec<ContractVersion>> {
        let rows: Vec<VersionRow> = sqlx::query_as(
            "SELECT number, sha256, created_by, created_at FROM contract_versions
             WHERE contract_id = $1 ORDER BY number",
        )
        .bind(contract_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(ContractVersion::from).collect())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(contract_id = %contract_id))]
    async fn contract_version(
        &self,
        contract_id: Uuid,
        number: i64,
    ) -> StoreResult<Option<(ContractVersion, String)>> {
        #[derive(sqlx::FromRow)]
        struct WithBody {
            #[sqlx(flatten)]
            version: VersionRow,
            body_markdown: String,
        }
        let row: Option<WithBody> = sqlx::query_as(
            "SELECT number, sha256, created_by, created_at, body_markdown FROM contract_versions
             WHERE contract_id = $1 AND number = $2",
        )
        .bind(contract_id)
        .bind(number)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| (row.version.into(), row.body_markdown)))
    }
}
