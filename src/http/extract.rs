//! Request extractors whose rejections speak our problem+json: JSON bodies (naming the bad field),
//! query strings, path ids, the bearer-token principal and the client's address.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::AppState;
use crate::domain::Principal;
use crate::error::Error;

/// A JSON body. Unknown fields, wrong types and malformed JSON are refused with the offending
/// field named; bodies over the size limit get 413.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !has_json_content_type(&request) {
            return Err(Error::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    Error::PayloadTooLarge
                } else {
                    Error::BadRequest {
                        detail: format!(
                            "无法读取请求体 / could not read the request body: {}",
                            rejection.body_text()
                        ),
                        field: None,
                    }
                }
            })?;
        parse_json(&bytes).map(ApiJson)
    }
}

pub(super) fn has_json_content_type<B>(request: &axum::http::Request<B>) -> bool {
    let Some(value) = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Deserialises `bytes`, reporting the JSON path of the first problem.
pub(super) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let message = inner.to_string();
        match inner.classify() {
            serde_json::error::Category::Data => match named_field(&message) {
                Some(field) => Error::invalid(field, message),
                None if path != "." => Error::invalid(path, message),
                None => Error::BadRequest {
                    detail: format!(
                        "请求体须为 JSON 对象 / the request body must be a JSON object: {message}"
                    ),
                    field: None,
                },
            },
            _ => Error::BadRequest {
                detail: format!(
                    "请求体不是有效的 JSON / the request body is not valid JSON: {message}"
                ),
                field: (path != ".").then_some(path),
            },
        }
    })?;
    deserializer.end().map_err(|error| Error::BadRequest {
        detail: format!("JSON 之后有多余内容 / trailing characters after the JSON value: {error}"),
        field: None,
    })?;
    Ok(value)
}

/// serde reports unknown and missing fields at their parent's path; the name is in the message.
fn named_field(message: &str) -> Option<String> {
    let rest = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("missing field `"))?;
    rest.split('`').next().map(str::to_owned)
}

/// A query string, refused with 400 when it does not parse.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|rejection| Error::BadRequest {
                detail: format!(
                    "查询参数无效 / invalid query parameters: {}",
                    rejection.body_text()
                ),
                field: None,
            })
    }
}

/// Path parameters; an id that does not parse names nothing that exists, hence 404.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|_| Error::not_found("未找到 / no such resource"))
    }
}

/// The signed-in user behind the request's bearer token (401 otherwise).
pub struct Auth {
    pub principal: Principal,
    pub token: String,
}

impl<S> FromRequestParts<S> for Auth
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                value
                    .strip_prefix("Bearer ")
                    .or_else(|| value.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or(Error::Unauthorized)?
            .to_owned();
        let principal = state.service.authenticate(&token).await?;
        tracing::Span::current().record("user_id", tracing::field::display(principal.user_id));
        Ok(Auth { principal, token })
    }
}

/// The client's address, for per-address limits: the connection's peer, or the first address
/// in the header an operator configured when the service runs behind a reverse proxy.
pub struct ClientAddr(pub String);

impl<S> FromRequestParts<S> for ClientAddr
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let forwarded = state.http.client_ip_header.as_deref().and_then(|name| {
            let value = parts.headers.get(name)?.to_str().ok()?;
            let first = value.split(',').next()?.trim();
            (!first.is_empty()).then(|| first.to_owned())
        });
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string());
        Ok(ClientAddr(
            forwarded.or(peer).unwrap_or_else(|| "unknown".to_owned()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        name: String,
        amount: i64,
    }

    fn field_of(error: Error) -> Option<String> {
        match error {
            Error::Invalid(errors) => errors.first().map(|e| e.field.clone()),
            Error::BadRequest { field, .. } => field,
            _ => None,
        }
    }

    #[test]
    fn names_the_field_with_the_wrong_type() {
        let error = parse_json::<Sample>(br#"{"name": "x", "amount": "ten"}"#).unwrap_err();
        assert_eq!(field_of(error), Some("amount".into()));
    }

    #[test]
    fn names_an_unknown_field() {
        let error =
            parse_json::<Sample>(br#"{"name": "x", "amount": 1, "colour": 2}"#).unwrap_err();
        assert_eq!(field_of(error), Some("colour".into()));
    }

    #[test]
    fn refuses_malformed_json_and_trailing_garbage() {
        assert!(matches!(
            parse_json::<Sample>(b"{\"name\":"),
            Err(Error::BadRequest { .. })
        ));
        assert!(matches!(
            parse_json::<Sample>(br#"{"name": "x", "amount": 1} extra"#),
            Err(Error::BadRequest { .. })
        ));
        assert!(matches!(
            parse_json::<Sample>(b"{\"name\": \"\xff\", \"amount\": 1}"),
            Err(Error::BadRequest { .. })
        ));
    }
}
