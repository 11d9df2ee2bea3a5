//! The access matrix: every endpoint the router serves (read from the OpenAPI document the router
//! generates) × every kind of principal, own agency and foreign, with the status each must get.
//! An endpoint added without a row here fails the test, so no new route escapes the check.

use std::collections::BTreeMap;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, World, id_of, submitted};
use crate::on_both_backends;

on_both_backends!(every_principal_gets_exactly_its_answer_from_every_endpoint);

/// The principals: anonymous, and users of dept A (the resources' agency), of dept B (foreign)
/// and of the root agency above both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Anonymous,
    ClerkA,
    SignerA,
    ClerkB,
    Reviewer,
    ReviewerB,
    Lead,
    AdminRoot,
    AdminB,
    Auditor,
}

const EVERYONE: [Who; 10] = [
    Who::Anonymous,
    Who::ClerkA,
    Who::SignerA,
    Who::ClerkB,
    Who::Reviewer,
    Who::ReviewerB,
    Who::Lead,
    Who::AdminRoot,
    Who::AdminB,
    Who::Auditor,
];

/// Whose view holds dept A's contract, judgment and agency.
fn sees_a(who: Who) -> bool {
    matches!(
        who,
        Who::ClerkA | Who::SignerA | Who::Reviewer | Who::Lead | Who::AdminRoot | Who::Auditor
    )
}

/// The ids the requests need.
struct Fixture {
    agency_a: String,
    contract: String,
    finding: String,
    judgment: String,
    delegation: String,
    mail: String,
    victim: String,
    attachment: String,
}

/// One cell's request: method, path with ids filled in, JSON body.
fn request(endpoint: &str, f: &Fixture, who: Who) -> (Method, String, Option<Value>) {
    let (method, path) = endpoint.split_once(' ').unwrap_or(("GET", endpoint));
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let filled = path
        .replace("/agencies/{id}", &format!("/agencies/{}", f.agency_a))
        .replace("/contracts/{id}", &format!("/contracts/{}", f.contract))
        .replace("{finding_id}", &f.finding)
        // No comment is open: a clerk who may deal with one hears the contract is under review.
        .replace("{comment_id}", "00000000-0000-7000-8000-000000000000")
        .replace("{attachment_id}", &f.attachment)
        .replace("/judgments/{id}", &format!("/judgments/{}", f.judgment))
        .replace(
            "/delegations/{id}",
            &format!("/delegations/{}", f.delegation),
        )
        .replace("/outbox/{id}", &format!("/outbox/{}", f.mail))
        .replace("/users/{id}", &format!("/users/{}", f.victim))
        .replace("{number}", "1")
        .replace("{name}", "approve")
        .replace("{email}", "nobody@outside.cn");
    let filled = if filled.ends_with("/reports/judgments") {
        format!("{filled}?period=2026H2")
    } else {
        filled
    };
    // Bodies that pass authorisation and then fail validation (422), so that no cell changes
    // what a later cell depends on.
    let body = match endpoint {
        "POST /api/v1/agencies" => Some(json!({ "name": " ", "parent_id": f.agency_a })),
        "POST /api/v1/agencies/{id}/external-signatories" => {
            Some(json!({ "email": "not-an-address", "name": "x", "organisation": "y" }))
        }
        // One address per principal: five failures for one account would be 429.
        "POST /api/v1/auth/login" => Some(json!({
            "email": format!("nobody-{who:?}@x.cn").to_lowercase(), "password": "wrong-password",
        })),
        "POST /api/v1/contracts" => Some(json!({
            "title": " ", "contract_type": "procurement", "counterparty": "x", "amount_fen": 1,
            "agency_party": "甲方", "signatories": ["signer@a.gov.cn"], "body_markdown": "x",
        })),
        "PUT /api/v1/contracts/{id}/body" => {
            Some(json!({ "body_markdown": "x", "expected_version": 0 }))
        }
        "PUT /api/v1/contracts/{id}/facts" => Some(json!({
            "title": "x", "contract_type": "procurement", "counterparty": "x", "amount_fen": 1,
            "agency_party": "甲方", "signatories": ["signer@a.gov.cn"], "expected_version": 0,
        })),
        "POST /api/v1/contracts/{id}/findings/{finding_id}/waive"
        | "POST /api/v1/contracts/{id}/findings/{finding_id}/withdraw-waiver" => {
            Some(json!({ "reason": " " }))
        }
        "POST /api/v1/contracts/{id}/comments" => Some(json!({ "clause": " ", "comment": " " })),
        "POST /api/v1/contracts/{id}/comments/{comment_id}/resolve" => {
            Some(json!({ "resolution": "rejected" }))
        }
        "POST /api/v1/contracts/{id}/transitions/{name}" => {
            Some(json!({ "expected_version": 0, "opinion": "同意" }))
        }
        "POST /api/v1/delegations" => Some(json!({
            "deputy_email": "nobody@x.cn", "starts_on": "2026-12-01", "ends_on": "2026-12-02",
        })),
        "POST /api/v1/judgments" => Some(json!({
            "case_number": " ", "court": "x", "agency_id": f.agency_a, "kind": "other",
            "amount_due_fen": 1, "effective_on": "2026-07-01",
        })),
        "POST /api/v1/judgments/{id}/payments" => {
            Some(json!({ "amount_fen": 0, "paid_on": "2026-07-02" }))
        }
        "POST /api/v1/users" => Some(json!({
            "email": "x", "name": "x", "agency_id": f.agency_a, "roles": ["submitter"], "password": "short",
        })),
        _ if method == Method::POST || method == Method::PUT => Some(json!({})),
        _ => None,
    };
    (method, filled, body)
}

/// The status each principal must get. Anonymous gets 401 everywhere but the public endpoints.
fn expected(endpoint: &str, who: Who) -> Option<u16> {
    use Who::*;
    let admin = matches!(who, AdminRoot | AdminB);
    let reviewer = matches!(who, Reviewer | ReviewerB | Lead);
    let public = matches!(
        endpoint,
        "GET /healthz" | "GET /readyz" | "GET /metrics" | "POST /api/v1/auth/login"
    );
    if who == Anonymous && !public {
        return Some(401);
    }
    let contract = |allowed: &dyn Fn(Who) -> bool, ok: u16| {
        if !sees_a(who) {
            404
        } else if allowed(who) {
            ok
        } else {
            403
        }
    };
    Some(match endpoint {
        "GET /healthz" | "GET /readyz" | "GET /metrics" => 200,
        "POST /api/v1/auth/login" => 401,
        "POST /api/v1/auth/logout" => return None, // ends the caller's session: its own story
        "GET /api/v1/me"
        | "GET /api/v1/contracts"
        | "GET /api/v1/queue"
        | "GET /api/v1/judgments"
        | "GET /api/v1/delegations"
        | "GET /api/v1/reports/judgments" => 200,
        "GET /api/v1/agencies" | "GET /api/v1/users" => {
            if admin || who == Auditor {
                200
            } else {
                403
            }
        }
        "POST /api/v1/agencies" | "POST /api/v1/users" => {
            if admin {
                422
            } else {
                403
            }
        }
        "GET /api/v1/agencies/{id}/external-signatories"
        | "POST /api/v1/agencies/{id}/external-signatories"
        | "DELETE /api/v1/agencies/{id}/external-signatories/{email}" => match who {
            AdminRoot => match endpoint.split(' ').next() {
                Some("GET") => 200,
                Some("POST") => 422,
                _ => 404, // the address is not listed
            },
            AdminB => 404,
            _ => 403,
        },
        "POST /api/v1/contracts" => {
            if matches!(who, ClerkA | ClerkB) {
                422
            } else {
                403
            }
        }
        "GET /api/v1/contracts/{id}"
        | "GET /api/v1/contracts/{id}/attachments"
        | "GET /api/v1/contracts/{id}/attachments/{attachment_id}"
        | "GET /api/v1/contracts/{id}/manifest"
        | "GET /api/v1/contracts/{id}/supplements"
        | "GET /api/v1/contracts/{id}/facts/history"
        | "GET /api/v1/contracts/{id}/events"
        | "GET /api/v1/contracts/{id}/findings"
        | "GET /api/v1/contracts/{id}/comments"
        | "GET /api/v1/contracts/{id}/history"
        | "GET /api/v1/contracts/{id}/transitions"
        | "GET /api/v1/contracts/{id}/versions"
        | "GET /api/v1/contracts/{id}/versions/{number}"
        | "GET /api/v1/contracts/{id}/opinion"
        | "POST /api/v1/contracts/{id}/screen" => contract(&|_| true, 200),
        // Its body was typed: there is no original file, for anyone who sees it.
        "GET /api/v1/contracts/{id}/draft" => contract(&|_| true, 404),
        // The contract is under review: its clerk may not change the text, the facts (a stale
        // version first) or the materials now (409).
        "PUT /api/v1/contracts/{id}/body"
        | "PUT /api/v1/contracts/{id}/facts"
        | "POST /api/v1/contracts/{id}/attachments"
        | "DELETE /api/v1/contracts/{id}/attachments/{attachment_id}" => {
            contract(&|w| w == ClerkA, 409)
        }
        // A reviewer reaches the check of the reason (422); the lead reviewer waives too.
        "POST /api/v1/contracts/{id}/findings/{finding_id}/waive"
        | "POST /api/v1/contracts/{id}/findings/{finding_id}/withdraw-waiver"
        | "POST /api/v1/contracts/{id}/comments" => {
            contract(&|w| matches!(w, Reviewer | Lead), 422)
        }
        // Only the contract's clerk deals with comments, and not while it is under review.
        "POST /api/v1/contracts/{id}/comments/{comment_id}/resolve" => {
            contract(&|w| w == ClerkA, 409)
        }
        // Approving in legal review is the reviewer's; the open blocking finding refuses it.
        "POST /api/v1/contracts/{id}/transitions/{name}" => contract(&|w| w == Reviewer, 422),
        "POST /api/v1/delegations" => {
            if reviewer {
                422
            } else {
                403
            }
        }
        // The reviewer named the lead as deputy: those two may end it (the second time: 409).
        "POST /api/v1/delegations/{id}/revoke" => match who {
            Reviewer => 200,
            Lead => 409,
            _ => 404,
        },
        "POST /api/v1/judgments" => {
            if admin || reviewer {
                422
            } else {
                403
            }
        }
        "POST /api/v1/judgments/{id}/payments" => match who {
            AdminRoot | Reviewer | Lead => 422,
            AdminB | ReviewerB => 404,
            _ => 403,
        },
        "GET /api/v1/outbox" => {
            if admin {
                200
            } else {
                403
            }
        }
        // The mail is sent, not failed: there is nothing to retry, in view or not.
        "POST /api/v1/outbox/{id}/retry" => {
            if admin {
                404
            } else {
                403
            }
        }
        "POST /api/v1/users/{id}/deactivate" | "POST /api/v1/users/{id}/activate" => match who {
            AdminRoot => 200,
            AdminB => 404,
            _ => 403,
        },
        _ => return None,
    })
}

async fn fixture(app: &TestApp, world: &World, tokens: &BTreeMap<Who, String>) -> Fixture {
    let mut flagged = crate::helpers::valid_contract("矩阵中的合同");
    flagged["contract_type"] = json!("construction");
    flagged["body_markdown"] = json!("# 施工合同\n\n## 第三条 工程款\n\n本工程由乙方垫资施工。\n");
    // Returned once and submitted again: in review, with an opinion letter and a finding.
    let first = submitted(app, world, &flagged).await;
    let contract = id_of(&first);
    let returned = app
        .fire_ok(
            &world.reviewer,
            &contract,
            "return",
            &json!({ "expected_version": first["version"], "opinion": "请补充资金来源。" }),
        )
        .await;
    app.fire_ok(
        &world.submitter_a,
        &contract,
        "submit",
        &json!({ "expected_version": returned["version"] }),
    )
    .await;
    let findings: Value = app
        .get(
            &format!("/api/v1/contracts/{contract}/findings"),
            &world.reviewer,
        )
        .await
        .json()
        .await
        .unwrap();
    let finding = findings["findings"][0]["id"].as_str().unwrap().to_owned();
    let judgment: Value = app
        .post(
            "/api/v1/judgments",
            &app.admin_token,
            &json!({
                "case_number": "(2026)矩01民终1号", "court": "测试中院", "agency_id": world.dept_a,
                "kind": "procurement_arrears", "amount_due_fen": 100_000, "effective_on": "2026-07-01",
            }),
        )
        .await
        .json()
        .await
        .unwrap();
    let delegation: Value = app
        .post(
            "/api/v1/delegations",
            &tokens[&Who::Reviewer],
            &json!({ "deputy_email": "lead@city.gov.cn", "starts_on": "2026-01-01", "ends_on": "2026-12-31" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let mail = loop {
        let sent: Value = app
            .get("/api/v1/outbox?status=sent", &app.admin_token)
            .await
            .json()
            .await
            .unwrap();
        if let Some(id) = sent[0]["id"].as_str() {
            break id.to_owned();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    app.user("victim@a.gov.cn", world.dept_a, &["submitter"])
        .await;
    let attachments: Value = app
        .get(
            &format!("/api/v1/contracts/{contract}/attachments"),
            &world.submitter_a,
        )
        .await
        .json()
        .await
        .unwrap();
    let attachment = attachments[0]["id"].as_str().unwrap().to_owned();
    Fixture {
        agency_a: world.dept_a.to_string(),
        contract,
        finding,
        judgment: judgment["id"].as_str().unwrap().to_owned(),
        delegation: delegation["id"].as_str().unwrap().to_owned(),
        mail,
        victim: app.user_id("victim@a.gov.cn").await,
        attachment,
    }
}

async fn every_principal_gets_exactly_its_answer_from_every_endpoint(app: TestApp) {
    let world = World::build(&app).await;
    let mut tokens = BTreeMap::from([
        (Who::ClerkA, world.submitter_a.clone()),
        (Who::SignerA, world.signatory_a.clone()),
        (Who::ClerkB, world.submitter_b.clone()),
        (Who::Reviewer, world.reviewer.clone()),
        (Who::Auditor, world.auditor.clone()),
        (Who::AdminRoot, app.admin_token.clone()),
    ]);
    tokens.insert(
        Who::ReviewerB,
        app.user("reviewer@b.gov.cn", world.dept_b, &["reviewer"])
            .await,
    );
    tokens.insert(
        Who::Lead,
        app.user("lead@city.gov.cn", app.root_agency, &["lead_reviewer"])
            .await,
    );
    tokens.insert(
        Who::AdminB,
        app.user("admin@b.gov.cn", world.dept_b, &["admin"]).await,
    );
    let fixture = fixture(&app, &world, &tokens).await;

    let spec: Value = app
        .request(Method::GET, "/api/v1/openapi.json", None)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut endpoints = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            endpoints.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    endpoints.sort();
    let mut unlisted = Vec::new();
    let mut wrong = Vec::new();
    let mut cells = 0;
    for endpoint in &endpoints {
        if expected(endpoint, Who::ClerkA).is_none() && endpoint != "POST /api/v1/auth/logout" {
            unlisted.push(endpoint.clone());
            continue;
        }
        for who in EVERYONE {
            let Some(status) = expected(endpoint, who) else {
                continue;
            };
            let (method, path, body) = request(endpoint, &fixture, who);
            let mut call = app.request(method, &path, tokens.get(&who).map(String::as_str));
            if endpoint == "POST /api/v1/contracts/{id}/attachments" {
                let file =
                    reqwest::multipart::Part::bytes(b"%PDF-1.4\n".to_vec()).file_name("x.pdf");
                call = call.multipart(
                    reqwest::multipart::Form::new()
                        .text("kind", "other")
                        .part("file", file),
                );
            } else if let Some(body) = body {
                call = call.json(&body);
            }
            let got = call.send().await.unwrap().status();
            cells += 1;
            if got != StatusCode::from_u16(status).unwrap() {
                wrong.push(format!(
                    "{endpoint} as {who:?}: expected {status}, got {got}"
                ));
            }
        }
    }
    println!(
        "access matrix: {} endpoints, {cells} cells checked",
        endpoints.len()
    );
    assert!(
        unlisted.is_empty(),
        "endpoints without a row in the access matrix: {unlisted:#?}"
    );
    assert!(
        wrong.is_empty(),
        "{} cells wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
