//! The HTTP interface: the JSON API under `/api/v1` (documented at `/api/v1/openapi.json`) and
//! the operational endpoints. One module per resource, each with its own router; the layers
//! (request ids, tracing, metrics, panics, timeout, body limit) are added once, here.

mod agencies;
mod auth;
mod comments;
mod contracts;
pub mod csv;
mod delegations;
mod documents;
pub mod extract;
mod idempotency;
mod judgments;
pub mod metrics;
mod ops;
mod outbox;
mod queue;
mod screening;
pub mod ui;
mod upload;
mod users;
mod workflow;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath};
use axum::http::{HeaderName, Request, StatusCode};
use axum::response::IntoResponse;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::config::HttpSettings;
use crate::error::Error;
use crate::service::Service;
use metrics::Metrics;

/// Everything a handler may need; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub service: Service,
    pub metrics: Arc<Metrics>,
    pub http: Arc<HttpSettings>,
    pub pages: Arc<ui::Pages>,
    /// Whether cookies get the `Secure` attribute: the public address is `https`.
    pub secure_cookies: bool,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "contract-review", description = "合同合法性审查 / Mandatory legality review of agency contracts"),
    modifiers(&BearerAuth),
    components(schemas(crate::error::Problem)),
    tags(
        (name = "auth", description = "登录 / Sign-in"),
        (name = "contracts", description = "合同 / Contracts"),
        (name = "workflow", description = "审查流程 / The review workflow"),
        (name = "screening", description = "合法性筛查 / The legality screen"),
        (name = "judgments", description = "生效裁判登记 / The court-judgment register"),
        (name = "admin", description = "机构与用户 / Agencies and users"),
        (name = "ops", description = "运维 / Operations"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API routes with their OpenAPI description, assembled from every resource module.
fn api() -> OpenApiRouter<AppState> {
    let v1 = OpenApiRouter::new()
        .merge(auth::router())
        .merge(contracts::router())
        .merge(agencies::router())
        .merge(users::router())
        .merge(workflow::router())
        .merge(delegations::router())
        .merge(outbox::router())
        .merge(queue::router())
        .merge(screening::router())
        .merge(comments::router())
        .merge(judgments::router());
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", v1)
        .merge(ops::router())
}

/// The OpenAPI document of the whole API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    with_generic_errors(api().split_for_parts().1)
}

/// Adds the answers any endpoint may give to what never reaches its handler: a malformed
/// request (400), a method the address does not take (405), a request that took too long (408)
/// and, where there is a request body, one too large (413) or not JSON (415).
fn with_generic_errors(mut openapi: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let problem = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build()
    };
    for item in openapi.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let mut generic = vec![
                ("400", "Malformed request, query or header"),
                ("405", "Method not allowed"),
                ("408", "The request took too long"),
            ];
            if operation.request_body.is_some() {
                generic.push(("413", "Body over the size limit"));
                generic.push(("415", "Not JSON"));
            }
            for (status, description) in generic {
                operation
                    .responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| problem(description).into());
            }
        }
    }
    openapi
}

/// The complete application router.
pub fn router(state: AppState) -> Router {
    let (routes, openapi) = api().split_for_parts();
    let openapi = Arc::new(with_generic_errors(openapi));
    let request_id = HeaderName::from_static("x-request-id");
    let layers = ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(request_id))
        .layer(CatchPanicLayer::custom(|_| {
            Error::Internal(anyhow::anyhow!("a request handler panicked")).into_response()
        }))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            state.http.request_timeout(),
        ))
        .layer(DefaultBodyLimit::max(state.http.max_body_bytes));
    routes
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || {
                let openapi = Arc::clone(&openapi);
                async move { axum::Json(openapi.as_ref().clone()) }
            }),
        )
        .merge(ui::router(&state))
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state.metrics),
            metrics::track,
        ))
        .fallback(ui::not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::map_response(ui::security_headers))
        .layer(layers)
        .layer(axum::middleware::map_response(timeout_problem))
        .with_state(state)
}

/// The timeout layer answers with a bare 408; give it the problem document every error carries.
async fn timeout_problem(response: axum::response::Response) -> axum::response::Response {
    let bare = response
        .extensions()
        .get::<crate::error::Problem>()
        .is_none();
    if response.status() == StatusCode::REQUEST_TIMEOUT && bare {
        Error::Timeout.into_response()
    } else {
        response
    }
}

/// A known address asked with a method it does not take.
async fn method_not_allowed() -> Error {
    Error::MethodNotAllowed
}

fn request_span<B>(request: &Request<B>) -> tracing::Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %request.method(),
        route,
        request_id,
        user_id = tracing::field::Empty,
    )
}
