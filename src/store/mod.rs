//! Persistence: the one place with SQL. The services speak to [`Store`], whose methods are named
//! for what they mean (`create_contract`, `replace_body`), never for the SQL they run. It is one
//! trait per aggregate, so that each aggregate's SQL lives in a file of its own under `sql/`.
//! That folder is compiled once per backend (see [`sqlite`] and [`postgres`]); what differs
//! between SQLite and PostgreSQL lives in [`backend`].

mod backend;
mod records;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::domain::audit::anchor::{ChainHead, ContractAnchor};
use crate::domain::audit::{AuditMeta, AuditRecord, SubjectKind};
use crate::domain::{
    Agency, Attachment, ClauseComment, Contract, ContractDetail, ContractState, ContractTransition,
    ContractVersion, Delegation, Delivery, DraftFile, ExternalSignatory, FileContent, Finding,
    Judgment, JudgmentKind, JudgmentPayment, JudgmentSummary, OutboxStatus, Principal, QueuedMail,
    Role, Signers, SupplementPoint, User, Visibility, Waiver,
};

pub use backend::DatabaseOptions;
pub use records::*;

/// The shared SQL over SQLite: `sql/` with `Db` naming SQLite.
#[path = "."]
mod sqlite {
    type Db = sqlx::Sqlite;
    #[allow(
        clippy::duplicate_mod,
        reason = "sql/ is compiled once per backend on purpose"
    )]
    pub(super) mod sql;
}

/// The same SQL over PostgreSQL.
#[path = "."]
mod postgres {
    type Db = sqlx::Postgres;
    #[allow(
        clippy::duplicate_mod,
        reason = "sql/ is compiled once per backend on purpose"
    )]
    pub(super) mod sql;
}

/// What can go wrong in the store, in terms the services can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the row; names what already exists.
    #[error("{0} already exists")]
    Duplicate(&'static str),
    /// The optimistic version check failed: someone else changed the row first.
    #[error("the record was changed by someone else")]
    Stale,
    /// A size limit kept across rows (a contract's materials together) would be exceeded.
    #[error("over the size limit")]
    TooLarge,
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A shared handle to the store.
pub type SharedStore = Arc<dyn Store>;

/// Opens the database named by `url` (`sqlite:…` or `postgres://…`) and brings its schema up to
/// date.
///
/// # Errors
/// An unknown scheme, an unreachable database or a failed migration.
pub async fn connect(url: &str, options: &DatabaseOptions) -> anyhow::Result<SharedStore> {
    if url.starts_with("sqlite:") {
        let pool = backend::open_sqlite(url, options).await?;
        Ok(Arc::new(sqlite::sql::SqlStore::new(pool)))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let pool = backend::open_postgres(url, options).await?;
        Ok(Arc::new(postgres::sql::SqlStore::new(pool)))
    } else {
        anyhow::bail!("unsupported database URL {url:?}: use sqlite:PATH or postgres://…")
    }
}

/// The whole store: every aggregate, and the database itself.
#[async_trait]
pub trait Store:
    DirectoryStore
    + SessionStore
    + SignatoryStore
    + ContractStore
    + DocumentStore
    + IdempotencyStore
    + ReviewStore
    + ScreeningStore
    + JudgmentStore
    + OutboxStore
    + DelegationStore
    + AuditStore
    + ReportStore
    + Send
    + Sync
    + 'static
{
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// Connections open and idle, for `/metrics`.
    fn pool_stats(&self) -> PoolStats;
    /// A trivial round-trip, for `/readyz`.
    async fn ping(&self) -> StoreResult<()>;
}

/// Agencies and users.
#[async_trait]
pub trait DirectoryStore {
    async fn create_agency(&self, agency: &Agency, audit: AuditMeta) -> StoreResult<()>;
    async fn agency(&self, id: Uuid) -> StoreResult<Option<Agency>>;
    async fn agency_by_name(&self, name: &str) -> StoreResult<Option<Agency>>;
    async fn list_agencies(&self, visibility: Visibility) -> StoreResult<Vec<Agency>>;
    /// The agencies at the top of the tree (those without a parent).
    async fn root_agencies(&self) -> StoreResult<Vec<Uuid>>;
    /// Whether `agency` is `root` or lies below it.
    async fn agency_within(&self, agency: Uuid, root: Uuid) -> StoreResult<bool>;

    async fn create_user(&self, user: &NewUser, audit: AuditMeta) -> StoreResult<()>;
    async fn user(&self, id: Uuid) -> StoreResult<Option<User>>;
    async fn list_users(&self, visibility: Visibility) -> StoreResult<Vec<User>>;
    async fn credentials(&self, email: &str) -> StoreResult<Option<Credentials>>;
    /// Replaces the user's roles; false when there is no such user.
    async fn set_user_roles(&self, id: Uuid, roles: &[Role], audit: AuditMeta)
    -> StoreResult<bool>;
    /// Replaces the password hash and ends every session of the user but the one whose token
    /// hash is `keep_token_hash` (none, when it is empty).
    async fn set_password(
        &self,
        id: Uuid,
        password_hash: &str,
        keep_token_hash: &str,
        audit: AuditMeta,
    ) -> StoreResult<()>;
    /// Activates or deactivates a user; deactivation revokes every token. False if unknown.
    async fn set_user_active(&self, id: Uuid, active: bool, audit: AuditMeta) -> StoreResult<bool>;
    /// Active users holding `role` in `agency_id` or any agency above it: whose jurisdiction covers it.
    async fn users_covering(&self, agency_id: Uuid, role: Role) -> StoreResult<Vec<User>>;
}

/// Who may sign an agency's contracts.
#[async_trait]
pub trait SignatoryStore {
    /// Who may sign the agency's contracts: its active users with the signatory role and its
    /// external signatories.
    async fn signers(&self, agency_id: Uuid) -> StoreResult<Signers>;
    async fn external_signatories(&self, agency_id: Uuid) -> StoreResult<Vec<ExternalSignatory>>;
    /// # Errors
    /// [`StoreError::Duplicate`] when the address is listed for the agency already.
    async fn add_external_signatory(
        &self,
        signatory: &ExternalSignatory,
        audit: AuditMeta,
    ) -> StoreResult<()>;
    /// False when the address was not listed.
    async fn remove_external_signatory(
        &self,
        agency_id: Uuid,
        email: &str,
        audit: AuditMeta,
    ) -> StoreResult<bool>;
}

/// Bearer tokens and failed sign-ins.
#[async_trait]
pub trait SessionStore {
    async fn issue_token(&self, token: &TokenRecord) -> StoreResult<()>;
    /// The active user holding an unexpired token with this hash.
    async fn principal_by_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Principal>>;
    async fn revoke_token(&self, token_hash: &str) -> StoreResult<()>;
    async fn record_login_failure(
        &self,
        email: &str,
        address: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Failures since `since` for this account and for this address.
    async fn login_failures_since(
        &self,
        email: &str,
        address: &str,
        since: DateTime<Utc>,
    ) -> StoreResult<(i64, i64)>;
    async fn clear_login_failures(&self, email: &str) -> StoreResult<()>;
}

/// Contracts, their facts and their immutable body versions.
#[async_trait]
pub trait ContractStore {
    /// Creates a contract with its first body version and, when given, saves the response under
    /// the client's idempotency key in the same transaction.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`] when the idempotency key was saved concurrently.
    async fn create_contract(
        &self,
        contract: &ContractDetail,
        original: Option<&FileContent<DraftFile>>,
        saved: Option<&SavedResponse>,
    ) -> StoreResult<()>;
    /// The contract if it exists and `visibility` lets the reader see it.
    async fn contract(
        &self,
        id: Uuid,
        visibility: Visibility,
    ) -> StoreResult<Option<ContractDetail>>;
    async fn list_contracts(
        &self,
        visibility: Visibility,
        filter: &ContractFilter,
    ) -> StoreResult<Vec<Contract>>;
    /// Stores a new body version if the contract is still at `expected_version`, and fires the
    /// workflow transition a body change causes, if any, in the same transaction.
    ///
    /// # Errors
    /// [`StoreError::Stale`] when the contract changed in the meantime.
    async fn replace_body(
        &self,
        change: &BodyChange,
        transition: Option<&TransitionRecord>,
    ) -> StoreResult<()>;
    /// Records revised facts if the contract is still at `expected_version`, and fires the
    /// transition a change after approval causes, in the same transaction.
    ///
    /// # Errors
    /// [`StoreError::Stale`] when the contract changed in the meantime.
    async fn revise_facts(
        &self,
        change: &FactsChange,
        transition: Option<&TransitionRecord>,
    ) -> StoreResult<()>;
    async fn fact_revisions(&self, contract_id: Uuid) -> StoreResult<Vec<FactRevision>>;
    async fn contract_versions(&self, contract_id: Uuid) -> StoreResult<Vec<ContractVersion>>;
    /// One version with its body text.
    async fn contract_version(
        &self,
        contract_id: Uuid,
        number: i64,
    ) -> StoreResult<Option<(ContractVersion, String)>>;
}

/// The files of a contract: the drafts its bodies came from and its review materials.
#[async_trait]
pub trait DocumentStore {
    /// The materials attached now, in the order they were uploaded.
    async fn attachments(&self, contract_id: Uuid) -> StoreResult<Vec<Attachment>>;
    /// One material, attached now or removed since, with its bytes.
    async fn attachment(
        &self,
        contract_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<FileContent<Attachment>>>;
    /// Adds or removes a material, and fires the transition the change causes after approval,
    /// in one transaction. An added file must keep the contract's materials within
    /// `max_total_bytes`.
    ///
    /// # Errors
    /// [`StoreError::TooLarge`] over the contract's limit; [`StoreError::Stale`] when the
    /// transition's contract moved on; `Ok(false)` when a removed material is not there.
    async fn change_material(
        &self,
        change: &MaterialChange,
        max_total_bytes: i64,
        transition: Option<&TransitionRecord>,
    ) -> StoreResult<bool>;
    /// The latest Word or PDF file a body version was converted from.
    async fn draft_file(&self, contract_id: Uuid) -> StoreResult<Option<FileContent<DraftFile>>>;
    /// Every 补正 point of the contract, the earliest first, answered or not.
    async fn supplement_points(&self, contract_id: Uuid) -> StoreResult<Vec<SupplementPoint>>;
}

/// Responses saved under an `Idempotency-Key` (written by the change they answer).
#[async_trait]
pub trait IdempotencyStore {
    async fn saved_response(&self, user_id: Uuid, key: &str) -> StoreResult<Option<SavedResponse>>;
}

/// The review workflow: definitions, transitions, the facts decisions rest on, queues, deadlines.
#[async_trait]
pub trait ReviewStore {
    /// Keeps a loaded workflow definition. Returns the stored one, which differs from `record`
    /// when that `id@version` was stored before with other content.
    async fn save_workflow(&self, record: &WorkflowRecord) -> StoreResult<WorkflowRecord>;
    async fn workflows(&self) -> StoreResult<Vec<WorkflowRecord>>;
    /// Applies a planned transition if the contract is still at `expected_version`: state,
    /// deadline, approval pin, history row, audit event and notifications, in one transaction,
    /// with the idempotent response when given.
    ///
    /// # Errors
    /// [`StoreError::Stale`] when another change came first; [`StoreError::Duplicate`] when the
    /// idempotency key was saved concurrently. Returns the 文号 a decision drew.
    async fn apply_transition(
        &self,
        transition: &TransitionRecord,
        saved: Option<&SavedResponse>,
    ) -> StoreResult<Option<String>>;
    async fn contract_transitions(&self, contract_id: Uuid)
    -> StoreResult<Vec<ContractTransition>>;
    /// What a review decision depends on, in two queries: the authors, the open blocking
    /// findings on `body_version`, and whether the agencies of up to two reviewers (an actor and
    /// the reviewer they deputise for) cover the contract's agency `agency_id`.
    async fn review_facts(
        &self,
        contract_id: Uuid,
        agency_id: Uuid,
        body_version: i64,
        reviewers: [Option<Uuid>; 2],
    ) -> StoreResult<ReviewFacts>;
    /// Contracts in view in any of `states`, the earliest deadline first (those without one
    /// last), at most `limit`: a reviewer's queue, in one query.
    async fn review_queue(
        &self,
        visibility: Visibility,
        states: &[ContractState],
        limit: i64,
    ) -> StoreResult<Vec<QueueEntry>>;
    /// Records a reviewer's 批注, with its audit event.
    async fn add_comment(&self, comment: &ClauseComment) -> StoreResult<()>;
    /// Every 批注 on a contract, oldest first.
    async fn comments(&self, contract_id: Uuid) -> StoreResult<Vec<ClauseComment>>;
    /// Records how the clerk dealt with an open 批注; false when there is no such open one.
    async fn resolve_comment(&self, resolved: &ClauseComment, meta: AuditMeta)
    -> StoreResult<bool>;
    /// How many contracts in view are in any of `states` (and, with `signatory`, name that
    /// address as a signatory): the count of what waits for someone.
    async fn count_waiting(
        &self,
        visibility: Visibility,
        states: &[ContractState],
        signatory: Option<&str>,
    ) -> StoreResult<i64>;
    /// The latest workflow steps on contracts in view, newest first, with each contract's title.
    async fn recent_steps(
        &self,
        visibility: Visibility,
        limit: i64,
    ) -> StoreResult<Vec<RecentStep>>;
    /// Contracts whose current stage is due at or before `before`.
    async fn contracts_due_before(&self, before: DateTime<Utc>) -> StoreResult<Vec<Contract>>;
}

/// The screen's findings and checklists, and waivers.
#[async_trait]
pub trait ScreeningStore {
    async fn findings(&self, contract_id: Uuid, body_version: i64) -> StoreResult<Vec<Finding>>;
    /// The checklist JSON of the screen of one body version.
    async fn screening_checklist(
        &self,
        contract_id: Uuid,
        body_version: i64,
    ) -> StoreResult<Option<String>>;
    /// Waives an open finding of the contract and records it in the audit trail. False if there
    /// is no such open finding.
    async fn waive_finding(&self, waiver: &Waiver) -> StoreResult<bool>;
    /// Opens a waived finding again; `withdrawal.reason` says why. False when the finding is not
    /// waived (or not the contract's).
    async fn withdraw_waiver(&self, withdrawal: &Waiver) -> StoreResult<bool>;
}

/// The court-judgment register.
#[async_trait]
pub trait JudgmentStore {
    async fn create_judgment(&self, judgment: &Judgment, audit: AuditMeta) -> StoreResult<()>;
    async fn judgment(&self, id: Uuid) -> StoreResult<Option<Judgment>>;
    async fn list_judgments(&self, visibility: Visibility) -> StoreResult<Vec<Judgment>>;
    /// Records a payment and updates the amount paid and the status. False if unknown.
    async fn record_judgment_payment(
        &self,
        payment: &JudgmentPayment,
        audit: AuditMeta,
    ) -> StoreResult<bool>;
    /// (kind, outstanding) of the agency's judgments that are not fully paid.
    async fn unpaid_judgments(&self, agency_id: Uuid) -> StoreResult<Vec<(JudgmentKind, i64)>>;
    /// Per agency in view: judgments unpaid at `end`, the amount outstanding, paid in [start, end].
    async fn judgment_report(
        &self,
        visibility: Visibility,
        start: NaiveDate,
        end: NaiveDate,
    ) -> StoreResult<Vec<JudgmentSummary>>;
}

/// The e-mail outbox.
#[async_trait]
pub trait OutboxStore {
    /// Claims up to `limit` e-mails that are due (or whose earlier claim has lapsed) for the
    /// dispatcher `claimer` until `lease_until`, counting the attempt. Safe with several
    /// dispatchers on one database.
    async fn claim_outbox(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
        claimer: Uuid,
    ) -> StoreResult<Vec<QueuedMail>>;
    /// Extends the lease on every e-mail `claimer` still holds (its heartbeat); returns how many.
    async fn renew_outbox_claims(
        &self,
        claimer: Uuid,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<u64>;
    /// Records what happened to claimed e-mails, as one small transaction (the dispatcher
    /// hands over whatever finished since its last record). A mail that was sent is recorded
    /// sent whoever holds it now; a failure only while `claimer` still holds it. Per delivery,
    /// false when nothing was changed.
    async fn record_deliveries(
        &self,
        deliveries: &[Delivery],
        claimer: Uuid,
    ) -> StoreResult<Vec<bool>>;
    /// Newest first, for e-mails about contracts within `visibility`.
    async fn list_outbox(
        &self,
        visibility: Visibility,
        status: Option<OutboxStatus>,
        limit: i64,
    ) -> StoreResult<Vec<QueuedMail>>;
    /// Queues a failed e-mail again, with a fresh count of attempts. False if not failed or not visible.
    async fn requeue_outbox(
        &self,
        id: Uuid,
        visibility: Visibility,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Queues the reminders not yet sent today; returns how many were queued.
    async fn enqueue_reminders(
        &self,
        reminders: &[ReminderMail],
        at: DateTime<Utc>,
    ) -> StoreResult<usize>;
}

/// Deputies.
#[async_trait]
pub trait DelegationStore {
    async fn create_delegation(&self, delegation: &Delegation, audit: AuditMeta)
    -> StoreResult<()>;
    /// Delegations where the user is the delegator or the deputy, newest first.
    async fn delegations_of(&self, user_id: Uuid) -> StoreResult<Vec<Delegation>>;
    async fn delegation(&self, id: Uuid) -> StoreResult<Option<Delegation>>;
    async fn revoke_delegation(&self, id: Uuid, audit: AuditMeta) -> StoreResult<bool>;
}

/// The hash-chained audit trail.
#[async_trait]
pub trait AuditStore {
    /// One subject's audit chain, in order.
    async fn audit_trail(
        &self,
        kind: SubjectKind,
        subject_id: Uuid,
    ) -> StoreResult<Vec<AuditRecord>>;
    /// Every audit record, ordered by subject and sequence (for `audit verify`).
    async fn all_audit_records(&self) -> StoreResult<Vec<AuditRecord>>;
    /// The last event of every chain, for a checkpoint.
    async fn chain_heads(&self) -> StoreResult<Vec<ChainHead>>;
    /// Every contract's row as `audit verify` holds it against its chain.
    async fn contract_anchors(&self) -> StoreResult<Vec<ContractAnchor>>;
}

/// What the management reports are computed from.
#[async_trait]
pub trait ReportStore {
    async fn report_data(&self, visibility: Visibility) -> StoreResult<ReportData>;
}
