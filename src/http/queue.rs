//! `/queue`: what waits for the caller's decision.

use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::extract::Auth;
use crate::error::{Problem, Result};
use crate::service::listing::ReviewQueue;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(queue))
}

/// The contracts waiting for the caller's decision in the stages where their roles decide,
/// within their jurisdiction, the earliest deadline first; and, for a deputy, the queue of each
/// reviewer they act for today.
#[utoipa::path(get, path = "/queue", tag = "workflow", security(("bearer" = [])), responses(
    (status = 200, description = "The queue", body = ReviewQueue),
    (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
))]
async fn queue(State(state): State<AppState>, auth: Auth) -> Result<Json<ReviewQueue>> {
    Ok(Json(state.service.review_queue(&auth.principal).await?))
}
