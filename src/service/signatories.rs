//! Who may sign an agency's contracts. The signatories named on a contract must be users of its
//! agency with the signatory role, or external signatories an admin named for the agency: so the
//! approved contract, and the review's opinion with it, is never mailed to an address somebody
//! merely typed.

use uuid::Uuid;

use super::{Caller, Service};
use crate::domain::field::bounded_text;
use crate::domain::{ContractDraft, Email, ExternalSignatory, FieldErrors, Principal, Role};
use crate::error::{Error, Result};

const MAX_NAME_CHARS: usize = 100;

/// An external signatory as an admin names them.
#[derive(Debug, Clone)]
pub struct ExternalSignatoryInput {
    pub email: String,
    pub name: String,
    pub organisation: String,
}

fn require_admin(principal: &Principal) -> Result<()> {
    if principal.has(Role::Admin) {
        Ok(())
    } else {
        Err(Error::forbidden(
            "需要管理员角色 / the admin role is required",
        ))
    }
}

impl Service {
    /// Refuses a draft naming someone who may not sign for `agency_id`, each such address named.
    ///
    /// # Errors
    /// 422 naming `signatories[i]` for each one.
    pub(super) async fn require_signers(
        &self,
        agency_id: Uuid,
        draft: &ContractDraft,
    ) -> Result<()> {
        let signers = self.store.signers(agency_id).await?;
        let mut errors = FieldErrors::default();
        for (i, raw) in draft.signatories.iter().enumerate() {
            let Ok(email) = Email::parse(raw) else {
                continue; // reported by the intake check
            };
            if !signers.allows(email.as_str()) {
                errors.add(
                    format!("signatories[{i}]"),
                    format!(
                        "{email} 不是本机构的签署人，也未被登记为外部签署人 / {email} is neither a signatory of this agency nor a listed external signatory"
                    ),
                );
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(errors.into_vec()))
        }
    }

    /// Who may sign the caller's agency's contracts, for the new-contract form.
    ///
    /// # Errors
    /// Only on database failures.
    pub async fn signers_of_my_agency(&self, principal: &Principal) -> Result<Vec<String>> {
        let signers = self.store.signers(principal.agency_id).await?;
        Ok(signers.addresses().map(str::to_owned).collect())
    }

    /// Of the addresses named on a contract of `agency_id`, those that may still sign (a
    /// signatory may have left, or lost the role, since).
    pub(super) async fn current_signers(
        &self,
        agency_id: Uuid,
        named: &[String],
    ) -> Result<Vec<String>> {
        let signers = self.store.signers(agency_id).await?;
        Ok(named
            .iter()
            .filter(|email| signers.allows(email))
            .cloned()
            .collect())
    }

    /// # Errors
    /// 403 without the admin role; 404 for an agency outside the admin's jurisdiction.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id))]
    pub async fn external_signatories(
        &self,
        principal: &Principal,
        agency_id: Uuid,
    ) -> Result<Vec<ExternalSignatory>> {
        require_admin(principal)?;
        self.require_agency_in_view(principal, agency_id).await?;
        Ok(self.store.external_signatories(agency_id).await?)
    }

    /// Names someone outside the agency who may sign its contracts.
    ///
    /// # Errors
    /// 403 without the admin role; 404 outside the admin's jurisdiction; 422 naming each bad
    /// field; 409 when the address is listed already.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id))]
    pub async fn add_external_signatory(
        &self,
        principal: &Principal,
        agency_id: Uuid,
        input: ExternalSignatoryInput,
    ) -> Result<ExternalSignatory> {
        require_admin(principal)?;
        self.require_agency_in_view(principal, agency_id).await?;
        let mut errors = FieldErrors::default();
        let email = errors.check("email", Email::parse(&input.email));
        let name = errors.check("name", bounded_text(&input.name, MAX_NAME_CHARS));
        let organisation = errors.check(
            "organisation",
            bounded_text(&input.organisation, MAX_NAME_CHARS),
        );
        let (Some(email), Some(name), Some(organisation)) = (email, name, organisation) else {
            return Err(Error::Invalid(errors.into_vec()));
        };
        let audit = Caller::User(principal).audit();
        let signatory = ExternalSignatory {
            agency_id,
            email: email.to_string(),
            name,
            organisation,
            added_by: Some(principal.user_id),
            added_at: audit.at,
        };
        self.store.add_external_signatory(&signatory, audit).await?;
        Ok(signatory)
    }

    /// Ends an external signatory's listing; contracts naming them can no longer be signed by
    /// them, nor mailed to them.
    ///
    /// # Errors
    /// 403 without the admin role; 404 outside the jurisdiction or for an address not listed.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id))]
    pub async fn remove_external_signatory(
        &self,
        principal: &Principal,
        agency_id: Uuid,
        email: &str,
    ) -> Result<()> {
        require_admin(principal)?;
        self.require_agency_in_view(principal, agency_id).await?;
        let email = email.trim().to_lowercase();
        let audit = Caller::User(principal).audit();
        if self
            .store
            .remove_external_signatory(agency_id, &email, audit)
            .await?
        {
            Ok(())
        } else {
            Err(Error::not_found(
                "该机构没有登记这位外部签署人 / no such external signatory for this agency",
            ))
        }
    }

    async fn require_agency_in_view(&self, principal: &Principal, agency_id: Uuid) -> Result<()> {
        if self
            .store
            .agency_within(agency_id, principal.agency_id)
            .await?
        {
            Ok(())
        } else {
            Err(Error::not_found("机构不存在 / no such agency"))
        }
    }
}
