//! Drafts as offices have them: Word and PDF drafts become the body (the original kept), review
//! materials are required, attached and served safely, 退回补正 stops the clock and is answered
//! point by point, facts are revised with the body, and whatever changes after approval sends the
//! contract back to review. Every file here is built by the test itself (see `office_files`).

use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, World, id_of, problem, submitted, valid_contract};
use crate::office_files;
use crate::on_both_backends;

on_both_backends!(
    a_word_draft_becomes_the_body_with_its_numbering_and_the_original_is_kept,
    pdfs_with_text_are_read_and_scans_and_damaged_files_refused,
    an_upload_over_the_limit_is_refused_and_nothing_is_stored,
    submit_waits_for_the_materials_the_type_requires,
    materials_are_served_as_downloads_typed_by_their_bytes,
    a_supplement_request_stops_the_clock_and_each_point_is_answered,
    facts_are_revised_with_the_body_and_kept_in_the_history,
    a_change_after_approval_sends_the_contract_back_to_review,
);

const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

fn facts(contract_type: &str) -> Value {
    json!({
        "title": "办公楼维修改造工程施工合同",
        "contract_type": contract_type,
        "counterparty": "示范建工集团有限公司",
        "amount_fen": 100_000_000,
        "funding_source": "2027年度部门预算（已批复）",
        "agency_party": "甲方",
        "signatories": ["signer@a.gov.cn"],
    })
}

/// `POST /api/v1/contracts` as multipart: the facts as JSON and the draft as a file.
async fn create_from_file(
    app: &TestApp,
    token: &str,
    facts: &Value,
    file_name: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let form = Form::new()
        .text("facts", facts.to_string())
        .part("draft", Part::bytes(bytes).file_name(file_name.to_owned()));
    app.request(Method::POST, "/api/v1/contracts", Some(token))
        .multipart(form)
        .send()
        .await
        .expect("multipart intake")
}

async fn contract_count(app: &TestApp, token: &str) -> usize {
    let list: Value = app
        .get("/api/v1/contracts", token)
        .await
        .json()
        .await
        .unwrap();
    list["items"].as_array().map_or(0, Vec::len)
}

async fn attach_required(app: &TestApp, token: &str, id: &str, kinds: &[&str]) {
    for kind in kinds {
        let response = app
            .attach(token, id, kind, &format!("{kind}.pdf"), b"%PDF-1.4\n%\n")
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "attach {kind}");
    }
}

async fn a_word_draft_becomes_the_body_with_its_numbering_and_the_original_is_kept(app: TestApp) {
    let world = World::build(&app).await;
    let original = office_files::flagged_docx();
    let response = create_from_file(
        &app,
        &world.submitter_a,
        &facts("construction"),
        "施工合同.docx",
        original.clone(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    let id = id_of(&created);
    let body = created["body_markdown"].as_str().unwrap();
    assert!(body.contains("第一条") && body.contains("第三条"), "{body}");
    assert!(body.contains("本工程由乙方垫资施工"), "{body}");

    let download = app
        .get(&format!("/api/v1/contracts/{id}/draft"), &world.submitter_a)
        .await;
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.headers()["content-type"], DOCX);
    let disposition = download.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert_eq!(
        download.bytes().await.unwrap().as_ref(),
        original.as_slice()
    );

    attach_required(
        &app,
        &world.submitter_a,
        &id,
        &["project_approval", "funding_proof"],
    )
    .await;
    app.fire_ok(
        &world.submitter_a,
        &id,
        "submit",
        &json!({ "expected_version": 1 }),
    )
    .await;
    let findings: Value = app
        .get(&format!("/api/v1/contracts/{id}/findings"), &world.reviewer)
        .await
        .json()
        .await
        .unwrap();
    let advance = findings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["category"] == "contractor_advance")
        .expect("the contractor advance is found in the converted text");
    let clause = advance["clause"].as_str().unwrap();
    assert!(
        clause.starts_with("第三条"),
        "the finding points at 第三条: {clause}"
    );
    let excerpt = advance["excerpt"].as_str().unwrap();
    assert!(excerpt.contains("垫资"), "{excerpt}");

    // The reviewer of the jurisdiction downloads it too; another agency's clerk does not see it.
    let as_reviewer = app
        .get(&format!("/api/v1/contracts/{id}/draft"), &world.reviewer)
        .await;
    assert_eq!(as_reviewer.status(), StatusCode::OK);
    let foreign = app
        .get(&format!("/api/v1/contracts/{id}/draft"), &world.submitter_b)
        .await;
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
}

async fn pdfs_with_text_are_read_and_scans_and_damaged_files_refused(app: TestApp) {
    let world = World::build(&app).await;
    let pdf = office_files::text_pdf(&[
        "采购合同",
        "第一条 标的：复印纸一百箱。",
        "第二条 付款：验收合格后十日内付款。",
    ]);
    let response = create_from_file(
        &app,
        &world.submitter_a,
        &facts("service"),
        "采购合同.pdf",
        pdf,
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    let body = created["body_markdown"].as_str().unwrap();
    assert!(body.contains("第一条 标的：复印纸一百箱。"), "{body}");
    assert!(body.contains("验收合格后十日内付款"), "{body}");
    let before = contract_count(&app, &world.submitter_a).await;

    let refusals: [(&str, Vec<u8>, &str); 6] = [
        ("扫描件.pdf", office_files::image_pdf(), "扫描件"),
        ("坏文件.docx", b"PK\x03\x04garbage".to_vec(), "损坏"),
        ("加密.docx", office_files::ole("EncryptedPackage"), "加密"),
        ("旧版.doc", office_files::ole("WordDocument"), ".doc"),
        (
            "宏.docm",
            office_files::docm(&office_files::p("第一条 标的")),
            "宏",
        ),
        ("图片.png", office_files::png(), "PNG"),
    ];
    for (name, bytes, says) in refusals {
        let response =
            create_from_file(&app, &world.submitter_a, &facts("service"), name, bytes).await;
        let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(body["errors"][0]["field"], "draft", "{name}: {body}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{name}: {message}");
    }
    assert_eq!(
        contract_count(&app, &world.submitter_a).await,
        before,
        "nothing was stored"
    );

    // A multipart intake without its facts or its file says which part is missing.
    let form = Form::new().part("draft", Part::bytes(b"# x".to_vec()).file_name("x.md"));
    let response = app
        .request(Method::POST, "/api/v1/contracts", Some(&world.submitter_a))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"][0]["field"], "facts");
}

async fn an_upload_over_the_limit_is_refused_and_nothing_is_stored(app: TestApp) {
    let world = World::build(&app).await;
    let huge = vec![b'a'; 30 * 1024 * 1024];
    let response = create_from_file(
        &app,
        &world.submitter_a,
        &facts("service"),
        "大.md",
        huge.clone(),
    )
    .await;
    problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert_eq!(contract_count(&app, &world.submitter_a).await, 0);

    let draft = app
        .create_contract(&world.submitter_a, &valid_contract("附件过大"))
        .await;
    let id = id_of(&draft);
    let before: Value = app
        .get(
            &format!("/api/v1/contracts/{id}/attachments"),
            &world.submitter_a,
        )
        .await
        .json()
        .await
        .unwrap();
    let response = app
        .attach(&world.submitter_a, &id, "other", "大.pdf", &huge)
        .await;
    problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;
    let after: Value = app
        .get(
            &format!("/api/v1/contracts/{id}/attachments"),
            &world.submitter_a,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(before, after, "no material was stored");
}

async fn submit_waits_for_the_materials_the_type_requires(app: TestApp) {
    let world = World::build(&app).await;
    let mut contract = valid_contract("维修工程");
    contract["contract_type"] = json!("construction");
    // Created without the helper, which would attach the materials.
    let response = app
        .post("/api/v1/contracts", &world.submitter_a, &contract)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let id = id_of(&response.json::<Value>().await.unwrap());

    let refused = problem(
        app.fire(
            &world.submitter_a,
            &id,
            "submit",
            &json!({ "expected_version": 1 }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(refused["type"], "/problems/missing-materials");
    assert_eq!(
        refused["missing_materials"],
        json!(["project_approval", "funding_proof"])
    );
    let detail = refused["detail"].as_str().unwrap();
    assert!(
        detail.contains("立项批复") && detail.contains("资金来源证明"),
        "{detail}"
    );

    attach_required(&app, &world.submitter_a, &id, &["project_approval"]).await;
    let refused = problem(
        app.fire(
            &world.submitter_a,
            &id,
            "submit",
            &json!({ "expected_version": 1 }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(refused["missing_materials"], json!(["funding_proof"]));

    let unknown = problem(
        app.attach(&world.submitter_a, &id, "bribe", "x.pdf", b"%PDF-1.4\n")
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(unknown["errors"][0]["field"], "kind");
    attach_required(&app, &world.submitter_a, &id, &["funding_proof"]).await;
    let in_review = app
        .fire_ok(
            &world.submitter_a,
            &id,
            "submit",
            &json!({ "expected_version": 1 }),
        )
        .await;
    assert_eq!(in_review["state"], "legal_review");

    // Under review nothing is attached or removed.
    let locked = app
        .attach(&world.submitter_a, &id, "other", "补充.pdf", b"%PDF-1.4\n")
        .await;
    problem(locked, StatusCode::CONFLICT).await;
}

async fn materials_are_served_as_downloads_typed_by_their_bytes(app: TestApp) {
    let world = World::build(&app).await;
    let draft = app
        .create_contract(&world.submitter_a, &valid_contract("材料下载"))
        .await;
    let id = id_of(&draft);
    // A picture named as a PDF, and a page that would run script if a browser rendered it.
    let png = office_files::png();
    let picture: Value = app
        .attach(
            &world.submitter_a,
            &id,
            "qualification",
            "营业执照.pdf",
            &png,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        picture["media_type"], "image/png",
        "typed by its bytes, not its name"
    );
    assert_eq!(picture["size_bytes"], png.len());
    let page: Value = app
        .attach(
            &world.submitter_a,
            &id,
            "other",
            "../../说明.html",
            b"<html><script>alert(1)</script></html>",
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["file_name"], "说明.html", "no path in a stored name");
    let page_id = page["id"].as_str().unwrap();
    let download = app
        .get(
            &format!("/api/v1/contracts/{id}/attachments/{page_id}"),
            &world.reviewer,
        )
        .await;
    assert_eq!(download.status(), StatusCode::OK);
    assert!(
        download.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(
        download.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(download.headers()["x-content-type-options"], "nosniff");

    let listed: Value = app
        .get(
            &format!("/api/v1/contracts/{id}/attachments"),
            &world.submitter_a,
        )
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["tender_documents", "award_notice", "qualification", "other"]
    );
    let sha = listed[2]["sha256"].as_str().unwrap();
    assert_eq!(sha.len(), 64);

    let removed = app
        .request(
            Method::DELETE,
            &format!("/api/v1/contracts/{id}/attachments/{page_id}"),
            Some(&world.submitter_a),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let again = app
        .request(
            Method::DELETE,
            &format!("/api/v1/contracts/{id}/attachments/{page_id}"),
            Some(&world.submitter_a),
        )
        .send()
        .await
        .unwrap();
    problem(again, StatusCode::NOT_FOUND).await;
    let events: Value = app
        .get(
            &format!("/api/v1/contracts/{id}/events"),
            &world.submitter_a,
        )
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.iter().filter(|a| a.contains("material")).count() >= 5,
        "{actions:?}"
    );
}

async fn a_supplement_request_stops_the_clock_and_each_point_is_answered(app: TestApp) {
    let world = World::build(&app).await;
    let in_review = submitted(&app, &world, &valid_contract("补正的合同")).await;
    let id = id_of(&in_review);
    assert!(in_review["due_at"].is_string());

    let no_points = problem(
        app.fire(
            &world.reviewer,
            &id,
            "request_materials",
            &json!({ "expected_version": in_review["version"], "points": ["  "] }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(no_points["errors"][0]["field"], "points");
    let returned = app
        .fire_ok(
            &world.reviewer,
            &id,
            "request_materials",
            &json!({
                "expected_version": in_review["version"],
                "points": ["补充相对方的营业执照", "第五条违约金过高，请修改"],
            }),
        )
        .await;
    assert_eq!(returned["state"], "revision_requested");
    assert!(returned["due_at"].is_null(), "the clock stopped");
    let kept = returned["clock_paused_days"].as_i64().expect("days kept");
    assert!((1..=5).contains(&kept), "{kept}");

    let points: Value = app
        .get(
            &format!("/api/v1/contracts/{id}/supplements"),
            &world.submitter_a,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(points.as_array().unwrap().len(), 2);
    assert!(points[0]["answer"].is_null());

    let version = returned["version"].clone();
    let unanswered = problem(
        app.fire(
            &world.submitter_a,
            &id,
            "submit",
            &json!({ "expected_version": version, "answers": [{ "point": 1, "answer": "supplied" }] }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        unanswered["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains('2')
    );
    let no_reason = problem(
        app.fire(
            &world.submitter_a,
            &id,
            "submit",
            &json!({ "expected_version": version, "answers": [
                { "point": 1, "answer": "supplied" }, { "point": 2, "answer": "declined" },
            ] }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(no_reason["errors"][0]["field"], "answers");

    let resubmitted = app
        .fire_ok(
            &world.submitter_a,
            &id,
            "submit",
            &json!({ "expected_version": version, "answers": [
                { "point": 1, "answer": "supplied", "note": "已上传营业执照副本" },
                { "point": 2, "answer": "declined", "note": "违约金标准系市场惯例，双方已协商一致" },
            ] }),
        )
        .await;
    assert_eq!(resubmitted["state"], "legal_review");
    assert!(resubmitted["clock_paused_days"].is_null());
    // The clock runs on with the days it kept, from the day of resubmission.
    let calendar = contract_review::workflow::WorkingCalendar::parse(
        "calendar",
        include_str!("../../workflows/calendar-cn.toml"),
    )
    .unwrap();
    let now = chrono::Utc::now();
    let due: chrono::DateTime<chrono::Utc> =
        resubmitted["due_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(due, calendar.due_at(now, u32::try_from(kept).unwrap()));

    let answered: Value = app
        .get(
            &format!("/api/v1/contracts/{id}/supplements"),
            &world.reviewer,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answered[0]["answer"], "supplied");
    assert_eq!(answered[1]["answer"], "declined");
    assert_eq!(
        answered[1]["answer_note"],
        "违约金标准系市场惯例，双方已协商一致"
    );

    // A plain return is another action, with other words, and restarts the clock afresh.
    let history: Value = app
        .get(&format!("/api/v1/contracts/{id}/history"), &world.reviewer)
        .await
        .json()
        .await
        .unwrap();
    let steps: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["transition"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["submit", "request_materials", "submit"]);

    // The letter carries the points and the answers.
    let approved = app
        .fire_ok(
            &world.reviewer,
            &id,
            "approve",
            &json!({ "expected_version": resubmitted["version"], "opinion": "同意签订。" }),
        )
        .await;
    assert_eq!(approved["state"], "approved");
    let letter = app
        .request(
            Method::GET,
            &format!("/api/v1/contracts/{id}/opinion"),
            Some(&world.submitter_a),
        )
        .header("accept", "text/markdown")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        letter.contains("补充相对方的营业执照") && letter.contains("已上传营业执照副本"),
        "{letter}"
    );
}

async fn facts_are_revised_with_the_body_and_kept_in_the_history(app: TestApp) {
    let world = World::build(&app).await;
    let in_review = submitted(&app, &world, &valid_contract("要改金额的合同")).await;
    let id = id_of(&in_review);
    let mut revised = facts("procurement");
    revised["title"] = json!("要改金额的合同");
    revised["amount_fen"] = json!(25_000_000);
    revised["funding_source"] = json!("2027年度部门预算（追加批复）");
    revised["expected_version"] = in_review["version"].clone();
    let locked = app
        .put(
            &format!("/api/v1/contracts/{id}/facts"),
            &world.submitter_a,
            &revised,
        )
        .await;
    problem(locked, StatusCode::CONFLICT).await;

    let returned = app
        .fire_ok(
            &world.reviewer,
            &id,
            "return",
            &json!({ "expected_version": in_review["version"], "opinion": "金额与预算不符。" }),
        )
        .await;
    revised["expected_version"] = json!(0);
    let stale = app
        .put(
            &format!("/api/v1/contracts/{id}/facts"),
            &world.submitter_a,
            &revised,
        )
        .await;
    problem(stale, StatusCode::CONFLICT).await;
    let mut invalid = revised.clone();
    invalid["amount_fen"] = json!(-1);
    invalid["title"] = json!(" ");
    invalid["expected_version"] = returned["version"].clone();
    let body = problem(
        app.put(
            &format!("/api/v1/contracts/{id}/facts"),
            &world.submitter_a,
            &invalid,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"amount_fen") && fields.contains(&"title"),
        "{fields:?}"
    );

    revised["expected_version"] = returned["version"].clone();
    let saved = app
        .put(
            &format!("/api/v1/contracts/{id}/facts"),
            &world.submitter_a,
            &revised,
        )
        .await;
    assert_eq!(saved.status(), StatusCode::OK);
    let saved: Value = saved.json().await.unwrap();
    assert_eq!(saved["amount_fen"], 25_000_000);
    assert_eq!(saved["funding_source"], "2027年度部门预算（追加批复）");
    let history: Value = app
        .get(
            &format!("/api/v1/contracts/{id}/facts/history"),
            &world.reviewer,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history.as_array().unwrap().len(), 1);
    assert_eq!(history[0]["before"]["amount_fen"], 18_600_000);
    assert_eq!(history[0]["after"]["amount_fen"], 25_000_000);
    // The reviewer sees the new facts beside the text when it comes back.
    let resubmitted = app
        .fire_ok(
            &world.submitter_a,
            &id,
            "submit",
            &json!({ "expected_version": saved["version"] }),
        )
        .await;
    assert_eq!(resubmitted["amount_fen"], 25_000_000);
}

async fn a_change_after_approval_sends_the_contract_back_to_review(app: TestApp) {
    let world = World::build(&app).await;
    let in_review = submitted(&app, &world, &valid_contract("已通过后换材料")).await;
    let id = id_of(&in_review);
    let approved = app
        .fire_ok(
            &world.reviewer,
            &id,
            "approve",
            &json!({ "expected_version": in_review["version"], "opinion": "同意签订。" }),
        )
        .await;
    let manifest: Value = app
        .get(
            &format!("/api/v1/contracts/{id}/manifest"),
            &world.signatory_a,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(approved["approved_manifest_sha256"], manifest["sha256"]);
    assert_eq!(manifest["attachments"].as_array().unwrap().len(), 2);

    let added = app
        .attach(
            &world.submitter_a,
            &id,
            "power_of_attorney",
            "授权委托书.pdf",
            b"%PDF-1.4\n%\n",
        )
        .await;
    assert_eq!(added.status(), StatusCode::CREATED);
    let after = app.contract(&world.submitter_a, &id).await;
    assert_eq!(
        after["state"], "legal_review",
        "a new material voids the approval"
    );
    assert!(after["approved_sha256"].is_null() && after["approved_manifest_sha256"].is_null());
    let sign =
        json!({ "expected_version": after["version"], "body_sha256": approved["approved_sha256"] });
    problem(
        app.fire(&world.signatory_a, &id, "sign", &sign).await,
        StatusCode::CONFLICT,
    )
    .await;

    // Approved again, then a material's bytes are swapped behind the service's back: the
    // signature is refused, because the approved manifest no longer holds.
    let reapproved = app
        .fire_ok(
            &world.reviewer,
            &id,
            "approve",
            &json!({ "expected_version": after["version"], "opinion": "同意签订。" }),
        )
        .await;
    app.execute_sql(&format!(
        "UPDATE attachments SET sha256 = '{}' WHERE kind = 'power_of_attorney'",
        "0".repeat(64)
    ))
    .await;
    let sign = json!({ "expected_version": reapproved["version"], "body_sha256": reapproved["approved_sha256"] });
    let refused = problem(
        app.fire(&world.signatory_a, &id, "sign", &sign).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(refused["guard"], "version_approved");

    // Revising the facts after approval also sends it back.
    let mut revised = facts("procurement");
    revised["title"] = json!("已通过后换材料");
    revised["expected_version"] = reapproved["version"].clone();
    let saved: Value = app
        .put(
            &format!("/api/v1/contracts/{id}/facts"),
            &world.submitter_a,
            &revised,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(saved["state"], "legal_review", "{saved}");
}
