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
use super::extract::{ApiJson, Auth};
use crate::domain::Agency;
use crate::error::{Problem, Result};
use crate::service::Caller;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_agency, list_agencies))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAgencyRequest {
    pub name: String,
    /// The parent agency; it must lie within the admin's own agency's subtree.
    pub parent_id: Uuid,
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
