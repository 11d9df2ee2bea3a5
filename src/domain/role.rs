//! The roles a user can hold. A user may hold several (a small office's clerk may also sign).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::choice::parse_choice;

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
pub enum Role {
    /// Drafts and submits contracts for their agency.
    Submitter,
    /// Legal-affairs staff: reviews contracts of their agency's subtree.
    Reviewer,
    /// Reviews large or sensitive contracts after the first approval.
    LeadReviewer,
    /// Signs approved contracts of their agency.
    Signatory,
    /// Manages agencies and users of their agency's subtree.
    Admin,
    /// Reads everything, changes nothing.
    Auditor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// # Errors
    /// A bilingual message listing the valid values.
    pub fn parse(raw: &str) -> Result<Self, String> {
        parse_choice(raw, "角色", "role")
    }
}

impl TryFrom<String> for Role {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Role::parse(&raw)
    }
}

/// A non-empty set of roles.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Roles(Vec<Role>);

impl Roles {
    /// # Errors
    /// A bilingual message when `roles` is empty.
    pub fn new(mut roles: Vec<Role>) -> Result<Self, String> {
        roles.sort();
        roles.dedup();
        if roles.is_empty() {
            return Err("至少需要一个角色 / at least one role is required".into());
        }
        Ok(Self(roles))
    }

    /// Parses a comma-separated list such as `reviewer,lead_reviewer`.
    ///
    /// # Errors
    /// A bilingual message naming the first unknown role, or when the list is empty.
    pub fn parse_list(raw: &str) -> Result<Self, String> {
        let roles = raw
            .split(',')
            .filter(|part| !part.trim().is_empty())
            .map(Role::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(roles)
    }

    pub fn has(&self, role: Role) -> bool {
        self.0.contains(&role)
    }

    pub fn iter(&self) -> impl Iterator<Item = Role> + '_ {
        self.0.iter().copied()
    }

    pub fn to_vec(&self) -> Vec<Role> {
        self.0.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_role_lists() {
        let roles = Roles::parse_list("reviewer, lead_reviewer,reviewer").unwrap();
        assert_eq!(roles.to_vec(), [Role::Reviewer, Role::LeadReviewer]);
        assert!(Roles::parse_list("").is_err());
        assert!(
            Roles::parse_list("reviewer,boss")
                .unwrap_err()
                .contains("boss")
        );
    }
}
