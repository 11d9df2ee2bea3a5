//! Who may see and do what. Pure decisions from a principal's roles and agency; the store turns
//! a [`Visibility`] into a SQL filter, the services ask the `may_*` functions before acting.

use uuid::Uuid;

use super::{Role, Roles};

/// Which contracts (and agencies, and users) a principal may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Auditors read everything.
    All,
    /// Reviewers and admins: their agency and every agency below it.
    Subtree(Uuid),
    /// Agency staff: their own agency only.
    Agency(Uuid),
}

impl Visibility {
    /// The broadest view any of the principal's roles grants.
    pub fn of(roles: &Roles, agency_id: Uuid) -> Self {
        if roles.has(Role::Auditor) {
            Visibility::All
        } else if roles.has(Role::Reviewer)
            || roles.has(Role::LeadReviewer)
            || roles.has(Role::Admin)
        {
            Visibility::Subtree(agency_id)
        } else {
            Visibility::Agency(agency_id)
        }
    }
}

/// Whether someone holding `granter` may give a user of their jurisdiction `roles`, or manage
/// a user who holds them: nobody may grant a view wider than their own. Within a jurisdiction
/// every role sees at most that jurisdiction, except the auditor, who reads every agency: only
/// an auditor, or an admin whose jurisdiction is every agency (`covers_all`), may grant that.
pub fn may_grant(granter: &Roles, covers_all: bool, roles: &[Role]) -> bool {
    !roles.contains(&Role::Auditor)
        || granter.has(Role::Auditor)
        || (covers_all && granter.has(Role::Admin))
}

/// Only submitters of the contract's own agency may draft or revise its text.
pub fn may_edit_contract(roles: &Roles, principal_agency: Uuid, contract_agency: Uuid) -> bool {
    roles.has(Role::Submitter) && principal_agency == contract_agency
}

/// An authenticated user, as the HTTP layer hands it to the services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: Uuid,
    pub agency_id: Uuid,
    pub email: String,
    pub name: String,
    pub roles: Roles,
}

impl Principal {
    pub fn has(&self, role: Role) -> bool {
        self.roles.has(role)
    }

    pub fn visibility(&self) -> Visibility {
        Visibility::of(&self.roles, self.agency_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadest_role_wins() {
        let agency = Uuid::now_v7();
        let roles = |list: &str| Roles::parse_list(list).unwrap();
        assert_eq!(
            Visibility::of(&roles("submitter"), agency),
            Visibility::Agency(agency)
        );
        assert_eq!(
            Visibility::of(&roles("submitter,reviewer"), agency),
            Visibility::Subtree(agency)
        );
        assert_eq!(
            Visibility::of(&roles("admin"), agency),
            Visibility::Subtree(agency)
        );
        assert_eq!(
            Visibility::of(&roles("auditor,submitter"), agency),
            Visibility::All
        );
    }

    #[test]
    fn nobody_grants_a_wider_view_than_their_own() {
        let admin = Roles::parse_list("admin").unwrap();
        let auditing_admin = Roles::parse_list("admin,auditor").unwrap();
        assert!(may_grant(
            &admin,
            false,
            &[Role::Reviewer, Role::Admin, Role::Submitter]
        ));
        assert!(!may_grant(&admin, false, &[Role::Submitter, Role::Auditor]));
        assert!(
            may_grant(&admin, true, &[Role::Auditor]),
            "the admin of the whole tree"
        );
        assert!(may_grant(&auditing_admin, false, &[Role::Auditor]));
    }

    #[test]
    fn only_own_agency_submitters_edit() {
        let (mine, other) = (Uuid::now_v7(), Uuid::now_v7());
        let submitter = Roles::parse_list("submitter").unwrap();
        let reviewer = Roles::parse_list("reviewer").unwrap();
        assert!(may_edit_contract(&submitter, mine, mine));
        assert!(!may_edit_contract(&submitter, mine, other));
        assert!(!may_edit_contract(&reviewer, mine, mine));
    }
}
