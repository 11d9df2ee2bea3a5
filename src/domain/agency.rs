//! An agency in the tree: a government, a bureau, a unit. Reviewers and admins act on their
//! agency and everything below it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Agency {
    pub id: Uuid,
    pub name: String,
    pub parent_id: Option<Uuid>,
    /// The prefix of the 文号 of the review letters this office issues (示司审 in
    /// 示司审〔2026〕12号); without one, the office's name and 合审.
    pub opinion_prefix: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl Agency {
    /// The prefix its review letters are numbered with.
    pub fn letter_prefix(&self) -> String {
        self.opinion_prefix
            .clone()
            .unwrap_or_else(|| format!("{}合审", self.name))
    }
}
