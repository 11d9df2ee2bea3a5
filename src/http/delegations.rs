//! `/delegations`: a reviewer names a deputy for a range of dates.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::extract::{ApiJson, ApiPath, Auth};
use crate::domain::Delegation;
use crate::error::{Problem, Result};
use crate::service::delegations::DelegationInput;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_delegation, list_delegations))
        .routes(routes!(revoke_delegation))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDelegationRequest {
    /// A reviewer or lead reviewer who will decide in the caller's name.
    pub deputy_email: String,
    /// First day (Beijing date), inclusive.
    pub starts_on: NaiveDate,
    /// Last day (Beijing date), inclusive.
    pub ends_on: NaiveDate,
}

/// Name a deputy (reviewers and lead reviewers).
#[utoipa::path(post, path = "/delegations", tag = "workflow", security(("bearer" = [])), request_body = CreateDelegationRequest, responses(
    (status = 201, description = "Created", body = Delegation),
    (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not a reviewer", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Unknown or unsuitable deputy, or bad dates", body = Problem, content_type = "application/problem+json"),
))]
async fn create_delegation(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(request): ApiJson<CreateDelegationRequest>,
) -> Result<(StatusCode, Json<Delegation>)> {
    let input = DelegationInput {
        deputy_email: request.deputy_email,
        starts_on: request.starts_on,
        ends_on: request.ends_on,
    };
    let delegation = state
        .service
        .create_delegation(&auth.principal, input)
        .await?;
    Ok((StatusCode::CREATED, Json(delegation)))
}

/// Delegations the caller gave or received.
#[utoipa::path(get, path = "/delegations", tag = "workflow", security(("bearer" = [])), responses(
    (status = 200, description = "Delegations, newest first", body = [Delegation]),
    (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
))]
async fn list_delegations(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<Delegation>>> {
    Ok(Json(state.service.list_delegations(&auth.principal).await?))
}

/// End a delegation early (its delegator or its deputy).
#[utoipa::path(post, path = "/delegations/{id}/revoke", tag = "workflow", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, description = "The revoked delegation", body = Delegation),
    (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "Not the caller's delegation", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Already revoked", body = Problem, content_type = "application/problem+json"),
))]
async fn revoke_delegation(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Delegation>> {
    Ok(Json(
        state.service.revoke_delegation(&auth.principal, id).await?,
    ))
}
