//! Rows that several aggregates read: a contract with its current body version.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::{Contract, ContractState, ContractType};

/// A contract joined with its current body version.
#[derive(sqlx::FromRow)]
pub(super) struct ContractRow {
    id: Uuid,
    agency_id: Uuid,
    title: String,
    #[sqlx(try_from = "String")]
    contract_type: ContractType,
    counterparty: String,
    amount_fen: i64,
    funding_source: Option<String>,
    agency_party: String,
    #[sqlx(try_from = "String")]
    state: ContractState,
    version: i64,
    body_version: i64,
    body_sha256: String,
    approved_sha256: Option<String>,
    approved_manifest_sha256: Option<String>,
    due_at: Option<DateTime<Utc>>,
    clock_paused_days: Option<i64>,
    opinion_number: Option<String>,
    workflow_id: String,
    workflow_version: i64,
    created_by: Uuid,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<ContractRow> for Contract {
    fn from(row: ContractRow) -> Self {
        Contract {
            id: row.id,
            agency_id: row.agency_id,
            title: row.title,
            contract_type: row.contract_type,
            counterparty: row.counterparty,
            amount_fen: row.amount_fen,
            funding_source: row.funding_source,
            agency_party: row.agency_party,
            state: row.state,
            version: row.version,
            body_version: row.body_version,
            body_sha256: row.body_sha256,
            approved_sha256: row.approved_sha256,
            approved_manifest_sha256: row.approved_manifest_sha256,
            due_at: row.due_at,
            clock_paused_days: row.clock_paused_days,
            opinion_number: row.opinion_number,
            workflow_id: row.workflow_id,
            workflow_version: row.workflow_version,
            created_by: row.created_by,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// The columns of [`ContractRow`], selected [`FROM_CONTRACTS`].
pub(super) const CONTRACT_COLUMNS: &str =
    "c.id, c.agency_id, c.title, c.contract_type, c.counterparty,
        c.amount_fen, c.funding_source, c.agency_party, c.state, c.version, c.body_version,
        v.sha256 AS body_sha256, c.approved_sha256, c.approved_manifest_sha256, c.due_at,
        c.clock_paused_days, c.opinion_number, c.workflow_id, c.workflow_version,
        c.created_by, c.created_at, c.updated_at";

/// Contracts joined with their current body version.
pub(super) const FROM_CONTRACTS: &str = "FROM contracts c JOIN contract_versions v ON v.contract_id = c.id AND v.number = c.body_version";
