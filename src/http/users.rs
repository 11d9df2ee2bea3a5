//! `/users` (admin): accounts, roles, deactivation.

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
use crate::domain::Role;
use crate::domain::User;
use crate::error::{Problem, Result};
use crate::service::Caller;
use crate::service::directory::UserInput;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_user, list_users))
        .routes(routes!(deactivate_user))
        .routes(routes!(activate_user))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub email: String,
    pub name: String,
    pub agency_id: Uuid,
    #[schema(value_type = Vec<Role>)]
    pub roles: Vec<String>,
    /// At least 10 characters.
    pub password: String,
}

/// Create a user in an agency the admin manages.
#[utoipa::path(post, path = "/users", tag = "admin", security(("bearer" = [])), request_body = CreateUserRequest, responses(
    (status = 201, description = "Created", body = User),
    (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "The e-mail is taken", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
))]
async fn create_user(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(request): ApiJson<CreateUserRequest>,
) -> Result<(StatusCode, Json<User>)> {
    let input = UserInput {
        email: request.email,
        name: request.name,
        agency_id: request.agency_id,
        roles: request.roles,
        password: request.password,
    };
    let user = state
        .service
        .create_user(Caller::User(&auth.principal), input)
        .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// The users the caller manages (admins) or audits (auditors: all).
#[utoipa::path(get, path = "/users", tag = "admin", security(("bearer" = [])), responses(
    (status = 200, description = "The users", body = [User]),
    (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Neither admin nor auditor", body = Problem, content_type = "application/problem+json"),
))]
async fn list_users(State(state): State<AppState>, auth: Auth) -> Result<Json<Vec<User>>> {
    Ok(Json(state.service.list_users(&auth.principal).await?))
}

/// Deactivate a user: they can no longer sign in and their tokens stop working at once.
#[utoipa::path(post, path = "/users/{id}/deactivate", tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, description = "The deactivated user", body = User),
    (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an admin, or one's own account", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such user in the admin's jurisdiction", body = Problem, content_type = "application/problem+json"),
))]
async fn deactivate_user(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<User>> {
    Ok(Json(
        state
            .service
            .set_user_active(&auth.principal, id, false)
            .await?,
    ))
}

/// Reactivate a deactivated user.
#[utoipa::path(post, path = "/users/{id}/activate", tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, description = "The reactivated user", body = User),
    (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an admin, or one's own account", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such user in the admin's jurisdiction", body = Problem, content_type = "application/problem+json"),
))]
async fn activate_user(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<User>> {
    Ok(Json(
        state
            .service
            .set_user_active(&auth.principal, id, true)
            .await?,
    ))
}
