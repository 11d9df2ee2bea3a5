//! Health, readiness, metrics, request ids and the OpenAPI document.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{TestApp, World};
use crate::on_both_backends;

on_both_backends!(
    health_readiness_and_metrics_answer,
    openapi_documents_every_endpoint_and_error
);

async fn health_readiness_and_metrics_answer(app: TestApp) {
    let world = World::build(&app).await;
    let health = app
        .request(Method::GET, "/healthz", None)
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert!(health.headers().contains_key("x-request-id"));
    let ready = app
        .request(Method::GET, "/readyz", None)
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    app.get("/api/v1/contracts", &world.submitter_a).await;
    app.get("/api/v1/contracts?state=nope", &world.submitter_a)
        .await;

    let metrics = app
        .request(Method::GET, "/metrics", None)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    assert!(
        metrics.contains(
            r#"http_requests_total{method="GET",route="/api/v1/contracts",status="200"} 1"#
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            r#"http_requests_total{method="GET",route="/api/v1/contracts",status="422"} 1"#
        )
    );
    assert!(metrics.contains("http_request_duration_seconds_bucket"));
    assert!(metrics.contains("db_pool_connections"));

    let echoed = app
        .request(Method::GET, "/healthz", None)
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "trace-me-42");
}

async fn openapi_documents_every_endpoint_and_error(app: TestApp) {
    let spec: Value = app
        .request(Method::GET, "/api/v1/openapi.json", None)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let paths = spec["paths"].as_object().unwrap();
    let mut documented: Vec<String> = Vec::new();
    for (path, operations) in paths {
        for (method, operation) in operations.as_object().unwrap() {
            documented.push(format!("{} {path}", method.to_uppercase()));
            let responses = operation["responses"].as_object().unwrap();
            let problem_documented = responses.iter().any(|(status, response)| {
                status.starts_with('4')
                    && response["content"]
                        .get("application/problem+json")
                        .is_some()
            });
            let operational = ["/healthz", "/readyz", "/metrics"].contains(&path.as_str());
            assert!(
                operational || problem_documented,
                "{method} {path} documents its error shape"
            );
        }
    }
    documented.sort();
    let expected = [
        "DELETE /api/v1/agencies/{id}/external-signatories/{email}",
        "DELETE /api/v1/contracts/{id}/attachments/{attachment_id}",
        "GET /api/v1/agencies",
        "GET /api/v1/agencies/{id}/external-signatories",
        "GET /api/v1/contracts",
        "GET /api/v1/contracts/{id}",
        "GET /api/v1/contracts/{id}/attachments",
        "GET /api/v1/contracts/{id}/attachments/{attachment_id}",
        "GET /api/v1/contracts/{id}/comments",
        "GET /api/v1/contracts/{id}/draft",
        "GET /api/v1/contracts/{id}/events",
        "GET /api/v1/contracts/{id}/facts/history",
        "GET /api/v1/contracts/{id}/findings",
        "GET /api/v1/contracts/{id}/history",
        "GET /api/v1/contracts/{id}/manifest",
        "GET /api/v1/contracts/{id}/opinion",
        "GET /api/v1/contracts/{id}/supplements",
        "GET /api/v1/contracts/{id}/transitions",
        "GET /api/v1/contracts/{id}/versions",
        "GET /api/v1/contracts/{id}/versions/{number}",
        "GET /api/v1/delegations",
        "GET /api/v1/judgments",
        "GET /api/v1/me",
        "GET /api/v1/outbox",
        "GET /api/v1/queue",
        "GET /api/v1/reports/judgments",
        "GET /api/v1/users",
        "GET /healthz",
        "GET /metrics",
        "GET /readyz",
        "POST /api/v1/agencies",
        "POST /api/v1/agencies/{id}/external-signatories",
        "POST /api/v1/auth/login",
        "POST /api/v1/auth/logout",
        "POST /api/v1/contracts",
        "POST /api/v1/contracts/{id}/attachments",
        "POST /api/v1/contracts/{id}/comments",
        "POST /api/v1/contracts/{id}/comments/{comment_id}/resolve",
        "POST /api/v1/contracts/{id}/findings/{finding_id}/waive",
        "POST /api/v1/contracts/{id}/findings/{finding_id}/withdraw-waiver",
        "POST /api/v1/contracts/{id}/screen",
        "POST /api/v1/contracts/{id}/transitions/{name}",
        "POST /api/v1/delegations",
        "POST /api/v1/delegations/{id}/revoke",
        "POST /api/v1/judgments",
        "POST /api/v1/judgments/{id}/payments",
        "POST /api/v1/outbox/{id}/retry",
        "POST /api/v1/users",
        "POST /api/v1/users/{id}/activate",
        "POST /api/v1/users/{id}/deactivate",
        "PUT /api/v1/contracts/{id}/body",
        "PUT /api/v1/contracts/{id}/facts",
    ];
    assert_eq!(documented, expected);
    assert!(spec["components"]["schemas"]["Problem"].is_object());
    assert!(spec["components"]["securitySchemes"]["bearer"].is_object());
}
