//! `Idempotency-Key`: the header, checked once for every state-changing endpoint, and the answer
//! to a retried request, marked as the first answer repeated.

use axum::Json;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::Error;
use crate::service::contracts::parse_idempotency_key;
use crate::service::idempotency::Idempotent;

/// The request's `Idempotency-Key`, if it sent one (400 when it is malformed).
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get("idempotency-key") else {
            return Ok(Self(None));
        };
        let text = value.to_str().map_err(|_| Error::BadRequest {
            detail: "Idempotency-Key 须为可见 ASCII 字符 / Idempotency-Key must be printable ASCII"
                .into(),
            field: Some("Idempotency-Key".into()),
        })?;
        parse_idempotency_key(text).map(|key| Self(Some(key)))
    }
}

/// `value` as JSON with `status`; a replayed answer also says `Idempotent-Replayed: true`.
pub fn respond<T: Serialize>(status: StatusCode, outcome: Idempotent<T>) -> Response {
    let replayed = matches!(outcome, Idempotent::Replayed(_));
    let mut response = (status, Json(outcome.into_inner())).into_response();
    if replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}
