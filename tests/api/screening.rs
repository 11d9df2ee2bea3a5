//! The screen in the workflow: findings stored on submission block approval until a reviewer
//! waives them; a self-check stores nothing; the judgment register feeds the fact rules.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, World, problem, valid_contract};
use crate::on_both_backends;

on_both_backends!(
    blocking_findings_stop_approval_until_waived,
    a_self_check_shows_findings_and_stores_nothing,
    the_register_feeds_the_screen_and_the_half_year_report,
);

fn construction(title: &str, body: &str) -> Value {
    let mut contract = valid_contract(title);
    contract["contract_type"] = json!("construction");
    contract["body_markdown"] = json!(body);
    contract
}

async fn blocking_findings_stop_approval_until_waived(app: TestApp) {
    let world = World::build(&app).await;
    let body = "# 校舍维修工程施工合同\n\n## 第三条 工程款支付\n\n1. 本工程由乙方垫资施工。\n2. 按月完成工程量的百分之八十支付进度款。\n";
    let created = app
        .create_contract(&world.submitter_a, &construction("校舍维修", body))
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let submitted = app
        .fire_ok(
            &world.submitter_a,
            &id,
            "submit",
            &json!({ "expected_version": 1 }),
        )
        .await;

    let stored: Value = app
        .get(&format!("/api/v1/contracts/{id}/findings"), &world.reviewer)
        .await
        .json()
        .await
        .unwrap();
    let findings = stored["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{stored}");
    assert_eq!(findings[0]["category"], "contractor_advance");
    assert_eq!(findings[0]["severity"], "block");
    assert_eq!(
        findings[0]["clause"],
        "校舍维修工程施工合同 › 第三条 工程款支付 › 1"
    );
    let (start, end) = (
        findings[0]["start_offset"].as_u64().unwrap() as usize,
        findings[0]["end_offset"].as_u64().unwrap() as usize,
    );
    assert_eq!(&body[start..end], "本工程由乙方垫资施工。");
    assert_eq!(stored["checklist"].as_array().unwrap().len(), 10);

    let approve = json!({ "expected_version": submitted["version"], "opinion": "同意" });
    let refused = app.fire(&world.reviewer, &id, "approve", &approve).await;
    assert_eq!(
        problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await["guard"],
        "no_open_blocking_findings"
    );

    let finding = findings[0]["id"].as_str().unwrap();
    let path = format!("/api/v1/contracts/{id}/findings/{finding}/waive");
    problem(
        app.post(
            &path,
            &world.submitter_a,
            &json!({ "reason": "我觉得没问题" }),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    problem(
        app.post(&path, &world.reviewer, &json!({ "reason": "  " }))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let waived = app
        .post(
            &path,
            &world.reviewer,
            &json!({ "reason": "经核实，垫资条款已在补充协议中删除。" }),
        )
        .await;
    assert_eq!(waived.status(), StatusCode::OK);
    assert!(waived.json::<Value>().await.unwrap()["waived_at"].is_string());
    problem(
        app.post(&path, &world.reviewer, &json!({ "reason": "again" }))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // The waiver changed what approval depends on: the old version is stale.
    problem(
        app.fire(&world.reviewer, &id, "approve", &approve).await,
        StatusCode::CONFLICT,
    )
    .await;

    // A wrong exclusion is taken back while the review is open: the finding blocks again.
    let withdraw = format!("/api/v1/contracts/{id}/findings/{finding}/withdraw-waiver");
    problem(
        app.post(&withdraw, &world.submitter_a, &json!({ "reason": "撤销" }))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let reopened = app
        .post(
            &withdraw,
            &world.reviewer,
            &json!({ "reason": "补充协议尚未签订，排除依据不足。" }),
        )
        .await;
    assert_eq!(reopened.status(), StatusCode::OK);
    assert!(reopened.json::<Value>().await.unwrap()["waived_at"].is_null());
    problem(
        app.post(&withdraw, &world.reviewer, &json!({ "reason": "again" }))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let current = app.contract(&world.reviewer, &id).await;
    let blocked = json!({ "expected_version": current["version"], "opinion": "同意" });
    assert_eq!(
        problem(
            app.fire(&world.reviewer, &id, "approve", &blocked).await,
            StatusCode::UNPROCESSABLE_ENTITY
        )
        .await["guard"],
        "no_open_blocking_findings"
    );
    let waived = app
        .post(
            &path,
            &world.reviewer,
            &json!({ "reason": "经核实，垫资条款已在补充协议中删除。" }),
        )
        .await;
    assert_eq!(waived.status(), StatusCode::OK);
    let current = app.contract(&world.reviewer, &id).await;
    let approved = app
        .fire_ok(
            &world.reviewer,
            &id,
            "approve",
            &json!({ "expected_version": current["version"], "opinion": "同意签订。" }),
        )
        .await;
    assert_eq!(approved["state"], "approved");

    let events: Value = app
        .get(&format!("/api/v1/contracts/{id}/events"), &world.auditor)
        .await
        .json()
        .await
        .unwrap();
    let waiver = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "finding.waived")
        .expect("an audited waiver");
    let withdrawal = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "finding.waiver_withdrawn")
        .expect("an audited withdrawal");
    assert_eq!(
        (
            withdrawal["data"]["reason"].as_str(),
            withdrawal["data"]["withdrawn_reason"].as_str()
        ),
        (
            Some("补充协议尚未签订，排除依据不足。"),
            Some("经核实，垫资条款已在补充协议中删除。")
        )
    );
    assert_eq!(
        waiver["data"]["reason"],
        "经核实，垫资条款已在补充协议中删除。"
    );
    let letter = app
        .get(
            &format!("/api/v1/contracts/{id}/opinion"),
            &world.submitter_a,
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        letter.contains("施工单位垫资") && letter.contains("经核实排除：经核实，垫资条款"),
        "{letter}"
    );
    assert!(
        letter.contains("逐项核查") && !letter.contains("contractor_advance"),
        "the letter shows every category was checked: {letter}"
    );
}

async fn a_self_check_shows_findings_and_stores_nothing(app: TestApp) {
    let world = World::build(&app).await;
    let mut contract = valid_contract("办公设备采购");
    contract["body_markdown"] = json!(
        "# 采购合同\n\n第三条 付款：货到后九十日付款。\n\n第四条 甲方为乙方的银行贷款提供连带责任保证。\n"
    );
    let created = app.create_contract(&world.submitter_a, &contract).await;
    let id = created["id"].as_str().unwrap();

    let report: Value = app
        .post(
            &format!("/api/v1/contracts/{id}/screen"),
            &world.submitter_a,
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();

    let mut categories: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["category"].as_str().unwrap())
        .collect();
    categories.sort_unstable();
    assert_eq!(categories, ["credit_purchase", "guarantee"]);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM findings").await,
        0,
        "a self-check stores nothing"
    );
    assert_eq!(
        app.contract(&world.submitter_a, id).await["version"],
        1,
        "nor changes the contract"
    );
    problem(
        app.post(
            &format!("/api/v1/contracts/{id}/screen"),
            &world.submitter_b,
            &json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

async fn the_register_feeds_the_screen_and_the_half_year_report(app: TestApp) {
    let world = World::build(&app).await;
    let judgment = json!({
        "case_number": "（2025）示01民终123号", "court": "示范市中级人民法院", "agency_id": world.dept_a,
        "kind": "construction_arrears", "amount_due_fen": 1_000_000, "effective_on": "2025-12-01",
    });
    problem(
        app.post("/api/v1/judgments", &world.submitter_a, &judgment)
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let created = app
        .post("/api/v1/judgments", &world.reviewer, &judgment)
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["status"], "unpaid");
    problem(
        app.post("/api/v1/judgments", &world.reviewer, &judgment)
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    let mut bad = judgment.clone();
    bad["kind"] = json!("gambling_debt");
    bad["amount_due_fen"] = json!(-5);
    let body = problem(
        app.post("/api/v1/judgments", &world.reviewer, &bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        crate::helpers::problem_fields(&body),
        ["kind", "amount_due_fen"]
    );

    let own: Value = app
        .get("/api/v1/judgments", &world.submitter_a)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        own.as_array().unwrap().len(),
        1,
        "an agency reads its own judgments"
    );
    let other: Value = app
        .get("/api/v1/judgments", &world.submitter_b)
        .await
        .json()
        .await
        .unwrap();
    assert!(other.as_array().unwrap().is_empty());

    // With construction arrears unpaid, a new construction contract is blocked.
    let body = "# 道路工程施工合同\n\n第一条 按月支付进度款。\n";
    let draft = app
        .create_contract(&world.submitter_a, &construction("道路工程", body))
        .await;
    let id = draft["id"].as_str().unwrap();
    app.fire_ok(
        &world.submitter_a,
        id,
        "submit",
        &json!({ "expected_version": 1 }),
    )
    .await;
    let stored: Value = app
        .get(&format!("/api/v1/contracts/{id}/findings"), &world.reviewer)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        stored["findings"][0]["category"], "new_project_blocked",
        "{stored}"
    );

    let payment = json!({ "amount_fen": 400_000, "paid_on": "2026-08-01" });
    let paid: Value = app
        .post(
            &format!(
                "/api/v1/judgments/{}/payments",
                created["id"].as_str().unwrap()
            ),
            &world.reviewer,
            &payment,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (paid["status"].as_str(), paid["amount_paid_fen"].as_i64()),
        (Some("partially_paid"), Some(400_000))
    );
    let too_much = json!({ "amount_fen": 700_000, "paid_on": "2026-08-02" });
    problem(
        app.post(
            &format!(
                "/api/v1/judgments/{}/payments",
                created["id"].as_str().unwrap()
            ),
            &world.reviewer,
            &too_much,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;

    let report: Value = app
        .get("/api/v1/reports/judgments?period=2026H2", &world.reviewer)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report[0]["agency"], "甲局");
    assert_eq!(report[0]["unpaid_count"], 1);
    assert_eq!(report[0]["outstanding_fen"], 600_000);
    assert_eq!(report[0]["paid_in_period_fen"], 400_000);
    let earlier: Value = app
        .get("/api/v1/reports/judgments?period=2026H1", &world.reviewer)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        earlier[0]["outstanding_fen"], 1_000_000,
        "the payment came after the first half"
    );
    assert_eq!(earlier[0]["paid_in_period_fen"], 0);
    let csv = app
        .get(
            "/api/v1/reports/judgments?period=2026H2&format=csv",
            &world.reviewer,
        )
        .await;
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    assert!(
        csv.starts_with("agency_id,agency,unpaid_count,outstanding_fen,paid_in_period_fen\n"),
        "{csv}"
    );
    assert!(csv.contains(",甲局,1,600000,400000"), "{csv}");
    // What was already paid when the judgment was registered is not outstanding.
    let registered_part_paid = json!({
        "case_number": "（2026）示02民初77号", "court": "示范市中级人民法院", "agency_id": world.dept_b,
        "kind": "procurement_arrears", "amount_due_fen": 128_000_000, "amount_paid_fen": 30_000_000,
        "effective_on": "2026-03-01",
    });
    let created = app
        .post("/api/v1/judgments", &world.reviewer, &registered_part_paid)
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let report: Value = app
        .get("/api/v1/reports/judgments?period=2026H2", &world.reviewer)
        .await
        .json()
        .await
        .unwrap();
    let dept_b = report
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["agency"] == "乙局")
        .expect("乙局 has an unpaid judgment");
    assert_eq!(dept_b["outstanding_fen"], 98_000_000, "{report}");
    problem(
        app.get("/api/v1/reports/judgments?period=2026Q3", &world.reviewer)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
}
