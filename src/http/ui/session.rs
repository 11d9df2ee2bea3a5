//! Web sessions: the bearer token the sign-in issued, kept in an HttpOnly cookie, and a CSRF
//! token derived from it that every form carries. Before sign-in, the login form is protected
//! by a random token in its own cookie (double submit).

use argon2::password_hash::rand_core::{OsRng, RngCore};
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use minijinja::{Value, context};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::domain::{Principal, Role};
use crate::error::Error;
use crate::http::AppState;

pub const SESSION_COOKIE: &str = "cr_session";
pub const LOGIN_CSRF_COOKIE: &str = "cr_login_csrf";

/// The signed-in user of a page request.
pub struct Session {
    pub principal: Principal,
    pub token: String,
    pub csrf: String,
    /// How many contracts wait for this user (待办), shown in every page's header.
    pub waiting: i64,
}

/// The CSRF token of a session: bound to it, unguessable without the HttpOnly cookie.
fn csrf_of(token: &str) -> String {
    hex::encode(Sha256::digest(format!("csrf\0{token}").as_bytes()))
}

pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Whether two tokens are equal, in time independent of where they differ.
pub fn tokens_match(presented: &str, expected: &str) -> bool {
    !expected.is_empty() && bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
}

/// A cookie only this site's pages send back, never readable by scripts.
pub fn private_cookie(
    name: &'static str,
    value: String,
    secure: bool,
    max_age_secs: i64,
) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .build()
}

/// Removes a cookie set by [`private_cookie`].
pub fn expired_cookie(name: &'static str) -> Cookie<'static> {
    let mut cookie = Cookie::build((name, "")).path("/").build();
    cookie.make_removal();
    cookie
}

impl Session {
    /// What every page's layout needs: who is signed in, what they may open, the CSRF token.
    pub fn layout(&self) -> Value {
        let p = &self.principal;
        let roles: Vec<&str> = p.roles.iter().map(|r| r.as_str()).collect();
        context! {
            user => context! { name => p.name, email => p.email, roles => roles },
            csrf => self.csrf,
            waiting_count => self.waiting,
            can => context! {
                submit => p.has(Role::Submitter),
                review => p.has(Role::Reviewer) || p.has(Role::LeadReviewer),
                sign => p.has(Role::Signatory),
                admin => p.has(Role::Admin),
                audit => p.has(Role::Auditor),
                judgments => p.has(Role::Admin) || p.has(Role::Reviewer) || p.has(Role::LeadReviewer),
            },
        }
    }

    /// Refuses a form whose CSRF field is not this session's token.
    pub fn check_csrf(&self, presented: &str) -> Result<(), Error> {
        if tokens_match(presented, &self.csrf) {
            Ok(())
        } else {
            Err(csrf_refused())
        }
    }
}

pub fn csrf_refused() -> Error {
    Error::forbidden(
        "表单已过期或来源不明，请返回刷新后重试 / the form expired or did not come from this site; go back, reload and retry",
    )
}

impl<S> FromRequestParts<S> for Session
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        // Unauthorized becomes the way to the sign-in page, and back, in `error_pages`.
        let jar = CookieJar::from_headers(&parts.headers);
        let token = jar
            .get(SESSION_COOKIE)
            .map(|c| c.value().to_owned())
            .ok_or(Error::Unauthorized)?;
        let principal = state.service.authenticate(&token).await?;
        tracing::Span::current().record("user_id", tracing::field::display(principal.user_id));
        let waiting = state.service.waiting_count(&principal).await?;
        Ok(Session {
            waiting,
            principal,
            csrf: csrf_of(&token),
            token,
        })
    }
}
