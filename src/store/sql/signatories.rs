//! Who may sign an agency's contracts: its users with the signatory role, and the external
//! signatories an admin names for it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{SqlStore, audit, unique_as_duplicate};
use crate::domain::audit::{AuditEntry, AuditMeta};
use crate::domain::{ExternalSignatory, Role, Signers};
use crate::store::{SignatoryStore, StoreResult};

#[async_trait]
impl SignatoryStore for SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn signers(&self, agency_id: Uuid) -> StoreResult<Signers> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT u.email FROM users u JOIN user_roles r ON r.user_id = u.id
             WHERE u.agency_id = $1 AND u.active = $2 AND r.role = $3
             UNION SELECT email FROM external_signatories WHERE agency_id = $1",
        )
        .bind(agency_id)
        .bind(true)
        .bind(Role::Signatory.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(Signers::new(rows.into_iter().map(|(email,)| email)))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn external_signatories(&self, agency_id: Uuid) -> StoreResult<Vec<ExternalSignatory>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            agency_id: Uuid,
            email: String,
            name: String,
            organisation: String,
            added_by: Option<Uuid>,
            added_at: DateTime<Utc>,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT agency_id, email, name, organisation, added_by, added_at
             FROM external_signatories WHERE agency_id = $1 ORDER BY email",
        )
        .bind(agency_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| ExternalSignatory {
                agency_id: row.agency_id,
                email: row.email,
                name: row.name,
                organisation: row.organisation,
                added_by: row.added_by,
                added_at: row.added_at,
            })
            .collect())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn add_external_signatory(
        &self,
        signatory: &ExternalSignatory,
        meta: AuditMeta,
    ) -> StoreResult<()> {
        let (_writer, mut tx) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO external_signatories (agency_id, email, name, organisation, added_by, added_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(signatory.agency_id)
        .bind(&signatory.email)
        .bind(&signatory.name)
        .bind(&signatory.organisation)
        .bind(signatory.added_by)
        .bind(signatory.added_at)
        .execute(&mut *tx)
        .await
        .map_err(unique_as_duplicate("external signatory"))?;
        audit::append(
            &mut tx,
            AuditEntry::external_signatory_added(signatory, meta),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn remove_external_signatory(
        &self,
        agency_id: Uuid,
        email: &str,
        meta: AuditMeta,
    ) -> StoreResult<bool> {
        let (_writer, mut tx) = self.begin_write().await?;
        let removed =
            sqlx::query("DELETE FROM external_signatories WHERE agency_id = $1 AND email = $2")
                .bind(agency_id)
                .bind(email)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if removed == 0 {
            return Ok(false);
        }
        audit::append(
            &mut tx,
            AuditEntry::external_signatory_removed(agency_id, email, meta),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}
