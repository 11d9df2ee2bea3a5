//! The rows the store reads and writes, as plain structs.

use chrono::{DateTime, NaiveDate, Utc};
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
    /// The workflow's initial state.
    pub state: ContractState,
    pub workflow_id: String,
    pub workflow_version: i64,
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
    /// SHA-256 of the version the review approved, once approved; only that version can be signed.
    pub approved_sha256: Option<String>,
    /// When the current review stage is due, if it has a deadline.
    pub due_at: Option<DateTime<Utc>>,
    /// The workflow the contract started under; it finishes under the same rules.
    pub workflow_id: String,
    pub workflow_version: i64,
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
    /// Only contracts whose current stage was due before this time.
    pub overdue_at: Option<DateTime<Utc>>,
    /// Only contracts this e-mail address is named to sign.
    pub signatory: Option<String>,
    pub limit: i64,
}

/// A new body version. Replacing the body clears any approval: the new text was not reviewed.
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

/// A workflow definition as loaded from its file, kept so that contracts pinned to it can finish.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WorkflowRecord {
    pub id: String,
    pub version: i64,
    pub sha256: String,
    pub source: String,
    pub loaded_at: DateTime<Utc>,
}

/// Everything one transition writes, in one transaction.
#[derive(Debug, Clone)]
pub struct TransitionRecord {
    pub id: Uuid,
    pub contract_id: Uuid,
    /// The contract's version the plan was made against.
    pub expected_version: i64,
    pub transition: String,
    pub from: ContractState,
    pub to: ContractState,
    pub outcome: Option<String>,
    pub actor_id: Uuid,
    pub on_behalf_of: Option<Uuid>,
    pub opinion: Option<String>,
    pub body_version: i64,
    pub body_sha256: String,
    /// Record the body as the approved version.
    pub pins_version: bool,
    pub due_at: Option<DateTime<Utc>>,
    /// The e-mails the transition sends, rendered now and queued in the same transaction.
    pub mails: Vec<OutboxMessage>,
    /// The legality screen of the body, when the transition runs it.
    pub screening: Option<ScreeningRecord>,
    /// `id@version` of the workflow, for the audit trail.
    pub workflow: String,
    pub at: DateTime<Utc>,
}

/// A rendered e-mail to one recipient, ready to be queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: Uuid,
    pub contract_id: Option<Uuid>,
    pub event: String,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
}

/// Where a queued e-mail stands.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    serde::Deserialize,
    ToSchema,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum OutboxStatus {
    Pending,
    /// Claimed by a dispatcher, until `claimed_until`.
    Sending,
    Sent,
    /// Gave up: a permanent error or too many attempts. An admin may retry it.
    Failed,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl TryFrom<String> for OutboxStatus {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        raw.parse()
            .map_err(|_| format!("unknown outbox status {raw:?}"))
    }
}

/// The outcome of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub id: Uuid,
    /// `Sent`, `Pending` (try again at `next_attempt_at`) or `Failed`.
    pub status: OutboxStatus,
    pub at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    pub error: Option<String>,
}

/// A queued e-mail as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: Uuid,
    pub contract_id: Option<Uuid>,
    pub event: String,
    pub recipient: String,
    pub subject: String,
    #[serde(skip)]
    pub body_text: String,
    #[serde(skip)]
    pub body_html: String,
    #[sqlx(try_from = "String")]
    pub status: OutboxStatus,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    /// The last delivery error, as the mail server or the network reported it.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// A deadline reminder or escalation: queued only if this recipient has not had one for this
/// contract today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderMail {
    pub kind: &'static str,
    pub day: NaiveDate,
    pub message: OutboxMessage,
}

/// One step of a contract's workflow history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct ContractTransition {
    pub id: Uuid,
    pub transition: String,
    #[sqlx(try_from = "String")]
    pub from_state: ContractState,
    #[sqlx(try_from = "String")]
    pub to_state: ContractState,
    pub outcome: Option<String>,
    pub actor_id: Uuid,
    /// The reviewer a deputy acted for.
    pub on_behalf_of: Option<Uuid>,
    pub opinion: Option<String>,
    pub body_version: i64,
    pub body_sha256: String,
    pub at: DateTime<Utc>,
}

/// A reviewer's deputy for a range of dates (inclusive, Beijing dates).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct Delegation {
    pub id: Uuid,
    pub delegator_id: Uuid,
    pub deputy_id: Uuid,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A finding of the screen on one body version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct Finding {
    pub id: Uuid,
    pub body_version: i64,
    pub rule: String,
    pub category: String,
    pub severity: String,
    pub clause: String,
    pub start_offset: i64,
    pub end_offset: i64,
    pub excerpt: String,
    pub provision: String,
    pub advice: String,
    pub created_at: DateTime<Utc>,
    pub waived_by: Option<Uuid>,
    pub waived_at: Option<DateTime<Utc>>,
    pub waive_reason: Option<String>,
}

/// The facts a review decision depends on (see `Store::review_facts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewFacts {
    /// Everyone who drafted, revised or submitted the contract (separation of duties).
    pub authors: Vec<Uuid>,
    pub open_blocking_findings: i64,
    /// For each reviewer agency asked about: whether it covers the contract.
    pub within: [bool; 2],
}

/// The screen's result for one body version, stored with the transition that ran it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreeningRecord {
    pub body_version: i64,
    pub findings: Vec<NewFinding>,
    /// The checklist (every category flagged or clear) as JSON.
    pub checklist: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFinding {
    pub id: Uuid,
    pub rule: String,
    pub category: String,
    pub severity: String,
    pub clause: String,
    pub start_offset: i64,
    pub end_offset: i64,
    pub excerpt: String,
    pub provision: String,
    pub advice: String,
}

/// A waiver of one finding by a reviewer, with the reason (audited).
#[derive(Debug, Clone)]
pub struct Waiver {
    pub contract_id: Uuid,
    pub finding_id: Uuid,
    pub reason: String,
    pub actor_id: Uuid,
    pub at: DateTime<Utc>,
}

/// What a judgment is about.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    serde::Deserialize,
    ToSchema,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum JudgmentKind {
    ConstructionArrears,
    ProcurementArrears,
    AdministrativeCompensation,
    BusinessDebt,
    Other,
}

impl TryFrom<String> for JudgmentKind {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        crate::domain::choice::parse_choice(&raw, "裁判类型", "judgment kind")
    }
}

/// An effective court judgment against an agency (the register of part 四).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct Judgment {
    pub id: Uuid,
    /// 案号, e.g. (2025)某01民终123号.
    pub case_number: String,
    pub court: String,
    pub agency_id: Uuid,
    #[sqlx(try_from = "String")]
    pub kind: JudgmentKind,
    pub amount_due_fen: i64,
    pub amount_paid_fen: i64,
    pub effective_on: NaiveDate,
    pub due_on: Option<NaiveDate>,
    /// `unpaid`, `partially_paid` or `paid`, from the amounts.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One agency's line of the half-yearly judgment report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct JudgmentSummary {
    pub agency_id: Uuid,
    pub agency: String,
    /// Judgments not fully paid at the end of the period.
    pub unpaid_count: i64,
    pub outstanding_fen: i64,
    /// Paid during the period.
    pub paid_in_period_fen: i64,
}

/// One transition of a contract, as the review-time report reads it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StageChange {
    pub contract_id: Uuid,
    #[sqlx(try_from = "String")]
    pub to_state: ContractState,
    pub at: DateTime<Utc>,
}

/// The counts and history the reports are computed from, within one reader's view.
#[derive(Debug, Clone, Default)]
pub struct ReportData {
    /// `(state, contracts)`.
    pub by_state: Vec<(String, i64)>,
    /// `(category, findings)`, over each contract's current version.
    pub by_category: Vec<(String, i64)>,
    /// Every transition, ordered by contract and time.
    pub stage_changes: Vec<StageChange>,
}
