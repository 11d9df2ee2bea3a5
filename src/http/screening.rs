//! The screen over HTTP: a self-check, the stored findings with their checklist, waivers.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::extract::{ApiJson, ApiPath, Auth};
use crate::domain::Finding;
use crate::error::{Problem, Result};
use crate::screening::Report;
use crate::service::screening::FindingsView;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(self_check))
        .routes(routes!(findings))
        .routes(routes!(waive))
        .routes(routes!(withdraw_waiver))
}

/// Screen the current version now, without storing anything or changing the state.
#[utoipa::path(post, path = "/contracts/{id}/screen", tag = "screening", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "Findings and the checklist of every category", body = Report),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract in view", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn self_check(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Report>> {
    Ok(Json(state.service.self_check(&auth.principal, id).await?))
}

/// The findings stored for the current version (screened on submission), with waivers.
#[utoipa::path(get, path = "/contracts/{id}/findings", tag = "screening", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "Findings and checklist", body = FindingsView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract in view", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn findings(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<FindingsView>> {
    Ok(Json(
        state.service.contract_findings(&auth.principal, id).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WaiveRequest {
    /// Why the finding does not stand in the way (kept in the audit trail).
    pub reason: String,
}

/// Waive an open finding, with a reason (reviewers, during review; audited).
#[utoipa::path(post, path = "/contracts/{id}/findings/{finding_id}/waive", tag = "screening", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("finding_id" = Uuid, Path)),
    request_body = WaiveRequest,
    responses(
        (status = 200, description = "The waived finding", body = Finding),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a reviewer of the contract's jurisdiction", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract or open finding", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The contract is not under review", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, or the reviewer drafted or submitted the contract", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn waive(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, finding_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(request): ApiJson<WaiveRequest>,
) -> Result<Json<Finding>> {
    Ok(Json(
        state
            .service
            .waive_finding(&auth.principal, id, finding_id, &request.reason)
            .await?,
    ))
}

/// Withdraw a waiver while the review is open: the finding is open again (reviewers; audited
/// with the reason).
#[utoipa::path(post, path = "/contracts/{id}/findings/{finding_id}/withdraw-waiver", tag = "screening", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("finding_id" = Uuid, Path)),
    request_body = WaiveRequest,
    responses(
        (status = 200, description = "The finding, open again", body = Finding),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a reviewer of the contract's jurisdiction", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract or excluded finding", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The contract is not under review", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, or the reviewer drafted or submitted the contract", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn withdraw_waiver(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, finding_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(request): ApiJson<WaiveRequest>,
) -> Result<Json<Finding>> {
    Ok(Json(
        state
            .service
            .withdraw_waiver(&auth.principal, id, finding_id, &request.reason)
            .await?,
    ))
}
