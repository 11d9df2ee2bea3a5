//! Who may sign an agency's contracts: its users with the signatory role, and the external
//! signatories an admin has named for it. Nobody else is named on a contract or mailed about it.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Email;

/// Someone outside the agency an admin allows to sign its contracts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ExternalSignatory {
    pub agency_id: Uuid,
    pub email: String,
    pub name: String,
    /// Whom they sign for, e.g. 某某律师事务所.
    pub organisation: String,
    pub added_by: Option<Uuid>,
    pub added_at: DateTime<Utc>,
}

/// The addresses that may sign one agency's contracts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Signers(BTreeSet<String>);

impl Signers {
    pub fn new(addresses: impl IntoIterator<Item = String>) -> Self {
        Self(addresses.into_iter().collect())
    }

    /// Every address, in order.
    pub fn addresses(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    pub fn allows(&self, email: &str) -> bool {
        self.0.contains(email)
    }

    /// The positions in `named` of the addresses that may not sign.
    pub fn refused(&self, named: &[Email]) -> Vec<usize> {
        named
            .iter()
            .enumerate()
            .filter(|(_, email)| !self.allows(email.as_str()))
            .map(|(i, _)| i)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_signers_may_sign() {
        let signers = Signers::new(["signer@a.gov.cn".to_owned(), "lawyer@firm.cn".to_owned()]);
        let named = [
            Email::parse("signer@a.gov.cn").unwrap(),
            Email::parse("attacker@evil.example").unwrap(),
        ];
        assert_eq!(signers.refused(&named), [1]);
        assert!(signers.allows("lawyer@firm.cn"));
    }
}
