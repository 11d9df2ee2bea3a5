//! The mandatory review: the lifecycle, every refusal with its status, separation of duties,
//! hash-pinned signing, concurrency, deadlines, delegation and the opinion letter.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, World, id_of, problem, submitted, valid_contract};
use crate::on_both_backends;

on_both_backends!(
    a_contract_goes_from_draft_to_signed,
    large_guarantee_and_investment_contracts_need_the_lead_reviewer,
    a_returned_contract_is_revised_and_resubmitted,
    illegal_transitions_get_the_right_status,
    nobody_decides_on_a_contract_they_drafted_or_submitted,
    only_the_approved_version_can_be_signed,
    of_fifty_concurrent_decisions_exactly_one_wins,
    deadlines_are_set_in_working_days_and_overdue_ones_listed,
    a_deputy_decides_in_the_reviewers_name,
    a_retried_transition_is_not_applied_twice,
    the_opinion_letter_escapes_what_users_typed,
    the_queue_holds_what_waits_for_the_callers_decision,
);

fn version(contract: &Value) -> i64 {
    contract["version"].as_i64().unwrap()
}

async fn approve(app: &TestApp, token: &str, contract: &Value) -> Value {
    let body = json!({ "expected_version": version(contract), "opinion": "经审查，合同合法合规，同意签订。" });
    app.fire_ok(token, &id_of(contract), "approve", &body).await
}

async fn a_contract_goes_from_draft_to_signed(app: TestApp) {
    let world = World::build(&app).await;
    let draft = app
        .create_contract(&world.submitter_a, &valid_contract("办公用品采购合同"))
        .await;
    let id = id_of(&draft);
    assert_eq!(draft["workflow_id"], "contract-review");
    assert_eq!(draft["workflow_version"], 2);

    let in_review = app
        .fire_ok(
            &world.submitter_a,
            &id,
            "submit",
            &json!({ "expected_version": 1 }),
        )
        .await;
    assert_eq!(in_review["state"], "legal_review");
    assert!(
        in_review["due_at"].is_string(),
        "legal review has a deadline"
    );

    let choices: Value = app
        .get(
            &format!("/api/v1/contracts/{id}/transitions"),
            &world.reviewer,
        )
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<_> = choices
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["approve", "return", "request_materials", "reject"]);
    assert_eq!(choices[0]["requires"], json!(["opinion"]));

    let approved = approve(&app, &world.reviewer, &in_review).await;
    assert_eq!(approved["state"], "approved");
    assert_eq!(approved["approved_sha256"], draft["body_sha256"]);
    assert!(approved["due_at"].is_null());

    let sign_choices: Value = app
        .get(
            &format!("/api/v1/contracts/{id}/transitions"),
            &world.signatory_a,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sign_choices[0]["name"], "sign");
    assert_eq!(sign_choices[0]["requires"], json!(["body_sha256"]));
    let signed = app
        .fire_ok(
            &world.signatory_a,
            &id,
            "sign",
            &json!({ "expected_version": version(&approved), "body_sha256": draft["body_sha256"] }),
        )
        .await;
    assert_eq!(signed["state"], "signed");
    assert_eq!(
        app.contract(&world.auditor, &id).await,
        signed,
        "what the API answered is what was stored"
    );

    let history: Value = app
        .get(&format!("/api/v1/contracts/{id}/history"), &world.auditor)
        .await
        .json()
        .await
        .unwrap();
    let steps: Vec<_> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["transition"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["submit", "approve", "sign"]);

    let events: Value = app
        .get(&format!("/api/v1/contracts/{id}/events"), &world.auditor)
        .await
        .json()
        .await
        .unwrap();
    let events = events.as_array().unwrap();
    // Created, two materials attached, submitted, approved, signed.
    assert_eq!(events.len(), 6);
    assert_eq!(events[4]["data"]["transition"], "approve");
    assert_eq!(
        events[4]["data"]["opinion"],
        "经审查，合同合法合规，同意签订。"
    );
    assert_eq!(events[4]["data"]["body_sha256"], draft["body_sha256"]);
    assert_eq!(
        events[3]["hash"], events[4]["prev_hash"],
        "each event seals the one before"
    );

    let queued = |event: &str| format!("SELECT COUNT(*) FROM outbox WHERE event = '{event}'");
    assert_eq!(
        app.scalar(&queued("review_requested")).await,
        1,
        "the one reviewer of the jurisdiction"
    );
    assert_eq!(
        app.scalar(&queued("approved")).await,
        2,
        "the submitter and the signatory"
    );
    assert_eq!(
        app.scalar(&queued("signed")).await,
        2,
        "the submitter and the approving reviewer"
    );
    assert_eq!(crate::cli::audit_verify(&app.database_url).await.0, Some(0));
}

async fn large_guarantee_and_investment_contracts_need_the_lead_reviewer(app: TestApp) {
    let world = World::build(&app).await;
    let lead = app
        .user("lead@city.gov.cn", app.root_agency, &["lead_reviewer"])
        .await;
    let mut large = valid_contract("教学楼维修工程");
    large["contract_type"] = json!("construction");
    large["amount_fen"] = json!(600_000_000);
    let mut guarantee = valid_contract("担保合同");
    guarantee["contract_type"] = json!("guarantee");
    guarantee["amount_fen"] = json!(100);

    for contract in [large, guarantee] {
        let in_review = submitted(&app, &world, &contract).await;
        let first = approve(&app, &world.reviewer, &in_review).await;
        assert_eq!(first["state"], "lead_review", "{}", contract["title"]);
        assert!(
            first["approved_sha256"].is_null(),
            "not approved until the lead approves"
        );

        let again = app
            .fire(
                &world.reviewer,
                &id_of(&first),
                "approve",
                &json!({ "expected_version": version(&first), "opinion": "x" }),
            )
            .await;
        problem(again, StatusCode::FORBIDDEN).await;

        let approved = approve(&app, &lead, &first).await;
        assert_eq!(approved["state"], "approved");
    }
    let ordinary = submitted(&app, &world, &valid_contract("小额采购")).await;
    assert_eq!(
        approve(&app, &world.reviewer, &ordinary).await["state"],
        "approved"
    );
}

async fn a_returned_contract_is_revised_and_resubmitted(app: TestApp) {
    let world = World::build(&app).await;
    let in_review = submitted(&app, &world, &valid_contract("物业服务合同")).await;
    let id = id_of(&in_review);

    let returned = app
        .fire_ok(
            &world.reviewer,
            &id,
            "return",
            &json!({ "expected_version": version(&in_review), "opinion": "第五条付款期限过长，请改为验收后三十日内付款。" }),
        )
        .await;
    assert_eq!(returned["state"], "revision_requested");
    let letter = app
        .request(
            Method::GET,
            &format!("/api/v1/contracts/{id}/opinion"),
            Some(&world.submitter_a),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        letter.contains("退回修改。请按上述意见修改后重新送审")
            && letter.contains("第五条付款期限过长"),
        "{letter}"
    );

    let revised = app
        .put(
            &format!("/api/v1/contracts/{id}/body"),
            &world.submitter_a,
            &json!({ "body_markdown": "# 物业服务合同\n\n第五条 验收后三十日内付款。", "expected_version": version(&returned) }),
        )
        .await;
    assert_eq!(revised.status(), StatusCode::OK);
    let revised: Value = revised.json().await.unwrap();
    assert_eq!(revised["state"], "revision_requested");
    let resubmitted = app
        .fire_ok(
            &world.submitter_a,
            &id,
            "submit",
            &json!({ "expected_version": version(&revised) }),
        )
        .await;
    let approved = approve(&app, &world.reviewer, &resubmitted).await;
    assert_eq!(approved["approved_sha256"], revised["body_sha256"]);
    assert_eq!(approved["body_version"], 2);
}

async fn illegal_transitions_get_the_right_status(app: TestApp) {
    let world = World::build(&app).await;
    let reviewer_b = app
        .user("reviewer@b.gov.cn", world.dept_b, &["reviewer"])
        .await;
    let draft = app
        .create_contract(&world.submitter_a, &valid_contract("采购合同"))
        .await;
    let id = id_of(&draft);
    let v1 = json!({ "expected_version": 1 });

    problem(
        app.fire(&world.submitter_a, &id, "teleport", &v1).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let body = problem(
        app.fire(&world.submitter_a, &id, "sign", &v1).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(body["type"], "/problems/invalid-state");
    problem(
        app.fire(&world.submitter_b, &id, "submit", &v1).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.fire(&world.auditor, &id, "submit", &v1).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    problem(
        app.fire(
            &world.submitter_a,
            &id,
            "submit",
            &json!({ "expected_version": 7 }),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;

    let in_review = app.fire_ok(&world.submitter_a, &id, "submit", &v1).await;
    let v = version(&in_review);
    let with_opinion = json!({ "expected_version": v, "opinion": "同意" });
    problem(
        app.fire(&world.submitter_a, &id, "approve", &with_opinion)
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    problem(
        app.fire(&reviewer_b, &id, "approve", &with_opinion).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let no_opinion = app
        .fire(
            &world.reviewer,
            &id,
            "approve",
            &json!({ "expected_version": v }),
        )
        .await;
    assert_eq!(
        problem(no_opinion, StatusCode::UNPROCESSABLE_ENTITY).await["field"],
        "opinion"
    );
    let stale = app
        .fire(
            &world.reviewer,
            &id,
            "approve",
            &json!({ "expected_version": v - 1, "opinion": "同意" }),
        )
        .await;
    assert_eq!(
        problem(stale, StatusCode::CONFLICT).await["type"],
        "/problems/stale-version"
    );
    let unknown_field = app
        .fire(
            &world.reviewer,
            &id,
            "approve",
            &json!({ "expected_version": v, "verdict": "yes" }),
        )
        .await;
    problem(unknown_field, StatusCode::UNPROCESSABLE_ENTITY).await;

    let rejected = app
        .fire_ok(
            &world.reviewer,
            &id,
            "reject",
            &json!({ "expected_version": v, "opinion": "以合同相对方垫资为前提，不同意签订。" }),
        )
        .await;
    let after =
        json!({ "expected_version": version(&rejected), "body_sha256": draft["body_sha256"] });
    problem(
        app.fire(&world.signatory_a, &id, "sign", &after).await,
        StatusCode::CONFLICT,
    )
    .await;
    problem(
        app.fire(&world.submitter_a, &id, "withdraw", &after).await,
        StatusCode::CONFLICT,
    )
    .await;
    let edit = json!({ "body_markdown": "改", "expected_version": version(&rejected) });
    problem(
        app.put(
            &format!("/api/v1/contracts/{id}/body"),
            &world.submitter_a,
            &edit,
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(app.contract(&world.auditor, &id).await["state"], "rejected");
}

async fn nobody_decides_on_a_contract_they_drafted_or_submitted(app: TestApp) {
    let world = World::build(&app).await;
    let both = app
        .user("both@a.gov.cn", world.dept_a, &["submitter", "reviewer"])
        .await;
    let draft = app
        .create_contract(&both, &valid_contract("自审合同"))
        .await;
    let id = id_of(&draft);
    let in_review = app
        .fire_ok(&both, &id, "submit", &json!({ "expected_version": 1 }))
        .await;

    for name in ["approve", "return", "reject"] {
        let response = app
            .fire(
                &both,
                &id,
                name,
                &json!({ "expected_version": version(&in_review), "opinion": "自己审自己" }),
            )
            .await;
        let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(body["guard"], "not_submitter", "{name}");
        assert_eq!(body["type"], "/problems/guard-failed");
    }

    // A colleague who only revised the text is an author too.
    let colleague = app
        .user(
            "colleague@a.gov.cn",
            world.dept_a,
            &["submitter", "reviewer"],
        )
        .await;
    let other = app
        .create_contract(&world.submitter_a, &valid_contract("同事修改的合同"))
        .await;
    let other_id = id_of(&other);
    let edit = json!({ "body_markdown": "同事修改的正文", "expected_version": 1 });
    assert_eq!(
        app.put(
            &format!("/api/v1/contracts/{other_id}/body"),
            &colleague,
            &edit
        )
        .await
        .status(),
        StatusCode::OK
    );
    let in_review = app
        .fire_ok(
            &world.submitter_a,
            &other_id,
            "submit",
            &json!({ "expected_version": 2 }),
        )
        .await;
    let response = app
        .fire(
            &colleague,
            &other_id,
            "approve",
            &json!({ "expected_version": version(&in_review), "opinion": "同意" }),
        )
        .await;
    assert_eq!(
        problem(response, StatusCode::UNPROCESSABLE_ENTITY).await["guard"],
        "not_submitter"
    );
    approve(&app, &world.reviewer, &in_review).await;
}

async fn only_the_approved_version_can_be_signed(app: TestApp) {
    let world = World::build(&app).await;
    let in_review = submitted(&app, &world, &valid_contract("采购合同")).await;
    let id = id_of(&in_review);
    let approved = approve(&app, &world.reviewer, &in_review).await;
    let approved_sha = approved["approved_sha256"].clone();

    // The clerk changes the approved text: the approval lapses and the contract goes back to review.
    let changed = app
        .put(
            &format!("/api/v1/contracts/{id}/body"),
            &world.submitter_a,
            &json!({ "body_markdown": "# 采购合同\n\n第三条 付款：货到验收合格后十日内付款。", "expected_version": version(&approved) }),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    let changed: Value = changed.json().await.unwrap();
    assert_eq!(changed["state"], "legal_review");
    assert!(changed["approved_sha256"].is_null());

    let sign_old = json!({ "expected_version": version(&changed), "body_sha256": approved_sha });
    problem(
        app.fire(&world.signatory_a, &id, "sign", &sign_old).await,
        StatusCode::CONFLICT,
    )
    .await;

    let reapproved = approve(&app, &world.reviewer, &changed).await;
    let stale_sha =
        json!({ "expected_version": version(&reapproved), "body_sha256": approved_sha });
    let body = problem(
        app.fire(&world.signatory_a, &id, "sign", &stale_sha).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["field"], "body_sha256");
    let no_sha = json!({ "expected_version": version(&reapproved) });
    problem(
        app.fire(&world.signatory_a, &id, "sign", &no_sha).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;

    let unlisted = app
        .user("other-signer@a.gov.cn", world.dept_a, &["signatory"])
        .await;
    let right_sha =
        json!({ "expected_version": version(&reapproved), "body_sha256": changed["body_sha256"] });
    let body = problem(
        app.fire(&unlisted, &id, "sign", &right_sha).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["guard"], "listed_signatory");

    let signed = app
        .fire_ok(&world.signatory_a, &id, "sign", &right_sha)
        .await;
    assert_eq!(signed["state"], "signed");
    assert_eq!(signed["approved_sha256"], changed["body_sha256"]);
}

async fn of_fifty_concurrent_decisions_exactly_one_wins(app: TestApp) {
    let world = World::build(&app).await;
    let second = app
        .user("reviewer2@city.gov.cn", app.root_agency, &["reviewer"])
        .await;
    let in_review = submitted(&app, &world, &valid_contract("并发审查")).await;
    let id = id_of(&in_review);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..50 {
        let token = if i % 2 == 0 {
            world.reviewer.clone()
        } else {
            second.clone()
        };
        let name = ["approve", "return", "reject"][i % 3];
        let request = app
            .request(
                Method::POST,
                &format!("/api/v1/contracts/{id}/transitions/{name}"),
                Some(&token),
            )
            .json(
                &json!({ "expected_version": version(&in_review), "opinion": format!("意见 {i}") }),
            );
        tasks.spawn(async move { request.send().await.unwrap().status() });
    }

    let mut statuses = Vec::new();
    while let Some(status) = tasks.join_next().await {
        statuses.push(status.unwrap());
    }

    let won = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let conflicts = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((won, conflicts), (1, 49), "{statuses:?}");
    let decisions = app
        .scalar(&format!(
            "SELECT COUNT(*) FROM contract_transitions WHERE transition <> 'submit' AND body_sha256 = '{}'",
            in_review["body_sha256"].as_str().unwrap()
        ))
        .await;
    assert_eq!(decisions, 1);
    let (code, stdout, _) = crate::cli::audit_verify(&app.database_url).await;
    assert_eq!(code, Some(0), "{stdout}");
}

async fn deadlines_are_set_in_working_days_and_overdue_ones_listed(app: TestApp) {
    let world = World::build(&app).await;
    let late = submitted(&app, &world, &valid_contract("逾期合同")).await;
    let on_time = submitted(&app, &world, &valid_contract("未逾期合同")).await;
    app.create_contract(&world.submitter_a, &valid_contract("草稿无期限"))
        .await;
    let due: chrono::DateTime<chrono::Utc> = on_time["due_at"].as_str().unwrap().parse().unwrap();
    let now = chrono::Utc::now();
    assert!(
        due > now + chrono::Duration::days(5),
        "five working days span at least a week: {due}"
    );
    assert!(due < now + chrono::Duration::days(20), "{due}");

    app.execute_sql(&format!(
        "UPDATE contracts SET due_at = '2026-01-05T16:00:00+00:00' WHERE title = '{}'",
        late["title"].as_str().unwrap()
    ))
    .await;

    let overdue: Value = app
        .get("/api/v1/contracts?overdue=true", &world.reviewer)
        .await
        .json()
        .await
        .unwrap();
    let titles: Vec<_> = overdue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["逾期合同"]);
    let all: Value = app
        .get("/api/v1/contracts?overdue=false", &world.reviewer)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
}

async fn a_deputy_decides_in_the_reviewers_name(app: TestApp) {
    let world = World::build(&app).await;
    // The deputy reviews for department B only; as the city reviewer's deputy they may decide
    // on department A's contract too.
    let deputy = app
        .user("deputy@b.gov.cn", world.dept_b, &["reviewer"])
        .await;
    let in_review = submitted(&app, &world, &valid_contract("代审合同")).await;
    let id = id_of(&in_review);
    let reviewer_me: Value = app
        .get("/api/v1/me", &world.reviewer)
        .await
        .json()
        .await
        .unwrap();
    let reviewer_id = reviewer_me["id"].as_str().unwrap().to_owned();
    let decision = json!({ "expected_version": version(&in_review), "opinion": "代为审查：同意签订。", "on_behalf_of": reviewer_id });

    problem(
        app.fire(&deputy, &id, "approve", &decision).await,
        StatusCode::FORBIDDEN,
    )
    .await;

    let today = chrono::Utc::now().date_naive();
    let delegate = json!({ "deputy_email": "deputy@b.gov.cn", "starts_on": today - chrono::Days::new(1), "ends_on": today + chrono::Days::new(3) });
    let created = app
        .post("/api/v1/delegations", &world.reviewer, &delegate)
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let delegation: Value = created.json().await.unwrap();

    let approved = app.fire_ok(&deputy, &id, "approve", &decision).await;
    assert_eq!(approved["state"], "approved");
    let history: Value = app
        .get(&format!("/api/v1/contracts/{id}/history"), &world.auditor)
        .await
        .json()
        .await
        .unwrap();
    let deputy_me: Value = app.get("/api/v1/me", &deputy).await.json().await.unwrap();
    assert_eq!(history[1]["actor_id"], deputy_me["id"]);
    assert_eq!(history[1]["on_behalf_of"], json!(reviewer_id));
    let letter = app
        .request(
            Method::GET,
            &format!("/api/v1/contracts/{id}/opinion"),
            Some(&world.submitter_a),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        letter.contains("reviewer@city\\.gov\\.cn") && letter.contains("deputy@b\\.gov\\.cn"),
        "{letter}"
    );

    let revoked = app
        .post(
            &format!(
                "/api/v1/delegations/{}/revoke",
                delegation["id"].as_str().unwrap()
            ),
            &world.reviewer,
            &json!({}),
        )
        .await;
    assert_eq!(revoked.status(), StatusCode::OK);
    let next = submitted(&app, &world, &valid_contract("撤销委托后")).await;
    let after = json!({ "expected_version": version(&next), "opinion": "同意", "on_behalf_of": reviewer_id });
    problem(
        app.fire(&deputy, &id_of(&next), "approve", &after).await,
        StatusCode::FORBIDDEN,
    )
    .await;

    for bad in [
        json!({ "deputy_email": "clerk@a.gov.cn", "starts_on": today, "ends_on": today }),
        json!({ "deputy_email": "nobody@x.gov.cn", "starts_on": today, "ends_on": today }),
        json!({ "deputy_email": "deputy@b.gov.cn", "starts_on": today, "ends_on": today - chrono::Days::new(1) }),
    ] {
        problem(
            app.post("/api/v1/delegations", &world.reviewer, &bad).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let by_clerk =
        json!({ "deputy_email": "deputy@b.gov.cn", "starts_on": today, "ends_on": today });
    problem(
        app.post("/api/v1/delegations", &world.submitter_a, &by_clerk)
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
}

async fn a_retried_transition_is_not_applied_twice(app: TestApp) {
    let world = World::build(&app).await;
    let draft = app
        .create_contract(&world.submitter_a, &valid_contract("重试提交"))
        .await;
    let id = id_of(&draft);
    let send = || {
        app.request(
            Method::POST,
            &format!("/api/v1/contracts/{id}/transitions/submit"),
            Some(&world.submitter_a),
        )
        .header("Idempotency-Key", "submit-once")
        .json(&json!({ "expected_version": 1 }))
        .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let first: Value = first.json().await.unwrap();

    let retry = send().await.unwrap();

    assert_eq!(retry.status(), StatusCode::OK);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(retry.json::<Value>().await.unwrap(), first);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM contract_transitions")
            .await,
        1
    );
}

async fn the_opinion_letter_escapes_what_users_typed(app: TestApp) {
    let world = World::build(&app).await;
    let mut hostile = valid_contract("<script>alert(1)</script> [点我](javascript:alert(2))");
    hostile["counterparty"] = json!("**某某公司** <img src=x onerror=alert(3)>");
    let in_review = submitted(&app, &world, &hostile).await;
    let id = id_of(&in_review);
    problem(
        app.get(&format!("/api/v1/contracts/{id}/opinion"), &world.reviewer)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let body =
        json!({ "expected_version": version(&in_review), "opinion": "同意。<b>加粗</b>\n第二行" });
    app.fire_ok(&world.reviewer, &id, "approve", &body).await;

    let html = app
        .request(
            Method::GET,
            &format!("/api/v1/contracts/{id}/opinion"),
            Some(&world.submitter_a),
        )
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(html.headers()["content-type"], "text/html; charset=utf-8");
    let html = html.text().await.unwrap();
    assert!(html.contains("合法性审查意见书"));
    assert!(html.contains("同意签订"));
    assert!(html.contains(in_review["body_sha256"].as_str().unwrap()));
    for forbidden in ["<script", "<img", "<a ", "<b>", "<strong>某某"] {
        assert!(!html.contains(forbidden), "{forbidden} leaked into {html}");
    }
    assert!(html.contains("&lt;script&gt;"), "{html}");

    let markdown = app
        .request(
            Method::GET,
            &format!("/api/v1/contracts/{id}/opinion"),
            Some(&world.submitter_a),
        )
        .header("accept", "text/markdown")
        .send()
        .await
        .unwrap();
    assert_eq!(
        markdown.headers()["content-type"],
        "text/markdown; charset=utf-8"
    );
    assert!(
        markdown
            .text()
            .await
            .unwrap()
            .contains("人民币186,000\\.00元")
    );
}

async fn the_queue_holds_what_waits_for_the_callers_decision(app: TestApp) {
    let world = World::build(&app).await;
    let lead = app
        .user("lead@city.gov.cn", app.root_agency, &["lead_reviewer"])
        .await;
    let dept_reviewer = app
        .user("reviewer@b.gov.cn", world.dept_b, &["reviewer"])
        .await;
    let first = submitted(&app, &world, &valid_contract("先提交的采购")).await;
    let second = submitted(&app, &world, &valid_contract("后提交的采购")).await;
    app.create_contract(&world.submitter_a, &valid_contract("未提交的草稿"))
        .await;
    let mut large = valid_contract("大额工程");
    large["contract_type"] = json!("construction");
    large["amount_fen"] = json!(600_000_000);
    let at_lead = approve(
        &app,
        &world.reviewer,
        &submitted(&app, &world, &large).await,
    )
    .await;
    // The second one is due first, so it leads the queue.
    let moved = app
        .execute_sql(
            "UPDATE contracts SET due_at = '2020-01-02T00:00:00+00:00' WHERE title = '后提交的采购'",
        )
        .await;
    assert_eq!(moved, 1);

    let queue = |token: String| {
        let app = &app;
        async move {
            let response = app.get("/api/v1/queue", &token).await;
            assert_eq!(response.status(), StatusCode::OK);
            let body: Value = response.json().await.unwrap();
            let titles: Vec<String> = body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|item| item["contract"]["title"].as_str().unwrap().to_owned())
                .collect();
            (titles, body)
        }
    };
    let (titles, body) = queue(world.reviewer.clone()).await;
    assert_eq!(
        titles,
        ["后提交的采购", "先提交的采购"],
        "earliest deadline first"
    );
    assert_eq!(body["items"][0]["overdue"], true);
    assert_eq!(body["items"][0]["contract"]["id"], second["id"]);
    assert_eq!(body["items"][1]["contract"]["id"], first["id"]);
    let (lead_titles, _) = queue(lead).await;
    assert_eq!(lead_titles, ["大额工程"], "{}", at_lead["state"]);
    let (outside, _) = queue(dept_reviewer).await;
    assert!(
        outside.is_empty(),
        "dept B's reviewer does not cover dept A: {outside:?}"
    );
    let (clerk, _) = queue(world.submitter_a.clone()).await;
    assert!(clerk.is_empty(), "a clerk decides nothing: {clerk:?}");
}
