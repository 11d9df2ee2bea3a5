//! The outbox dispatcher, started by `serve`: claims due e-mails (safely with several instances),
//! sends them through the one shared transport, records each outcome the moment it is known,
//! retries temporary failures with exponential back-off and jitter for `--mail-retry-for-hours`,
//! and sweeps for review deadlines.
//!
//! Each mail once, as far as SMTP allows. A claim is a short lease that the dispatcher renews
//! while it works (a heartbeat), so a dead instance's mail is taken over within seconds by a
//! live one; a dispatcher whose heartbeat fails stops sending before its lease could lapse.
//! Each delivery is recorded as soon as the server has answered: a recorder writes whatever
//! mails finished since its last write in one short transaction (ahead of ordinary writers on
//! SQLite), instead of one transaction per batch, or one per mail queued behind each other. What
//! no design removes is the moment between the server's acceptance and the record: a crash
//! there sends the mail again after restart (with the same Message-ID). Each connection holds
//! at most one mail in that moment, so a crash doubles at most `--mail-concurrency` mails; the
//! dispatcher logs how long the moment lasts. On shutdown it finishes the mails it holds.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use chrono::{DateTime, Utc};
use lettre::message::Mailbox;
use tokio::sync::{Semaphore, mpsc, oneshot, watch};
use tokio::time::Instant;
use uuid::Uuid;

use super::SendError;
use super::mailer::Mailer;
use crate::config::MailSettings;
use crate::domain::{Delivery, OutboxStatus, QueuedMail};
use crate::service::{Service, now};

/// How long a claim protects a mail from other dispatchers unless it is renewed: a dead
/// dispatcher's mail is taken over this long after its last heartbeat.
const LEASE: Duration = Duration::from_secs(10);
/// How often a working dispatcher renews the leases of the mail it holds.
const HEARTBEAT: Duration = Duration::from_secs(2);
/// A mail is sent only while its lease, as last renewed, has at least this long to run, so that
/// no other dispatcher can have taken it over by the time the server answers.
const SEND_MARGIN: Duration = Duration::from_secs(5);
/// How often the dispatcher reports how long sent mail waited for its record.
const REPORT_EVERY: Duration = Duration::from_secs(60);

pub struct Dispatcher {
    service: Service,
    mailer: Arc<Mailer>,
    from: Mailbox,
    message_id_domain: String,
    settings: MailSettings,
    policy: RetryPolicy,
    /// Names this dispatcher's claims in the outbox.
    instance: Uuid,
    exposure: Arc<Exposure>,
}

/// When to try a mail again, and when to give up.
#[derive(Debug, Clone, Copy)]
struct RetryPolicy {
    base: Duration,
    max: Duration,
    retry_for: chrono::Duration,
}

/// Exponential back-off with ±20 % jitter, so that failed mails do not come back in lockstep.
fn backoff(base: Duration, max: Duration, attempts: i64) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    let delay = base.saturating_mul(2u32.saturating_pow(exponent)).min(max);
    let jitter = 0.8 + f64::from(OsRng.next_u32() % 401) / 1000.0;
    delay.mul_f64(jitter)
}

fn later(at: DateTime<Utc>, by: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(by)
        .ok()
        .and_then(|by| at.checked_add_signed(by))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

impl RetryPolicy {
    fn new(settings: &MailSettings) -> Self {
        Self {
            base: Duration::from_millis(settings.mail_retry_base_ms),
            max: Duration::from_secs(settings.mail_retry_max_secs),
            retry_for: chrono::Duration::from_std(settings.retry_for())
                .unwrap_or(chrono::Duration::MAX),
        }
    }

    /// What to record after one attempt at `at`: sent; failed on a permanent refusal or once the
    /// retry time is up; else pending, to be tried again after the back-off (and at the latest
    /// when the retry time ends, so the last try comes exactly then).
    fn outcome(
        &self,
        row: &QueuedMail,
        result: Result<(), SendError>,
        at: DateTime<Utc>,
    ) -> Delivery {
        let record = |status, next_attempt_at, retry_until, error| Delivery {
            id: row.id,
            status,
            at,
            next_attempt_at,
            retry_until,
            error,
        };
        let error = match result {
            Ok(()) => {
                return record(
                    OutboxStatus::Sent,
                    row.next_attempt_at,
                    row.retry_until,
                    None,
                );
            }
            Err(error) => error,
        };
        if error.permanent {
            tracing::error!(mail = %row.id, recipient = %row.recipient, error = %error.message, "mail refused");
            return record(
                OutboxStatus::Failed,
                row.next_attempt_at,
                row.retry_until,
                Some(error.message),
            );
        }
        let retry_until = row.retry_until.unwrap_or_else(|| {
            at.checked_add_signed(self.retry_for)
                .unwrap_or(DateTime::<Utc>::MAX_UTC)
        });
        if at >= retry_until {
            tracing::error!(mail = %row.id, recipient = %row.recipient, attempts = row.attempts, error = %error.message, "mail given up");
            let message = format!(
                "重试 {} 次后放弃 / gave up after {} attempts: {}",
                row.attempts, row.attempts, error.message
            );
            return record(
                OutboxStatus::Failed,
                row.next_attempt_at,
                Some(retry_until),
                Some(message),
            );
        }
        tracing::warn!(mail = %row.id, attempts = row.attempts, error = %error.message, "mail not sent; will retry");
        let retry_at = later(at, backoff(self.base, self.max, row.attempts)).min(retry_until);
        record(
            OutboxStatus::Pending,
            retry_at,
            Some(retry_until),
            Some(error.message),
        )
    }
}

/// Until when this dispatcher's claims are surely its own: the start of the last successful
/// claim or renewal plus the lease (measured on the monotonic clock, before the database was
/// asked, so that a slow answer only makes it more cautious).
struct LeaseClock(Mutex<Instant>);

impl LeaseClock {
    fn new(until: Instant) -> Self {
        Self(Mutex::new(until))
    }

    fn extend_to(&self, until: Instant) {
        if let Ok(mut held) = self.0.lock() {
            *held = (*held).max(until);
        }
    }

    /// Whether the claims will still be held `margin` from now.
    fn holds_for(&self, margin: Duration) -> bool {
        self.0
            .lock()
            .is_ok_and(|held| Instant::now() + margin < *held)
    }
}

/// How long sent mails waited between the server's acceptance and their record: the window in
/// which a crash makes a mail go out twice.
#[derive(Default)]
struct Exposure {
    mails: AtomicU64,
    total_us: AtomicU64,
    max_us: AtomicU64,
}

impl Exposure {
    fn add(&self, waited: Duration) {
        let us = u64::try_from(waited.as_micros()).unwrap_or(u64::MAX);
        self.mails.fetch_add(1, Ordering::Relaxed);
        self.total_us.fetch_add(us, Ordering::Relaxed);
        self.max_us.fetch_max(us, Ordering::Relaxed);
    }

    /// Logs and resets the figures since the last report.
    fn report(&self) {
        let mails = self.mails.swap(0, Ordering::Relaxed);
        let total = self.total_us.swap(0, Ordering::Relaxed);
        let max = self.max_us.swap(0, Ordering::Relaxed);
        if mails > 0 {
            let hundredths = |us: f64| (us / 10.0).round() / 100.0;
            tracing::info!(
                mails,
                mean_ms = hundredths(total as f64 / mails as f64),
                max_ms = hundredths(max as f64),
                "mail sent; accepted-to-recorded window (a crash inside it sends a mail twice)"
            );
        }
    }
}

/// A delivery on its way to the recorder, and where the recorder answers whether it was
/// recorded.
type Record = (Delivery, oneshot::Sender<anyhow::Result<bool>>);

/// Records deliveries as they come: whatever arrived while the last record was being written
/// goes into the next one, so that under load mails wait for one short transaction, not for a
/// queue of one transaction each.
async fn record_as_they_come(
    service: Service,
    instance: Uuid,
    mut incoming: mpsc::UnboundedReceiver<Record>,
) {
    while let Some(first) = incoming.recv().await {
        let mut batch = vec![first];
        while let Ok(next) = incoming.try_recv() {
            batch.push(next);
        }
        let deliveries: Vec<Delivery> = batch.iter().map(|(d, _)| d.clone()).collect();
        match service.record_deliveries(&deliveries, instance).await {
            Ok(recorded) => {
                for ((_, answer), recorded) in batch.into_iter().zip(recorded) {
                    let _ = answer.send(Ok(recorded));
                }
            }
            Err(error) => {
                let message = format!("{error:#}");
                for (_, answer) in batch {
                    let _ = answer.send(Err(anyhow::anyhow!("{message}")));
                }
            }
        }
    }
}

/// What one mail's task needs, cloned from the dispatcher.
struct Courier {
    mailer: Arc<Mailer>,
    from: Mailbox,
    message_id_domain: String,
    policy: RetryPolicy,
    lease: Arc<LeaseClock>,
    exposure: Arc<Exposure>,
    recorder: mpsc::UnboundedSender<Record>,
}

impl Courier {
    /// Sends one claimed mail and has the outcome recorded at once.
    async fn deliver(self, row: QueuedMail) {
        if !self.lease.holds_for(SEND_MARGIN) {
            tracing::warn!(mail = %row.id, "mail claims not renewed in time; leaving this mail to be claimed again");
            return;
        }
        let result = self
            .mailer
            .send(&self.from, &self.message_id_domain, &row)
            .await;
        let answered = Instant::now();
        let delivery = self.policy.outcome(&row, result, now());
        let mut pause = Duration::from_millis(50);
        loop {
            let recorded = self.record(&delivery).await;
            match recorded {
                Ok(true) => break,
                Ok(false) if delivery.status == OutboxStatus::Sent => {
                    tracing::warn!(mail = %row.id, "another dispatcher had already sent this mail: sent twice");
                    break;
                }
                Ok(false) => {
                    tracing::debug!(mail = %row.id, "mail taken over by another dispatcher; outcome not recorded");
                    break;
                }
                // The row stays ours while the heartbeat renews it; keep trying until then.
                Err(error) if self.lease.holds_for(Duration::ZERO) => {
                    tracing::warn!(mail = %row.id, error = ?error, "recording a delivery failed; retrying");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(1));
                }
                Err(error) => {
                    tracing::error!(mail = %row.id, error = ?error, "recording a delivery failed; the mail will be claimed and tried again");
                    break;
                }
            }
        }
        if delivery.status == OutboxStatus::Sent {
            let waited = answered.elapsed();
            self.exposure.add(waited);
            tracing::debug!(mail = %row.id, unrecorded_us = waited.as_micros(), "mail sent");
        }
    }

    async fn record(&self, delivery: &Delivery) -> anyhow::Result<bool> {
        let (answer, answered) = oneshot::channel();
        self.recorder
            .send((delivery.clone(), answer))
            .map_err(|_| anyhow::anyhow!("the delivery recorder has stopped"))?;
        answered
            .await
            .context("the delivery recorder dropped a delivery")?
    }
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
            policy: RetryPolicy::new(&settings),
            settings,
            instance: Uuid::now_v7(),
            exposure: Arc::default(),
        })
    }

    /// Runs until `stop` turns true.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let poll = Duration::from_millis(self.settings.mail_poll_ms);
        let sweep_every = Duration::from_secs(self.settings.reminder_interval_secs);
        let mut next_sweep = Instant::now();
        let mut next_report = Instant::now() + REPORT_EVERY;
        tracing::info!(instance = %self.instance, "mail dispatcher started");
        while !*stop.borrow() {
            if Instant::now() >= next_sweep {
                if let Err(error) = self.service.enqueue_reminders(now()).await {
                    tracing::error!(error = ?error, "queuing deadline reminders failed");
                }
                next_sweep = Instant::now() + sweep_every;
            }
            if Instant::now() >= next_report {
                self.exposure.report();
                next_report = Instant::now() + REPORT_EVERY;
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
        self.exposure.report();
        tracing::info!("mail dispatcher stopped");
    }

    /// Claims one batch and sends it, each mail recorded as soon as its outcome is known, while
    /// renewing the batch's leases. Returns how many were claimed.
    ///
    /// # Errors
    /// A failed claim; delivery failures are recorded on the rows instead.
    pub async fn drain_once(&self) -> anyhow::Result<usize> {
        let asked = Instant::now();
        let claimed_at = now();
        let batch = i64::from(self.settings.mail_concurrency.max(1)) * 8;
        let rows = self
            .service
            .claim_mail(claimed_at, later(claimed_at, LEASE), batch, self.instance)
            .await?;
        let count = rows.len();
        if count == 0 {
            return Ok(0);
        }
        let lease = Arc::new(LeaseClock::new(asked + LEASE));
        let permits = Arc::new(Semaphore::new(
            self.settings.mail_concurrency.max(1) as usize
        ));
        let (recorder, incoming) = mpsc::unbounded_channel();
        let recording = tokio::spawn(record_as_they_come(
            self.service.clone(),
            self.instance,
            incoming,
        ));
        let mut sending = tokio::task::JoinSet::new();
        for row in rows {
            let courier = Courier {
                mailer: Arc::clone(&self.mailer),
                from: self.from.clone(),
                message_id_domain: self.message_id_domain.clone(),
                policy: self.policy,
                lease: Arc::clone(&lease),
                exposure: Arc::clone(&self.exposure),
                recorder: recorder.clone(),
            };
            let permits = Arc::clone(&permits);
            sending.spawn(async move {
                let _permit = permits.acquire_owned().await;
                courier.deliver(row).await;
            });
        }
        drop(recorder);
        let mut heartbeat = tokio::time::interval_at(Instant::now() + HEARTBEAT, HEARTBEAT);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                joined = sending.join_next() => match joined {
                    None => break,
                    Some(Ok(())) => {}
                    Some(Err(error)) => tracing::error!(error = %error, "a mail task failed"),
                },
                _ = heartbeat.tick() => self.renew(&lease).await,
            }
        }
        recording.await.context("the delivery recorder failed")?;
        Ok(count)
    }

    /// The heartbeat: extends the leases of every mail this dispatcher still holds.
    async fn renew(&self, lease: &LeaseClock) {
        let asked = Instant::now();
        match self
            .service
            .renew_mail_claims(self.instance, later(now(), LEASE))
            .await
        {
            Ok(_) => lease.extend_to(asked + LEASE),
            Err(error) => tracing::warn!(error = ?error, "renewing mail claims failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy::new(&MailSettings::default())
    }

    fn queued(attempts: i64, retry_until: Option<DateTime<Utc>>) -> QueuedMail {
        let at = DateTime::<Utc>::UNIX_EPOCH;
        QueuedMail {
            id: Uuid::now_v7(),
            contract_id: None,
            event: "approved".into(),
            recipient: "signer@a.gov.cn".into(),
            subject: String::new(),
            body_text: String::new(),
            body_html: String::new(),
            status: OutboxStatus::Sending,
            attempts,
            next_attempt_at: at,
            retry_until,
            last_error: None,
            created_at: at,
            sent_at: None,
        }
    }

    fn unreachable() -> Result<(), SendError> {
        Err(SendError {
            permanent: false,
            message: "Connection refused".into(),
        })
    }

    #[test]
    fn backoff_doubles_with_jitter_and_a_ceiling() {
        let (base, max) = (Duration::from_secs(5), Duration::from_secs(3600));
        for (attempts, nominal) in [(1, 5.0), (2, 10.0), (3, 20.0), (6, 160.0)] {
            let delay = backoff(base, max, attempts).as_secs_f64();
            assert!(
                (nominal * 0.8..=nominal * 1.2).contains(&delay),
                "{attempts}: {delay}"
            );
        }
        assert!(backoff(base, max, 40) <= max.mul_f64(1.2));
    }

    #[test]
    fn an_outage_longer_than_the_old_ten_minutes_keeps_the_mail_pending_for_a_day() {
        let first = DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::hours(1);
        let failed_once = policy().outcome(&queued(1, None), unreachable(), first);
        assert_eq!(failed_once.status, OutboxStatus::Pending);
        let until = failed_once.retry_until.unwrap();
        assert_eq!(until, first + chrono::Duration::hours(24));

        // Nine attempts and an hour later (the old limit gave up after eight, ~10 minutes).
        let later_on = first + chrono::Duration::hours(1);
        let ninth = policy().outcome(&queued(9, Some(until)), unreachable(), later_on);
        assert_eq!(ninth.status, OutboxStatus::Pending);
        assert!(ninth.next_attempt_at > later_on && ninth.next_attempt_at <= until);

        // Shortly before the day is up, the next try is at its end, not after it.
        let near_end = until - chrono::Duration::minutes(1);
        let late = policy().outcome(&queued(30, Some(until)), unreachable(), near_end);
        assert_eq!(
            (late.status, late.next_attempt_at),
            (OutboxStatus::Pending, until)
        );

        let last = policy().outcome(&queued(31, Some(until)), unreachable(), until);
        assert_eq!(last.status, OutboxStatus::Failed);
        assert!(last.error.unwrap().contains("gave up after 31 attempts"));
    }

    #[test]
    fn a_permanent_refusal_fails_at_once_and_a_success_is_sent() {
        let at = DateTime::<Utc>::UNIX_EPOCH;
        let refused = Err(SendError {
            permanent: true,
            message: "550 5.1.1 User unknown".into(),
        });
        let failed = policy().outcome(&queued(1, None), refused, at);
        assert_eq!(failed.status, OutboxStatus::Failed);
        assert_eq!(failed.error.as_deref(), Some("550 5.1.1 User unknown"));
        assert_eq!(
            policy().outcome(&queued(3, None), Ok(()), at).status,
            OutboxStatus::Sent
        );
    }

    #[test]
    fn the_lease_clock_only_moves_forward() {
        let clock = LeaseClock::new(Instant::now() + LEASE);
        assert!(clock.holds_for(SEND_MARGIN));
        clock.extend_to(Instant::now());
        assert!(
            clock.holds_for(SEND_MARGIN),
            "an older renewal never shortens it"
        );
        let lapsed = LeaseClock::new(Instant::now() + Duration::from_secs(1));
        assert!(!lapsed.holds_for(SEND_MARGIN));
    }
}
