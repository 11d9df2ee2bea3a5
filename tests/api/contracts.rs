//! Contract intake: create, read, list, revise, versions, idempotent create.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{TestApp, World, problem, valid_contract};
use crate::on_both_backends;

on_both_backends!(
    create_then_get_returns_the_stored_contract,
    list_filters_by_state_and_text,
    list_pages_with_a_keyset_cursor,
    replacing_the_body_adds_an_immutable_version,
    a_stale_expected_version_is_refused,
    of_concurrent_revisions_exactly_one_wins,
    the_body_is_frozen_under_review_and_after_a_final_decision,
    idempotent_create_returns_the_saved_response,
    concurrent_retries_with_one_key_create_one_contract,
    an_idempotency_key_reused_for_another_request_is_refused,
);

async fn create_then_get_returns_the_stored_contract(app: TestApp) {
    // Arrange
    let world = World::build(&app).await;
    let mut request = valid_contract("办公用品采购合同");
    request["signatories"] = json!(["Signer@A.gov.cn", "deputy@a.gov.cn", "signer@a.gov.cn"]);

    // Act
    let response = app
        .post("/api/v1/contracts", &world.submitter_a, &request)
        .await;

    // Assert
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = response.json().await.unwrap();
    assert_eq!(
        location,
        format!("/api/v1/contracts/{}", created["id"].as_str().unwrap())
    );
    assert_eq!(created["state"], "draft");
    assert_eq!(created["version"], 1);
    assert_eq!(created["body_version"], 1);
    assert_eq!(created["agency_id"], json!(world.dept_a));
    assert_eq!(
        created["signatories"],
        json!(["deputy@a.gov.cn", "signer@a.gov.cn"])
    );
    let body = request["body_markdown"].as_str().unwrap();
    assert_eq!(
        created["body_sha256"],
        hex::encode(Sha256::digest(body.as_bytes()))
    );

    let fetched: Value = app
        .get(&location, &world.submitter_a)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fetched, created);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_events WHERE action = 'contract.created'")
            .await,
        1
    );
}

async fn list_filters_by_state_and_text(app: TestApp) {
    let world = World::build(&app).await;
    let mut by_counterparty = valid_contract("物业服务合同");
    by_counterparty["counterparty"] = json!("Acme Property Services Ltd");
    app.create_contract(&world.submitter_a, &valid_contract("办公用品采购合同"))
        .await;
    app.create_contract(&world.submitter_a, &by_counterparty)
        .await;
    app.create_contract(&world.submitter_a, &valid_contract("100%_special"))
        .await;
    app.execute_sql("UPDATE contracts SET state = 'legal_review' WHERE title = '物业服务合同'")
        .await;

    let titles = |page: Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["title"].as_str().unwrap().to_owned())
            .collect()
    };
    let get = |query: &str| {
        let path = format!("/api/v1/contracts?{query}");
        let token = world.submitter_a.clone();
        let app = &app;
        async move { app.get(&path, &token).await.json::<Value>().await.unwrap() }
    };

    assert_eq!(titles(get("state=legal_review").await), ["物业服务合同"]);
    assert_eq!(titles(get("q=采购").await), ["办公用品采购合同"]);
    assert_eq!(titles(get("q=acme%20PROPERTY").await), ["物业服务合同"]);
    // LIKE wildcards in the search text are matched literally.
    assert_eq!(titles(get("q=0%25_").await), ["100%_special"]);
    assert!(titles(get("q=%25%25%25x").await).is_empty());
    assert_eq!(titles(get("").await).len(), 3);
}

async fn list_pages_with_a_keyset_cursor(app: TestApp) {
    let world = World::build(&app).await;
    for i in 0..5 {
        app.create_contract(&world.submitter_a, &valid_contract(&format!("合同{i}")))
            .await;
    }

    let mut seen = Vec::new();
    let mut path = "/api/v1/contracts?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let page: Value = app
            .get(&path, &world.submitter_a)
            .await
            .json()
            .await
            .unwrap();
        pages += 1;
        for item in page["items"].as_array().unwrap() {
            seen.push(item["title"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/contracts?limit=2&cursor={cursor}"),
            None => break,
        }
    }

    assert_eq!(pages, 3);
    assert_eq!(
        seen,
        ["合同4", "合同3", "合同2", "合同1", "合同0"],
        "newest first, each once"
    );
}

async fn replacing_the_body_adds_an_immutable_version(app: TestApp) {
    let world = World::build(&app).await;
    let created = app
        .create_contract(&world.submitter_a, &valid_contract("采购合同"))
        .await;
    let id = created["id"].as_str().unwrap();

    let response = app
        .put(
            &format!("/api/v1/contracts/{id}/body"),
            &world.submitter_a,
            &json!({ "body_markdown": "# 修订稿\n\n第一条 新条款。", "expected_version": 1 }),
        )
        .await;

    assert_eq!(response.status(), StatusCode::OK);
    let revised: Value = response.json().await.unwrap();
    assert_eq!(revised["version"], 2);
    assert_eq!(revised["body_version"], 2);
    assert_eq!(revised["body_markdown"], "# 修订稿\n\n第一条 新条款。");
    assert_ne!(revised["body_sha256"], created["body_sha256"]);

    let versions: Value = app
        .get(&format!("/api/v1/contracts/{id}/versions"), &world.reviewer)
        .await
        .json()
        .await
        .unwrap();
    let numbers: Vec<_> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["number"].clone())
        .collect();
    assert_eq!(numbers, [json!(1), json!(2)]);
    assert!(
        versions[0].get("body_markdown").is_none(),
        "lists omit bodies"
    );

    let first: Value = app
        .get(
            &format!("/api/v1/contracts/{id}/versions/1"),
            &world.reviewer,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["body_markdown"], created["body_markdown"]);
    assert_eq!(first["sha256"], created["body_sha256"]);
    let missing = app
        .get(
            &format!("/api/v1/contracts/{id}/versions/3"),
            &world.reviewer,
        )
        .await;
    problem(missing, StatusCode::NOT_FOUND).await;

    // Versions are legal records: the database itself refuses to change one.
    let tampered = if app.database_url.starts_with("sqlite:") {
        let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&app.database_url)
            .await
            .unwrap();
        sqlx::query("UPDATE contract_versions SET body_markdown = 'x'")
            .execute(&mut conn)
            .await
            .map(|r| r.rows_affected())
    } else {
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&app.database_url)
            .await
            .unwrap();
        sqlx::query("UPDATE contract_versions SET body_markdown = 'x'")
            .execute(&mut conn)
            .await
            .map(|r| r.rows_affected())
    };
    assert!(tampered.is_err(), "contract_versions must be immutable");
}

async fn a_stale_expected_version_is_refused(app: TestApp) {
    let world = World::build(&app).await;
    let created = app
        .create_contract(&world.submitter_a, &valid_contract("采购合同"))
        .await;
    let path = format!("/api/v1/contracts/{}/body", created["id"].as_str().unwrap());
    let first = app
        .put(
            &path,
            &world.submitter_a,
            &json!({ "body_markdown": "第一次修改", "expected_version": 1 }),
        )
        .await;
    assert_eq!(first.status(), StatusCode::OK);

    let second = app
        .put(
            &path,
            &world.submitter_a,
            &json!({ "body_markdown": "第二次修改", "expected_version": 1 }),
        )
        .await;

    let body = problem(second, StatusCode::CONFLICT).await;
    assert_eq!(body["type"], "/problems/stale-version");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM contract_versions").await,
        2
    );
}

async fn of_concurrent_revisions_exactly_one_wins(app: TestApp) {
    let world = World::build(&app).await;
    let created = app
        .create_contract(&world.submitter_a, &valid_contract("采购合同"))
        .await;
    let path = format!("/api/v1/contracts/{}/body", created["id"].as_str().unwrap());
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..12 {
        let request = app
            .request(reqwest::Method::PUT, &path, Some(&world.submitter_a))
            .json(&json!({ "body_markdown": format!("修改稿 {i}"), "expected_version": 1 }));
        tasks.spawn(async move { request.send().await.unwrap().status() });
    }

    let mut statuses = Vec::new();
    while let Some(status) = tasks.join_next().await {
        statuses.push(status.unwrap());
    }

    let won = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let lost = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((won, lost), (1, 11), "{statuses:?}");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM contract_versions").await,
        2
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_events WHERE action = 'contract.body_replaced'")
            .await,
        1
    );
}

async fn the_body_is_frozen_under_review_and_after_a_final_decision(app: TestApp) {
    let world = World::build(&app).await;
    let created = app
        .create_contract(&world.submitter_a, &valid_contract("采购合同"))
        .await;
    let id = created["id"].as_str().unwrap();
    let path = format!("/api/v1/contracts/{id}/body");

    for state in [
        "legal_review",
        "lead_review",
        "rejected",
        "signed",
        "withdrawn",
    ] {
        app.execute_sql(&format!("UPDATE contracts SET state = '{state}'"))
            .await;
        let response = app
            .put(
                &path,
                &world.submitter_a,
                &json!({ "body_markdown": "改", "expected_version": 1 }),
            )
            .await;
        let body = problem(response, StatusCode::CONFLICT).await;
        assert_eq!(body["type"], "/problems/invalid-state", "in state {state}");
    }
    app.execute_sql("UPDATE contracts SET state = 'revision_requested'")
        .await;
    let response = app
        .put(
            &path,
            &world.submitter_a,
            &json!({ "body_markdown": "按意见修改", "expected_version": 1 }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

async fn idempotent_create_returns_the_saved_response(app: TestApp) {
    let world = World::build(&app).await;
    let request = valid_contract("采购合同");
    let send = || {
        app.request(
            reqwest::Method::POST,
            "/api/v1/contracts",
            Some(&world.submitter_a),
        )
        .header("Idempotency-Key", "order-2027-001")
        .json(&request)
        .send()
    };

    let first = send().await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();

    let retry = send().await.unwrap();
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    let retry: Value = retry.json().await.unwrap();

    assert_eq!(retry, first);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM contracts").await, 1);

    // The key belongs to its user: another clerk using the same key creates their own contract.
    let other = app
        .request(
            reqwest::Method::POST,
            "/api/v1/contracts",
            Some(&world.submitter_b),
        )
        .header("Idempotency-Key", "order-2027-001")
        .json(&request)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::CREATED);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM contracts").await, 2);
}

async fn concurrent_retries_with_one_key_create_one_contract(app: TestApp) {
    let world = World::build(&app).await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let request = app
            .request(
                reqwest::Method::POST,
                "/api/v1/contracts",
                Some(&world.submitter_a),
            )
            .header("Idempotency-Key", "burst")
            .json(&valid_contract("并发重试"));
        tasks.spawn(async move {
            let response = request.send().await.unwrap();
            (response.status(), response.json::<Value>().await.unwrap())
        });
    }

    let mut ids = Vec::new();
    while let Some(result) = tasks.join_next().await {
        let (status, body) = result.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        ids.push(body["id"].as_str().unwrap().to_owned());
    }

    ids.dedup();
    assert_eq!(ids.len(), 1, "every retry answers with the one contract");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM contracts").await, 1);
}

async fn an_idempotency_key_reused_for_another_request_is_refused(app: TestApp) {
    let world = World::build(&app).await;
    let send = |title: &str| {
        app.request(
            reqwest::Method::POST,
            "/api/v1/contracts",
            Some(&world.submitter_a),
        )
        .header("Idempotency-Key", "k-1")
        .json(&valid_contract(title))
        .send()
    };
    assert_eq!(send("第一份").await.unwrap().status(), StatusCode::CREATED);

    let reused = send("第二份").await.unwrap();

    let body = problem(reused, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["field"], "Idempotency-Key");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM contracts").await, 1);
    let bad_key = app
        .request(
            reqwest::Method::POST,
            "/api/v1/contracts",
            Some(&world.submitter_a),
        )
        .header("Idempotency-Key", "has space")
        .json(&valid_contract("x"))
        .send()
        .await
        .unwrap();
    problem(bad_key, StatusCode::BAD_REQUEST).await;
}
