//! `/healthz` (the process is up), `/readyz` (the database answers), `/metrics` (Prometheus).

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use crate::error::Problem;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

/// Liveness: answers while the process runs.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, description = "Alive", body = String)))]
async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: answers 200 only while the database does.
#[utoipa::path(get, path = "/readyz", tag = "ops", responses(
    (status = 200, description = "Ready", body = String),
    (status = 503, description = "The database does not answer", body = Problem, content_type = "application/problem+json"),
))]
async fn readyz(State(state): State<AppState>) -> Response {
    match state.service.ping().await {
        Ok(()) => "ready".into_response(),
        Err(error) => {
            tracing::warn!(error = ?error, "readiness check failed");
            let problem = Problem {
                kind: "/problems/not-ready".into(),
                title: "服务未就绪 / Not ready".into(),
                status: 503,
                detail: "数据库无响应 / the database does not answer".into(),
                field: None,
                errors: Vec::new(),
                guard: None,
                missing_materials: Vec::new(),
            };
            let mut response =
                (StatusCode::SERVICE_UNAVAILABLE, axum::Json(problem)).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/problem+json"),
            );
            response
        }
    }
}

/// Prometheus metrics in the OpenMetrics text format.
#[utoipa::path(get, path = "/metrics", tag = "ops", responses((status = 200, description = "Metrics", body = String, content_type = "application/openmetrics-text")))]
async fn metrics(State(state): State<AppState>) -> Response {
    let text = state.metrics.render(state.service.pool_gauge());
    let content_type =
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8");
    ([(header::CONTENT_TYPE, content_type)], text).into_response()
}
