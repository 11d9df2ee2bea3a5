//! Agencies and users, each change with its audit event.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Conn, SqlStore, UP_CTE, audit, scope_cte, scope_params, unique_as_duplicate};
use crate::domain::audit::{AuditEntry, AuditMeta};
use crate::domain::{Agency, Role, User, Visibility};
use crate::store::{Credentials, DirectoryStore, NewUser, StoreResult};

#[derive(sqlx::FromRow)]
struct AgencyRow {
    id: Uuid,
    name: String,
    parent_id: Option<Uuid>,
    opinion_prefix: Option<String>,
    created_at: DateTime<Utc>,
}

impl From<AgencyRow> for Agency {
    fn from(row: AgencyRow) -> Self {
        Agency {
            id: row.id,
            name: row.name,
            parent_id: row.parent_id,
            opinion_prefix: row.opinion_prefix,
            created_at: row.created_at,
        }
    }
}

/// A user joined with one of their roles: one row per role.
#[derive(sqlx::FromRow)]
pub(super) struct UserRoleRow {
    id: Uuid,
    email: String,
    name: String,
    agency_id: Uuid,
    active: bool,
    created_at: DateTime<Utc>,
    #[sqlx(try_from = "String")]
    role: Role,
}

/// The columns of [`UserRoleRow`] from `users u JOIN user_roles r`.
pub(super) const USER_COLUMNS: &str =
    "u.id, u.email, u.name, u.agency_id, u.active, u.created_at, r.role";

/// Folds one-row-per-role results (ordered by user) into users.
pub(super) fn fold_users(rows: Vec<UserRoleRow>) -> Vec<User> {
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

async fn insert_roles(conn: &mut Conn, user: Uuid, roles: &[Role]) -> StoreResult<()> {
    for role in roles {
        sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
            .bind(user)
            .bind(role.as_str())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

const AGENCY_COLUMNS: &str = "id, name, parent_id, opinion_prefix, created_at";

#[async_trait]
impl DirectoryStore for SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn create_agency(&self, agency: &Agency, meta: AuditMeta) -> StoreResult<()> {
        let (_writer, mut tx) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO agencies (id, name, parent_id, opinion_prefix, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(agency.id)
        .bind(&agency.name)
        .bind(agency.parent_id)
        .bind(&agency.opinion_prefix)
        .bind(agency.created_at)
        .execute(&mut *tx)
        .await
        .map_err(unique_as_duplicate("agency"))?;
        audit::append(&mut tx, AuditEntry::agency_created(agency, meta)).await?;
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
    async fn agency(&self, id: Uuid) -> StoreResult<Option<Agency>> {
        let sql = format!("SELECT {AGENCY_COLUMNS} FROM agencies WHERE id = $1");
        let row: Option<AgencyRow> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(Agency::from))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn agency_by_name(&self, name: &str) -> StoreResult<Option<Agency>> {
        let sql = format!("SELECT {AGENCY_COLUMNS} FROM agencies WHERE name = $1");
        let row: Option<AgencyRow> = sqlx::query_as(&sql)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(Agency::from))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn list_agencies(&self, visibility: Visibility) -> StoreResult<Vec<Agency>> {
        let (root, descend) = scope_params(visibility);
        let sql = format!(
            "{} SELECT {AGENCY_COLUMNS} FROM agencies WHERE id IN (SELECT id FROM scope) ORDER BY name",
            scope_cte!()
        );
        let rows: Vec<AgencyRow> = sqlx::query_as(&sql)
            .bind(root)
            .bind(descend)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(Agency::from).collect())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    #[tracing::instrument(level = "debug", skip_all)]
    async fn root_agencies(&self) -> StoreResult<Vec<Uuid>> {
        let rows: Vec<(Uuid,)> =
            sqlx::query_as("SELECT id FROM agencies WHERE parent_id IS NULL ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
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

    #[tracing::instrument(level = "debug", skip_all)]
    async fn create_user(&self, new: &NewUser, meta: AuditMeta) -> StoreResult<()> {
        let user = &new.user;
        let (_writer, mut tx) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO users (id, email, name, agency_id, password_hash, active, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(user.id)
        .bind(&user.email)
        .bind(&user.name)
        .bind(user.agency_id)
        .bind(&new.password_hash)
        .bind(user.active)
        .bind(user.created_at)
        .execute(&mut *tx)
        .await
        .map_err(unique_as_duplicate("user"))?;
        insert_roles(&mut tx, user.id, &user.roles).await?;
        audit::append(&mut tx, AuditEntry::user_created(user, meta)).await?;
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
    async fn user(&self, id: Uuid) -> StoreResult<Option<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN user_roles r ON r.user_id = u.id
             WHERE u.id = $1 ORDER BY r.role"
        );
        let rows: Vec<UserRoleRow> = sqlx::query_as(&sql).bind(id).fetch_all(&self.pool).await?;
        Ok(fold_users(rows).pop())
    }

    #[tracing::instrument(level = "debug", skip_all)]
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

    #[tracing::instrument(level = "debug", skip_all)]
    async fn credentials(&self, email: &str) -> StoreResult<Option<Credentials>> {
        let row: Option<(Uuid, String, bool)> =
            sqlx::query_as("SELECT id, password_hash, active FROM users WHERE email = $1")
                .bind(email)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(user_id, password_hash, active)| Credentials {
            user_id,
            password_hash,
            active,
        }))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
    async fn set_user_roles(&self, id: Uuid, roles: &[Role], meta: AuditMeta) -> StoreResult<bool> {
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
        insert_roles(&mut tx, id, roles).await?;
        audit::append(&mut tx, AuditEntry::roles_changed(id, roles, meta)).await?;
        tx.commit().await?;
        Ok(true)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
    async fn set_password(
        &self,
        id: Uuid,
        password_hash: &str,
        keep_token_hash: &str,
        meta: AuditMeta,
    ) -> StoreResult<()> {
        let (_writer, mut tx) = self.begin_write().await?;
        sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
            .bind(id)
            .bind(password_hash)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM api_tokens WHERE user_id = $1 AND token_hash <> $2")
            .bind(id)
            .bind(keep_token_hash)
            .execute(&mut *tx)
            .await?;
        audit::append(&mut tx, AuditEntry::password_changed(id, meta)).await?;
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
    async fn set_user_active(&self, id: Uuid, active: bool, meta: AuditMeta) -> StoreResult<bool> {
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
        audit::append(&mut tx, AuditEntry::activation_changed(id, active, meta)).await?;
        tx.commit().await?;
        Ok(true)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn users_covering(&self, agency_id: Uuid, role: Role) -> StoreResult<Vec<User>> {
        let sql = format!(
            "{UP_CTE} SELECT {USER_COLUMNS} FROM users u JOIN user_roles r ON r.user_id = u.id
             WHERE u.agency_id IN (SELECT id FROM up) AND u.active = $2
               AND u.id IN (SELECT user_id FROM user_roles WHERE role = $3)
             ORDER BY u.email, r.role"
        );
        let rows: Vec<UserRoleRow> = sqlx::query_as(&sql)
            .bind(agency_id)
            .bind(true)
            .bind(role.as_str())
            .fetch_all(&self.pool)
            .await?;
        Ok(fold_users(rows))
    }
}
