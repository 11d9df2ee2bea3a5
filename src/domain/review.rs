//! The review's record: what each workflow step meant, and the history of a contract's steps.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::ContractState;

/// What a transition means for the record: the opinion letter, separation of duties and the
/// notifications read it.
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
    strum::Display,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Outcome {
    Submitted,
    Approved,
    Returned,
    Rejected,
    Signed,
    Withdrawn,
}

impl Outcome {
    /// Whether this outcome is a review decision that carries an opinion letter.
    pub fn is_decision(self) -> bool {
        matches!(
            self,
            Outcome::Approved | Outcome::Returned | Outcome::Rejected
        )
    }

    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One step of a contract's workflow history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ContractTransition {
    pub id: Uuid,
    /// The transition's name in the workflow file (`submit`, `approve`…).
    pub transition: String,
    pub from_state: ContractState,
    pub to_state: ContractState,
    pub outcome: Option<Outcome>,
    pub actor_id: Uuid,
    /// The reviewer a deputy acted for.
    pub on_behalf_of: Option<Uuid>,
    pub opinion: Option<String>,
    /// The 文号 of the review letter this decision issued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opinion_number: Option<String>,
    /// 修改后同意: what the agency must do when it signs, one condition each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
    pub body_version: i64,
    pub body_sha256: String,
    pub at: DateTime<Utc>,
}

/// The conditions set by the approvals since the last submission (修改后同意), in order: what
/// the agency must meet when it signs the approved version.
pub fn approval_conditions(history: &[ContractTransition]) -> Vec<String> {
    let since = history
        .iter()
        .rposition(|t| t.is(Outcome::Submitted))
        .map_or(0, |i| i + 1);
    history[since..]
        .iter()
        .flat_map(|t| t.conditions.iter().cloned())
        .collect()
}

impl ContractTransition {
    /// The reviewer in whose name the step was taken: the delegator for a deputy.
    pub fn decided_by(&self) -> Uuid {
        self.on_behalf_of.unwrap_or(self.actor_id)
    }

    pub fn is(&self, outcome: Outcome) -> bool {
        self.outcome == Some(outcome)
    }
}
