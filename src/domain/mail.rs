//! E-mail in the outbox: rendered when the change it announces is committed, sent later by the
//! dispatcher, retried until sent or given up.

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
    /// Claimed by a dispatcher, until `claimed_until`.
    Sending,
    Sent,
    /// Gave up: a permanent error or too many attempts. An admin may retry it.
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
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
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
    pub error: Option<String>,
}
