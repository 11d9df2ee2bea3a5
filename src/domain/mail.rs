//! E-mail in the outbox: rendered when the change it announces is committed, sent later by the
//! dispatcher, retried until sent or given up (a permanent refusal, or a day of temporary
//! failures by default).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Where a queued e-mail stands.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    ToSchema,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum OutboxStatus {
    Pending,
    /// Claimed by a dispatcher, under a short lease it renews while it works.
    Sending,
    Sent,
    /// Gave up: a permanent refusal, or temporary failures until `retry_until`. An admin may
    /// retry it.
    Failed,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl TryFrom<String> for OutboxStatus {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        raw.parse()
            .map_err(|_| format!("unknown outbox status {raw:?}"))
    }
}

/// A rendered e-mail to one recipient, ready to be queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    pub id: Uuid,
    pub contract_id: Option<Uuid>,
    /// The workflow event (the template's name), e.g. `approved`.
    pub event: String,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
}

/// A queued e-mail as it stands in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct QueuedMail {
    pub id: Uuid,
    pub contract_id: Option<Uuid>,
    pub event: String,
    pub recipient: String,
    pub subject: String,
    #[serde(skip)]
    pub body_text: String,
    #[serde(skip)]
    pub body_html: String,
    pub status: OutboxStatus,
    /// Delivery attempts so far (each claim by a dispatcher counts one).
    pub attempts: i64,
    /// When a pending mail is (next) tried.
    pub next_attempt_at: DateTime<Utc>,
    /// Set at the first temporary failure: the mail is retried until then, then given up.
    pub retry_until: Option<DateTime<Utc>>,
    /// The last delivery error, as the mail server or the network reported it.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// The outcome of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: Uuid,
    /// `Sent`, `Pending` (try again at `next_attempt_at`) or `Failed`.
    pub status: OutboxStatus,
    pub at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    /// Until when temporary failures are retried (set at the first one).
    pub retry_until: Option<DateTime<Utc>>,
    pub error: Option<String>,
}
