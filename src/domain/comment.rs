//! 批注: a reviewer's comment on one clause, with the wording they suggest; the clerk accepts or
//! rejects each (with the reason) when revising.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

pub const MAX_CLAUSE_CHARS: usize = 200;
pub const MAX_COMMENT_CHARS: usize = 2000;

/// How the clerk dealt with a comment.
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
pub enum Resolution {
    /// The clause was changed as the comment asks.
    Accepted,
    /// Not followed, with the reason why.
    Rejected,
}

impl Resolution {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// What people read.
    pub fn label(self) -> &'static str {
        match self {
            Resolution::Accepted => "已采纳 Accepted",
            Resolution::Rejected => "不采纳 Not followed",
        }
    }
}

/// A comment on one clause of a body version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ClauseComment {
    pub id: Uuid,
    pub contract_id: Uuid,
    /// The version the comment was made on.
    pub body_version: i64,
    /// The clause it is about, as the text names it: 第三条 工程款支付.
    pub clause: String,
    pub comment: String,
    /// The wording the reviewer suggests instead, if any.
    pub suggestion: Option<String>,
    pub author_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub resolution: Option<Resolution>,
    pub resolution_note: Option<String>,
    pub resolved_by: Option<Uuid>,
    pub resolved_at: Option<DateTime<Utc>>,
}
