//! `/contracts`: intake, listing, reading, body revisions.

use axum::Json;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::documents::{self, BodyUpload, Intake, IntakeForm};
use super::extract::{ApiPath, ApiQuery, Auth};
use super::idempotency::{IdempotencyKey, respond};
use crate::domain::ContractDetail;
use crate::domain::ContractDraft;
use crate::domain::ContractState;
use crate::error::{Problem, Result};
use crate::service::listing::{ContractList, ContractQuery, ListParams};
use crate::service::views::VersionView;

pub(super) fn router() -> OpenApiRouter<AppState> {
    // Intake and body revisions take files: their extractors hold them to the upload limit.
    let uploads = OpenApiRouter::new()
        .routes(routes!(create_contract, list_contracts))
        .routes(routes!(replace_body))
        .merge(documents::upload_router())
        .layer(DefaultBodyLimit::disable());
    OpenApiRouter::new()
        .merge(uploads)
        .routes(routes!(get_contract))
        .routes(routes!(list_versions))
        .routes(routes!(get_version))
        .merge(documents::router())
}

/// Create a draft contract for the caller's agency: JSON with the body as Markdown, or
/// `multipart/form-data` with a part `facts` (the same fields as JSON, without `body_markdown`)
/// and a part `draft` (a Word `.docx`, a PDF with a text layer, or `.md`), which becomes the body;
/// the original file is kept (`GET /contracts/{id}/draft`).
///
/// With an `Idempotency-Key` header, a retried request returns the first response (marked with
/// `Idempotent-Replayed: true`) instead of creating a second contract.
#[utoipa::path(post, path = "/contracts", tag = "contracts", security(("bearer" = [])),
    request_body(content(
        (ContractDraft = "application/json"),
        (IntakeForm = "multipart/form-data"),
    )),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses(
        (status = 201, description = "Created", body = ContractDetail),
        (status = 400, description = "Malformed JSON or header", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a submitter", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body or file over the size limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither JSON nor multipart", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named; a file that cannot become a body, saying why", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create_contract(
    State(state): State<AppState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    intake: Intake,
) -> Result<Response> {
    let service = &state.service;
    let outcome = match intake {
        Intake::Json(draft) => service.create_contract(&auth.principal, draft, key).await?,
        Intake::File { facts, draft } => {
            service
                .create_contract_from_file(&auth.principal, facts, draft, key)
                .await?
        }
    };
    let location = format!("/api/v1/contracts/{}", outcome.value().contract.id);
    let mut response = respond(StatusCode::CREATED, outcome);
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
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
    (status = 200, description = "One page", body = ContractList),
    (status = 400, description = "Malformed query", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json"),
))]
async fn list_contracts(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<ContractList>> {
    let query = ContractQuery::parse(ListParams {
        state: query.state,
        q: query.q,
        cursor: query.cursor,
        limit: query.limit,
        overdue: query.overdue,
    })?;
    Ok(Json(
        state
            .service
            .list_contracts(&auth.principal, &query)
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

/// Replace the body with a new immutable version (draft or returned contracts; an approved one
/// goes back to review): JSON with Markdown, or `multipart/form-data` with `expected_version` and
/// a `draft` file.
#[utoipa::path(put, path = "/contracts/{id}/body", tag = "contracts", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body(content(
        (ReplaceBodyRequest = "application/json"),
        (BodyForm = "multipart/form-data"),
    )),
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
    upload: BodyUpload,
) -> Result<Json<ContractDetail>> {
    let service = &state.service;
    let view = match upload {
        BodyUpload::Json {
            body_markdown,
            expected_version,
        } => {
            service
                .replace_body(&auth.principal, id, body_markdown, expected_version)
                .await?
        }
        BodyUpload::File {
            draft,
            expected_version,
        } => {
            service
                .replace_body_from_file(&auth.principal, id, draft, expected_version)
                .await?
        }
    };
    Ok(Json(view))
}

/// The multipart form of `PUT /contracts/{id}/body` (documentation only).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct BodyForm {
    expected_version: i64,
    /// The revised draft: `.docx`, a `.pdf` with a text layer, or `.md`.
    #[schema(value_type = String, format = Binary)]
    draft: Vec<u8>,
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
