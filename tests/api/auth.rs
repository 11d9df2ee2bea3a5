//! Sign-in, tokens, sign-out and the failed-sign-in limits.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{PASSWORD, TestApp, World, problem};
use crate::on_both_backends;

on_both_backends!(
    login_issues_a_token_that_identifies_the_user,
    wrong_passwords_and_unknown_accounts_look_alike,
    logout_revokes_the_token,
    repeated_failures_lock_the_account_for_a_while,
    repeated_failures_from_one_address_are_limited,
);

async fn login_issues_a_token_that_identifies_the_user(app: TestApp) {
    let world = World::build(&app).await;

    let response = app.try_login("  Clerk@A.gov.cn ", PASSWORD).await;

    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["user"]["email"], "clerk@a.gov.cn");
    let token = body["token"].as_str().unwrap();
    let me: Value = app.get("/api/v1/me", token).await.json().await.unwrap();
    assert_eq!(me["email"], "clerk@a.gov.cn");
    assert_eq!(me["roles"], serde_json::json!(["submitter"]));
    assert_eq!(me["agency_id"], serde_json::json!(world.dept_a));
    // Only the token's hash is stored.
    let stored = app
        .scalar(&format!(
            "SELECT COUNT(*) FROM api_tokens WHERE token_hash = '{token}'"
        ))
        .await;
    assert_eq!(stored, 0);
}

async fn wrong_passwords_and_unknown_accounts_look_alike(app: TestApp) {
    World::build(&app).await;
    let wrong = problem(
        app.try_login("clerk@a.gov.cn", "wrong password!").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let unknown = problem(
        app.try_login("nobody@a.gov.cn", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(wrong, unknown);
    let malformed = app.try_login("not an address", PASSWORD).await;
    problem(malformed, StatusCode::UNAUTHORIZED).await;
}

async fn logout_revokes_the_token(app: TestApp) {
    let world = World::build(&app).await;
    let response = app
        .request(
            Method::POST,
            "/api/v1/auth/logout",
            Some(&world.submitter_a),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    problem(
        app.get("/api/v1/contracts", &world.submitter_a).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // Other sessions of other users are untouched.
    assert_eq!(
        app.get("/api/v1/contracts", &world.submitter_b)
            .await
            .status(),
        StatusCode::OK
    );
}

async fn repeated_failures_lock_the_account_for_a_while(app: TestApp) {
    World::build(&app).await;
    for _ in 0..5 {
        problem(
            app.try_login("clerk@a.gov.cn", "guess guess guess").await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }

    let locked = app.try_login("clerk@a.gov.cn", PASSWORD).await;

    assert_eq!(locked.headers()["retry-after"], "900");
    problem(locked, StatusCode::TOO_MANY_REQUESTS).await;
    // Other accounts are unaffected, and the lock lifts when the failures age out.
    assert_eq!(
        app.try_login("clerk@b.gov.cn", PASSWORD).await.status(),
        StatusCode::OK
    );
    app.execute_sql("UPDATE login_failures SET at = '2000-01-01T00:00:00+00:00'")
        .await;
    assert_eq!(
        app.try_login("clerk@a.gov.cn", PASSWORD).await.status(),
        StatusCode::OK
    );
}

async fn repeated_failures_from_one_address_are_limited(app: TestApp) {
    World::build(&app).await;
    for i in 0..20 {
        let email = format!("spray{i}@a.gov.cn");
        problem(
            app.try_login(&email, "guess guess guess").await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }

    let response = app.try_login("clerk@b.gov.cn", PASSWORD).await;

    problem(response, StatusCode::TOO_MANY_REQUESTS).await;
}
