//! What the services hand the store to write, and the few results that are the store's own
//! (facts for a decision, report data). Everything the API shows is a domain type.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::domain::{
    Answer, Attachment, Contract, ContractState, ContractTransition, ContractVersion, DraftFile,
    Facts, FileContent, FindingSpan, OutgoingMail, User,
};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    pub open: u32,
    pub idle: u32,
}

/// A new account: the user as it will read back, and the hash of its password.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub user: User,
    pub password_hash: String,
}

/// What login needs to check a password.
#[derive(Debug, Clone)]
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

/// The list query: filters and a keyset cursor (UUID v7 ids sort by creation time).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
    /// The new version; its number is checked against the contract's next one.
    pub version: ContractVersion,
    pub body_markdown: String,
    /// The Word or PDF file the new body was converted from.
    pub original: Option<FileContent<DraftFile>>,
}

/// Revised facts. Like a new body, they clear any approval.
#[derive(Debug, Clone)]
pub struct FactsChange {
    pub id: Uuid,
    pub contract_id: Uuid,
    pub expected_version: i64,
    pub before: Facts,
    pub after: Facts,
    pub changed_by: Uuid,
    pub changed_at: DateTime<Utc>,
}

/// A material added, or one removed (`removed` names it), with the transition the change
/// fires after approval.
#[derive(Debug, Clone)]
pub enum MaterialChange {
    Add(FileContent<Attachment>),
    Remove {
        contract_id: Uuid,
        id: Uuid,
        by: Uuid,
        at: DateTime<Utc>,
    },
}

/// One revision of a contract's facts, as the history shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FactRevision {
    pub id: Uuid,
    pub before: Facts,
    pub after: Facts,
    pub changed_by: Uuid,
    pub changed_at: DateTime<Utc>,
}

/// What a transition does to 退回补正 besides moving the contract.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SupplementStep {
    #[default]
    None,
    /// A reviewer's points: what must be supplied or changed.
    Request(Vec<String>),
    /// The clerk's answer to every open point.
    Answer(Vec<Answer>),
}

/// A response saved under an `Idempotency-Key`, replayed when the client retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedResponse {
    pub user_id: Uuid,
    pub key: String,
    /// SHA-256 of the request, so that a key reused for a different request is refused.
    pub request_hash: String,
    /// The answer as JSON.
    pub response: String,
    pub created_at: DateTime<Utc>,
}

/// A workflow definition as loaded from its file, kept so that contracts pinned to it can finish.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    pub contract_id: Uuid,
    /// The contract's version the plan was made against.
    pub expected_version: i64,
    /// The history row, as it will read back.
    pub step: ContractTransition,
    /// Record the body as the approved version, and this manifest as the approved one.
    pub pins_version: bool,
    pub approved_manifest_sha256: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    /// The working days a stopped clock keeps (退回补正); `None` runs it.
    pub clock_paused_days: Option<i64>,
    pub supplement: SupplementStep,
    /// The e-mails the transition sends, rendered now and queued in the same transaction.
    pub mails: Vec<OutgoingMail>,
    /// The legality screen of the body, when the transition runs it.
    pub screening: Option<ScreeningRecord>,
    /// A review decision draws the next 文号 of its office's letters.
    pub numbering: Option<Numbering>,
    /// `id@version` of the workflow, for the audit trail.
    pub workflow: String,
}

/// Where a decision's 文号 comes from: the office's sequence for the year, printed as
/// `{prefix}〔{year}〕{n}号`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Numbering {
    pub office_id: Uuid,
    pub year: i32,
    pub prefix: String,
}

impl Numbering {
    pub fn number(&self, n: i64) -> String {
        format!("{}〔{}〕{n}号", self.prefix, self.year)
    }
}

/// A contract in a review queue, with what the reviewer sorts by at a glance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEntry {
    pub contract: Contract,
    /// The submitting agency's name.
    pub agency: String,
    /// Blocking findings of the current version not yet excluded.
    pub open_blocking_findings: i64,
    /// How often it was submitted: more than once is a resubmission.
    pub submissions: i64,
}

/// A workflow step with the contract it moved, for the message list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentStep {
    pub contract_id: Uuid,
    pub title: String,
    pub step: ContractTransition,
}

/// A deadline reminder or escalation: queued only if this recipient has not had one for this
/// contract today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderMail {
    pub kind: &'static str,
    pub day: NaiveDate,
    pub message: OutgoingMail,
}

/// The facts a review decision depends on (see `ReviewStore::review_facts`).
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
    pub citation: String,
    pub advice: String,
    pub spans: Vec<FindingSpan>,
}

/// One transition of a contract, as the review-time report reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageChange {
    pub contract_id: Uuid,
    pub to_state: ContractState,
    pub at: DateTime<Utc>,
}

/// The counts and history the reports are computed from, within one reader's view.
#[derive(Debug, Clone, Default)]
pub struct ReportData {
    /// `(state, contracts)`.
    pub by_state: Vec<(ContractState, i64)>,
    /// `(category, findings)`, over each contract's current version.
    pub by_category: Vec<(String, i64)>,
    /// Every transition, ordered by contract and time.
    pub stage_changes: Vec<StageChange>,
}
