//! `/agencies` (admin): the agency tree.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::extract::{ApiJson, ApiPath, Auth};
use crate::domain::{Agency, ExternalSignatory};
use crate::error::{Problem, Result};
use crate::service::Caller;
use crate::service::signatories::ExternalSignatoryInput;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_agency, list_agencies))
        .routes(routes!(add_external_signatory, list_external_signatories))
        .routes(routes!(remove_external_signatory))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAgencyRequest {
    pub name: String,
    /// The parent agency; it must lie within the admin's own agency's subtree.
    pub parent_id: Uuid,
    /// The prefix of the 文号 of the review letters the agency issues, e.g. 示司审.
    #[serde(default)]
    pub opinion_prefix: Option<String>,
}

/// Create an agency below one the admin manages.
#[utoipa::path(post, path = "/agencies", tag = "admin", security(("bearer" = [])), request_body = CreateAgencyRequest, responses(
    (status = 201, description = "Created", body = Agency),
    (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "The name is taken", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Invalid name or parent", body = Problem, content_type = "application/problem+json"),
))]
async fn create_agency(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(request): ApiJson<CreateAgencyRequest>,
) -> Result<(StatusCode, Json<Agency>)> {
    let agency = state
        .service
        .create_agency(
            Caller::User(&auth.principal),
            &request.name,
            Some(request.parent_id),
            request.opinion_prefix.as_deref(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(agency)))
}

/// The agencies the caller manages (admins) or audits (auditors: all).
#[utoipa::path(get, path = "/agencies", tag = "admin", security(("bearer" = [])), responses(
    (status = 200, description = "The agencies", body = [Agency]),
    (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Neither admin nor auditor", body = Problem, content_type = "application/problem+json"),
))]
async fn list_agencies(State(state): State<AppState>, auth: Auth) -> Result<Json<Vec<Agency>>> {
    Ok(Json(state.service.list_agencies(&auth.principal).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExternalSignatoryRequest {
    pub email: String,
    pub name: String,
    /// Whom they sign for, e.g. 某某律师事务所.
    pub organisation: String,
}

/// Name someone outside the agency who may be a signatory of its contracts (admin).
#[utoipa::path(post, path = "/agencies/{id}/external-signatories", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = ExternalSignatoryRequest, responses(
    (status = 201, description = "Listed", body = ExternalSignatory),
    (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such agency in the admin's jurisdiction", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Listed already", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
))]
async fn add_external_signatory(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<ExternalSignatoryRequest>,
) -> Result<(StatusCode, Json<ExternalSignatory>)> {
    let input = ExternalSignatoryInput {
        email: request.email,
        name: request.name,
        organisation: request.organisation,
    };
    let listed = state
        .service
        .add_external_signatory(&auth.principal, id, input)
        .await?;
    Ok((StatusCode::CREATED, Json(listed)))
}

/// The external signatories of an agency (admin).
#[utoipa::path(get, path = "/agencies/{id}/external-signatories", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)), responses(
    (status = 200, description = "The list", body = [ExternalSignatory]),
    (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such agency in the admin's jurisdiction", body = Problem, content_type = "application/problem+json"),
))]
async fn list_external_signatories(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<ExternalSignatory>>> {
    Ok(Json(
        state
            .service
            .external_signatories(&auth.principal, id)
            .await?,
    ))
}

/// End an external signatory's listing (admin).
#[utoipa::path(delete, path = "/agencies/{id}/external-signatories/{email}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("email" = String, Path)), responses(
    (status = 204, description = "No longer listed"),
    (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such agency in view, or the address is not listed", body = Problem, content_type = "application/problem+json"),
))]
async fn remove_external_signatory(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, email)): ApiPath<(Uuid, String)>,
) -> Result<StatusCode> {
    state
        .service
        .remove_external_signatory(&auth.principal, id, &email)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
