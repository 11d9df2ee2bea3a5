//! 批注 over HTTP: a reviewer comments on a clause; the clerk accepts or rejects each.

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
use crate::domain::{ClauseComment, Resolution};
use crate::error::{Problem, Result};
use crate::service::comments::CommentInput;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_comment, list_comments))
        .routes(routes!(resolve_comment))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentRequest {
    /// The clause, as the text names it: 第三条 工程款支付.
    pub clause: String,
    pub comment: String,
    /// The wording suggested instead.
    pub suggestion: Option<String>,
}

/// Comment on a clause of the current version (reviewers, during review; audited).
#[utoipa::path(post, path = "/contracts/{id}/comments", tag = "screening", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = CommentRequest,
    responses(
        (status = 201, description = "The comment", body = ClauseComment),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a reviewer of the contract's jurisdiction", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract in view", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The contract is not under review", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An empty or overlong field, or the reviewer drafted or submitted the contract", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn add_comment(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<CommentRequest>,
) -> Result<(StatusCode, Json<ClauseComment>)> {
    let input = CommentInput {
        clause: request.clause,
        comment: request.comment,
        suggestion: request.suggestion,
    };
    let added = state
        .service
        .add_comment(&auth.principal, id, input)
        .await?;
    Ok((StatusCode::CREATED, Json(added)))
}

/// Every comment on the contract, oldest first, with how each was dealt with.
#[utoipa::path(get, path = "/contracts/{id}/comments", tag = "screening", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The comments", body = [ClauseComment]),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract in view", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_comments(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<ClauseComment>>> {
    Ok(Json(state.service.comments(&auth.principal, id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    pub resolution: Resolution,
    /// Why a comment is not followed (required then).
    pub note: Option<String>,
}

/// Accept or reject a comment while revising (the contract's clerk; audited).
#[utoipa::path(post, path = "/contracts/{id}/comments/{comment_id}/resolve", tag = "screening", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("comment_id" = Uuid, Path)),
    request_body = ResolveRequest,
    responses(
        (status = 200, description = "The comment, dealt with", body = ClauseComment),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a submitter of the contract's agency", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract or open comment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The contract is not being revised", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A rejection without its reason", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn resolve_comment(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, comment_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(request): ApiJson<ResolveRequest>,
) -> Result<Json<ClauseComment>> {
    Ok(Json(
        state
            .service
            .resolve_comment(
                &auth.principal,
                id,
                comment_id,
                request.resolution,
                request.note.as_deref(),
            )
            .await?,
    ))
}
