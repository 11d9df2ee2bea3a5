//! What operators and the mail dispatcher ask of the service: whether the database answers, how
//! its connection pool stands, and the outbox's claims and deliveries.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Service;
use crate::domain::{Delivery, QueuedMail};
use crate::error::Result;

/// The database connection pool, for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolGauge {
    pub open: u32,
    pub idle: u32,
}

impl Service {
    /// `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        self.store.backend()
    }

    /// A round trip to the database, for `/readyz`.
    ///
    /// # Errors
    /// When the database does not answer.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn ping(&self) -> Result<()> {
        Ok(self.store.ping().await?)
    }

    pub fn pool_gauge(&self) -> PoolGauge {
        let stats = self.store.pool_stats();
        PoolGauge {
            open: stats.open,
            idle: stats.idle,
        }
    }

    /// Claims up to `limit` due e-mails for the dispatcher `claimer` until `lease_until`.
    ///
    /// # Errors
    /// Database failures.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn claim_mail(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
        claimer: Uuid,
    ) -> Result<Vec<QueuedMail>> {
        Ok(self
            .store
            .claim_outbox(now, lease_until, limit, claimer)
            .await?)
    }

    /// Extends the lease on the e-mails `claimer` holds; returns how many it still holds.
    ///
    /// # Errors
    /// Database failures.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn renew_mail_claims(
        &self,
        claimer: Uuid,
        lease_until: DateTime<Utc>,
    ) -> Result<u64> {
        Ok(self.store.renew_outbox_claims(claimer, lease_until).await?)
    }

    /// Records what happened to claimed e-mails, in one transaction; per delivery, false when
    /// the row was no longer `claimer`'s to record (another dispatcher took it over).
    ///
    /// # Errors
    /// Database failures.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_deliveries(
        &self,
        deliveries: &[Delivery],
        claimer: Uuid,
    ) -> Result<Vec<bool>> {
        Ok(self.store.record_deliveries(deliveries, claimer).await?)
    }
}
