//! What the screen found on one body version, as stored, and a reviewer's waiver of it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Finding {
    pub id: Uuid,
    pub body_version: i64,
    pub rule: String,
    pub category: String,
    /// `block` (stops approval while open) or `warn`.
    pub severity: String,
    pub clause: String,
    pub start_offset: i64,
    pub end_offset: i64,
    pub excerpt: String,
    pub provision: String,
    /// The documents the finding rests on, by title and article, as one line for the letter.
    pub citation: String,
    pub advice: String,
    /// Every matching sentence (the first is `start_offset..end_offset`).
    pub spans: Vec<FindingSpan>,
    pub created_at: DateTime<Utc>,
    pub waived_by: Option<Uuid>,
    pub waived_at: Option<DateTime<Utc>>,
    pub waive_reason: Option<String>,
}

/// One matching sentence of a finding: byte offsets into the body version, and its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FindingSpan {
    pub start: i64,
    pub end: i64,
    pub excerpt: String,
}

impl Finding {
    pub fn is_open(&self) -> bool {
        self.waived_at.is_none()
    }
}

/// A reviewer sets an open finding aside, with the reason (kept in the audit trail).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiver {
    pub contract_id: Uuid,
    pub finding_id: Uuid,
    pub reason: String,
    pub actor_id: Uuid,
    pub at: DateTime<Utc>,
}
