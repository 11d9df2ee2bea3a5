//! What the screen found on one body version, as stored, and a reviewer's waiver of it.

use chrono::{DateTime, Utc};
use serde::Serialize;
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
    pub advice: String,
    pub created_at: DateTime<Utc>,
    pub waived_by: Option<Uuid>,
    pub waived_at: Option<DateTime<Utc>>,
    pub waive_reason: Option<String>,
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
