//! The rows the store reads and writes, as plain structs.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::{ContractState, ContractType, Role};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    pub open: u32,
    pub idle: u32,
}

/// Who caused a change and when, for its audit event.
#[derive(Debug, Clone, Copy)]
pub struct AuditMeta {
    /// `None` for changes made from the command line by the operator.
    pub actor_id: Option<Uuid>,
    pub at: DateTime<Utc>,
}

/// An agency in the tree (a government, a bureau, a unit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct Agency {
    pub id: Uuid,
    pub name: String,
    pub parent_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewUserRecord {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub agency_id: Uuid,
    pub roles: Vec<Role>,
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
}

/// A user account; the password hash never leaves the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub agency_id: Uuid,
    pub roles: Vec<Role>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

/// What login needs to check a password.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Credentials {
    pub user_id: Uuid,
    pub password_hash: String,
    pub active: bool,
}

#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub token_hash: String,
    pub user_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewContractRecord {
    pub id: Uuid,
    pub agency_id: Uuid,
    pub title: String,
    pub contract_type: ContractType,
    pub counterparty: String,
    pub amount_fen: i64,
    pub funding_source: Option<String>,
    pub agency_party: String,
    pub signatories: Vec<String>,
    pub body_markdown: String,
    pub body_sha256: String,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

/// A contract's facts and where it stands; what a list shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct Contract {
    pub id: Uuid,
    pub agency_id: Uuid,
    pub title: String,
    #[sqlx(try_from = "String")]
    pub contract_type: ContractType,
    pub counterparty: String,
    /// The amount in fen (1/100 yuan).
    pub amount_fen: i64,
    pub funding_source: Option<String>,
    /// How the contract names the agency (甲方, 采购人, "the County"…).
    pub agency_party: String,
    #[sqlx(try_from = "String")]
    pub state: ContractState,
    /// Send this back as `expected_version` when changing the contract.
    pub version: i64,
    /// The number of the current body version.
    pub body_version: i64,
    /// SHA-256 of the current body; signing is pinned to it.
    pub body_sha256: String,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A contract with its current body and signatories; what the contract page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ContractDetail {
    #[serde(flatten)]
    pub contract: Contract,
    pub body_markdown: String,
    pub signatories: Vec<String>,
}

/// The list query: filters and a keyset cursor (UUID v7 ids sort by creation time).
#[derive(Debug, Clone, Default)]
pub struct ContractFilter {
    pub state: Option<ContractState>,
    /// Free text matched against title and counterparty, case-insensitively.
    pub text: Option<String>,
    /// Only contracts created before this one (the last id of the previous page).
    pub before: Option<Uuid>,
    pub limit: i64,
}

#[derive(Debug, Clone)]
pub struct BodyChange {
    pub contract_id: Uuid,
    pub expected_version: i64,
    pub body_markdown: String,
    pub body_sha256: String,
    pub actor_id: Uuid,
    pub at: DateTime<Utc>,
}

/// One immutable body version of a contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct ContractVersion {
    pub number: i64,
    pub sha256: String,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

/// A response saved under an `Idempotency-Key`, replayed when the client retries.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SavedResponse {
    pub user_id: Uuid,
    pub key: String,
    /// SHA-256 of the request, so that a key reused for a different request is refused.
    pub request_hash: String,
    pub status: i64,
    pub response: String,
    pub created_at: DateTime<Utc>,
}
