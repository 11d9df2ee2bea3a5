//! Bearer tokens (only their hashes) and failed sign-ins, counted in the database so that the
//! limits hold across every instance.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::SqlStore;
use super::directory::{USER_COLUMNS, UserRoleRow, fold_users};
use crate::domain::{Principal, Roles};
use crate::store::{SessionStore, StoreResult, TokenRecord};

#[async_trait]
impl SessionStore for SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn issue_token(&self, token: &TokenRecord) -> StoreResult<()> {
        let _writer = self.write_turn().await;
        sqlx::query(
            "INSERT INTO api_tokens (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&token.token_hash)
        .bind(token.user_id)
        .bind(token.created_at)
        .bind(token.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
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
            .bind(token_hash)
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

    #[tracing::instrument(level = "debug", skip_all)]
    async fn revoke_token(&self, token_hash: &str) -> StoreResult<()> {
        let _writer = self.write_turn().await;
        sqlx::query("DELETE FROM api_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
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
            .bind(email)
            .bind(address)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
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
        .bind(email)
        .bind(address)
        .bind(since)
        .fetch_one(&self.pool)
        .await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn clear_login_failures(&self, email: &str) -> StoreResult<()> {
        let _writer = self.write_turn().await;
        sqlx::query("DELETE FROM login_failures WHERE email = $1")
            .bind(email)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
