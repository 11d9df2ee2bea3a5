//! The SQL both backends share. Parameters are always bound, never formatted into the text.
//! SQLite and PostgreSQL agree on `$N` placeholders, `WITH RECURSIVE`, `RETURNING` and the
//! types used here (UUID, BIGINT, BOOLEAN, UTC timestamps), so one generic implementation is
//! compiled once per backend; what they disagree on lives in [`super::backend`].

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Pool, Type};
use uuid::Uuid;

use super::backend::Backend;
use super::records::*;
use super::{Store, StoreError, StoreResult};
use crate::domain::audit::{AuditEntry, AuditRecord, SubjectKind};
use crate::domain::{Principal, Role, Roles, Visibility};
use crate::screening::Severity;

pub(super) struct SqlStore<DB: Backend> {
    pool: Pool<DB>,
    /// Held for the length of every write transaction on single-writer backends.
    write_lock: Option<tokio::sync::Mutex<()>>,
}

impl<DB: Backend> SqlStore<DB> {
    pub(super) fn new(pool: Pool<DB>) -> Self {
        Self {
            pool,
            write_lock: DB::SINGLE_WRITER.then(|| tokio::sync::Mutex::new(())),
        }
    }

    /// Waits for the writers queued before this one (single-writer backends only).
    async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.write_lock {
            Some(lock) => Some(lock.lock().await),
            None => None,
        }
    }

    /// Opens a write transaction in this writer's turn.
    async fn begin_write(
        &self,
    ) -> StoreResult<(
        Option<tokio::sync::MutexGuard<'_, ()>>,
        sqlx::Transaction<'static, DB>,
    )> {
        let turn = self.write_turn().await;
        let tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
        Ok((turn, tx))
    }
}

/// The agencies a [`Visibility`] covers, as a CTE named `scope`. Binds `$1` (the root agency, NULL
/// for all) and `$2` (whether to descend to sub-agencies).
macro_rules! scope_cte {
    () => {
        "WITH RECURSIVE scope(id) AS (
             SELECT id FROM agencies WHERE $1 IS NULL OR id = $1
             UNION
             SELECT a.id FROM agencies a JOIN scope s ON a.parent_id = s.id WHERE $2
         ) "
    };
}

fn scope_params(visibility: Visibility) -> (Option<Uuid>, bool) {
    match visibility {
        Visibility::All => (None, false),
        Visibility::Subtree(root) => (Some(root), true),
        Visibility::Agency(id) => (Some(id), false),
    }
}

/// Turns a unique-constraint violation into [`StoreError::Duplicate`]; recognised by kind, which
/// both backends report (SQLite names no constraint).
fn unique_as_duplicate(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |error| match error.as_database_error().map(|e| e.kind()) {
        Some(sqlx::error::ErrorKind::UniqueViolation) => StoreError::Duplicate(what),
        _ => StoreError::Database(error),
    }
}

#[derive(sqlx::FromRow)]
struct UserRoleRow {
    id: Uuid,
    email: String,
    name: String,
    agency_id: Uuid,
    active: bool,
    created_at: DateTime<Utc>,
    #[sqlx(try_from = "String")]
    role: Role,
}

/// Folds one-row-per-role results (ordered by user) into users.
fn fold_users(rows: Vec<UserRoleRow>) -> Vec<User> {
    let mut users: Vec<User> = Vec::new();
    for row in rows {
        match users.last_mut() {
            Some(user) if user.id == row.id => user.roles.push(row.role),
            _ => users.push(User {
                id: row.id,
                email: row.email,
                name: row.name,
                agency_id: row.agency_id,
                roles: vec![row.role],
                active: row.active,
                created_at: row.created_at,
            }),
        }
    }
    for user in &mut users {
        user.roles.sort();
    }
    users
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: Uuid,
    subject_kind: String,
    subject_id: Uuid,
    seq: i64,
    actor_id: Option<Uuid>,
    action: String,
    at: DateTime<Utc>,
    data: String,
    prev_hash: String,
    hash: String,
}

impl From<AuditRow> for AuditRecord {
    fn from(row: AuditRow) -> Self {
        AuditRecord {
            id: row.id,
            subject_kind: row.subject_kind,
            subject_id: row.subject_id,
            seq: row.seq,
            actor_id: row.actor_id,
            action: row.action,
            at: row.at,
            data: row.data,
            prev_hash: row.prev_hash,
            hash: row.hash,
        }
    }
}

const USER_COLUMNS: &str = "u.id, u.email, u.name, u.agency_id, u.active, u.created_at, r.role";

const JUDGMENT_COLUMNS: &str =
    "j.id, j.case_number, j.court, j.agency_id, j.kind, j.amount_due_fen,
        j.amount_paid_fen, j.effective_on, j.due_on, j.status, j.created_at, j.updated_at";

const CONTRACT_COLUMNS: &str = "c.id, c.agency_id, c.title, c.contract_type, c.counterparty,
        c.amount_fen, c.funding_source, c.agency_party, c.state, c.version, c.body_version,
        v.sha256 AS body_sha256, c.approved_sha256, c.due_at, c.workflow_id, c.workflow_version,
        c.created_by, c.created_at, c.updated_at";

/// Contracts joined with their current body version.
const CONTRACT_FROM: &str = "FROM contracts c JOIN contract_versions v ON v.contract_id = c.id AND v.number = c.body_version";

#[derive(sqlx::FromRow)]
struct ContractWithBody {
    #[sqlx(flatten)]
    contract: Contract,
    body_markdown: String,
}

/// Steps shared by several store methods, run inside the caller's transaction.
impl<DB> SqlStore<DB>
where
    DB: Backend,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> Uuid: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> DateTime<Utc>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> NaiveDate: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<Uuid>: Encode<'q, DB>,
    for<'q> Option<String>: Encode<'q, DB>,
    for<'q> Option<DateTime<Utc>>: Encode<'q, DB>,
    for<'q> Option<NaiveDate>: Encode<'q, DB>,
    for<'q> &'q str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
{
    /// Appends `entry` to its subject's hash chain.
    async fn insert_roles(
        conn: &mut DB::Connection,
        user: Uuid,
        roles: &[Role],
    ) -> StoreResult<()> {
        for role in roles {
            sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
                .bind(user)
                .bind(role.as_str().to_owned())
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    async fn append_audit(conn: &mut DB::Connection, entry: AuditEntry) -> StoreResult<()> {
        let last: Option<(i64, String)> = sqlx::query_as(
            "SELECT seq, hash FROM audit_events WHERE subject_kind = $1 AND subject_id = $2
             ORDER BY seq DESC LIMIT 1",
        )
        .bind(entry.subject_kind.as_str().to_owned())
        .bind(entry.subject_id)
        .fetch_optional(&mut *conn)
        .await?;
        let record = entry.chain(
            Uuid::now_v7(),
            last.as_ref().map(|(seq, hash)| (*seq, hash.as_str())),
        );
        Self::insert_audit(conn, record).await
    }

    /// Stores a record already placed in its chain.
    async fn insert_audit(conn: &mut DB::Connection, record: AuditRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audit_events (id, subject_kind, subject_id, seq, actor_id, action, at, data, prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(record.id)
        .bind(record.subject_kind)
        .bind(record.subject_id)
        .bind(record.seq)
        .bind(record.actor_id)
        .bind(record.action)
        .bind(record.at)
        .bind(record.data)
        .bind(record.prev_hash)
        .bind(record.hash)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Moves the contract along a planned transition, if it is still at the expected version.
    async fn write_transition(conn: &mut DB::Connection, t: &TransitionRecord) -> StoreResult<()> {
        let moved: Option<(Uuid,)> = sqlx::query_as(
            "UPDATE contracts SET state = $1, version = version + 1, due_at = $2, updated_at = $3,
                 approved_sha256 = CASE WHEN $4 THEN $5 ELSE approved_sha256 END
             WHERE id = $6 AND version = $7 AND state = $8
             RETURNING id",
        )
        .bind(t.to.as_str().to_owned())
        .bind(t.due_at)
        .bind(t.at)
        .bind(t.pins_version)
        .bind(t.body_sha256.clone())
        .bind(t.contract_id)
        .bind(t.expected_version)
        .bind(t.from.as_str().to_owned())
        .fetch_optional(&mut *conn)
        .await?;
        if moved.is_none() {
            return Err(StoreError::Stale);
        }
        sqlx::query(
            "INSERT INTO contract_transitions (id, contract_id, transition, from_state, to_state, outcome,
                 actor_id, on_behalf_of, opinion, body_version, body_sha256, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(t.id)
        .bind(t.contract_id)
        .bind(t.transition.clone())
        .bind(t.from.as_str().to_owned())
        .bind(t.to.as_str().to_owned())
        .bind(t.outcome.clone())
        .bind(t.actor_id)
        .bind(t.on_behalf_of)
        .bind(t.opinion.clone())
        .bind(t.body_version)
        .bind(t.body_sha256.clone())
        .bind(t.at)
        .execute(&mut *conn)
        .await?;
        for mail in &t.mails {
            Self::insert_outbox(conn, mail, t.at).await?;
        }
        if let Some(screening) = &t.screening {
            Self::write_screening(conn, t.contract_id, screening, t.at).await?;
        }
        let entry = AuditEntry {
            subject_kind: SubjectKind::Contract,
            subject_id: t.contract_id,
            actor_id: Some(t.actor_id),
            action: "contract.transition",
            at: t.at,
            data: serde_json::json!({
                "transition": t.transition,
                "from": t.from,
                "to": t.to,
                "outcome": t.outcome,
                "on_behalf_of": t.on_behalf_of,
                "opinion": t.opinion,
                "body_version": t.body_version,
                "body_sha256": t.body_sha256,
                "workflow": t.workflow,
            }),
        };
        Self::append_audit(conn, entry).await
    }

    /// Stores a screen's findings and checklist for one body version. Open findings of an
    /// earlier screen of the same version are replaced; waived ones stay waived.
    async fn write_screening(
        conn: &mut DB::Connection,
        contract_id: Uuid,
        screening: &ScreeningRecord,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query("DELETE FROM findings WHERE contract_id = $1 AND body_version = $2 AND waived_at IS NULL")
            .bind(contract_id)
            .bind(screening.body_version)
            .execute(&mut *conn)
            .await?;
        let waived: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT rule, start_offset, end_offset FROM findings WHERE contract_id = $1 AND body_version = $2",
        )
        .bind(contract_id)
        .bind(screening.body_version)
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
                     end_offset, excerpt, provision, advice, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            )
            .bind(finding.id)
            .bind(contract_id)
            .bind(screening.body_version)
            .bind(finding.rule.clone())
            .bind(finding.category.clone())
            .bind(finding.severity.clone())
            .bind(finding.clause.clone())
            .bind(finding.start_offset)
            .bind(finding.end_offset)
            .bind(finding.excerpt.clone())
            .bind(finding.provision.clone())
            .bind(finding.advice.clone())
            .bind(at)
            .execute(&mut *conn)
            .await?;
        }
        sqlx::query("DELETE FROM screenings WHERE contract_id = $1 AND body_version = $2")
            .bind(contract_id)
            .bind(screening.body_version)
            .execute(&mut *conn)
            .await?;
        sqlx::query("INSERT INTO screenings (contract_id, body_version, checklist, screened_at) VALUES ($1, $2, $3, $4)")
            .bind(contract_id)
            .bind(screening.body_version)
            .bind(screening.checklist.clone())
            .bind(at)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    /// Queues a rendered e-mail, due at once.
    async fn insert_outbox(
        conn: &mut DB::Connection,
        mail: &OutboxMessage,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO outbox (id, contract_id, event, recipient, subject, body_text, body_html, status,
                 attempts, next_attempt_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $9)",
        )
        .bind(mail.id)
        .bind(mail.contract_id)
        .bind(mail.event.clone())
        .bind(mail.recipient.clone())
        .bind(mail.subject.clone())
        .bind(mail.body_text.clone())
        .bind(mail.body_html.clone())
        .bind(OutboxStatus::Pending.as_str().to_owned())
        .bind(at)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    async fn save_idempotent_response(
        conn: &mut DB::Connection,
        saved: &SavedResponse,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO idempotency_keys (user_id, key, request_hash, status, response, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(saved.user_id)
        .bind(saved.key.clone())
        .bind(saved.request_hash.clone())
        .bind(saved.status)
        .bind(saved.response.clone())
        .bind(saved.created_at)
        .execute(&mut *conn)
        .await
        .map_err(unique_as_duplicate("idempotency key"))?;
        Ok(())
    }
}

#[async_trait]
impl<DB> Store for SqlStore<DB>
where
    DB: Backend,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> Uuid: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> DateTime<Utc>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> NaiveDate: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<Uuid>: Encode<'q, DB>,
    for<'q> Option<String>: Encode<'q, DB>,
    for<'q> Option<DateTime<Utc>>: Encode<'q, DB>,
    for<'q> Option<NaiveDate>: Encode<'q, DB>,
    for<'q> &'q str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
{
    fn backend(&self) -> &'static str {
        DB::BACKEND_NAME
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            open: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
        }
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn create_agency(&self, agency: &Agency, audit: AuditMeta) -> StoreResult<()> {
        let (_writer, mut tx) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO agencies (id, name, parent_id, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(agency.id)
        .bind(agency.name.clone())
        .bind(agency.parent_id)
        .bind(agency.created_at)
        .execute(&mut *tx)
        .await
        .map_err(unique_as_duplicate("agency"))?;
        let entry = AuditEntry {
            subject_kind: SubjectKind::Agency,
            subject_id: agency.id,
            actor_id: audit.actor_id,
            action: "agency.created",
            at: audit.at,
            data: serde_json::json!({ "name": agency.name, "parent_id": agency.parent_id }),
        };
        Self::append_audit(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn agency(&self, id: Uuid) -> StoreResult<Option<Agency>> {
        Ok(
            sqlx::query_as("SELECT id, name, parent_id, created_at FROM agencies WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn agency_by_name(&self, name: &str) -> StoreResult<Option<Agency>> {
        Ok(
            sqlx::query_as("SELECT id, name, parent_id, created_at FROM agencies WHERE name = $1")
                .bind(name.to_owned())
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn list_agencies(&self, visibility: Visibility) -> StoreResult<Vec<Agency>> {
        let (root, descend) = scope_params(visibility);
        Ok(sqlx::query_as(concat!(
            scope_cte!(),
            "SELECT id, name, parent_id, created_at FROM agencies
             WHERE id IN (SELECT id FROM scope) ORDER BY name"
        ))
        .bind(root)
        .bind(descend)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn agency_within(&self, agency: Uuid, root: Uuid) -> StoreResult<bool> {
        let (count,): (i64,) = sqlx::query_as(concat!(
            scope_cte!(),
            "SELECT COUNT(*) FROM scope WHERE id = $3"
        ))
        .bind(Some(root))
        .bind(true)
        .bind(agency)
        .fetch_one(&self.pool)
        .await?;
        Ok(count > 0)
    }

    async fn create_user(&self, user: &NewUserRecord, audit: AuditMeta) -> StoreResult<()> {
        let (_writer, mut tx) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO users (id, email, name, agency_id, password_hash, active, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(user.id)
        .bind(user.email.clone())
        .bind(user.name.clone())
        .bind(user.agency_id)
        .bind(user.password_hash.clone())
        .bind(true)
        .bind(user.created_at)
        .execute(&mut *tx)
        .await
        .map_err(unique_as_duplicate("user"))?;
        Self::insert_roles(&mut tx, user.id, &user.roles).await?;
        let entry = AuditEntry {
            subject_kind: SubjectKind::User,
            subject_id: user.id,
            actor_id: audit.actor_id,
            action: "user.created",
            at: audit.at,
            data: serde_json::json!({
                "email": user.email,
                "name": user.name,
                "agency_id": user.agency_id,
                "roles": user.roles,
            }),
        };
        Self::append_audit(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn user(&self, id: Uuid) -> StoreResult<Option<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN user_roles r ON r.user_id = u.id
             WHERE u.id = $1 ORDER BY r.role"
        );
        let rows: Vec<UserRoleRow> = sqlx::query_as(&sql).bind(id).fetch_all(&self.pool).await?;
        Ok(fold_users(rows).pop())
    }

    async fn list_users(&self, visibility: Visibility) -> StoreResult<Vec<User>> {
        let (root, descend) = scope_params(visibility);
        let sql = format!(
            "{} SELECT {USER_COLUMNS} FROM users u JOIN user_roles r ON r.user_id = u.id
             WHERE u.agency_id IN (SELECT id FROM scope) ORDER BY u.email, r.role",
            scope_cte!()
        );
        let rows: Vec<UserRoleRow> = sqlx::query_as(&sql)
            .bind(root)
            .bind(descend)
            .fetch_all(&self.pool)
            .await?;
        Ok(fold_users(rows))
    }

    async fn credentials(&self, email: &str) -> StoreResult<Option<Credentials>> {
        Ok(sqlx::query_as(
            "SELECT id AS user_id, password_hash, active FROM users WHERE email = $1",
        )
        .bind(email.to_owned())
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn set_user_roles(
        &self,
        id: Uuid,
        roles: &[Role],
        audit: AuditMeta,
    ) -> StoreResult<bool> {
        let (_writer, mut tx) = self.begin_write().await?;
        let exists: Option<(Uuid,)> = sqlx::query_as("SELECT id FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Ok(false);
        }
        sqlx::query("DELETE FROM user_roles WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        Self::insert_roles(&mut tx, id, roles).await?;
        let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        let entry = AuditEntry {
            subject_kind: SubjectKind::User,
            subject_id: id,
            actor_id: audit.actor_id,
            action: "user.roles_changed",
            at: audit.at,
            data: serde_json::json!({ "roles": names }),
        };
        Self::append_audit(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn set_password(
        &self,
        id: Uuid,
        password_hash: &str,
        keep_token_hash: &str,
        audit: AuditMeta,
    ) -> StoreResult<()> {
        let (_writer, mut tx) = self.begin_write().await?;
        sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
            .bind(id)
            .bind(password_hash.to_owned())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM api_tokens WHERE user_id = $1 AND token_hash <> $2")
            .bind(id)
            .bind(keep_token_hash.to_owned())
            .execute(&mut *tx)
            .await?;
        let entry = AuditEntry {
            subject_kind: SubjectKind::User,
            subject_id: id,
            actor_id: audit.actor_id,
            action: "user.password_changed",
            at: audit.at,
            data: serde_json::json!({}),
        };
        Self::append_audit(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn report_data(&self, visibility: Visibility) -> StoreResult<ReportData> {
        let (root, descend) = scope_params(visibility);
        let by_state = sqlx::query_as(concat!(
            scope_cte!(),
            "SELECT c.state, COUNT(*) FROM contracts c
             WHERE c.agency_id IN (SELECT id FROM scope)
             GROUP BY c.state ORDER BY COUNT(*) DESC, c.state"
        ))
        .bind(root)
        .bind(descend)
        .fetch_all(&self.pool)
        .await?;
        let by_category = sqlx::query_as(concat!(
            scope_cte!(),
            "SELECT f.category, COUNT(*) FROM findings f
             JOIN contracts c ON c.id = f.contract_id AND c.body_version = f.body_version
             WHERE c.agency_id IN (SELECT id FROM scope)
             GROUP BY f.category ORDER BY COUNT(*) DESC, f.category"
        ))
        .bind(root)
        .bind(descend)
        .fetch_all(&self.pool)
        .await?;
        let stage_changes = sqlx::query_as(concat!(
            scope_cte!(),
            "SELECT t.contract_id, t.to_state, t.at FROM contract_transitions t
             JOIN contracts c ON c.id = t.contract_id
             WHERE c.agency_id IN (SELECT id FROM scope)
             ORDER BY t.contract_id, t.at"
        ))
        .bind(root)
        .bind(descend)
        .fetch_all(&self.pool)
        .await?;
        Ok(ReportData {
            by_state,
            by_category,
            stage_changes,
        })
    }

    async fn set_user_active(&self, id: Uuid, active: bool, audit: AuditMeta) -> StoreResult<bool> {
        let (_writer, mut tx) = self.begin_write().await?;
        let updated: Option<(Uuid,)> =
            sqlx::query_as("UPDATE users SET active = $2 WHERE id = $1 RETURNING id")
                .bind(id)
                .bind(active)
                .fetch_optional(&mut *tx)
                .await?;
        if updated.is_none() {
            return Ok(false);
        }
        if !active {
            sqlx::query("DELETE FROM api_tokens WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let entry = AuditEntry {
            subject_kind: SubjectKind::User,
            subject_id: id,
            actor_id: audit.actor_id,
            action: if active {
                "user.activated"
            } else {
                "user.deactivated"
            },
            at: audit.at,
            data: serde_json::json!({ "active": active }),
        };
        Self::append_audit(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn issue_token(&self, token: &TokenRecord) -> StoreResult<()> {
        let _writer = self.write_turn().await;
        sqlx::query("INSERT INTO api_tokens (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token.token_hash.clone())
            .bind(token.user_id)
            .bind(token.created_at)
            .bind(token.expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn principal_by_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Principal>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM api_tokens t
             JOIN users u ON u.id = t.user_id
             JOIN user_roles r ON r.user_id = u.id
             WHERE t.token_hash = $1 AND t.expires_at > $2 AND u.active = $3
             ORDER BY r.role"
        );
        let rows: Vec<UserRoleRow> = sqlx::query_as(&sql)
            .bind(token_hash.to_owned())
            .bind(now)
            .bind(true)
            .fetch_all(&self.pool)
            .await?;
        let Some(user) = fold_users(rows).pop() else {
            return Ok(None);
        };
        let Ok(roles) = Roles::new(user.roles) else {
            return Ok(None);
        };
        Ok(Some(Principal {
            user_id: user.id,
            agency_id: user.agency_id,
            email: user.email,
            name: user.name,
            roles,
        }))
    }

    async fn revoke_token(&self, token_hash: &str) -> StoreResult<()> {
        let _writer = self.write_turn().await;
        sqlx::query("DELETE FROM api_tokens WHERE token_hash = $1")
            .bind(token_hash.to_owned())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn record_login_failure(
        &self,
        email: &str,
        address: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (_writer, mut tx) = self.begin_write().await?;
        // Old failures no longer count towards any window; keep the table small.
        sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(at - Duration::days(1))
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO login_failures (id, email, address, at) VALUES ($1, $2, $3, $4)")
            .bind(Uuid::now_v7())
            .bind(email.to_owned())
            .bind(address.to_owned())
            .bind(at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn login_failures_since(
        &self,
        email: &str,
        address: &str,
        since: DateTime<Utc>,
    ) -> StoreResult<(i64, i64)> {
        Ok(sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM login_failures WHERE email = $1 AND at > $3),
                    (SELECT COUNT(*) FROM login_failures WHERE address = $2 AND at > $3)",
        )
        .bind(email.to_owned())
        .bind(address.to_owned())
        .bind(since)
        .fetch_one(&self.pool)
        .await?)
    }

    async fn clear_login_failures(&self, email: &str) -> StoreResult<()> {
        let _writer = self.write_turn().await;
        sqlx::query("DELETE FROM login_failures WHERE email = $1")
            .bind(email.to_owned())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn create_contract(
        &self,
        contract: &NewContractRecord,
        saved: Option<&SavedResponse>,
    ) -> StoreResult<()> {
        let (_writer, mut tx) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO contracts (id, agency_id, title, contract_type, counterparty, amount_fen,
                 funding_source, agency_party, state, version, body_version, workflow_id, workflow_version,
                 created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, 1, $10, $11, $12, $13, $13)",
        )
        .bind(contract.id)
        .bind(contract.agency_id)
        .bind(contract.title.clone())
        .bind(contract.contract_type.as_str().to_owned())
        .bind(contract.counterparty.clone())
        .bind(contract.amount_fen)
        .bind(contract.funding_source.clone())
        .bind(contract.agency_party.clone())
        .bind(contract.state.as_str().to_owned())
        .bind(contract.workflow_id.clone())
        .bind(contract.workflow_version)
        .bind(contract.created_by)
        .bind(contract.created_at)
        .execute(&mut *tx)
        .await?;
        for email in &contract.signatories {
            sqlx::query("INSERT INTO contract_signatories (contract_id, email) VALUES ($1, $2)")
                .bind(contract.id)
                .bind(email.clone())
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO contract_versions (contract_id, number, body_markdown, sha256, created_by, created_at)
             VALUES ($1, 1, $2, $3, $4, $5)",
        )
        .bind(contract.id)
        .bind(contract.body_markdown.clone())
        .bind(contract.body_sha256.clone())
        .bind(contract.created_by)
        .bind(contract.created_at)
        .execute(&mut *tx)
        .await?;
        let entry = AuditEntry {
            subject_kind: SubjectKind::Contract,
            subject_id: contract.id,
            actor_id: Some(contract.created_by),
            action: "contract.created",
            at: contract.created_at,
            data: serde_json::json!({
                "title": contract.title,
                "contract_type": contract.contract_type,
                "counterparty": contract.counterparty,
                "amount_fen": contract.amount_fen,
                "state": contract.state,
                "workflow": format!("{}@{}", contract.workflow_id, contract.workflow_version),
                "body_version": 1,
                "body_sha256": contract.body_sha256,
            }),
        };
        // A new contract starts a new chain: there is no previous event to look up.
        Self::insert_audit(&mut tx, entry.chain(Uuid::now_v7(), None)).await?;
        if let Some(saved) = saved {
            Self::save_idempotent_response(&mut tx, saved).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn saved_response(&self, user_id: Uuid, key: &str) -> StoreResult<Option<SavedResponse>> {
        Ok(sqlx::query_as(
            "SELECT user_id, key, request_hash, status, response, created_at
             FROM idempotency_keys WHERE user_id = $1 AND key = $2",
        )
        .bind(user_id)
        .bind(key.to_owned())
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn contract(
        &self,
        id: Uuid,
        visibility: Visibility,
    ) -> StoreResult<Option<ContractDetail>> {
        let (root, descend) = scope_params(visibility);
        let sql = format!(
            "{} SELECT {CONTRACT_COLUMNS}, v.body_markdown {CONTRACT_FROM}
             WHERE c.id = $3 AND c.agency_id IN (SELECT id FROM scope)",
            scope_cte!()
        );
        let row: Option<ContractWithBody> = sqlx::query_as(&sql)
            .bind(root)
            .bind(descend)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(ContractWithBody {
            contract,
            body_markdown,
        }) = row
        else {
            return Ok(None);
        };
        let signatories: Vec<(String,)> = sqlx::query_as(
            "SELECT email FROM contract_signatories WHERE contract_id = $1 ORDER BY email",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let signatories = signatories.into_iter().map(|(email,)| email).collect();
        Ok(Some(ContractDetail {
            contract,
            body_markdown,
            signatories,
        }))
    }

    async fn list_contracts(
        &self,
        visibility: Visibility,
        filter: &ContractFilter,
    ) -> StoreResult<Vec<Contract>> {
        let (root, descend) = scope_params(visibility);
        let pattern = filter.text.as_deref().map(like_pattern);
        let sql = format!(
            "{} SELECT {CONTRACT_COLUMNS} {CONTRACT_FROM}
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
        Ok(sqlx::query_as(&sql)
            .bind(root)
            .bind(descend)
            .bind(filter.state.map(|s| s.as_str().to_owned()))
            .bind(pattern)
            .bind(filter.before)
            .bind(filter.limit)
            .bind(filter.overdue_at)
            .bind(filter.signatory.clone())
            .fetch_all(&self.pool)
            .await?)
    }

    async fn replace_body(
        &self,
        change: &BodyChange,
        transition: Option<&TransitionRecord>,
    ) -> StoreResult<()> {
        let (_writer, mut tx) = self.begin_write().await?;
        let bumped: Option<(i64,)> = sqlx::query_as(
            "UPDATE contracts SET version = version + 1, body_version = body_version + 1, updated_at = $1,
                 approved_sha256 = NULL
             WHERE id = $2 AND version = $3
             RETURNING body_version",
        )
        .bind(change.at)
        .bind(change.contract_id)
        .bind(change.expected_version)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((number,)) = bumped else {
            return Err(StoreError::Stale);
        };
        sqlx::query(
            "INSERT INTO contract_versions (contract_id, number, body_markdown, sha256, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(change.contract_id)
        .bind(number)
        .bind(change.body_markdown.clone())
        .bind(change.body_sha256.clone())
        .bind(change.actor_id)
        .bind(change.at)
        .execute(&mut *tx)
        .await?;
        let entry = AuditEntry {
            subject_kind: SubjectKind::Contract,
            subject_id: change.contract_id,
            actor_id: Some(change.actor_id),
            action: "contract.body_replaced",
            at: change.at,
            data: serde_json::json!({ "body_version": number, "body_sha256": change.body_sha256 }),
        };
        Self::append_audit(&mut tx, entry).await?;
        if let Some(transition) = transition {
            Self::write_transition(&mut tx, transition).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn contract_versions(&self, contract_id: Uuid) -> StoreResult<Vec<ContractVersion>> {
        Ok(sqlx::query_as(
            "SELECT number, sha256, created_by, created_at FROM contract_versions
             WHERE contract_id = $1 ORDER BY number",
        )
        .bind(contract_id)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn contract_version(
        &self,
        contract_id: Uuid,
        number: i64,
    ) -> StoreResult<Option<(ContractVersion, String)>> {
        let row: Option<(i64, String, Uuid, DateTime<Utc>, String)> = sqlx::query_as(
            "SELECT number, sha256, created_by, created_at, body_markdown FROM contract_versions
             WHERE contract_id = $1 AND number = $2",
        )
        .bind(contract_id)
        .bind(number)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(number, sha256, created_by, created_at, body)| {
            (
                ContractVersion {
                    number,
                    sha256,
                    created_by,
                    created_at,
                },
                body,
            )
        }))
    }

    async fn audit_trail(
        &self,
        kind: SubjectKind,
        subject_id: Uuid,
    ) -> StoreResult<Vec<AuditRecord>> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT id, subject_kind, subject_id, seq, actor_id, action, at, data, prev_hash, hash
             FROM audit_events WHERE subject_kind = $1 AND subject_id = $2 ORDER BY seq",
        )
        .bind(kind.as_str().to_owned())
        .bind(subject_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(AuditRecord::from).collect())
    }

    async fn all_audit_records(&self) -> StoreResult<Vec<AuditRecord>> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT id, subject_kind, subject_id, seq, actor_id, action, at, data, prev_hash, hash
             FROM audit_events ORDER BY subject_kind, subject_id, seq",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(AuditRecord::from).collect())
    }

    async fn save_workflow(&self, record: &WorkflowRecord) -> StoreResult<WorkflowRecord> {
        let (_writer, mut tx) = self.begin_write().await?;
        let existing: Option<WorkflowRecord> = sqlx::query_as(
            "SELECT id, version, sha256, source, loaded_at FROM workflow_definitions WHERE id = $1 AND version = $2",
        )
        .bind(record.id.clone())
        .bind(record.version)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(existing) = existing {
            return Ok(existing);
        }
        sqlx::query(
            "INSERT INTO workflow_definitions (id, version, sha256, source, loaded_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(record.id.clone())
        .bind(record.version)
        .bind(record.sha256.clone())
        .bind(record.source.clone())
        .bind(record.loaded_at)
        .execute(&mut *tx)
        .await
        .map_err(unique_as_duplicate("workflow version"))?;
        tx.commit().await?;
        Ok(record.clone())
    }

    async fn workflows(&self) -> StoreResult<Vec<WorkflowRecord>> {
        Ok(sqlx::query_as(
            "SELECT id, version, sha256, source, loaded_at FROM workflow_definitions ORDER BY id, version",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    async fn apply_transition(
        &self,
        transition: &TransitionRecord,
        saved: Option<&SavedResponse>,
    ) -> StoreResult<()> {
        let (_writer, mut tx) = self.begin_write().await?;
        Self::write_transition(&mut tx, transition).await?;
        if let Some(saved) = saved {
            Self::save_idempotent_response(&mut tx, saved).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn contract_transitions(
        &self,
        contract_id: Uuid,
    ) -> StoreResult<Vec<ContractTransition>> {
        Ok(sqlx::query_as(
            "SELECT id, transition, from_state, to_state, outcome, actor_id, on_behalf_of, opinion,
                    body_version, body_sha256, at
             FROM contract_transitions WHERE contract_id = $1 ORDER BY at, id",
        )
        .bind(contract_id)
        .fetch_all(&self.pool)
        .await?)
    }

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
        .bind("submitted".to_owned())
        .fetch_all(&self.pool)
        .await?;
        // Walking up from the contract's agency finds every agency whose reviewers cover it.
        let (open_blocking_findings, first_within, second_within): (i64, i64, i64) = sqlx::query_as(
            "WITH RECURSIVE up(id, parent_id) AS (
                 SELECT id, parent_id FROM agencies WHERE id = $1
                 UNION SELECT a.id, a.parent_id FROM agencies a JOIN up ON a.id = up.parent_id
             )
             SELECT (SELECT COUNT(*) FROM findings
                         WHERE contract_id = $2 AND body_version = $3 AND severity = $4 AND waived_at IS NULL),
                    (SELECT COUNT(*) FROM up WHERE id = $5),
                    (SELECT COUNT(*) FROM up WHERE id = $6)",
        )
        .bind(agency_id)
        .bind(contract_id)
        .bind(body_version)
        .bind(Severity::Block.as_str().to_owned())
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

    async fn waive_finding(&self, waiver: &Waiver) -> StoreResult<bool> {
        let (_writer, mut tx) = self.begin_write().await?;
        let waived: Option<(String, String)> = sqlx::query_as(
            "UPDATE findings SET waived_by = $1, waived_at = $2, waive_reason = $3
             WHERE id = $4 AND contract_id = $5 AND waived_at IS NULL
             RETURNING rule, severity",
        )
        .bind(waiver.actor_id)
        .bind(waiver.at)
        .bind(waiver.reason.clone())
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
        let entry = AuditEntry {
            subject_kind: SubjectKind::Contract,
            subject_id: waiver.contract_id,
            actor_id: Some(waiver.actor_id),
            action: "finding.waived",
            at: waiver.at,
            data: serde_json::json!({
                "finding_id": waiver.finding_id,
                "rule": rule,
                "severity": severity,
                "reason": waiver.reason,
            }),
        };
        Self::append_audit(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn create_judgment(&self, judgment: &Judgment, audit: AuditMeta) -> StoreResult<()> {
        let (_writer, mut tx) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO judgments (id, case_number, court, agency_id, kind, amount_due_fen, amount_paid_fen,
                 effective_on, due_on, status, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
        )
        .bind(judgment.id)
        .bind(judgment.case_number.clone())
        .bind(judgment.court.clone())
        .bind(judgment.agency_id)
        .bind(<&'static str>::from(judgment.kind).to_owned())
        .bind(judgment.amount_due_fen)
        .bind(judgment.amount_paid_fen)
        .bind(judgment.effective_on)
        .bind(judgment.due_on)
        .bind(judgment.status.clone())
        .bind(judgment.created_at)
        .execute(&mut *tx)
        .await
        .map_err(unique_as_duplicate("judgment with this case number"))?;
        let entry = AuditEntry {
            subject_kind: SubjectKind::Agency,
            subject_id: judgment.agency_id,
            actor_id: audit.actor_id,
            action: "judgment.registered",
            at: audit.at,
            data: serde_json::json!({
                "judgment_id": judgment.id,
                "case_number": judgment.case_number,
                "kind": judgment.kind,
                "amount_due_fen": judgment.amount_due_fen,
            }),
        };
        Self::append_audit(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn judgment(&self, id: Uuid) -> StoreResult<Option<Judgment>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {JUDGMENT_COLUMNS} FROM judgments j WHERE j.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn list_judgments(&self, visibility: Visibility) -> StoreResult<Vec<Judgment>> {
        let (root, descend) = scope_params(visibility);
        let sql = format!(
            "{} SELECT {JUDGMENT_COLUMNS} FROM judgments j
             WHERE j.agency_id IN (SELECT id FROM scope) ORDER BY j.effective_on DESC, j.id",
            scope_cte!()
        );
        Ok(sqlx::query_as(&sql)
            .bind(root)
            .bind(descend)
            .fetch_all(&self.pool)
            .await?)
    }

    async fn record_judgment_payment(
        &self,
        judgment_id: Uuid,
        amount_fen: i64,
        paid_on: NaiveDate,
        audit: AuditMeta,
    ) -> StoreResult<bool> {
        let (_writer, mut tx) = self.begin_write().await?;
        let updated: Option<(Uuid, i64, i64)> = sqlx::query_as(
            "UPDATE judgments SET amount_paid_fen = amount_paid_fen + $1, updated_at = $2,
                 status = CASE WHEN amount_paid_fen + $1 >= amount_due_fen THEN $3 ELSE $4 END
             WHERE id = $5
             RETURNING agency_id, amount_paid_fen, amount_due_fen",
        )
        .bind(amount_fen)
        .bind(audit.at)
        .bind("paid".to_owned())
        .bind("partially_paid".to_owned())
        .bind(judgment_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((agency_id, paid, due)) = updated else {
            return Ok(false);
        };
        sqlx::query(
            "INSERT INTO judgment_payments (id, judgment_id, amount_fen, paid_on, recorded_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(Uuid::now_v7())
        .bind(judgment_id)
        .bind(amount_fen)
        .bind(paid_on)
        .bind(audit.actor_id)
        .bind(audit.at)
        .execute(&mut *tx)
        .await?;
        let entry = AuditEntry {
            subject_kind: SubjectKind::Agency,
            subject_id: agency_id,
            actor_id: audit.actor_id,
            action: "judgment.payment",
            at: audit.at,
            data: serde_json::json!({
                "judgment_id": judgment_id,
                "amount_fen": amount_fen,
                "paid_on": paid_on,
                "amount_paid_fen": paid,
                "amount_due_fen": due,
            }),
        };
        Self::append_audit(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(true)
    }

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
                JudgmentKind::try_from(kind).ok().map(|k| (k, outstanding))
            })
            .collect())
    }

    async fn judgment_report(
        &self,
        visibility: Visibility,
        start: NaiveDate,
        end: NaiveDate,
    ) -> StoreResult<Vec<JudgmentSummary>> {
        let (root, descend) = scope_params(visibility);
        // Paid by the end of the period, per judgment; CAST keeps SUM an integer on PostgreSQL.
        let sql = format!(
            "{} , standing AS (
                 SELECT j.id, j.agency_id, j.amount_due_fen,
                        CAST(COALESCE((SELECT SUM(p.amount_fen) FROM judgment_payments p
                                       WHERE p.judgment_id = j.id AND p.paid_on <= $4), 0) AS BIGINT) AS paid_by_end
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
        Ok(sqlx::query_as(&sql)
            .bind(root)
            .bind(descend)
            .bind(start)
            .bind(end)
            .fetch_all(&self.pool)
            .await?)
    }

    async fn findings(&self, contract_id: Uuid, body_version: i64) -> StoreResult<Vec<Finding>> {
        Ok(sqlx::query_as(
            "SELECT id, body_version, rule, category, severity, clause, start_offset, end_offset, excerpt,
                    provision, advice, created_at, waived_by, waived_at, waive_reason
             FROM findings WHERE contract_id = $1 AND body_version = $2 ORDER BY start_offset, id",
        )
        .bind(contract_id)
        .bind(body_version)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn claim_outbox(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<OutboxRow>> {
        let (_writer, mut tx) = self.begin_write().await?;
        let rows: Vec<OutboxRow> = sqlx::query_as(DB::CLAIM_OUTBOX)
            .bind(now)
            .bind(lease_until)
            .bind(limit)
            .bind(OutboxStatus::Sending.as_str().to_owned())
            .bind(OutboxStatus::Pending.as_str().to_owned())
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(rows)
    }

    async fn record_deliveries(&self, deliveries: &[DeliveryRecord]) -> StoreResult<()> {
        let (_writer, mut tx) = self.begin_write().await?;
        for delivery in deliveries {
            let sent_at = (delivery.status == OutboxStatus::Sent).then_some(delivery.at);
            sqlx::query(
                "UPDATE outbox SET status = $1, sent_at = $2, next_attempt_at = $3, last_error = $4,
                     claimed_until = NULL
                 WHERE id = $5",
            )
            .bind(delivery.status.as_str().to_owned())
            .bind(sent_at)
            .bind(delivery.next_attempt_at)
            .bind(delivery.error.clone())
            .bind(delivery.id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn list_outbox(
        &self,
        visibility: Visibility,
        status: Option<OutboxStatus>,
        limit: i64,
    ) -> StoreResult<Vec<OutboxRow>> {
        let (root, descend) = scope_params(visibility);
        let sql = format!(
            "{} SELECT o.id, o.contract_id, o.event, o.recipient, o.subject, o.body_text, o.body_html, o.status,
                    o.attempts, o.next_attempt_at, o.last_error, o.created_at, o.sent_at
             FROM outbox o JOIN contracts c ON c.id = o.contract_id
             WHERE c.agency_id IN (SELECT id FROM scope) AND ($3 IS NULL OR o.status = $3)
             ORDER BY o.id DESC LIMIT $4",
            scope_cte!()
        );
        Ok(sqlx::query_as(&sql)
            .bind(root)
            .bind(descend)
            .bind(status.map(|s| s.as_str().to_owned()))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    async fn requeue_outbox(
        &self,
        id: Uuid,
        visibility: Visibility,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let (root, descend) = scope_params(visibility);
        let sql = format!(
            "{} UPDATE outbox SET status = $3, attempts = 0, next_attempt_at = $4
             WHERE id = $5 AND status = $6
               AND contract_id IN (SELECT id FROM contracts WHERE agency_id IN (SELECT id FROM scope))
             RETURNING id",
            scope_cte!()
        );
        let (_writer, mut tx) = self.begin_write().await?;
        let requeued: Option<(Uuid,)> = sqlx::query_as(&sql)
            .bind(root)
            .bind(descend)
            .bind(OutboxStatus::Pending.as_str().to_owned())
            .bind(now)
            .bind(id)
            .bind(OutboxStatus::Failed.as_str().to_owned())
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(requeued.is_some())
    }

    async fn enqueue_reminders(
        &self,
        reminders: &[ReminderMail],
        at: DateTime<Utc>,
    ) -> StoreResult<usize> {
        let (_writer, mut tx) = self.begin_write().await?;
        let mut queued = 0;
        for reminder in reminders {
            let message = &reminder.message;
            let first_today: Option<(String,)> = sqlx::query_as(
                "INSERT INTO reminders_sent (contract_id, recipient, kind, day) VALUES ($1, $2, $3, $4)
                 ON CONFLICT DO NOTHING RETURNING recipient",
            )
            .bind(message.contract_id)
            .bind(message.recipient.clone())
            .bind(reminder.kind.to_owned())
            .bind(reminder.day)
            .fetch_optional(&mut *tx)
            .await?;
            if first_today.is_some() {
                Self::insert_outbox(&mut tx, message, at).await?;
                queued += 1;
            }
        }
        tx.commit().await?;
        Ok(queued)
    }

    async fn contracts_due_before(&self, before: DateTime<Utc>) -> StoreResult<Vec<Contract>> {
        let sql = format!(
            "SELECT {CONTRACT_COLUMNS} {CONTRACT_FROM} WHERE c.due_at IS NOT NULL AND c.due_at <= $1"
        );
        Ok(sqlx::query_as(&sql)
            .bind(before)
            .fetch_all(&self.pool)
            .await?)
    }

    async fn users_covering(&self, agency_id: Uuid, role: Role) -> StoreResult<Vec<User>> {
        let sql = format!(
            "WITH RECURSIVE up(id, parent_id) AS (
                 SELECT id, parent_id FROM agencies WHERE id = $1
                 UNION SELECT a.id, a.parent_id FROM agencies a JOIN up ON a.id = up.parent_id
             )
             SELECT {USER_COLUMNS} FROM users u JOIN user_roles r ON r.user_id = u.id
             WHERE u.agency_id IN (SELECT id FROM up) AND u.active = $2
               AND u.id IN (SELECT user_id FROM user_roles WHERE role = $3)
             ORDER BY u.email, r.role"
        );
        let rows: Vec<UserRoleRow> = sqlx::query_as(&sql)
            .bind(agency_id)
            .bind(true)
            .bind(role.as_str().to_owned())
            .fetch_all(&self.pool)
            .await?;
        Ok(fold_users(rows))
    }

    async fn create_delegation(
        &self,
        delegation: &Delegation,
        audit: AuditMeta,
    ) -> StoreResult<()> {
        let (_writer, mut tx) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO delegations (id, delegator_id, deputy_id, starts_on, ends_on, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(delegation.id)
        .bind(delegation.delegator_id)
        .bind(delegation.deputy_id)
        .bind(delegation.starts_on)
        .bind(delegation.ends_on)
        .bind(delegation.created_at)
        .execute(&mut *tx)
        .await?;
        let entry = AuditEntry {
            subject_kind: SubjectKind::User,
            subject_id: delegation.delegator_id,
            actor_id: audit.actor_id,
            action: "user.delegation_created",
            at: audit.at,
            data: serde_json::json!({
                "delegation_id": delegation.id,
                "deputy_id": delegation.deputy_id,
                "starts_on": delegation.starts_on,
                "ends_on": delegation.ends_on,
            }),
        };
        Self::append_audit(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delegations_of(&self, user_id: Uuid) -> StoreResult<Vec<Delegation>> {
        Ok(sqlx::query_as(
            "SELECT id, delegator_id, deputy_id, starts_on, ends_on, created_at, revoked_at
             FROM delegations WHERE delegator_id = $1 OR deputy_id = $1 ORDER BY id DESC",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn delegation(&self, id: Uuid) -> StoreResult<Option<Delegation>> {
        Ok(sqlx::query_as(
            "SELECT id, delegator_id, deputy_id, starts_on, ends_on, created_at, revoked_at
             FROM delegations WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn revoke_delegation(&self, id: Uuid, audit: AuditMeta) -> StoreResult<bool> {
        let (_writer, mut tx) = self.begin_write().await?;
        let revoked: Option<(Uuid,)> = sqlx::query_as(
            "UPDATE delegations SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING delegator_id",
        )
        .bind(audit.at)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((delegator,)) = revoked else {
            return Ok(false);
        };
        let entry = AuditEntry {
            subject_kind: SubjectKind::User,
            subject_id: delegator,
            actor_id: audit.actor_id,
            action: "user.delegation_revoked",
            at: audit.at,
            data: serde_json::json!({ "delegation_id": id }),
        };
        Self::append_audit(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn delegation_active(
        &self,
        delegator: Uuid,
        deputy: Uuid,
        day: NaiveDate,
    ) -> StoreResult<bool> {
        let (count,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM delegations
             WHERE delegator_id = $1 AND deputy_id = $2 AND starts_on <= $3 AND ends_on >= $3
               AND revoked_at IS NULL",
        )
        .bind(delegator)
        .bind(deputy)
        .bind(day)
        .fetch_one(&self.pool)
        .await?;
        Ok(count > 0)
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
