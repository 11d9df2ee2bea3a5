//! Response shapes that combine stored records; single records serialise as they are.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{ContractVersion, User};

/// A signed-in session's bearer token. Shown once; only its hash is stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenView {
    pub token: String,
    pub token_type: &'static str,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

/// A body version; with its text when one version is fetched, without it in lists.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VersionView {
    #[serde(flatten)]
    pub version: ContractVersion,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_markdown: Option<String>,
}
