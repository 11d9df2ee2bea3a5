//! Deputies: a reviewer names a colleague to decide in their name for a range of dates. The
//! deputy's decisions are recorded with both names.

use chrono::{Days, NaiveDate};
use uuid::Uuid;

use super::{Caller, Service, now};
use crate::domain::Delegation;
use crate::domain::{Email, FieldErrors, Principal, Role, Roles};
use crate::error::{Error, Result};
use crate::workflow::calendar::beijing_date;

/// The longest delegation, in days: a year covers any leave.
pub const MAX_DELEGATION_DAYS: u64 = 366;

#[derive(Debug, Clone)]
pub struct DelegationInput {
    pub deputy_email: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

fn is_reviewer(roles: &[Role]) -> bool {
    roles.contains(&Role::Reviewer) || roles.contains(&Role::LeadReviewer)
}

impl Service {
    /// # Errors
    /// 403 for a caller who is no reviewer; 422 for an unknown or unsuitable deputy or bad dates.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id))]
    pub async fn create_delegation(
        &self,
        principal: &Principal,
        input: DelegationInput,
    ) -> Result<Delegation> {
        if !is_reviewer(&principal.roles.to_vec()) {
            return Err(Error::forbidden(
                "只有审查人可以指定代理人 / only reviewers can name a deputy",
            ));
        }
        let mut errors = FieldErrors::default();
        let today = beijing_date(now());
        if input.ends_on < input.starts_on {
            errors.add(
                "ends_on",
                "结束日期早于开始日期 / ends_on is before starts_on",
            );
        } else if input.ends_on < today {
            errors.add("ends_on", "结束日期已过 / ends_on is in the past");
        } else if input
            .starts_on
            .checked_add_days(Days::new(MAX_DELEGATION_DAYS))
            .is_some_and(|max| input.ends_on > max)
        {
            errors.add(
                "ends_on",
                "委托期限最长一年 / a delegation lasts at most a year",
            );
        }
        let deputy = match Email::parse(&input.deputy_email) {
            Err(message) => {
                errors.add("deputy_email", message);
                None
            }
            Ok(email) => match self.store.credentials(email.as_str()).await? {
                None => {
                    errors.add("deputy_email", "没有该用户 / no such user");
                    None
                }
                Some(credentials) => self.store.user(credentials.user_id).await?,
            },
        };
        if let Some(deputy) = &deputy {
            if deputy.id == principal.user_id {
                errors.add(
                    "deputy_email",
                    "不能委托给自己 / you cannot be your own deputy",
                );
            } else if !deputy.active || !is_reviewer(&deputy.roles) {
                errors.add(
                    "deputy_email",
                    "代理人须为在职的审查人员 / the deputy must be an active reviewer or lead reviewer",
                );
            }
        }
        let (Some(deputy), true) = (deputy, errors.is_empty()) else {
            return Err(Error::Invalid(errors.into_vec()));
        };
        let audit = Caller::User(principal).audit();
        let delegation = Delegation {
            id: Uuid::now_v7(),
            delegator_id: principal.user_id,
            deputy_id: deputy.id,
            starts_on: input.starts_on,
            ends_on: input.ends_on,
            created_at: audit.at,
            revoked_at: None,
        };
        self.store.create_delegation(&delegation, audit).await?;
        Ok(delegation)
    }

    /// The reviewers who named the caller as deputy for today, as principals whose view and
    /// roles the caller borrows when deciding in their name.
    ///
    /// # Errors
    /// Only on database failures.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id))]
    pub async fn active_delegators(&self, principal: &Principal) -> Result<Vec<Principal>> {
        let today = beijing_date(now());
        let mut delegators = Vec::new();
        for delegation in self.store.delegations_of(principal.user_id).await? {
            if !delegation.lets_act(principal.user_id, today) {
                continue;
            }
            let Some(user) = self.store.user(delegation.delegator_id).await? else {
                continue;
            };
            let Ok(roles) = Roles::new(user.roles.clone()) else {
                continue;
            };
            if user.active {
                delegators.push(Principal {
                    user_id: user.id,
                    agency_id: user.agency_id,
                    email: user.email,
                    name: user.name,
                    roles,
                });
            }
        }
        Ok(delegators)
    }

    /// Delegations the caller gave or received.
    ///
    /// # Errors
    /// Only on database failures.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id))]
    pub async fn list_delegations(&self, principal: &Principal) -> Result<Vec<Delegation>> {
        Ok(self.store.delegations_of(principal.user_id).await?)
    }

    /// Ends a delegation early. The delegator or the deputy may do so.
    ///
    /// # Errors
    /// 404 for a delegation that is not the caller's; 409 when already revoked.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id, id = %id))]
    pub async fn revoke_delegation(&self, principal: &Principal, id: Uuid) -> Result<Delegation> {
        let not_found = || Error::not_found("委托不存在 / delegation not found");
        let delegation = self.store.delegation(id).await?.ok_or_else(not_found)?;
        if principal.user_id != delegation.delegator_id && principal.user_id != delegation.deputy_id
        {
            return Err(not_found());
        }
        if !self
            .store
            .revoke_delegation(id, Caller::User(principal).audit())
            .await?
        {
            return Err(Error::Conflict {
                kind: "/problems/invalid-state",
                detail: "委托已撤销 / the delegation was already revoked".into(),
            });
        }
        self.store.delegation(id).await?.ok_or_else(not_found)
    }
}
