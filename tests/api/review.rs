//! A review fit to issue: the 审查意见书 as an office document with its 文号, every stage's
//! opinion and the people who signed it; the review-request mail telling what the screen found.

use std::io::{Cursor, Read};

use chrono::Datelike;
use quick_xml::Reader;
use quick_xml::events::Event;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, World, id_of, problem, submitted, valid_contract};
use crate::on_both_backends;

on_both_backends!(
    the_review_request_mail_tells_what_the_screen_found_in_the_version_submitted,
    the_letter_after_lead_review_is_an_office_document_with_both_opinions,
    letter_numbers_run_per_office_and_year_without_gaps_under_concurrency,
    only_an_approval_sets_conditions,
    a_clause_comment_is_dealt_with_by_the_clerk_and_reaches_the_letter,
);

const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// The text of a Word document, paragraph by paragraph, read with a real zip and XML parser.
pub fn docx_paragraphs(bytes: &[u8]) -> Vec<String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip package");
    let mut xml = String::new();
    archive
        .by_name("word/document.xml")
        .expect("the main document part")
        .read_to_string(&mut xml)
        .expect("UTF-8 XML");
    let mut reader = Reader::from_str(&xml);
    let (mut paragraphs, mut current, mut in_text) = (Vec::new(), String::new(), false);
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) if e.name().into_inner() == "w:t" => in_text = true,
            Event::End(e) if e.name().into_inner() == "w:t" => in_text = false,
            Event::End(e) if e.name().into_inner() == "w:p" => {
                paragraphs.push(std::mem::take(&mut current));
            }
            Event::Text(t) if in_text => current.push_str(&t.xml10_content()),
            Event::GeneralRef(r) if in_text => {
                let text = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => quick_xml::escape::resolve_predefined_entity(&r)
                        .expect("a known entity")
                        .to_owned(),
                };
                current.push_str(&text);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    paragraphs
}

/// The year in Beijing now: 文号 carry it.
fn this_year() -> i32 {
    (chrono::Utc::now() + chrono::Duration::hours(8)).year()
}

async fn the_review_request_mail_tells_what_the_screen_found_in_the_version_submitted(
    app: TestApp,
) {
    let world = World::build(&app).await;
    let mut contract = valid_contract("校舍维修");
    contract["body_markdown"] =
        json!("# 校舍维修合同\n\n## 第三条 付款\n\n本工程由乙方垫资施工，竣工验收后一年内支付。\n");
    submitted(&app, &world, &contract).await;
    let clean = submitted(&app, &world, &valid_contract("复印纸")).await;
    let mails = app
        .texts("SELECT body_text FROM outbox WHERE event = 'review_requested' ORDER BY created_at")
        .await;
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert!(
        mails[0].contains("自动审查发现") && mails[0].contains("须修改或经核实排除后方可通过"),
        "the first submission of a text with an advance clause: {}",
        mails[0]
    );
    assert!(!mails[0].contains("未发现问题"), "{}", mails[0]);
    assert!(mails[1].contains("自动审查未发现问题"), "{}", mails[1]);
    assert_eq!(clean["state"], "legal_review");
}

async fn the_letter_after_lead_review_is_an_office_document_with_both_opinions(app: TestApp) {
    let world = World::build(&app).await;
    let lead = app
        .user("lead@city.gov.cn", app.root_agency, &["lead_reviewer"])
        .await;
    let mut large = valid_contract("教学楼采购");
    large["amount_fen"] = json!(650_000_000);
    let in_review = submitted(&app, &world, &large).await;
    let id = id_of(&in_review);
    let opinion = "一、第五条付款期限符合规定。\n二、资金来源已落实：\n（一）2027年度部门预算；\n（二）上级补助资金。";
    let at_lead = app
        .fire_ok(
            &world.reviewer,
            &id,
            "approve",
            &json!({ "expected_version": in_review["version"], "opinion": opinion }),
        )
        .await;
    assert_eq!(at_lead["state"], "lead_review");
    assert!(
        at_lead["opinion_number"].is_null(),
        "no letter before the decision"
    );
    let approved = app
        .fire_ok(
            &lead,
            &id,
            "approve",
            &json!({ "expected_version": at_lead["version"], "opinion": "同意审查意见。" }),
        )
        .await;
    let number = format!("测试市人民政府合审〔{}〕1号", this_year());
    assert_eq!(approved["opinion_number"], number.as_str(), "{approved}");
    assert_eq!(
        app.contract(&world.submitter_a, &id).await["opinion_number"],
        number.as_str()
    );

    let response = app
        .request(
            Method::GET,
            &format!("/api/v1/contracts/{id}/opinion"),
            Some(&world.submitter_a),
        )
        .header("accept", DOCX)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], DOCX);
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"),
    );
    let paragraphs = docx_paragraphs(&response.bytes().await.unwrap());
    let text = paragraphs.join("\n");
    assert!(paragraphs.contains(&number), "{text}");
    assert!(paragraphs.contains(&"甲局：".to_owned()), "{text}");
    assert!(
        text.contains("关于《教学楼采购》的合法性审查意见书"),
        "{text}"
    );
    for kept in [
        "一、第五条付款期限符合规定。",
        "二、资金来源已落实：",
        "（一）2027年度部门预算；",
        "（二）上级补助资金。",
    ] {
        assert!(
            paragraphs.iter().any(|p| p == kept),
            "{kept} on its own: {text}"
        );
    }
    assert!(
        text.contains("法制审查意见（reviewer@city.gov.cn"),
        "{text}"
    );
    assert!(text.contains("负责人复核意见（lead@city.gov.cn"), "{text}");
    assert!(text.contains("同意审查意见。"), "{text}");
    assert!(text.contains("承办人：reviewer@city.gov.cn"), "{text}");
    assert!(text.contains("复核人：lead@city.gov.cn"), "{text}");
    assert!(text.contains("签发人：lead@city.gov.cn"), "{text}");
    assert!(text.contains("人民币6,500,000.00元"), "{text}");
    assert!(text.contains("合同类型") && text.contains("采购"), "{text}");
    for code in ["procurement", " 分", "Approved", "Reviewer"] {
        assert!(!text.contains(code), "no internal code {code:?}: {text}");
    }

    // The same letter as Markdown keeps both opinions too.
    let markdown = app
        .get(&format!("/api/v1/contracts/{id}/opinion"), &world.reviewer)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        markdown.contains("同意审查意见。") && markdown.contains("二、资金来源已落实"),
        "{markdown}"
    );
    assert!(!markdown.contains("Basic facts"), "Chinese only by default");
    let bilingual = app
        .get(
            &format!("/api/v1/contracts/{id}/opinion?lang=zh-en"),
            &world.reviewer,
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        bilingual.contains("一、基本情况 Basic facts")
            && bilingual.contains("Legality Review Opinion"),
        "{bilingual}"
    );
    problem(
        app.get(
            &format!("/api/v1/contracts/{id}/opinion?lang=fr"),
            &world.reviewer,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let events: Value = app
        .get(&format!("/api/v1/contracts/{id}/events"), &world.reviewer)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["data"]["opinion_number"] == number.as_str()),
        "the audit trail records the number: {events}"
    );
}

async fn letter_numbers_run_per_office_and_year_without_gaps_under_concurrency(app: TestApp) {
    let world = World::build(&app).await;
    let mut in_review = Vec::new();
    for i in 0..8 {
        in_review.push(submitted(&app, &world, &valid_contract(&format!("并发 {i}"))).await);
    }
    // A refused decision (a stale version) draws no number.
    problem(
        app.fire(
            &world.reviewer,
            &id_of(&in_review[0]),
            "approve",
            &json!({ "expected_version": 99, "opinion": "同意。" }),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    let decisions = in_review.iter().enumerate().map(|(i, contract)| {
        let name = if i % 2 == 0 { "approve" } else { "return" };
        app.request(
            Method::POST,
            &format!("/api/v1/contracts/{}/transitions/{name}", id_of(contract)),
            Some(&world.reviewer),
        )
        .json(&json!({ "expected_version": contract["version"], "opinion": "经审查。" }))
        .send()
    });
    let mut numbers = Vec::new();
    for answer in crate::helpers::join_all(decisions).await {
        let answer = answer.expect("an answer");
        assert_eq!(answer.status(), StatusCode::OK);
        let decided: Value = answer.json().await.unwrap();
        numbers.push(decided["opinion_number"].as_str().unwrap().to_owned());
    }
    numbers.sort_by_key(|n| {
        n.rsplit('〕')
            .next()
            .and_then(|tail| tail.trim_end_matches('号').parse::<u32>().ok())
    });
    let expected: Vec<String> = (1..=8)
        .map(|n| format!("测试市人民政府合审〔{}〕{n}号", this_year()))
        .collect();
    assert_eq!(numbers, expected);

    // Another office numbers its own letters, with the prefix it was given.
    let office = app
        .post(
            "/api/v1/agencies",
            &app.admin_token,
            &json!({ "name": "乙局法制科", "parent_id": world.dept_b, "opinion_prefix": "乙法审" }),
        )
        .await;
    assert_eq!(office.status(), StatusCode::CREATED);
    let office: Value = office.json().await.unwrap();
    assert_eq!(office["opinion_prefix"], "乙法审");
    let bad = app
        .post(
            "/api/v1/agencies",
            &app.admin_token,
            &json!({ "name": "丙科", "parent_id": world.dept_b, "opinion_prefix": "乙 审〔" }),
        )
        .await;
    assert_eq!(
        crate::helpers::problem_fields(&problem(bad, StatusCode::UNPROCESSABLE_ENTITY).await),
        ["opinion_prefix"]
    );
    let office_id = office["id"].as_str().unwrap().parse().unwrap();
    let office_reviewer = app
        .user("reviewer@b-legal.gov.cn", office_id, &["reviewer"])
        .await;
    let clerk_b = app.user("clerk2@b.gov.cn", office_id, &["submitter"]).await;
    app.user("signer@b-legal.gov.cn", office_id, &["signatory"])
        .await;
    let mut contract = valid_contract("法制科采购");
    contract["signatories"] = json!(["signer@b-legal.gov.cn"]);
    let draft = app.create_contract(&clerk_b, &contract).await;
    let in_review = app
        .fire_ok(
            &clerk_b,
            &id_of(&draft),
            "submit",
            &json!({ "expected_version": 1 }),
        )
        .await;
    let decided = app
        .fire_ok(
            &office_reviewer,
            &id_of(&draft),
            "reject",
            &json!({ "expected_version": in_review["version"], "opinion": "不予通过。" }),
        )
        .await;
    assert_eq!(
        decided["opinion_number"],
        format!("乙法审〔{}〕1号", this_year())
    );
}

async fn only_an_approval_sets_conditions(app: TestApp) {
    let world = World::build(&app).await;
    let in_review = submitted(&app, &world, &valid_contract("附条件")).await;
    let id = id_of(&in_review);
    let body = json!({
        "expected_version": in_review["version"], "opinion": "退回。",
        "conditions": ["补充验收标准"],
    });
    let refused = problem(
        app.fire(&world.reviewer, &id, "return", &body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(crate::helpers::problem_fields(&refused), ["conditions"]);
    let body = json!({
        "expected_version": in_review["version"], "opinion": "同意。",
        "conditions": ["  ", "签订前取得资金确认函"],
    });
    app.fire_ok(&world.reviewer, &id, "approve", &body).await;
    let history: Value = app
        .get(
            &format!("/api/v1/contracts/{id}/history"),
            &world.submitter_a,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        history.as_array().unwrap().last().unwrap()["conditions"],
        json!(["签订前取得资金确认函"])
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
        letter.contains("修改后同意") && letter.contains("签订前取得资金确认函"),
        "{letter}"
    );
}

async fn a_clause_comment_is_dealt_with_by_the_clerk_and_reaches_the_letter(app: TestApp) {
    let world = World::build(&app).await;
    let in_review = submitted(&app, &world, &valid_contract("批注")).await;
    let id = id_of(&in_review);
    let path = format!("/api/v1/contracts/{id}/comments");
    let comment = json!({
        "clause": "第一条 标的", "comment": "标的规格不明确。",
        "suggestion": "复印纸，A4，70克，500张/包。",
    });
    problem(
        app.post(&path, &world.submitter_a, &comment).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let empty = problem(
        app.post(
            &path,
            &world.reviewer,
            &json!({ "clause": "", "comment": " " }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        crate::helpers::problem_fields(&empty),
        ["clause", "comment"]
    );
    let added = app.post(&path, &world.reviewer, &comment).await;
    assert_eq!(added.status(), StatusCode::CREATED);
    let added: Value = added.json().await.unwrap();
    let other = app
        .post(
            &path,
            &world.reviewer,
            &json!({ "clause": "第一条 标的", "comment": "数量请写明。" }),
        )
        .await;
    let other: Value = other.json().await.unwrap();
    let resolve = |comment: &Value| {
        format!(
            "/api/v1/contracts/{id}/comments/{}/resolve",
            comment["id"].as_str().unwrap()
        )
    };
    problem(
        app.post(
            &resolve(&added),
            &world.submitter_a,
            &json!({ "resolution": "accepted" }),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;

    let returned = app
        .fire_ok(
            &world.reviewer,
            &id,
            "return",
            &json!({ "expected_version": in_review["version"], "opinion": "请按批注修改。" }),
        )
        .await;
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
        letter.contains("逐条修改意见")
            && letter.contains("标的规格不明确")
            && letter.contains("待处理"),
        "{letter}"
    );
    problem(
        app.post(
            &resolve(&added),
            &world.reviewer,
            &json!({ "resolution": "accepted" }),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let unexplained = problem(
        app.post(
            &resolve(&other),
            &world.submitter_a,
            &json!({ "resolution": "rejected" }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(crate::helpers::problem_fields(&unexplained), ["note"]);
    let accepted = app
        .post(
            &resolve(&added),
            &world.submitter_a,
            &json!({ "resolution": "accepted" }),
        )
        .await;
    assert_eq!(accepted.status(), StatusCode::OK);
    let rejected = app
        .post(
            &resolve(&other),
            &world.submitter_a,
            &json!({ "resolution": "rejected", "note": "数量以订单为准。" }),
        )
        .await;
    assert_eq!(rejected.status(), StatusCode::OK);
    problem(
        app.post(
            &resolve(&added),
            &world.submitter_a,
            &json!({ "resolution": "rejected", "note": "again" }),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let listed: Value = app.get(&path, &world.reviewer).await.json().await.unwrap();
    assert_eq!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["resolution"].as_str().unwrap_or_default())
            .collect::<Vec<_>>(),
        ["accepted", "rejected"]
    );
    problem(
        app.get(&path, &world.submitter_b).await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // Resubmitted and approved: the letter says how each comment was dealt with.
    let resubmitted = app
        .fire_ok(
            &world.submitter_a,
            &id,
            "submit",
            &json!({ "expected_version": returned["version"] }),
        )
        .await;
    app.fire_ok(
        &world.reviewer,
        &id,
        "approve",
        &json!({ "expected_version": resubmitted["version"], "opinion": "同意。" }),
    )
    .await;
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
        letter.contains("已采纳") && letter.contains("不采纳：数量以订单为准"),
        "{letter}"
    );
    let events: Value = app
        .get(&format!("/api/v1/contracts/{id}/events"), &world.reviewer)
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .filter(|a| a.starts_with("comment."))
        .collect();
    assert_eq!(
        actions,
        [
            "comment.added",
            "comment.added",
            "comment.resolved",
            "comment.resolved"
        ]
    );
}
