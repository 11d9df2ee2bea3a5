//! `/auth/login`, `/auth/logout`, `/me`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::extract::{ApiJson, Auth, ClientAddr};
use crate::domain::User;
use crate::error::{Problem, Result};
use crate::service::views::TokenView;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// Sign in and receive a bearer token.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest, responses(
    (status = 200, description = "Signed in", body = TokenView),
    (status = 401, description = "Wrong e-mail or password, or the account is deactivated", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    (status = 429, description = "Too many failed sign-ins for this account or address", body = Problem, content_type = "application/problem+json"),
))]
async fn login(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Json<TokenView>> {
    let token = state
        .service
        .login(&request.email, &request.password, &address)
        .await?;
    Ok(Json(token))
}

/// Revoke the token this request carries.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", security(("bearer" = [])), responses(
    (status = 204, description = "Signed out"),
    (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
))]
async fn logout(State(state): State<AppState>, auth: Auth) -> Result<StatusCode> {
    state.service.logout(&auth.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user.
#[utoipa::path(get, path = "/me", tag = "auth", security(("bearer" = [])), responses(
    (status = 200, description = "The signed-in user", body = User),
    (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
))]
async fn me(State(state): State<AppState>, auth: Auth) -> Result<Json<User>> {
    Ok(Json(state.service.me(&auth.principal).await?))
}
