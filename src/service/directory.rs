//! Agencies and users. An admin manages the agencies and users at or below their own agency;
//! the operator (the command line) manages everything, including root agencies.

use uuid::Uuid;

use super::{Caller, Service, password};
use crate::domain::access::may_grant;
use crate::domain::field::bounded_text;
use crate::domain::{Agency, User};
use crate::domain::{Email, FieldErrors, Principal, Role, Roles};
use crate::error::{Error, Result};
use crate::store::NewUser;

const MAX_NAME_CHARS: usize = 100;

/// A new user as an admin or the operator describes it.
#[derive(Debug, Clone)]
pub struct UserInput {
    pub email: String,
    pub name: String,
    pub agency_id: Uuid,
    pub roles: Vec<String>,
    pub password: String,
}

fn user_not_found() -> Error {
    Error::not_found("用户不存在 / user not found")
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

/// A 文号 prefix as typed: a few characters, nothing that would break the number's form.
fn letter_prefix(raw: &str) -> std::result::Result<String, String> {
    let prefix = bounded_text(raw, 16)?;
    if prefix
        .chars()
        .any(|c| c.is_whitespace() || "〔〕[]()（）".contains(c) || c.is_ascii_digit())
    {
        return Err("文号前缀不能含空格、括号或数字，如“示司审” / the prefix may not hold spaces, brackets or digits, e.g. 示司审".into());
    }
    Ok(prefix)
}

fn require_directory_reader(principal: &Principal) -> Result<()> {
    if principal.has(Role::Admin) || principal.has(Role::Auditor) {
        Ok(())
    } else {
        Err(Error::forbidden(
            "需要管理员或审计员角色 / the admin or auditor role is required",
        ))
    }
}

impl Service {
    /// Refuses a change that would give (or take from) someone a view wider than the caller's
    /// own: the auditor's, over every agency.
    async fn require_may_grant(&self, caller: Caller<'_>, roles: &[Role]) -> Result<()> {
        let Caller::User(principal) = caller else {
            return Ok(());
        };
        if !roles.contains(&Role::Auditor) {
            return Ok(());
        }
        let roots = self.store.root_agencies().await?;
        let covers_all = roots.as_slice() == [principal.agency_id];
        if may_grant(&principal.roles, covers_all, roles) {
            Ok(())
        } else {
            Err(Error::forbidden(
                "不能授予或管理超出您自身查看范围的角色（审计员可查看所有机构）/ you cannot grant or manage a role that sees further than you do (an auditor reads every agency)",
            ))
        }
    }

    /// An admin may act on `agency` only if it lies at or below their own agency.
    async fn require_within_jurisdiction(
        &self,
        actor: Caller<'_>,
        agency: Uuid,
        field: &str,
    ) -> Result<()> {
        match actor {
            Caller::Operator => Ok(()),
            Caller::User(principal) => {
                if self
                    .store
                    .agency_within(agency, principal.agency_id)
                    .await?
                {
                    Ok(())
                } else {
                    Err(Error::invalid(
                        field,
                        "该机构不在您的管辖范围内 / that agency is outside your jurisdiction",
                    ))
                }
            }
        }
    }

    /// `opinion_prefix` numbers the office's review letters (示司审 in 示司审〔2026〕12号).
    ///
    /// # Errors
    /// 403 without the admin role; 422 for a bad name or prefix, or a parent outside the admin's
    /// jurisdiction (admins cannot create root agencies); 409 when the name or prefix is taken.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_agency(
        &self,
        actor: Caller<'_>,
        name: &str,
        parent_id: Option<Uuid>,
        opinion_prefix: Option<&str>,
    ) -> Result<Agency> {
        if let Caller::User(principal) = actor {
            require_admin(principal)?;
        }
        let name = bounded_text(name, MAX_NAME_CHARS)
            .map_err(|message| Error::invalid("name", message))?;
        let opinion_prefix = opinion_prefix
            .filter(|p| !p.trim().is_empty())
            .map(letter_prefix)
            .transpose()
            .map_err(|message| Error::invalid("opinion_prefix", message))?;
        match (parent_id, actor) {
            (Some(parent), _) => {
                if self.store.agency(parent).await?.is_none() {
                    return Err(Error::invalid(
                        "parent_id",
                        "上级机构不存在 / no such parent agency",
                    ));
                }
                self.require_within_jurisdiction(actor, parent, "parent_id")
                    .await?;
            }
            (None, Caller::User(_)) => {
                return Err(Error::invalid(
                    "parent_id",
                    "须指定上级机构 / a parent agency is required (root agencies are created by the operator)",
                ));
            }
            (None, Caller::Operator) => {}
        }
        let audit = actor.audit();
        let agency = Agency {
            id: Uuid::now_v7(),
            name,
            parent_id,
            opinion_prefix,
            created_at: audit.at,
        };
        self.store.create_agency(&agency, audit).await?;
        Ok(agency)
    }

    /// # Errors
    /// 403 without the admin or auditor role.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id))]
    pub async fn list_agencies(&self, principal: &Principal) -> Result<Vec<Agency>> {
        require_directory_reader(principal)?;
        Ok(self.store.list_agencies(principal.visibility()).await?)
    }

    /// The agencies whose court judgments the caller may register: an admin's, and a reviewer's
    /// or lead reviewer's jurisdiction (they keep the register).
    ///
    /// # Errors
    /// 403 for other roles.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id))]
    pub async fn register_agencies(&self, principal: &Principal) -> Result<Vec<Agency>> {
        let keepers = [Role::Admin, Role::Reviewer, Role::LeadReviewer];
        if !keepers.iter().any(|role| principal.has(*role)) {
            return Err(Error::forbidden(
                "需要管理员或审查人角色 / the admin or reviewer role is required",
            ));
        }
        Ok(self.store.list_agencies(principal.visibility()).await?)
    }

    /// Looks an agency up by its exact name (for the command line).
    ///
    /// # Errors
    /// 404 when there is none.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn agency_named(&self, name: &str) -> Result<Agency> {
        let agency = self.store.agency_by_name(name.trim()).await?;
        agency.ok_or_else(|| {
            Error::not_found(format!(
                "没有名为 {name:?} 的机构 / no agency named {name:?}"
            ))
        })
    }

    /// # Errors
    /// 403 without the admin role; 422 naming every invalid field; 409 when the e-mail is taken.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_user(&self, actor: Caller<'_>, input: UserInput) -> Result<User> {
        if let Caller::User(principal) = actor {
            require_admin(principal)?;
        }
        let mut errors = FieldErrors::default();
        let email = errors.check("email", Email::parse(&input.email));
        let name = errors.check("name", bounded_text(&input.name, MAX_NAME_CHARS));
        let roles = errors.check(
            "roles",
            input
                .roles
                .iter()
                .map(|r| Role::parse(r))
                .collect::<Result<Vec<_>, _>>()
                .and_then(Roles::new),
        );
        errors.check("password", password::check_policy(&input.password));
        let (Some(email), Some(name), Some(roles)) = (email, name, roles) else {
            return Err(Error::Invalid(errors.into_vec()));
        };
        if !errors.is_empty() {
            return Err(Error::Invalid(errors.into_vec()));
        }
        self.require_may_grant(actor, &roles.to_vec()).await?;
        if self.store.agency(input.agency_id).await?.is_none() {
            return Err(Error::invalid("agency_id", "机构不存在 / no such agency"));
        }
        self.require_within_jurisdiction(actor, input.agency_id, "agency_id")
            .await?;

        let password_hash = password::hash(input.password).await?;
        let audit = actor.audit();
        let user = User {
            id: Uuid::now_v7(),
            email: email.to_string(),
            name,
            agency_id: input.agency_id,
            roles: roles.to_vec(),
            active: true,
            created_at: audit.at,
        };
        let new = NewUser {
            user,
            password_hash,
        };
        self.store.create_user(&new, audit).await?;
        Ok(new.user)
    }

    /// # Errors
    /// 403 without the admin or auditor role.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id))]
    pub async fn list_users(&self, principal: &Principal) -> Result<Vec<User>> {
        require_directory_reader(principal)?;
        Ok(self.store.list_users(principal.visibility()).await?)
    }

    /// Replaces a user's roles.
    ///
    /// # Errors
    /// 403 without the admin role or for one's own account (no admin can lock themselves out or
    /// grant themselves more); 404 outside the admin's jurisdiction; 422 for unknown roles.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id, target_user = %user_id))]
    pub async fn set_user_roles(
        &self,
        principal: &Principal,
        user_id: Uuid,
        roles: &[String],
    ) -> Result<User> {
        require_admin(principal)?;
        if principal.user_id == user_id {
            return Err(Error::forbidden(
                "不能修改自己的角色 / you cannot change your own roles",
            ));
        }
        let roles = roles
            .iter()
            .map(|r| Role::parse(r))
            .collect::<Result<Vec<_>, _>>()
            .and_then(Roles::new)
            .map_err(|message| Error::invalid("roles", message))?;
        self.require_may_grant(Caller::User(principal), &roles.to_vec())
            .await?;
        let user = self.manageable_user(principal, user_id).await?;
        let audit = Caller::User(principal).audit();
        if !self
            .store
            .set_user_roles(user.id, &roles.to_vec(), audit)
            .await?
        {
            return Err(user_not_found());
        }
        self.store.user(user_id).await?.ok_or_else(user_not_found)
    }

    /// Sets a new password for a user who forgot theirs; every session of that user ends. Admins
    /// change their own password the ordinary way, with the current one.
    ///
    /// # Errors
    /// 403 without the admin role or for one's own account; 404 outside the admin's
    /// jurisdiction; 422 naming `password` when it breaks the policy.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id, target_user = %user_id))]
    pub async fn reset_password(
        &self,
        principal: &Principal,
        user_id: Uuid,
        new_password: &str,
    ) -> Result<()> {
        require_admin(principal)?;
        if principal.user_id == user_id {
            return Err(Error::forbidden(
                "请在“修改密码”中修改自己的密码 / change your own password under Password",
            ));
        }
        let user = self.manageable_user(principal, user_id).await?;
        password::check_policy(new_password)
            .map_err(|message| Error::invalid("password", message))?;
        let hash = password::hash(new_password.to_owned()).await?;
        let audit = Caller::User(principal).audit();
        // No session is kept: the user signs in again with the new password.
        self.store.set_password(user.id, &hash, "", audit).await?;
        Ok(())
    }

    /// A user the admin may manage: within their jurisdiction (404 otherwise) and seeing no
    /// further than they do (403 otherwise).
    async fn manageable_user(&self, principal: &Principal, user_id: Uuid) -> Result<User> {
        let user = self.user_in_jurisdiction(principal, user_id).await?;
        self.require_may_grant(Caller::User(principal), &user.roles)
            .await?;
        Ok(user)
    }

    async fn user_in_jurisdiction(&self, principal: &Principal, user_id: Uuid) -> Result<User> {
        let user = self.store.user(user_id).await?.ok_or_else(user_not_found)?;
        if self
            .store
            .agency_within(user.agency_id, principal.agency_id)
            .await?
        {
            Ok(user)
        } else {
            Err(user_not_found())
        }
    }

    /// Deactivates (their tokens stop working at once) or reactivates a user.
    ///
    /// # Errors
    /// 403 without the admin role or for one's own account; 404 for a user outside the admin's
    /// jurisdiction.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id, target_user = %user_id))]
    pub async fn set_user_active(
        &self,
        principal: &Principal,
        user_id: Uuid,
        active: bool,
    ) -> Result<User> {
        require_admin(principal)?;
        if principal.user_id == user_id {
            return Err(Error::forbidden(
                "不能停用或启用自己的账号 / you cannot change the status of your own account",
            ));
        }
        self.manageable_user(principal, user_id).await?;
        if !self
            .store
            .set_user_active(user_id, active, Caller::User(principal).audit())
            .await?
        {
            return Err(user_not_found());
        }
        self.store.user(user_id).await?.ok_or_else(user_not_found)
    }
}
