//! `/contracts`: intake, listing, reading, body revisions.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::domain::ContractDetail;
use crate::domain::ContractDraft;
use crate::domain::ContractState;
use crate::error::{Error, Problem, Result};
use crate::service::contracts::{ListParams, parse_idempotency_key};
use crate::service::idempotency::Outcome;
use crate::service::views::{ContractPage, VersionView};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_contract, list_contracts))
        .routes(routes!(get_contract))
        .routes(routes!(replace_body))
        .routes(routes!(list_versions))
        .routes(routes!(get_version))
}

pub(super) fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>> {
    match headers.get("idempotency-key") {
        None => Ok(None),
        Some(value) => {
            let text = value.to_str().map_err(|_| Error::BadRequest {
                detail:
                    "Idempotency-Key 须为可见 ASCII 字符 / Idempotency-Key must be printable ASCII"
                        .into(),
                field: Some("Idempotency-Key".into()),
            })?;
            parse_idempotency_key(text).map(Some)
        }
    }
}

/// Create a draft contract for the caller's agency.
///
/// With an `Idempotency-Key` header, a retried request returns the first response (marked with
/// `Idempotent-Replayed: true`) instead of creating a second contract.
#[utoipa::path(post, path = "/contracts", tag = "contracts", security(("bearer" = [])),
    request_body = ContractDraft,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses(
        (status = 201, description = "Created", body = ContractDetail),
        (status = 400, description = "Malformed JSON or header", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a submitter", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the size limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create_contract(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    ApiJson(draft): ApiJson<ContractDraft>,
) -> Result<Response> {
    let key = idempotency_key(&headers)?;
    let outcome = state
        .service
        .create_contract(&auth.principal, draft, key)
        .await?;
    Ok(match outcome {
        Outcome::Fresh(view) => {
            let location = format!("/api/v1/contracts/{}", view.contract.id);
            (
                StatusCode::CREATED,
                [(header::LOCATION, location)],
                Json(view),
            )
                .into_response()
        }
        Outcome::Replayed { status, body } => replayed(status, body),
    })
}

pub(super) fn replayed(status: u16, body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only contracts in this state.
    #[param(value_type = Option<ContractState>)]
    pub state: Option<String>,
    /// Free text matched against title and counterparty.
    pub q: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<i64>,
    /// `true`: only contracts whose current review stage is past its deadline.
    pub overdue: Option<bool>,
}

/// List the contracts the caller may see, newest first.
#[utoipa::path(get, path = "/contracts", tag = "contracts", security(("bearer" = [])), params(ListQuery), responses(
    (status = 200, description = "One page", body = ContractPage),
    (status = 400, description = "Malformed query", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json"),
))]
async fn list_contracts(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<ContractPage>> {
    let params = ListParams {
        state: query.state,
        q: query.q,
        cursor: query.cursor,
        limit: query.limit,
        overdue: query.overdue,
        signatory: None,
    };
    Ok(Json(
        state
            .service
            .list_contracts(&auth.principal, params)
            .await?,
    ))
}

/// One contract with its current body.
#[utoipa::path(get, path = "/contracts/{id}", tag = "contracts", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The contract", body = ContractDetail),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract in the caller's view", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_contract(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ContractDetail>> {
    Ok(Json(state.service.get_contract(&auth.principal, id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplaceBodyRequest {
    pub body_markdown: String,
    /// The contract's `version` as last read.
    pub expected_version: i64,
}

/// Replace the body with a new immutable version (draft or returned contracts only).
#[utoipa::path(put, path = "/contracts/{id}/body", tag = "contracts", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = ReplaceBodyRequest,
    responses(
        (status = 200, description = "The contract with its new body", body = ContractDetail),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a submitter of the contract's agency", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract in the caller's view", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale expected_version, or the contract is no longer editable", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn replace_body(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<ReplaceBodyRequest>,
) -> Result<Json<ContractDetail>> {
    let view = state
        .service
        .replace_body(
            &auth.principal,
            id,
            request.body_markdown,
            request.expected_version,
        )
        .await?;
    Ok(Json(view))
}

/// Every body version of a contract, oldest first.
#[utoipa::path(get, path = "/contracts/{id}/versions", tag = "contracts", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The versions, without bodies", body = [VersionView]),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract in the caller's view", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_versions(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<VersionView>>> {
    Ok(Json(
        state.service.contract_versions(&auth.principal, id).await?,
    ))
}

/// One body version, with its text.
#[utoipa::path(get, path = "/contracts/{id}/versions/{number}", tag = "contracts", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("number" = i64, Path)),
    responses(
        (status = 200, description = "The version with its body", body = VersionView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract or version", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_version(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, number)): ApiPath<(Uuid, i64)>,
) -> Result<Json<VersionView>> {
    Ok(Json(
        state
            .service
            .contract_version(&auth.principal, id, number)
            .await?,
    ))
}
