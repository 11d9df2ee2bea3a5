//! Bad input gets a clear problem+json 4xx naming what is wrong: never a 500, never a panic.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, World, problem, problem_fields, valid_contract};
use crate::on_both_backends;

on_both_backends!(
    every_invalid_field_is_named_at_once,
    amounts_must_be_sane,
    malformed_bodies_are_refused,
    an_oversized_body_gets_413,
    bad_query_and_path_values_are_4xx,
);

async fn post_raw(
    app: &TestApp,
    token: &str,
    content_type: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    app.request(Method::POST, "/api/v1/contracts", Some(token))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn every_invalid_field_is_named_at_once(app: TestApp) {
    let world = World::build(&app).await;
    let request = json!({
        "title": "   ",
        "contract_type": "loan",
        "counterparty": "",
        "amount_fen": -100,
        "agency_party": "甲方",
        "signatories": ["ok@a.gov.cn", "not-an-address", "名字 <x@y.cn>"],
        "body_markdown": "  \n ",
    });

    let response = app
        .post("/api/v1/contracts", &world.submitter_a, &request)
        .await;

    let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["type"], "/problems/invalid-input");
    assert_eq!(
        problem_fields(&body),
        [
            "title",
            "contract_type",
            "counterparty",
            "amount_fen",
            "signatories[1]",
            "signatories[2]",
            "body_markdown"
        ]
    );
    assert!(
        body["errors"][1]["message"]
            .as_str()
            .unwrap()
            .contains("loan")
    );

    let mut no_signatories = valid_contract("x");
    no_signatories["signatories"] = json!([]);
    let response = app
        .post("/api/v1/contracts", &world.submitter_a, &no_signatories)
        .await;
    let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(problem_fields(&body), ["signatories"]);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM contracts").await,
        0,
        "nothing stored"
    );
}

async fn amounts_must_be_sane(app: TestApp) {
    let world = World::build(&app).await;
    for amount in [
        json!(-1),
        json!(100_000_000_000_001_i64),
        json!(1e30),
        json!(12.5),
        json!("100"),
    ] {
        let mut request = valid_contract("x");
        request["amount_fen"] = amount.clone();
        let response = app
            .post("/api/v1/contracts", &world.submitter_a, &request)
            .await;
        let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(body["field"], "amount_fen", "amount {amount}");
    }
    let mut zero = valid_contract("无偿协议");
    zero["amount_fen"] = json!(0);
    assert_eq!(
        app.post("/api/v1/contracts", &world.submitter_a, &zero)
            .await
            .status(),
        StatusCode::CREATED
    );
}

async fn malformed_bodies_are_refused(app: TestApp) {
    let world = World::build(&app).await;
    let token = &world.submitter_a;

    let truncated = post_raw(
        &app,
        token,
        "application/json",
        br#"{"title": "x""#.to_vec(),
    )
    .await;
    problem(truncated, StatusCode::BAD_REQUEST).await;

    let mut invalid_utf8 = serde_json::to_vec(&valid_contract("x")).unwrap();
    let at = invalid_utf8.iter().position(|&b| b == b'x').unwrap();
    invalid_utf8[at] = 0xff;
    problem(
        post_raw(&app, token, "application/json", invalid_utf8).await,
        StatusCode::BAD_REQUEST,
    )
    .await;

    let mut unknown = valid_contract("x");
    unknown["priority"] = json!("high");
    let body = problem(
        app.post("/api/v1/contracts", token, &unknown).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["field"], "priority");

    let mut missing = valid_contract("x");
    missing.as_object_mut().unwrap().remove("counterparty");
    let body = problem(
        app.post("/api/v1/contracts", token, &missing).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["field"], "counterparty");

    let wrong_type = serde_json::to_vec(&valid_contract("x")).unwrap();
    problem(
        post_raw(&app, token, "text/plain", wrong_type).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;

    for not_an_object in [&b"\"text\""[..], b"42", b"null"] {
        problem(
            post_raw(&app, token, "application/json", not_an_object.to_vec()).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }

    let null_title = {
        let mut request = valid_contract("x");
        request["title"] = Value::Null;
        app.post("/api/v1/contracts", token, &request).await
    };
    let body = problem(null_title, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["field"], "title");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM contracts").await, 0);
}

async fn an_oversized_body_gets_413(app: TestApp) {
    let world = World::build(&app).await;
    let mut request = valid_contract("巨大合同");
    request["body_markdown"] = json!("条".repeat(800 * 1024)); // 2.4 MB of UTF-8

    let response = app
        .post("/api/v1/contracts", &world.submitter_a, &request)
        .await;

    problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;

    // Under the request limit but over the body limit: a field error, not a 413.
    let mut request = valid_contract("较大合同");
    request["body_markdown"] = json!("a".repeat(1024 * 1024 + 1));
    let body = problem(
        app.post("/api/v1/contracts", &world.submitter_a, &request)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["field"], "body_markdown");
}

async fn bad_query_and_path_values_are_4xx(app: TestApp) {
    let world = World::build(&app).await;
    let token = &world.submitter_a;

    let body = problem(
        app.get("/api/v1/contracts?state=pending", token).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["field"], "state");
    let body = problem(
        app.get("/api/v1/contracts?cursor=abc", token).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["field"], "cursor");
    let body = problem(
        app.get("/api/v1/contracts?limit=500", token).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["field"], "limit");
    problem(
        app.get("/api/v1/contracts?limit=many", token).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        app.get("/api/v1/contracts?colour=red", token).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        app.get("/api/v1/contracts/not-a-uuid", token).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.get(
            "/api/v1/contracts/00000000-0000-0000-0000-000000000000/versions/x",
            token,
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.get("/api/v1/no-such-thing", token).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}
