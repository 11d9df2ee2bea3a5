//! Agencies and users: admins manage their subtree; deactivation stops a user at once.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, World, problem, problem_fields};
use crate::on_both_backends;

on_both_backends!(
    admins_build_the_agency_tree_within_their_jurisdiction,
    admins_create_users_and_bad_fields_are_named,
    a_deactivated_user_is_locked_out_at_once,
    only_admins_and_auditors_see_the_directory,
);

async fn admins_build_the_agency_tree_within_their_jurisdiction(app: TestApp) {
    let world = World::build(&app).await;
    let dept_admin = app.user("admin@a.gov.cn", world.dept_a, &["admin"]).await;

    let inside = app
        .post(
            "/api/v1/agencies",
            &dept_admin,
            &json!({ "name": "甲局二中心", "parent_id": world.dept_a }),
        )
        .await;
    assert_eq!(inside.status(), StatusCode::CREATED);

    let outside = app
        .post(
            "/api/v1/agencies",
            &dept_admin,
            &json!({ "name": "越权机构", "parent_id": world.dept_b }),
        )
        .await;
    assert_eq!(
        problem(outside, StatusCode::UNPROCESSABLE_ENTITY).await["field"],
        "parent_id"
    );

    let duplicate = app
        .post(
            "/api/v1/agencies",
            &app.admin_token,
            &json!({ "name": "甲局", "parent_id": app.root_agency }),
        )
        .await;
    assert_eq!(
        problem(duplicate, StatusCode::CONFLICT).await["type"],
        "/problems/duplicate"
    );

    let no_parent = app
        .post(
            "/api/v1/agencies",
            &app.admin_token,
            &json!({ "name": "根" }),
        )
        .await;
    assert_eq!(
        problem(no_parent, StatusCode::UNPROCESSABLE_ENTITY).await["field"],
        "parent_id"
    );
    let unknown_parent = app
        .post(
            "/api/v1/agencies",
            &app.admin_token,
            &json!({ "name": "孤儿", "parent_id": uuid::Uuid::now_v7() }),
        )
        .await;
    assert_eq!(
        problem(unknown_parent, StatusCode::UNPROCESSABLE_ENTITY).await["field"],
        "parent_id"
    );

    let listed: Value = app
        .get("/api/v1/agencies", &dept_admin)
        .await
        .json()
        .await
        .unwrap();
    let mut names: Vec<_> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["甲局", "甲局下属中心", "甲局二中心"]);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_events WHERE action = 'agency.created'")
            .await,
        5,
        "root + three of the world + one here"
    );
}

async fn admins_create_users_and_bad_fields_are_named(app: TestApp) {
    let world = World::build(&app).await;
    let request = json!({
        "email": "bad address",
        "name": "",
        "agency_id": world.dept_a,
        "roles": ["submitter", "boss"],
        "password": "short",
    });

    let response = app.post("/api/v1/users", &app.admin_token, &request).await;

    let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        problem_fields(&body),
        ["email", "name", "roles", "password"]
    );

    let duplicate = json!({
        "email": "CLERK@a.gov.cn", "name": "重复", "agency_id": world.dept_a,
        "roles": ["submitter"], "password": PASSWORD,
    });
    problem(
        app.post("/api/v1/users", &app.admin_token, &duplicate)
            .await,
        StatusCode::CONFLICT,
    )
    .await;

    let dept_admin = app.user("admin@a.gov.cn", world.dept_a, &["admin"]).await;
    let elsewhere = json!({
        "email": "new@b.gov.cn", "name": "新人", "agency_id": world.dept_b,
        "roles": ["submitter"], "password": PASSWORD,
    });
    let body = problem(
        app.post("/api/v1/users", &dept_admin, &elsewhere).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["field"], "agency_id");

    let user = app
        .user(
            "multi@a.gov.cn",
            world.dept_a,
            &["submitter", "signatory", "submitter"],
        )
        .await;
    let me: Value = app.get("/api/v1/me", &user).await.json().await.unwrap();
    assert_eq!(me["roles"], json!(["submitter", "signatory"]));
}

async fn a_deactivated_user_is_locked_out_at_once(app: TestApp) {
    let world = World::build(&app).await;
    let me: Value = app
        .get("/api/v1/me", &world.submitter_a)
        .await
        .json()
        .await
        .unwrap();
    let id = me["id"].as_str().unwrap();

    let response = app
        .post(
            &format!("/api/v1/users/{id}/deactivate"),
            &app.admin_token,
            &json!({}),
        )
        .await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap()["active"], false);
    problem(
        app.get("/api/v1/contracts", &world.submitter_a).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    problem(
        app.try_login("clerk@a.gov.cn", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_events WHERE action = 'user.deactivated'")
            .await,
        1
    );

    let reactivated = app
        .post(
            &format!("/api/v1/users/{id}/activate"),
            &app.admin_token,
            &json!({}),
        )
        .await;
    assert_eq!(reactivated.status(), StatusCode::OK);
    app.login("clerk@a.gov.cn").await;

    // Admins cannot lock themselves out, and cannot reach users beyond their subtree.
    let admin_me: Value = app
        .get("/api/v1/me", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    let admin_id = admin_me["id"].as_str().unwrap();
    problem(
        app.post(
            &format!("/api/v1/users/{admin_id}/deactivate"),
            &app.admin_token,
            &json!({}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let dept_admin = app.user("admin@a.gov.cn", world.dept_a, &["admin"]).await;
    let b: Value = app
        .get("/api/v1/me", &world.submitter_b)
        .await
        .json()
        .await
        .unwrap();
    let b_id = b["id"].as_str().unwrap();
    problem(
        app.post(
            &format!("/api/v1/users/{b_id}/deactivate"),
            &dept_admin,
            &json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.post(
            &format!("/api/v1/users/{b_id}/deactivate"),
            &world.reviewer,
            &json!({}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
}

async fn only_admins_and_auditors_see_the_directory(app: TestApp) {
    let world = World::build(&app).await;
    for path in ["/api/v1/users", "/api/v1/agencies"] {
        for token in [&world.submitter_a, &world.reviewer, &world.signatory_a] {
            problem(app.get(path, token).await, StatusCode::FORBIDDEN).await;
        }
        assert_eq!(app.get(path, &world.auditor).await.status(), StatusCode::OK);
        assert_eq!(
            app.get(path, &app.admin_token).await.status(),
            StatusCode::OK
        );
    }
    let users: Value = app
        .get("/api/v1/users", &world.auditor)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        users.as_array().unwrap().len(),
        7,
        "the admin and the six of the world"
    );
    assert!(users[0].get("password_hash").is_none());

    // Auditors read everything and change nothing.
    let create = json!({ "name": "审计建的", "parent_id": app.root_agency });
    problem(
        app.post("/api/v1/agencies", &world.auditor, &create).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let response = app
        .request(Method::POST, "/api/v1/users", Some(&world.auditor))
        .json(&json!({ "email": "x@y.cn", "name": "x", "agency_id": world.dept_a, "roles": ["admin"], "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::FORBIDDEN).await;
}
