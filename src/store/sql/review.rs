//! The review workflow: stored definitions, transitions with everything they write, the
//! history, the facts a decision rests on, queues and deadlines.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use strum::EnumCount;
use uuid::Uuid;

use super::rows::{CONTRACT_COLUMNS, ContractRow, FROM_CONTRACTS};
use super::{
    Conn, SqlStore, UP_CTE, audit, documents, idempotency, outbox, scope_cte, scope_params,
    screening, unique_as_duplicate,
};
use crate::domain::ClauseComment;
use crate::domain::audit::{AuditEntry, AuditMeta};
use crate::domain::{Contract, ContractState, ContractTransition, Outcome, Visibility};
use crate::screening::Severity;
use crate::store::{
    Numbering, QueueEntry, RecentStep, ReviewFacts, ReviewStore, SavedResponse, StoreError,
    StoreResult, TransitionRecord, WorkflowRecord,
};

#[derive(sqlx::FromRow)]
struct TransitionRow {
    id: Uuid,
    transition: String,
    #[sqlx(try_from = "String")]
    from_state: ContractState,
    #[sqlx(try_from = "String")]
    to_state: ContractState,
    outcome: Option<String>,
    actor_id: Uuid,
    on_behalf_of: Option<Uuid>,
    opinion: Option<String>,
    opinion_number: Option<String>,
    conditions: Option<String>,
    body_version: i64,
    body_sha256: String,
    at: DateTime<Utc>,
}

impl TryFrom<TransitionRow> for ContractTransition {
    type Error = StoreError;

    fn try_from(row: TransitionRow) -> Result<Self, Self::Error> {
        let outcome = row
            .outcome
            .map(|raw| {
                raw.parse::<Outcome>()
                    .map_err(|e| sqlx::Error::Decode(format!("outcome {raw:?}: {e}").into()))
            })
            .transpose()?;
        Ok(ContractTransition {
            id: row.id,
            transition: row.transition,
            from_state: row.from_state,
            to_state: row.to_state,
            outcome,
            actor_id: row.actor_id,
            on_behalf_of: row.on_behalf_of,
            opinion: row.opinion,
            opinion_number: row.opinion_number,
            conditions: row
                .conditions
                .map(|raw| {
                    serde_json::from_str(&raw)
                        .map_err(|e| sqlx::Error::Decode(format!("conditions {raw:?}: {e}").into()))
                })
                .transpose()?
                .unwrap_or_default(),
            body_version: row.body_version,
            body_sha256: row.body_sha256,
            at: row.at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct RecentRow {
    #[sqlx(flatten)]
    step: TransitionRow,
    contract_id: Uuid,
    title: String,
}

#[derive(sqlx::FromRow)]
struct QueueRow {
    #[sqlx(flatten)]
    contract: ContractRow,
    agency: Option<String>,
    open_blocking_findings: i64,
    submissions: i64,
}

#[derive(sqlx::FromRow)]
struct WorkflowRow {
    id: String,
    version: i64,
    sha256: String,
    source: String,
    loaded_at: DateTime<Utc>,
}

impl From<WorkflowRow> for WorkflowRecord {
    fn from(row: WorkflowRow) -> Self {
        WorkflowRecord {
            id: row.id,
            version: row.version,
            sha256: row.sha256,
            source: row.source,
            loaded_at: row.loaded_at,
        }
    }
}

/// The contract answered to a retried request carries the 文号 its transaction drew, as the
/// first answer did.
fn with_opinion_number(saved: &SavedResponse, number: Option<&str>) -> StoreResult<SavedResponse> {
    let mut saved = saved.clone();
    if let Some(number) = number {
        let mut response: serde_json::Value = serde_json::from_str(&saved.response)
            .map_err(|e| sqlx::Error::Protocol(format!("saved response: {e}")))?;
        response["opinion_number"] = number.into();
        saved.response = response.to_string();
    }
    Ok(saved)
}

const WORKFLOW_COLUMNS: &str = "id, version, sha256, source, loaded_at";

/// Draws the next number of an office's letters for the year. The row stays locked until the
/// transaction ends (PostgreSQL; SQLite has one writer), so concurrent decisions take turns and
/// a rolled-back one gives its number back.
async fn next_letter_number(conn: &mut Conn, numbering: &Numbering) -> StoreResult<String> {
    let (n,): (i64,) = sqlx::query_as(
        "INSERT INTO opinion_sequences (office_id, year, last_number) VALUES ($1, $2, 1)
         ON CONFLICT (office_id, year) DO UPDATE SET last_number = opinion_sequences.last_number + 1
         RETURNING last_number",
    )
    .bind(numbering.office_id)
    .bind(numbering.year)
    .fetch_one(&mut *conn)
    .await?;
    Ok(numbering.number(n))
}

/// Moves the contract along a planned transition, if it is still at the expected version, and
/// writes what comes with it: the history row, the letter's 文号, the mails, the screen, the
/// audit event. Returns the 文号 a decision drew.
pub(super) async fn write_transition(
    conn: &mut Conn,
    t: &TransitionRecord,
) -> StoreResult<Option<String>> {
    let step = &t.step;
    let moved: Option<(Uuid,)> = sqlx::query_as(
        "UPDATE contracts SET state = $1, version = version + 1, due_at = $2, updated_at = $3,
             approved_sha256 = CASE WHEN $4 THEN $5 ELSE approved_sha256 END,
             approved_manifest_sha256 = CASE WHEN $4 THEN $9 ELSE approved_manifest_sha256 END,
             clock_paused_days = $10
         WHERE id = $6 AND version = $7 AND state = $8
         RETURNING id",
    )
    .bind(step.to_state.as_str())
    .bind(t.due_at)
    .bind(step.at)
    .bind(t.pins_version)
    .bind(&step.body_sha256)
    .bind(t.contract_id)
    .bind(t.expected_version)
    .bind(step.from_state.as_str())
    .bind(&t.approved_manifest_sha256)
    .bind(t.clock_paused_days)
    .fetch_optional(&mut *conn)
    .await?;
    if moved.is_none() {
        return Err(StoreError::Stale);
    }
    let number = match &t.numbering {
        Some(numbering) => {
            let number = next_letter_number(conn, numbering).await?;
            sqlx::query("UPDATE contracts SET opinion_number = $1 WHERE id = $2")
                .bind(&number)
                .bind(t.contract_id)
                .execute(&mut *conn)
                .await?;
            Some(number)
        }
        None => None,
    };
    sqlx::query(
        "INSERT INTO contract_transitions (id, contract_id, transition, from_state, to_state, outcome,
             actor_id, on_behalf_of, opinion, body_version, body_sha256, at, opinion_number, conditions)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(step.id)
    .bind(t.contract_id)
    .bind(&step.transition)
    .bind(step.from_state.as_str())
    .bind(step.to_state.as_str())
    .bind(step.outcome.map(Outcome::as_str))
    .bind(step.actor_id)
    .bind(step.on_behalf_of)
    .bind(&step.opinion)
    .bind(step.body_version)
    .bind(&step.body_sha256)
    .bind(step.at)
    .bind(&number)
    .bind(
        (!step.conditions.is_empty())
            .then(|| serde_json::Value::from(step.conditions.clone()).to_string()),
    )
    .execute(&mut *conn)
    .await?;
    for mail in &t.mails {
        outbox::insert(conn, mail, step.at).await?;
    }
    if let Some(screening) = &t.screening {
        screening::write(conn, t.contract_id, screening, step.at).await?;
    }
    documents::write_supplement(conn, t).await?;
    let numbered = ContractTransition {
        opinion_number: number.clone(),
        ..step.clone()
    };
    let entry = AuditEntry::transition(t.contract_id, &numbered, &t.workflow);
    audit::append(conn, entry).await?;
    Ok(number)
}

/// `IN` placeholders for as many states as there are: the slots a queue does not need are bound
/// to NULL, which matches nothing.
const STATE_SLOTS: &str = "$3, $4, $5, $6, $7, $8, $9, $10";
const _: () = assert!(
    ContractState::COUNT == 8,
    "one slot of STATE_SLOTS per state"
);

#[async_trait]
impl ReviewStore for SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn save_workflow(&self, record: &WorkflowRecord) -> StoreResult<WorkflowRecord> {
        let (_writer, mut tx) = self.begin_write().await?;
        let sql = format!(
            "SELECT {WORKFLOW_COLUMNS} FROM workflow_definitions WHERE id = $1 AND version = $2"
        );
        let existing: Option<WorkflowRow> = sqlx::query_as(&sql)
            .bind(&record.id)
            .bind(record.version)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(existing) = existing {
            return Ok(existing.into());
        }
        sqlx::query(
            "INSERT INTO workflow_definitions (id, version, sha256, source, loaded_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&record.id)
        .bind(record.version)
        .bind(&record.sha256)
        .bind(&record.source)
        .bind(record.loaded_at)
        .execute(&mut *tx)
        .await
        .map_err(unique_as_duplicate("workflow version"))?;
        tx.commit().await?;
        Ok(record.clone())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn workflows(&self) -> StoreResult<Vec<WorkflowRecord>> {
        let sql =
            format!("SELECT {WORKFLOW_COLUMNS} FROM workflow_definitions ORDER BY id, version");
        let rows: Vec<WorkflowRow> = sqlx::query_as(&sql).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(WorkflowRecord::from).collect())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn apply_transition(
        &self,
        transition: &TransitionRecord,
        saved: Option<&SavedResponse>,
    ) -> StoreResult<Option<String>> {
        let (_writer, mut tx) = self.begin_write().await?;
        let number = write_transition(&mut tx, transition).await?;
        if let Some(saved) = saved {
            let saved = with_opinion_number(saved, number.as_deref())?;
            idempotency::save(&mut tx, &saved).await?;
        }
        tx.commit().await?;
        Ok(number)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(contract_id = %contract_id))]
    async fn contract_transitions(
        &self,
        contract_id: Uuid,
    ) -> StoreResult<Vec<ContractTransition>> {
        let rows: Vec<TransitionRow> = sqlx::query_as(
            "SELECT id, transition, from_state, to_state, outcome, actor_id, on_behalf_of, opinion,
                    opinion_number, conditions, body_version, body_sha256, at
             FROM contract_transitions WHERE contract_id = $1 ORDER BY at, id",
        )
        .bind(contract_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(ContractTransition::try_from).collect()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(contract_id = %contract_id))]
    async fn review_facts(
        &self,
        contract_id: Uuid,
        agency_id: Uuid,
        body_version: i64,
        reviewers: [Option<Uuid>; 2],
    ) -> StoreResult<ReviewFacts> {
        let authors: Vec<(Uuid,)> = sqlx::query_as(
            "SELECT created_by FROM contracts WHERE id = $1
             UNION SELECT created_by FROM contract_versions WHERE contract_id = $1
             UNION SELECT actor_id FROM contract_transitions WHERE contract_id = $1 AND outcome = $2
             UNION SELECT on_behalf_of FROM contract_transitions
                 WHERE contract_id = $1 AND outcome = $2 AND on_behalf_of IS NOT NULL",
        )
        .bind(contract_id)
        .bind(Outcome::Submitted.as_str())
        .fetch_all(&self.pool)
        .await?;
        // Walking up from the contract's agency finds every agency whose reviewers cover it.
        let sql = format!(
            "{UP_CTE} SELECT (SELECT COUNT(*) FROM findings
                         WHERE contract_id = $2 AND body_version = $3 AND severity = $4 AND waived_at IS NULL),
                    (SELECT COUNT(*) FROM up WHERE id = $5),
                    (SELECT COUNT(*) FROM up WHERE id = $6)"
        );
        let (open_blocking_findings, first_within, second_within): (i64, i64, i64) =
            sqlx::query_as(&sql)
                .bind(agency_id)
                .bind(contract_id)
                .bind(body_version)
                .bind(Severity::Block.as_str())
                .bind(reviewers[0])
                .bind(reviewers[1])
                .fetch_one(&self.pool)
                .await?;
        Ok(ReviewFacts {
            authors: authors.into_iter().map(|(id,)| id).collect(),
            open_blocking_findings,
            within: [first_within > 0, second_within > 0],
        })
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn review_queue(
        &self,
        visibility: Visibility,
        states: &[ContractState],
        limit: i64,
    ) -> StoreResult<Vec<QueueEntry>> {
        if states.is_empty() {
            return Ok(Vec::new());
        }
        let (root, descend) = scope_params(visibility);
        let sql = format!(
            "{} SELECT {CONTRACT_COLUMNS},
                    (SELECT name FROM agencies a WHERE a.id = c.agency_id) AS agency,
                    (SELECT COUNT(*) FROM findings f WHERE f.contract_id = c.id
                        AND f.body_version = c.body_version AND f.severity = $12
                        AND f.waived_at IS NULL) AS open_blocking_findings,
                    (SELECT COUNT(*) FROM contract_transitions t WHERE t.contract_id = c.id
                        AND t.outcome = $13) AS submissions
             {FROM_CONTRACTS}
             WHERE c.agency_id IN (SELECT id FROM scope) AND c.state IN ({STATE_SLOTS})
             ORDER BY c.due_at IS NULL, c.due_at, c.id
             LIMIT $11",
            scope_cte!()
        );
        let mut query = sqlx::query_as::<_, QueueRow>(&sql).bind(root).bind(descend);
        for slot in 0..ContractState::COUNT {
            query = query.bind(states.get(slot).map(|s| s.as_str()));
        }
        let rows = query
            .bind(limit)
            .bind(Severity::Block.as_str())
            .bind(Outcome::Submitted.as_str())
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| QueueEntry {
                contract: Contract::from(row.contract),
                agency: row.agency.unwrap_or_default(),
                open_blocking_findings: row.open_blocking_findings,
                submissions: row.submissions,
            })
            .collect())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(contract_id = %comment.contract_id))]
    async fn add_comment(&self, comment: &ClauseComment) -> StoreResult<()> {
        self.insert_comment(comment).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(contract_id = %contract_id))]
    async fn comments(&self, contract_id: Uuid) -> StoreResult<Vec<ClauseComment>> {
        self.select_comments(contract_id).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(contract_id = %resolved.contract_id))]
    async fn resolve_comment(
        &self,
        resolved: &ClauseComment,
        meta: AuditMeta,
    ) -> StoreResult<bool> {
        self.update_resolution(resolved, meta).await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn count_waiting(
        &self,
        visibility: Visibility,
        states: &[ContractState],
        signatory: Option<&str>,
    ) -> StoreResult<i64> {
        if states.is_empty() {
            return Ok(0);
        }
        let (root, descend) = scope_params(visibility);
        let sql = format!(
            "{} SELECT COUNT(*) FROM contracts c
             WHERE c.agency_id IN (SELECT id FROM scope) AND c.state IN ({STATE_SLOTS})
               AND ($11 IS NULL OR EXISTS (SELECT 1 FROM contract_signatories s
                                           WHERE s.contract_id = c.id AND s.email = $11))",
            scope_cte!()
        );
        let mut query = sqlx::query_scalar::<_, i64>(&sql).bind(root).bind(descend);
        for slot in 0..ContractState::COUNT {
            query = query.bind(states.get(slot).map(|s| s.as_str()));
        }
        Ok(query.bind(signatory).fetch_one(&self.pool).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn recent_steps(
        &self,
        visibility: Visibility,
        limit: i64,
    ) -> StoreResult<Vec<RecentStep>> {
        let (root, descend) = scope_params(visibility);
        let sql = format!(
            "{} SELECT t.id, t.transition, t.from_state, t.to_state, t.outcome, t.actor_id,
                    t.on_behalf_of, t.opinion, t.opinion_number, t.conditions, t.body_version,
                    t.body_sha256, t.at, c.id AS contract_id, c.title
             FROM contract_transitions t JOIN contracts c ON c.id = t.contract_id
             WHERE c.agency_id IN (SELECT id FROM scope)
             ORDER BY t.at DESC, t.id DESC
             LIMIT $3",
            scope_cte!()
        );
        let rows: Vec<RecentRow> = sqlx::query_as(&sql)
            .bind(root)
            .bind(descend)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|row| {
                Ok(RecentStep {
                    contract_id: row.contract_id,
                    title: row.title,
                    step: ContractTransition::try_from(row.step)?,
                })
            })
            .collect()
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn contracts_due_before(&self, before: DateTime<Utc>) -> StoreResult<Vec<Contract>> {
        let sql = format!(
            "SELECT {CONTRACT_COLUMNS} {FROM_CONTRACTS} WHERE c.due_at IS NOT NULL AND c.due_at <= $1"
        );
        let rows: Vec<ContractRow> = sqlx::query_as(&sql)
            .bind(before)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(Contract::from).collect())
    }
}
