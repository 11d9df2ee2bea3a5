//! Posted forms, URL-encoded or multipart (for uploaded drafts and materials), read into
//! name/value pairs and files after their CSRF field was checked against the session or the
//! sign-in cookie.

use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum_extra::extract::cookie::CookieJar;

use super::session::{LOGIN_CSRF_COOKIE, Session, csrf_refused, tokens_match};
use crate::domain::Upload;
use crate::error::Error;
use crate::http::AppState;
use crate::http::upload;

pub const CSRF_FIELD: &str = "csrf";

/// The fields of a posted form, in order (a name may repeat: checkboxes), and its files.
#[derive(Debug, Default)]
pub struct Fields(Vec<(String, String)>, Vec<(String, Upload)>);

impl Fields {
    /// The first value of `name`, or "" when absent.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The trimmed value, `None` when absent or blank.
    pub fn optional(&self, name: &str) -> Option<String> {
        let value = self.get(name).trim();
        (!value.is_empty()).then(|| value.to_owned())
    }

    /// An uploaded file; `None` when no file was chosen.
    pub fn file(&self, name: &str) -> Option<&Upload> {
        self.1
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, upload)| upload)
    }

    /// Every field name, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(n, _)| n.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Every field but the CSRF token, to show a rejected form again as it was typed.
    pub fn echo(&self) -> std::collections::BTreeMap<&str, &str> {
        self.0
            .iter()
            .filter(|(n, _)| n != CSRF_FIELD)
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }
}

/// A date typed into a date input, `YYYY-MM-DD`.
pub fn parse_date(raw: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| "日期格式为 YYYY-MM-DD / dates look like 2026-11-27".to_owned())
}

fn malformed(detail: impl std::fmt::Display) -> Error {
    Error::BadRequest {
        detail: format!("表单无法读取 / the form could not be read: {detail}"),
        field: None,
    }
}

async fn read_fields(request: Request, state: &AppState) -> Result<Fields, Error> {
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let limits = state.service.upload_limits();
        let parts = upload::read(request, limits.file_bytes, state.http.max_body_bytes).await?;
        Ok(Fields(parts.texts, parts.files))
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        let axum::Form(pairs) = axum::Form::<Vec<(String, String)>>::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    Error::PayloadTooLarge
                } else {
                    malformed(rejection.body_text())
                }
            })?;
        Ok(Fields(pairs, Vec::new()))
    } else {
        Err(Error::UnsupportedMediaType)
    }
}

/// A form posted by a signed-in user, its CSRF token checked.
pub struct SessionForm {
    pub session: Session,
    pub fields: Fields,
}

impl<S> FromRequest<S> for SessionForm
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let session = Session::from_request_parts(&mut parts, state).await?;
        let state = AppState::from_ref(state);
        let fields = read_fields(Request::from_parts(parts, body), &state).await?;
        session.check_csrf(fields.get(CSRF_FIELD))?;
        Ok(Self { session, fields })
    }
}

/// The sign-in form: its CSRF field must match the cookie the form page set.
pub struct LoginForm(pub Fields);

impl<S> FromRequest<S> for LoginForm
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let expected = CookieJar::from_headers(request.headers())
            .get(LOGIN_CSRF_COOKIE)
            .map(|c| c.value().to_owned())
            .unwrap_or_default();
        let fields = read_fields(request, &state).await?;
        if tokens_match(fields.get(CSRF_FIELD), &expected) {
            Ok(Self(fields))
        } else {
            Err(csrf_refused())
        }
    }
}
