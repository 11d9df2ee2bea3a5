//! What the service hands back: plain serialisable views, the JSON shapes of the API.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::{ContractState, ContractType, Role};
use crate::store::{Agency, Contract, ContractDetail, ContractVersion, User};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgencyView {
    pub id: Uuid,
    pub name: String,
    pub parent_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl From<Agency> for AgencyView {
    fn from(agency: Agency) -> Self {
        Self {
            id: agency.id,
            name: agency.name,
            parent_id: agency.parent_id,
            created_at: agency.created_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub agency_id: Uuid,
    pub roles: Vec<Role>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        Self {
            id: user.id,
            email: user.email,
            name: user.name,
            agency_id: user.agency_id,
            roles: user.roles,
            active: user.active,
            created_at: user.created_at,
        }
    }
}

/// A signed-in session's bearer token. Shown once; only its hash is stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenView {
    pub token: String,
    pub token_type: &'static str,
    pub expires_at: DateTime<Utc>,
    pub user: UserView,
}

/// A contract as lists show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContractSummaryView {
    pub id: Uuid,
    pub agency_id: Uuid,
    pub title: String,
    pub contract_type: ContractType,
    pub counterparty: String,
    /// The amount in fen (1/100 yuan).
    pub amount_fen: i64,
    pub funding_source: Option<String>,
    pub agency_party: String,
    pub state: ContractState,
    /// Send this back as `expected_version` when changing the contract.
    pub version: i64,
    /// The number of the current body version.
    pub body_version: i64,
    /// SHA-256 of the current body; signing is pinned to it.
    pub body_sha256: String,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Contract> for ContractSummaryView {
    fn from(c: Contract) -> Self {
        Self {
            id: c.id,
            agency_id: c.agency_id,
            title: c.title,
            contract_type: c.contract_type,
            counterparty: c.counterparty,
            amount_fen: c.amount_fen,
            funding_source: c.funding_source,
            agency_party: c.agency_party,
            state: c.state,
            version: c.version,
            body_version: c.body_version,
            body_sha256: c.body_sha256,
            created_by: c.created_by,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A contract with its current body and signatories.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContractView {
    #[serde(flatten)]
    pub summary: ContractSummaryView,
    pub signatories: Vec<String>,
    pub body_markdown: String,
}

impl From<ContractDetail> for ContractView {
    fn from(detail: ContractDetail) -> Self {
        Self {
            summary: detail.contract.into(),
            signatories: detail.signatories,
            body_markdown: detail.body_markdown,
        }
    }
}

/// One page of a keyset-paginated list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContractPage {
    pub items: Vec<ContractSummaryView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VersionView {
    pub number: i64,
    pub sha256: String,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    /// Present when one version is fetched, omitted in lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_markdown: Option<String>,
}

impl From<ContractVersion> for VersionView {
    fn from(version: ContractVersion) -> Self {
        Self {
            number: version.number,
            sha256: version.sha256,
            created_by: version.created_by,
            created_at: version.created_at,
            body_markdown: None,
        }
    }
}
