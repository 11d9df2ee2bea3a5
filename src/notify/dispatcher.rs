//! The outbox dispatcher, started by `serve`: claims due e-mails (safely with several instances),
//! sends them through the one shared transport, records the outcome, retries with exponential
//! back-off and jitter, and gives up after a maximum number of attempts. It also sweeps for
//! review deadlines. On shutdown it finishes the batch it claimed before it stops.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use lettre::message::Mailbox;
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;

use super::mailer::{Mailer, SendError};
use crate::config::MailSettings;
use crate::domain::{Delivery, OutboxStatus, QueuedMail};
use crate::service::{Service, now};

/// How long a claim protects a batch from other dispatchers.
const LEASE: chrono::Duration = chrono::Duration::minutes(5);
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);

pub struct Dispatcher {
    service: Service,
    mailer: Arc<Mailer>,
    from: Mailbox,
    message_id_domain: String,
    settings: MailSettings,
}

/// Exponential back-off with ±20 % jitter, so that failed mails do not come back in lockstep.
fn backoff(base: Duration, attempts: i64) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    let delay = base
        .saturating_mul(2u32.saturating_pow(exponent))
        .min(MAX_BACKOFF);
    let jitter = 0.8 + f64::from(OsRng.next_u32() % 401) / 1000.0;
    delay.mul_f64(jitter)
}

impl Dispatcher {
    /// # Errors
    /// An invalid mail URL or sender address.
    pub fn new(service: Service, settings: MailSettings) -> anyhow::Result<Self> {
        let url = settings
            .mail_url
            .as_deref()
            .context("no mail URL was given to the dispatcher")?;
        let mailer = Mailer::from_url(url, settings.mail_concurrency)?;
        let from: Mailbox = settings
            .mail_from
            .parse()
            .with_context(|| format!("invalid --mail-from {:?}", settings.mail_from))?;
        let message_id_domain = from.email.domain().to_owned();
        Ok(Self {
            service,
            mailer: Arc::new(mailer),
            from,
            message_id_domain,
            settings,
        })
    }

    /// Runs until `stop` turns true.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let poll = Duration::from_millis(self.settings.mail_poll_ms);
        let sweep_every = Duration::from_secs(self.settings.reminder_interval_secs);
        let mut next_sweep = Instant::now();
        while !*stop.borrow() {
            if Instant::now() >= next_sweep {
                if let Err(error) = self.service.enqueue_reminders(now()).await {
                    tracing::error!(error = ?error, "queuing deadline reminders failed");
                }
                next_sweep = Instant::now() + sweep_every;
            }
            match self.drain_once().await {
                Ok(0) => {}
                Ok(_) => continue,
                Err(error) => tracing::error!(error = ?error, "sending queued mail failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                _ = stop.changed() => {}
            }
        }
        tracing::info!("mail dispatcher stopped");
    }

    /// Claims one batch, sends it and records the outcomes. Returns how many were claimed.
    ///
    /// # Errors
    /// Database failures; delivery failures are recorded on the rows instead.
    pub async fn drain_once(&self) -> anyhow::Result<usize> {
        let claimed_at = now();
        let batch = i64::from(self.settings.mail_concurrency.max(1)) * 8;
        let rows = self
            .service
            .claim_mail(claimed_at, claimed_at + LEASE, batch)
            .await?;
        let count = rows.len();
        let permits = Arc::new(Semaphore::new(
            self.settings.mail_concurrency.max(1) as usize
        ));
        let mut sending = tokio::task::JoinSet::new();
        for row in rows {
            let mailer = Arc::clone(&self.mailer);
            let (from, domain) = (self.from.clone(), self.message_id_domain.clone());
            let permits = Arc::clone(&permits);
            sending.spawn(async move {
                let _permit = permits.acquire_owned().await;
                let result = mailer.send(&from, &domain, &row).await;
                (row, result)
            });
        }
        let mut deliveries = Vec::with_capacity(count);
        while let Some(joined) = sending.join_next().await {
            let (row, result) = joined.context("a mail task panicked")?;
            deliveries.push(self.outcome(&row, result));
        }
        self.service.record_deliveries(&deliveries).await?;
        Ok(count)
    }

    fn outcome(&self, row: &QueuedMail, result: Result<(), SendError>) -> Delivery {
        let at = now();
        let record = |status, next_attempt_at, error| Delivery {
            id: row.id,
            status,
            at,
            next_attempt_at,
            error,
        };
        match result {
            Ok(()) => record(OutboxStatus::Sent, row.next_attempt_at, None),
            Err(error) if error.permanent => {
                tracing::error!(mail = %row.id, recipient = %row.recipient, error = %error.message, "mail refused");
                record(
                    OutboxStatus::Failed,
                    row.next_attempt_at,
                    Some(error.message),
                )
            }
            Err(error) if row.attempts >= i64::from(self.settings.mail_max_attempts) => {
                tracing::error!(mail = %row.id, recipient = %row.recipient, error = %error.message, "mail given up");
                let message = format!("gave up after {} attempts: {}", row.attempts, error.message);
                record(OutboxStatus::Failed, row.next_attempt_at, Some(message))
            }
            Err(error) => {
                tracing::warn!(mail = %row.id, attempts = row.attempts, error = %error.message, "mail not sent; will retry");
                let delay = backoff(
                    Duration::from_millis(self.settings.mail_retry_base_ms),
                    row.attempts,
                );
                let retry_at = at + chrono::Duration::from_std(delay).unwrap_or(LEASE);
                record(OutboxStatus::Pending, retry_at, Some(error.message))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_a_ceiling() {
        let base = Duration::from_secs(5);
        for (attempts, nominal) in [(1, 5.0), (2, 10.0), (3, 20.0), (6, 160.0)] {
            let delay = backoff(base, attempts).as_secs_f64();
            assert!(
                (nominal * 0.8..=nominal * 1.2).contains(&delay),
                "{attempts}: {delay}"
            );
        }
        assert!(backoff(base, 40) <= MAX_BACKOFF.mul_f64(1.2));
    }
}
