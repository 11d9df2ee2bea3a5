//! A reviewer's deputy for a range of dates.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// Inclusive Beijing dates; the deputy decides in the delegator's name on those days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Delegation {
    pub id: Uuid,
    pub delegator_id: Uuid,
    pub deputy_id: Uuid,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Delegation {
    /// Whether `deputy` may act for the delegator on `day`.
    pub fn lets_act(&self, deputy: uuid::Uuid, day: NaiveDate) -> bool {
        self.deputy_id == deputy
            && self.revoked_at.is_none()
            && (self.starts_on..=self.ends_on).contains(&day)
    }
}
