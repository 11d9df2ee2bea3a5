//! The e-mail outbox: queuing inside a change's transaction, claiming for a dispatcher under a
//! short lease it renews (safe with several instances), recording each delivery as it happens,
//! retrying failed mail, and deadline reminders at most once a day.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Conn, Db, SqlStore, scope_cte, scope_params};
use crate::domain::{Delivery, OutboxStatus, OutgoingMail, QueuedMail, Visibility};
use crate::store::backend::Backend;
use crate::store::{OutboxStore, ReminderMail, StoreResult};

#[derive(sqlx::FromRow)]
struct MailRow {
    id: Uuid,
    contract_id: Option<Uuid>,
    event: String,
    recipient: String,
    subject: String,
    body_text: String,
    body_html: String,
    #[sqlx(try_from = "String")]
    status: OutboxStatus,
    attempts: i64,
    next_attempt_at: DateTime<Utc>,
    retry_until: Option<DateTime<Utc>>,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
}

impl From<MailRow> for QueuedMail {
    fn from(row: MailRow) -> Self {
        QueuedMail {
            id: row.id,
            contract_id: row.contract_id,
            event: row.event,
            recipient: row.recipient,
            subject: row.subject,
            body_text: row.body_text,
            body_html: row.body_html,
            status: row.status,
            attempts: row.attempts,
            next_attempt_at: row.next_attempt_at,
            retry_until: row.retry_until,
            last_error: row.last_error,
            created_at: row.created_at,
            sent_at: row.sent_at,
        }
    }
}

/// Queues a rendered e-mail, due at once.
pub(super) async fn insert(
    conn: &mut Conn,
    mail: &OutgoingMail,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO outbox (id, contract_id, event, recipient, subject, body_text, body_html, status,
             attempts, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $9)",
    )
    .bind(mail.id)
    .bind(mail.contract_id)
    .bind(&mail.event)
    .bind(&mail.recipient)
    .bind(&mail.subject)
    .bind(&mail.body_text)
    .bind(&mail.body_html)
    .bind(OutboxStatus::Pending.as_str())
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[async_trait]
impl OutboxStore for SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn claim_outbox(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
        claimer: Uuid,
    ) -> StoreResult<Vec<QueuedMail>> {
        let (_writer, mut tx) = self.begin_write().await?;
        let rows: Vec<MailRow> = sqlx::query_as(<Db as Backend>::CLAIM_OUTBOX)
            .bind(now)
            .bind(lease_until)
            .bind(limit)
            .bind(OutboxStatus::Sending.as_str())
            .bind(OutboxStatus::Pending.as_str())
            .bind(claimer)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(QueuedMail::from).collect())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn renew_outbox_claims(
        &self,
        claimer: Uuid,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let _writer = self.write_turn().await;
        let renewed = sqlx::query(
            "UPDATE outbox SET claimed_until = $1 WHERE claimed_by = $2 AND status = $3",
        )
        .bind(lease_until)
        .bind(claimer)
        .bind(OutboxStatus::Sending.as_str())
        .execute(&self.pool)
        .await?;
        Ok(renewed.rows_affected())
    }

    // One short write transaction for whatever finished since the last one: on SQLite, one
    // writer's turn and one sync for a handful of mails instead of one each, so that the time
    // between the mail server's acceptance and this record (where a crash sends the mail twice)
    // stays short under load.
    #[tracing::instrument(level = "debug", skip_all, fields(mails = deliveries.len()))]
    async fn record_deliveries(
        &self,
        deliveries: &[Delivery],
        claimer: Uuid,
    ) -> StoreResult<Vec<bool>> {
        let (_writer, mut tx) = self.begin_outbox_write().await?;
        let mut recorded = Vec::with_capacity(deliveries.len());
        for delivery in deliveries {
            let sent_at = (delivery.status == OutboxStatus::Sent).then_some(delivery.at);
            let changed = sqlx::query(
                "UPDATE outbox SET status = $1, sent_at = $2, next_attempt_at = $3, retry_until = $4,
                     last_error = $5, claimed_until = NULL, claimed_by = NULL
                 WHERE id = $6
                   AND ((status = $7 AND claimed_by = $8) OR ($1 = $9 AND status <> $9))",
            )
            .bind(delivery.status.as_str())
            .bind(sent_at)
            .bind(delivery.next_attempt_at)
            .bind(delivery.retry_until)
            .bind(&delivery.error)
            .bind(delivery.id)
            .bind(OutboxStatus::Sending.as_str())
            .bind(claimer)
            .bind(OutboxStatus::Sent.as_str())
            .execute(&mut *tx)
            .await?;
            recorded.push(changed.rows_affected() == 1);
        }
        tx.commit().await?;
        Ok(recorded)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn list_outbox(
        &self,
        visibility: Visibility,
        status: Option<OutboxStatus>,
        limit: i64,
    ) -> StoreResult<Vec<QueuedMail>> {
        let (root, descend) = scope_params(visibility);
        let sql = format!(
            "{} SELECT o.id, o.contract_id, o.event, o.recipient, o.subject, o.body_text, o.body_html, o.status,
                    o.attempts, o.next_attempt_at, o.retry_until, o.last_error, o.created_at, o.sent_at
             FROM outbox o JOIN contracts c ON c.id = o.contract_id
             WHERE c.agency_id IN (SELECT id FROM scope) AND ($3 IS NULL OR o.status = $3)
             ORDER BY o.id DESC LIMIT $4",
            scope_cte!()
        );
        let rows: Vec<MailRow> = sqlx::query_as(&sql)
            .bind(root)
            .bind(descend)
            .bind(status.map(OutboxStatus::as_str))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(QueuedMail::from).collect())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
    async fn requeue_outbox(
        &self,
        id: Uuid,
        visibility: Visibility,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let (root, descend) = scope_params(visibility);
        let sql = format!(
            "{} UPDATE outbox SET status = $3, attempts = 0, next_attempt_at = $4, retry_until = NULL
             WHERE id = $5 AND status = $6
               AND contract_id IN (SELECT id FROM contracts WHERE agency_id IN (SELECT id FROM scope))
             RETURNING id",
            scope_cte!()
        );
        let (_writer, mut tx) = self.begin_write().await?;
        let requeued: Option<(Uuid,)> = sqlx::query_as(&sql)
            .bind(root)
            .bind(descend)
            .bind(OutboxStatus::Pending.as_str())
            .bind(now)
            .bind(id)
            .bind(OutboxStatus::Failed.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(requeued.is_some())
    }

    #[tracing::instrument(level = "debug", skip_all)]
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
            .bind(&message.recipient)
            .bind(reminder.kind)
            .bind(reminder.day)
            .fetch_optional(&mut *tx)
            .await?;
            if first_today.is_some() {
                insert(&mut tx, message, at).await?;
                queued += 1;
            }
        }
        tx.commit().await?;
        Ok(queued)
    }
}
