//! `/outbox` (admin): queued and failed e-mail, and retrying a failed one.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::extract::{ApiPath, ApiQuery, Auth};
use crate::domain::{OutboxStatus, QueuedMail};
use crate::error::{Problem, Result};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_outbox))
        .routes(routes!(retry_outbox))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// Only e-mails in this status.
    #[param(value_type = Option<OutboxStatus>)]
    pub status: Option<String>,
}

/// E-mails about contracts in the admin's jurisdiction, newest first (at most 200), with the
/// last delivery error.
#[utoipa::path(get, path = "/outbox", tag = "admin", security(("bearer" = [])), params(OutboxQuery), responses(
    (status = 200, description = "Queued, sent and failed e-mails", body = [QueuedMail]),
    (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Unknown status", body = Problem, content_type = "application/problem+json"),
))]
async fn list_outbox(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(query): ApiQuery<OutboxQuery>,
) -> Result<Json<Vec<QueuedMail>>> {
    Ok(Json(
        state
            .service
            .list_outbox(&auth.principal, query.status.as_deref())
            .await?,
    ))
}

/// Queue a failed e-mail again, with a fresh count of attempts.
#[utoipa::path(post, path = "/outbox/{id}/retry", tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 202, description = "Queued again"),
    (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such failed e-mail in the admin's jurisdiction", body = Problem, content_type = "application/problem+json"),
))]
async fn retry_outbox(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode> {
    state.service.retry_outbox(&auth.principal, id).await?;
    Ok(StatusCode::ACCEPTED)
}
