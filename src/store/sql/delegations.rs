//! Deputies: who may decide in a reviewer's name, and on which days.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{SqlStore, audit};
use crate::domain::Delegation;
use crate::domain::audit::{AuditEntry, AuditMeta};
use crate::store::{DelegationStore, StoreResult};

#[derive(sqlx::FromRow)]
struct DelegationRow {
    id: Uuid,
    delegator_id: Uuid,
    deputy_id: Uuid,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<DelegationRow> for Delegation {
    fn from(row: DelegationRow) -> Self {
        Delegation {
            id: row.id,
            delegator_id: row.delegator_id,
            deputy_id: row.deputy_id,
            starts_on: row.starts_on,
            ends_on: row.ends_on,
            created_at: row.created_at,
            revoked_at: row.revoked_at,
        }
    }
}

const DELEGATION_COLUMNS: &str =
    "id, delegator_id, deputy_id, starts_on, ends_on, created_at, revoked_at";

#[async_trait]
impl DelegationStore for SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn create_delegation(&self, delegation: &Delegation, meta: AuditMeta) -> StoreResult<()> {
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
        audit::append(&mut tx, AuditEntry::delegation_created(delegation, meta)).await?;
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(target_user = %user_id))]
    async fn delegations_of(&self, user_id: Uuid) -> StoreResult<Vec<Delegation>> {
        let sql = format!(
            "SELECT {DELEGATION_COLUMNS} FROM delegations
             WHERE delegator_id = $1 OR deputy_id = $1 ORDER BY id DESC"
        );
        let rows: Vec<DelegationRow> = sqlx::query_as(&sql)
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(Delegation::from).collect())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
    async fn delegation(&self, id: Uuid) -> StoreResult<Option<Delegation>> {
        let sql = format!("SELECT {DELEGATION_COLUMNS} FROM delegations WHERE id = $1");
        let row: Option<DelegationRow> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(Delegation::from))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
    async fn revoke_delegation(&self, id: Uuid, meta: AuditMeta) -> StoreResult<bool> {
        let (_writer, mut tx) = self.begin_write().await?;
        let revoked: Option<(Uuid,)> = sqlx::query_as(
            "UPDATE delegations SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING delegator_id",
        )
        .bind(meta.at)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((delegator,)) = revoked else {
            return Ok(false);
        };
        audit::append(&mut tx, AuditEntry::delegation_revoked(delegator, id, meta)).await?;
        tx.commit().await?;
        Ok(true)
    }
}
