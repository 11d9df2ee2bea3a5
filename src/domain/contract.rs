//! A contract: its kind, where it stands in the review, its facts, its body versions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::choice::parse_choice;

/// What kind of contract it is; the screen and the workflow treat kinds differently.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    ToSchema,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::Display,
    strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ContractType {
    Procurement,
    Construction,
    Service,
    Lease,
    Guarantee,
    Investment,
    Other,
}

impl ContractType {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// What people read: Chinese, then English.
    pub fn label(self) -> &'static str {
        match self {
            ContractType::Procurement => "采购 Procurement",
            ContractType::Construction => "工程建设 Construction",
            ContractType::Service => "服务 Service",
            ContractType::Lease => "租赁 Lease",
            ContractType::Guarantee => "担保 Guarantee",
            ContractType::Investment => "投资 Investment",
            ContractType::Other => "其他 Other",
        }
    }

    /// # Errors
    /// A bilingual message listing the valid values.
    pub fn parse(raw: &str) -> Result<Self, String> {
        parse_choice(raw, "合同类型", "contract type")
    }
}

impl TryFrom<String> for ContractType {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        ContractType::parse(&raw)
    }
}

/// Where a contract stands in the review workflow. Stored as TEXT with a CHECK constraint.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    ToSchema,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::Display,
    strum::EnumIter,
    strum::EnumCount,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ContractState {
    Draft,
    LegalReview,
    LeadReview,
    RevisionRequested,
    Approved,
    Rejected,
    Signed,
    Withdrawn,
}

impl ContractState {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// # Errors
    /// A bilingual message listing the valid values.
    pub fn parse(raw: &str) -> Result<Self, String> {
        parse_choice(raw, "状态", "state")
    }

    /// Whether the submitter may replace the body in this state.
    pub fn body_editable(self) -> bool {
        matches!(
            self,
            ContractState::Draft | ContractState::RevisionRequested
        )
    }
}

impl TryFrom<String> for ContractState {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        ContractState::parse(&raw)
    }
}

/// A contract's facts and where it stands; what a list shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Contract {
    pub id: Uuid,
    pub agency_id: Uuid,
    pub title: String,
    pub contract_type: ContractType,
    pub counterparty: String,
    /// The amount in fen (1/100 yuan).
    pub amount_fen: i64,
    pub funding_source: Option<String>,
    /// How the contract names the agency (甲方, 采购人, "the County"…).
    pub agency_party: String,
    pub state: ContractState,
    /// Send this back as `expected_version` when changing the contract.
    pub version: i64,
    /// The number of the current body version.
    pub body_version: i64,
    /// SHA-256 of the current body; signing is pinned to it.
    pub body_sha256: String,
    /// SHA-256 of the version the review approved, once approved; only that version can be signed.
    pub approved_sha256: Option<String>,
    /// SHA-256 of the approval manifest (body, facts, material hashes), once approved.
    #[serde(default)]
    pub approved_manifest_sha256: Option<String>,
    /// When the current review stage is due, if it has a deadline.
    pub due_at: Option<DateTime<Utc>>,
    /// While returned for 补正: the working days the stopped clock kept, given back on resubmission.
    #[serde(default)]
    pub clock_paused_days: Option<i64>,
    /// The 文号 of the latest review letter, once a review decision was made.
    #[serde(default)]
    pub opinion_number: Option<String>,
    /// The workflow the contract started under; it finishes under the same rules.
    pub workflow_id: String,
    pub workflow_version: i64,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A contract with its current body and signatories; what the contract page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ContractDetail {
    #[serde(flatten)]
    pub contract: Contract,
    pub body_markdown: String,
    pub signatories: Vec<String>,
}

/// One immutable body version of a contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ContractVersion {
    pub number: i64,
    pub sha256: String,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_through_text() {
        for state in <ContractState as strum::IntoEnumIterator>::iter() {
            assert_eq!(ContractState::parse(state.as_str()), Ok(state));
        }
        assert_eq!(ContractState::LegalReview.as_str(), "legal_review");
        assert!(
            ContractState::parse("pending")
                .unwrap_err()
                .contains("revision_requested")
        );
    }
}
