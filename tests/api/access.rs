//! The access matrix: who sees and changes which contracts. Denials outside one's view are 404
//! (no existence leak); inside it, a role that may not act gets 403.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, World, problem, valid_contract};
use crate::on_both_backends;

on_both_backends!(
    requests_without_a_valid_token_get_401,
    only_submitters_create_contracts,
    each_role_lists_exactly_its_view,
    another_agencys_contract_is_not_found,
    inside_the_view_only_own_agency_submitters_edit,
);

fn ids(page: &Value) -> Vec<String> {
    let mut ids: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["title"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

async fn requests_without_a_valid_token_get_401(app: TestApp) {
    for token in [None, Some("crv_0000"), Some("not even a token")] {
        let response = app
            .request(Method::GET, "/api/v1/contracts", token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        problem(response, StatusCode::UNAUTHORIZED).await;
    }
    let response = app
        .request(Method::GET, "/api/v1/contracts", None)
        .header("authorization", "Basic YWRtaW46YWRtaW4=")
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::UNAUTHORIZED).await;

    // An expired token stops working even though it is still stored.
    let world = World::build(&app).await;
    app.execute_sql("UPDATE api_tokens SET expires_at = created_at")
        .await;
    problem(
        app.get("/api/v1/contracts", &world.submitter_a).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

async fn only_submitters_create_contracts(app: TestApp) {
    let world = World::build(&app).await;
    let contract = valid_contract("采购合同");
    for token in [
        &world.reviewer,
        &world.auditor,
        &world.signatory_a,
        &app.admin_token,
    ] {
        let response = app.post("/api/v1/contracts", token, &contract).await;
        problem(response, StatusCode::FORBIDDEN).await;
    }
    let created = app.create_contract(&world.submitter_a1, &contract).await;
    assert_eq!(
        created["agency_id"],
        json!(world.unit_a1),
        "a contract belongs to its submitter's agency"
    );
    assert_eq!(app.scalar("SELECT COUNT(*) FROM contracts").await, 1);
}

async fn each_role_lists_exactly_its_view(app: TestApp) {
    let world = World::build(&app).await;
    app.create_contract(&world.submitter_a, &valid_contract("A"))
        .await;
    app.create_contract(&world.submitter_a1, &valid_contract("A1"))
        .await;
    app.create_contract(&world.submitter_b, &valid_contract("B"))
        .await;
    let outsider_agency = app.create_agency("丙局", app.root_agency).await;
    let reviewer_a = app
        .user("reviewer@a.gov.cn", world.dept_a, &["reviewer"])
        .await;
    let both_roles = app
        .user(
            "clerk-reviewer@b.gov.cn",
            world.dept_b,
            &["submitter", "reviewer"],
        )
        .await;
    let outsider = app
        .user("clerk@c.gov.cn", outsider_agency, &["submitter"])
        .await;

    let expectations: [(&str, &String, &[&str]); 9] = [
        (
            "submitter A sees its own agency only",
            &world.submitter_a,
            &["A"],
        ),
        ("signatory A sees its agency", &world.signatory_a, &["A"]),
        (
            "submitter A1 sees its unit only",
            &world.submitter_a1,
            &["A1"],
        ),
        ("submitter B sees B", &world.submitter_b, &["B"]),
        (
            "a city reviewer sees the whole subtree",
            &world.reviewer,
            &["A", "A1", "B"],
        ),
        (
            "a department reviewer sees its subtree",
            &reviewer_a,
            &["A", "A1"],
        ),
        (
            "submitter+reviewer gets the broader view",
            &both_roles,
            &["B"],
        ),
        ("auditors see everything", &world.auditor, &["A", "A1", "B"]),
        ("an agency with no contracts sees none", &outsider, &[]),
    ];
    for (why, token, expected) in expectations {
        let page: Value = app
            .get("/api/v1/contracts", token)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(ids(&page), expected, "{why}");
    }
    let page: Value = app
        .get("/api/v1/contracts", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        ids(&page),
        ["A", "A1", "B"],
        "the root admin sees its subtree"
    );
}

async fn another_agencys_contract_is_not_found(app: TestApp) {
    let world = World::build(&app).await;
    let contract = app
        .create_contract(&world.submitter_a, &valid_contract("A"))
        .await;
    let id = contract["id"].as_str().unwrap();
    let edit = json!({ "body_markdown": "改", "expected_version": 1 });

    for token in [&world.submitter_b, &world.submitter_a1] {
        let not_found = problem(
            app.get(&format!("/api/v1/contracts/{id}"), token).await,
            StatusCode::NOT_FOUND,
        )
        .await;
        let never_existed = problem(
            app.get(
                "/api/v1/contracts/01900000-0000-7000-8000-000000000000",
                token,
            )
            .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert_eq!(
            not_found, never_existed,
            "a foreign contract looks exactly like a missing one"
        );
        problem(
            app.put(&format!("/api/v1/contracts/{id}/body"), token, &edit)
                .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        problem(
            app.get(&format!("/api/v1/contracts/{id}/versions"), token)
                .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        problem(
            app.get(&format!("/api/v1/contracts/{id}/versions/1"), token)
                .await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
    for token in [&world.reviewer, &world.auditor, &world.signatory_a] {
        assert_eq!(
            app.get(&format!("/api/v1/contracts/{id}"), token)
                .await
                .status(),
            StatusCode::OK
        );
        assert_eq!(
            app.get(&format!("/api/v1/contracts/{id}/versions/1"), token)
                .await
                .status(),
            StatusCode::OK
        );
    }
}

async fn inside_the_view_only_own_agency_submitters_edit(app: TestApp) {
    let world = World::build(&app).await;
    let contract = app
        .create_contract(&world.submitter_a1, &valid_contract("A1"))
        .await;
    let path = format!(
        "/api/v1/contracts/{}/body",
        contract["id"].as_str().unwrap()
    );
    let edit = json!({ "body_markdown": "改", "expected_version": 1 });
    let reviewer_submitter_a = app
        .user("both@a.gov.cn", world.dept_a, &["submitter", "reviewer"])
        .await;

    for token in [
        &world.reviewer,
        &world.auditor,
        &app.admin_token,
        &reviewer_submitter_a,
    ] {
        problem(app.put(&path, token, &edit).await, StatusCode::FORBIDDEN).await;
    }
    assert_eq!(
        app.put(&path, &world.submitter_a1, &edit).await.status(),
        StatusCode::OK
    );
}
