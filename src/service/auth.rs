//! Sign-in, bearer tokens and sign-out. Tokens are random, shown once, stored only as SHA-256.
//! Failed sign-ins are counted per account and per client address in the database, so the limit
//! holds across every service instance.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use chrono::Duration;
use sha2::{Digest, Sha256};

use super::views::TokenView;
use super::{Service, now, password};
use crate::domain::User;
use crate::domain::field::has_control;
use crate::domain::{Email, Principal};
use crate::error::{Error, Result};
use crate::store::TokenRecord;

const TOKEN_PREFIX: &str = "crv_";
/// Longer than any address we store; a sign-in with more is not worth a database round trip.
const MAX_EMAIL_CHARS: usize = 320;

/// SHA-256 of a presented token, the form in which tokens are stored and looked up.
fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

impl Service {
    /// Checks the password and issues a bearer token.
    ///
    /// # Errors
    /// 401 for a wrong e-mail or password or an inactive account (indistinguishable on purpose),
    /// 429 while the account or the address has too many recent failures.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn login(&self, email: &str, password: &str, address: &str) -> Result<TokenView> {
        if has_control(email) || email.chars().count() > MAX_EMAIL_CHARS {
            return Err(Error::invalid(
                "email",
                "不是有效的电子邮件地址 / not a valid e-mail address",
            ));
        }
        let email = Email::parse(email)
            .map(|e| e.to_string())
            .unwrap_or_else(|_| email.trim().to_lowercase());
        let at = now();
        let window = Duration::minutes(i64::from(self.auth.login_window_minutes));
        let (account_failures, address_failures) = self
            .store
            .login_failures_since(&email, address, at - window)
            .await?;
        if account_failures >= i64::from(self.auth.login_max_failures_per_account)
            || address_failures >= i64::from(self.auth.login_max_failures_per_address)
        {
            tracing::warn!(%email, %address, "sign-in refused: too many recent failures");
            return Err(Error::TooManyRequests {
                retry_after_secs: u64::from(self.auth.login_window_minutes) * 60,
            });
        }

        let credentials = self.store.credentials(&email).await?;
        let stored_hash = credentials
            .as_ref()
            .map_or_else(|| self.decoy_hash.to_string(), |c| c.password_hash.clone());
        let matches = password::verify(password.to_owned(), stored_hash).await?;
        let user_id = match credentials {
            Some(c) if matches && c.active => c.user_id,
            _ => {
                self.store.record_login_failure(&email, address, at).await?;
                tracing::info!(%email, %address, "sign-in failed");
                return Err(Error::Unauthorized);
            }
        };

        self.store.clear_login_failures(&email).await?;
        let token = new_token();
        let expires_at = at + Duration::hours(i64::from(self.auth.token_ttl_hours));
        self.store
            .issue_token(&TokenRecord {
                token_hash: token_hash(&token),
                user_id,
                created_at: at,
                expires_at,
            })
            .await?;
        let user = self
            .store
            .user(user_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("user {user_id} vanished during sign-in"))?;
        Ok(TokenView {
            token,
            token_type: "Bearer",
            expires_at,
            user,
        })
    }

    /// The active user behind a bearer token.
    ///
    /// # Errors
    /// 401 for an unknown, expired or revoked token or a deactivated user.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn authenticate(&self, token: &str) -> Result<Principal> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Err(Error::Unauthorized);
        }
        self.store
            .principal_by_token(&token_hash(token), now())
            .await?
            .ok_or(Error::Unauthorized)
    }

    /// Revokes the token.
    ///
    /// # Errors
    /// Only on a database failure.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn logout(&self, token: &str) -> Result<()> {
        Ok(self.store.revoke_token(&token_hash(token)).await?)
    }

    /// Checks the signed-in user's password again, before an act they must take in person
    /// (signing a contract).
    ///
    /// # Errors
    /// 422 on the `password` field when it is wrong.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id))]
    pub async fn confirm_password(&self, principal: &Principal, password: &str) -> Result<()> {
        let credentials = self
            .store
            .credentials(&principal.email)
            .await?
            .ok_or(Error::Unauthorized)?;
        if password.is_empty()
            || !password::verify(password.to_owned(), credentials.password_hash).await?
        {
            return Err(Error::invalid(
                "password",
                "密码不正确，未签署 / the password is not correct; nothing was signed",
            ));
        }
        Ok(())
    }

    /// Changes the signed-in user's password after checking the current one; every other session
    /// of the user ends, the one presenting `token` stays signed in.
    ///
    /// # Errors
    /// 422 naming `current_password` when it is wrong, `new_password` when it breaks the policy.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id))]
    pub async fn change_password(
        &self,
        principal: &Principal,
        token: &str,
        current: &str,
        new: &str,
    ) -> Result<()> {
        let credentials = self
            .store
            .credentials(&principal.email)
            .await?
            .ok_or(Error::Unauthorized)?;
        if !password::verify(current.to_owned(), credentials.password_hash).await? {
            return Err(Error::invalid(
                "current_password",
                "当前密码不正确 / the current password is wrong",
            ));
        }
        password::check_policy(new).map_err(|message| Error::invalid("new_password", message))?;
        let hash = password::hash(new.to_owned()).await?;
        let audit = super::Caller::User(principal).audit();
        self.store
            .set_password(principal.user_id, &hash, &token_hash(token), audit)
            .await?;
        Ok(())
    }

    /// What people read for a user: their name, or their id when the account is gone.
    ///
    /// # Errors
    /// Only on a database failure.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn user_name(&self, id: uuid::Uuid) -> Result<String> {
        Ok(self
            .store
            .user(id)
            .await?
            .map_or_else(|| id.to_string(), |u| u.name))
    }

    /// The signed-in user's own record.
    ///
    /// # Errors
    /// 404 if the user was deleted meanwhile.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id))]
    pub async fn me(&self, principal: &Principal) -> Result<User> {
        let user = self.store.user(principal.user_id).await?;
        user.ok_or_else(|| Error::not_found("用户不存在 / user not found"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_prefixed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 64);
        assert_eq!(token_hash(&a).len(), 64);
    }
}
