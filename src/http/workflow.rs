//! The review workflow over HTTP: fire a transition, see what may be fired, the history, the
//! audit events and the opinion letter.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::documents::file_download;
use super::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use super::idempotency::{IdempotencyKey, respond};
use crate::domain::{AnswerInput, ContractDetail, ContractTransition};
use crate::error::{Problem, Result};
use crate::service::history::AuditEventView;
use crate::service::opinion::LetterLanguage;
use crate::service::transitions::{AvailableTransition, TransitionRequest};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(fire_transition))
        .routes(routes!(available_transitions))
        .routes(routes!(history))
        .routes(routes!(events))
        .routes(routes!(opinion))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FireRequest {
    /// The contract's `version` as last read.
    pub expected_version: i64,
    /// The review opinion (审查意见), required to approve, return or reject.
    pub opinion: Option<String>,
    /// To sign: the SHA-256 of the approved version the signatory read.
    pub body_sha256: Option<String>,
    /// A deputy acting for this reviewer (needs an active delegation).
    pub on_behalf_of: Option<Uuid>,
    /// `request_materials` (退回补正): what must be supplied or changed, one point each.
    pub points: Option<Vec<String>>,
    /// `submit` after 补正: the answer to each open point (`revised`, `supplied`, or `declined`
    /// with the reason in `note`).
    pub answers: Option<Vec<AnswerInput>>,
    /// `approve` as 修改后同意: the conditions the agency must meet when it signs, one each.
    pub conditions: Option<Vec<String>>,
}

/// Fire a workflow transition: `submit`, `approve`, `return`, `request_materials`, `reject`,
/// `withdraw`, `sign`.
///
/// One transaction changes the state (if `expected_version` still holds), records the history,
/// the audit event and the notifications. Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/contracts/{id}/transitions/{name}", tag = "workflow", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("name" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = FireRequest,
    responses(
        (status = 200, description = "The contract after the transition", body = ContractDetail),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A role, agency or jurisdiction that may not act", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract in view, or no such transition", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not possible in the current state, or a stale expected_version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A guard failed (named in `guard`) or an input is missing (named in `field`)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn fire_transition(
    State(state): State<AppState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    ApiPath((id, name)): ApiPath<(Uuid, String)>,
    ApiJson(request): ApiJson<FireRequest>,
) -> Result<Response> {
    let request = TransitionRequest {
        expected_version: request.expected_version,
        opinion: request.opinion,
        body_sha256: request.body_sha256,
        on_behalf_of: request.on_behalf_of,
        points: request.points,
        answers: request.answers,
        conditions: request.conditions,
    };
    let outcome = state
        .service
        .fire_transition(&auth.principal, id, &name, request, key)
        .await?;
    Ok(respond(StatusCode::OK, outcome))
}

/// The transitions the caller may fire now, with the inputs each needs.
#[utoipa::path(get, path = "/contracts/{id}/transitions", tag = "workflow", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "Possible transitions", body = [AvailableTransition]),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract in view", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn available_transitions(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<AvailableTransition>>> {
    Ok(Json(
        state
            .service
            .available_transitions(&auth.principal, id)
            .await?,
    ))
}

/// The workflow history: every transition with its actor, deputy and opinion.
#[utoipa::path(get, path = "/contracts/{id}/history", tag = "workflow", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "Transitions, oldest first", body = [ContractTransition]),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract in view", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn history(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<ContractTransition>>> {
    Ok(Json(
        state.service.contract_history(&auth.principal, id).await?,
    ))
}

/// The contract's hash-chained audit trail.
#[utoipa::path(get, path = "/contracts/{id}/events", tag = "workflow", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "Audit events, oldest first", body = [AuditEventView]),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract in view", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn events(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<AuditEventView>>> {
    Ok(Json(
        state.service.contract_events(&auth.principal, id).await?,
    ))
}

/// `?lang=zh-en` puts English beside the letter's headings.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct LetterQuery {
    pub lang: Option<String>,
}

/// The media type of a Word document.
pub(crate) const DOCX: &str =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// The review opinion letter (合法性审查意见书) of the latest decision: Markdown, HTML
/// (`Accept: text/html`) or a Word `.docx` to print on the office's letterhead.
#[utoipa::path(get, path = "/contracts/{id}/opinion", tag = "workflow", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("lang" = Option<String>, Query, description = "`zh` (the default) or `zh-en`: English beside the headings")),
    responses(
        (status = 200, description = "The letter", content((String = "text/markdown"), (String = "text/html"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"))),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract in view, or no decision yet", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown `lang`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn opinion(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<LetterQuery>,
) -> Result<Response> {
    let language = LetterLanguage::parse(query.lang.as_deref())?;
    let letter = state
        .service
        .opinion_letter(&auth.principal, id, language)
        .await?;
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut response = if accept.contains(DOCX) {
        file_download(letter.docx()?, &letter.file_name(), DOCX)
    } else {
        let (content_type, body) = if accept.contains("text/html") {
            ("text/html; charset=utf-8", letter.html)
        } else {
            ("text/markdown; charset=utf-8", letter.markdown)
        };
        let mut response = body.into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        response
    };
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept"));
    Ok(response)
}
