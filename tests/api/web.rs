//! The web pages, driven like a browser without JavaScript would: forms posted with their CSRF
//! token, the session cookie kept by the client, redirects followed by hand so that each one is
//! checked. The same stories run on SQLite and PostgreSQL.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, LOCATION, SET_COOKIE};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, World, id_of, submitted, valid_contract};
use crate::on_both_backends;

on_both_backends!(
    sign_in_sets_a_safe_session_and_sign_out_ends_it,
    forms_without_the_sessions_csrf_token_are_refused,
    the_whole_review_happens_in_the_pages,
    a_returned_contract_is_revised_and_the_versions_compared,
    a_rejected_form_keeps_what_was_typed_and_names_the_fields,
    pages_show_only_what_the_user_may_see,
    admins_manage_agencies_users_judgments_and_failed_mail,
    reports_draw_charts_and_download_csv,
    changing_the_password_ends_the_other_sessions,
    a_deputy_decides_in_the_reviewers_name,
    sign_in_goes_only_to_local_paths,
    a_department_admin_cannot_make_an_auditor_in_the_pages,
    hostile_bodies_render_within_bounds_and_the_service_keeps_answering,
    a_word_draft_survives_a_refused_form_and_a_damaged_one_is_named,
    a_decision_names_the_state_it_reached_and_conditions_reach_the_signatory,
    the_inbox_counts_what_waits_and_lists_what_happened,
);

const GUARANTEE_BODY: &str = "# 校舍维修工程施工合同\n\n## 第三条 工程款支付\n\n1. 本工程由乙方垫资施工。\n2. 按月完成工程量的百分之八十支付进度款。\n";

/// A browser of one user: its own cookie jar, redirects not followed.
struct Browser {
    base: String,
    client: reqwest::Client,
}

/// The value of the first `name="…" value="…"` in a page.
fn input_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

/// The value of a text input, whatever attributes stand between its name and its value.
fn text_input(html: &str, name: &str) -> String {
    html.split(&format!("name=\"{name}\""))
        .nth(1)
        .and_then(|rest| rest.split('>').next())
        .and_then(|tag| tag.split("value=\"").nth(1))
        .and_then(|value| value.split('"').next())
        .unwrap_or_default()
        .replace("&#x2f;", "/")
}

/// The facts of the revision form as it was filled in: every text input, the chosen type and the
/// signatories.
fn edit_facts(html: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = [
        "title",
        "counterparty",
        "agency_party",
        "amount",
        "funding_source",
    ]
    .iter()
    .map(|name| ((*name).to_owned(), text_input(html, name)))
    .collect();
    let chosen = html
        .split("<option value=\"")
        .find(|o| o.contains("\" selected>"))
        .and_then(|o| o.split('"').next())
        .unwrap_or_default();
    fields.push(("contract_type".into(), chosen.into()));
    for checkbox in html.split("<input type=\"checkbox\"").skip(1) {
        let tag = checkbox.split('>').next().unwrap_or_default();
        if tag.contains("name=\"signatories\"") && tag.contains(" checked") {
            let value = tag
                .split("value=\"")
                .nth(1)
                .and_then(|v| v.split('"').next())
                .unwrap_or_default();
            fields.push(("signatories".into(), value.into()));
        }
    }
    fields
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The contract id in a `/contracts/{id}…` address.
fn contract_id(path: &str) -> String {
    path.trim_start_matches("/contracts/")
        .split(['?', '/'])
        .next()
        .unwrap_or_default()
        .to_owned()
}

impl Browser {
    fn new(app: &TestApp) -> Self {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self {
            base: app.base.clone(),
            client,
        }
    }

    async fn signed_in(app: &TestApp, email: &str) -> Self {
        let browser = Self::new(app);
        let response = browser.sign_in(email, PASSWORD, "/").await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "sign in {email}");
        browser
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("GET")
    }

    /// A page's status and HTML.
    async fn page(&self, path: &str) -> (StatusCode, String) {
        let response = self.get(path).await;
        let status = response.status();
        (status, response.text().await.expect("page text"))
    }

    async fn sign_in(&self, email: &str, password: &str, next: &str) -> reqwest::Response {
        let (status, html) = self.page("/login").await;
        assert_eq!(status, StatusCode::OK);
        let csrf = input_value(&html, "csrf").expect("the login form's CSRF field");
        self.post_form(
            "/login",
            &[
                ("csrf", csrf.as_str()),
                ("email", email),
                ("password", password),
                ("next", next),
            ],
        )
        .await
    }

    /// The CSRF token of the current session, as every page's sign-out form carries it.
    async fn csrf(&self) -> String {
        let (_, html) = self.page("/account/password").await;
        input_value(&html, "csrf").expect("a CSRF field")
    }

    async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .form(fields)
            .send()
            .await
            .expect("POST")
    }

    /// Posts a form with this session's CSRF token added.
    async fn submit(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let csrf = self.csrf().await;
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_form(path, &all).await
    }

    async fn submit_owned(&self, path: &str, fields: Vec<(String, String)>) -> reqwest::Response {
        let borrowed: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.submit(path, &borrowed).await
    }

    async fn submit_multipart(&self, path: &str, form: Form) -> reqwest::Response {
        let form = form.text("csrf", self.csrf().await);
        self.client
            .post(format!("{}{path}", self.base))
            .multipart(form)
            .send()
            .await
            .expect("POST multipart")
    }
}

fn contract_form(title: &str, body: &str) -> Form {
    Form::new()
        .text("title", title.to_owned())
        .text("contract_type", "construction")
        .text("counterparty", "示范建工集团有限公司")
        .text("agency_party", "甲方")
        .text("amount", "186,000.00")
        .text("funding_source", "2027年度部门预算")
        .text("signatories", "signer@a.gov.cn")
        .text("body_markdown", body.to_owned())
}

async fn api_contracts(app: &TestApp, token: &str) -> Vec<Value> {
    let page: Value = app
        .get("/api/v1/contracts", token)
        .await
        .json()
        .await
        .unwrap();
    page["items"].as_array().cloned().unwrap_or_default()
}

async fn sign_in_sets_a_safe_session_and_sign_out_ends_it(app: TestApp) {
    let _world = World::build(&app).await;
    let browser = Browser::new(&app);

    // Signed out, a page sends you to sign in and then back.
    let response = browser.get("/contracts/new").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login?next=%2Fcontracts%2Fnew");

    let (_, form) = browser.page("/login").await;
    for input in [
        "name=\"email\"",
        "name=\"password\"",
        "type=\"hidden\" name=\"csrf\"",
    ] {
        assert!(form.contains(input), "the login form lacks {input}");
    }
    assert!(
        form.contains("<label for=\"email\">"),
        "inputs are labelled"
    );

    let wrong = browser
        .sign_in("clerk@a.gov.cn", "not the password", "/")
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let html = wrong.text().await.unwrap();
    assert!(html.contains("邮箱或密码不正确"), "{html}");
    assert!(
        html.contains("value=\"clerk@a.gov.cn\""),
        "the e-mail stays typed"
    );

    let response = browser
        .sign_in("clerk@a.gov.cn", PASSWORD, "/contracts/new")
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/contracts/new");
    let cookie = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("cr_session="))
        .expect("a session cookie")
        .to_owned();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain http serves no Secure cookie"
    );
    let (status, home) = browser.page("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains("clerk@a.gov.cn"), "{home}");

    // An unknown address is a page for a browser, a problem document for a program.
    let unknown = browser
        .client
        .get(format!("{}/no/such/page", app.base))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert!(unknown.text().await.unwrap().contains("没有这个地址"));
    let unknown = browser.get("/no/such/page").await;
    assert_eq!(unknown.headers()[CONTENT_TYPE], "application/problem+json");

    // An address elsewhere is never where sign-in leads.
    let other = Browser::new(&app);
    let response = other
        .sign_in("clerk@a.gov.cn", PASSWORD, "//evil.example/x")
        .await;
    assert_eq!(location(&response), "/");

    // Signing out revokes the session itself, not only the cookie.
    let stolen = cookie.split(';').next().unwrap().to_owned();
    let response = browser.submit("/logout", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login");
    assert_eq!(browser.get("/").await.status(), StatusCode::SEE_OTHER);
    let replayed = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/", app.base))
        .header("cookie", stolen)
        .send()
        .await
        .unwrap();
    assert_eq!(
        replayed.status(),
        StatusCode::SEE_OTHER,
        "the old cookie is dead"
    );

    // A session ends when its token expires.
    let expiring = Browser::signed_in(&app, "clerk@b.gov.cn").await;
    app.execute_sql("UPDATE api_tokens SET expires_at = '2020-01-01T00:00:00Z'")
        .await;
    let response = expiring.get("/").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login?next=%2F");
    let response = expiring.post_form("/logout", &[("csrf", "x")]).await;
    assert_eq!(
        location(&response),
        "/login?next=%2F",
        "a form is not where to come back to"
    );

    // Failed sign-ins are limited per account.
    for _ in 0..5 {
        let response = other.sign_in("signer@a.gov.cn", "wrong wrong", "/").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let limited = other.sign_in("signer@a.gov.cn", PASSWORD, "/").await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.text().await.unwrap().contains("登录失败次数过多"));
}

async fn forms_without_the_sessions_csrf_token_are_refused(app: TestApp) {
    let world = World::build(&app).await;
    let clerk = Browser::signed_in(&app, "clerk@a.gov.cn").await;
    let other = Browser::signed_in(&app, "clerk@b.gov.cn").await;
    let fields = [
        ("title", "无令牌"),
        ("contract_type", "procurement"),
        ("counterparty", "某公司"),
        ("agency_party", "甲方"),
        ("amount", "100"),
        ("signatories", "signer@a.gov.cn"),
        ("body_markdown", "# 合同\n\n正文。\n"),
        ("intent", "save"),
    ];
    let missing = clerk.post_form("/contracts/new", &fields).await;
    assert_eq!(missing.status(), StatusCode::FORBIDDEN);
    assert!(
        missing.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "the refusal is a page"
    );
    let foreign_token = other.csrf().await;
    let mut foreign = vec![("csrf", foreign_token.as_str())];
    foreign.extend_from_slice(&fields);
    let response = clerk.post_form("/contracts/new", &foreign).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let login_without_cookie = Browser::new(&app)
        .post_form(
            "/login",
            &[
                ("csrf", "x"),
                ("email", "clerk@a.gov.cn"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(login_without_cookie.status(), StatusCode::FORBIDDEN);
    assert!(
        api_contracts(&app, &world.submitter_a).await.is_empty(),
        "nothing was created"
    );

    let response = clerk.submit("/contracts/new", &fields).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "with the token it works"
    );
}

/// Clerk drafts, self-checks and submits; the reviewer sees the finding marked in the text,
/// cannot approve past it, waives it with a reason and approves; the signatory signs the
/// approved version.
async fn the_whole_review_happens_in_the_pages(app: TestApp) {
    let world = World::build(&app).await;
    let clerk = Browser::signed_in(&app, "clerk@a.gov.cn").await;

    let (status, form) = clerk.page("/contracts/new").await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("enctype=\"multipart/form-data\"") && form.contains("name=\"draft\""));

    // The self-check shows the finding before anything is stored.
    let checked = clerk
        .submit_multipart(
            "/contracts/new",
            contract_form("校舍维修", GUARANTEE_BODY).text("intent", "check"),
        )
        .await;
    assert_eq!(checked.status(), StatusCode::OK);
    let html = checked.text().await.unwrap();
    assert!(html.contains("自查结果"), "{html}");
    assert!(
        html.contains(
            "<mark class=\"finding sev-block\" id=\"finding-1\">本工程由乙方垫资施工。</mark>"
        ),
        "{html}"
    );
    assert!(
        html.contains("value=\"校舍维修\""),
        "the form is shown again, filled in"
    );
    assert!(api_contracts(&app, &world.submitter_a).await.is_empty());

    // Saved from an uploaded .md file.
    let upload = contract_form("校舍维修", "").text("intent", "save").part(
        "draft",
        Part::text(GUARANTEE_BODY)
            .file_name("contract.md")
            .mime_str("text/markdown")
            .unwrap(),
    );
    let saved = clerk.submit_multipart("/contracts/new", upload).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let path = location(&saved);
    let id = contract_id(&path);
    let api = app.contract(&world.submitter_a, &id).await;
    assert_eq!(
        api["body_markdown"], GUARANTEE_BODY,
        "stored exactly as uploaded"
    );
    assert_eq!(api["amount_fen"], 18_600_000);

    // Submitting without the materials a construction contract needs is refused, naming them.
    let missing = clerk
        .submit(
            &format!("/contracts/{id}/transitions/submit"),
            &[("expected_version", "1")],
        )
        .await;
    assert_eq!(missing.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = missing.text().await.unwrap();
    assert!(
        html.contains("立项批复") && html.contains("资金来源证明"),
        "{html}"
    );
    for kind in ["project_approval", "funding_proof"] {
        let form = Form::new().text("kind", kind).part(
            "file",
            Part::bytes(b"%PDF-1.4\n%\n".to_vec()).file_name(format!("{kind}.pdf")),
        );
        let attached = clerk
            .submit_multipart(&format!("/contracts/{id}/attachments"), form)
            .await;
        assert_eq!(attached.status(), StatusCode::SEE_OTHER);
    }
    let (_, page) = clerk.page(&format!("/contracts/{id}")).await;
    assert!(
        page.contains(&format!("action=\"/contracts/{id}/transitions/submit\"")),
        "{page}"
    );
    assert!(page.contains(&format!("action=\"/contracts/{id}/check\"")));
    assert!(
        page.contains("class=\"diagram\"") && page.contains("class=\"current\""),
        "the diagram marks the state"
    );
    assert!(
        page.contains("project_approval.pdf") && page.contains("立项批复 Project approval ✓"),
        "{page}"
    );
    let response = clerk
        .submit(
            &format!("/contracts/{id}/transitions/submit"),
            &[("expected_version", "1")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), format!("/contracts/{id}?done=submit"));

    // The reviewer's queue, then the contract with its finding marked and listed.
    let reviewer = Browser::signed_in(&app, "reviewer@city.gov.cn").await;
    let (_, home) = reviewer.page("/").await;
    assert!(
        home.contains("待审查合同") && home.contains(&format!("/contracts/{id}")),
        "{home}"
    );
    // The deadline reads as the same day on the page and in the mail: the last day to decide.
    let due_at = app.contract(&world.reviewer, &id).await["due_at"]
        .as_str()
        .unwrap()
        .parse::<chrono::DateTime<chrono::Utc>>()
        .unwrap();
    let last_day = (due_at - chrono::Duration::seconds(1) + chrono::Duration::hours(8))
        .format("%Y-%m-%d")
        .to_string();
    assert!(home.contains(&last_day), "{last_day} in the queue: {home}");
    let mails = app
        .texts("SELECT body_text FROM outbox WHERE event = 'review_requested'")
        .await;
    assert!(mails.iter().all(|m| m.contains(&last_day)), "{mails:?}");
    assert!(
        home.contains("<td data-label=\"送审单位 Agency\">甲局</td>")
            && home.contains("1 项待处理")
            && home.contains("首次送审"),
        "the queue names the agency, the open blocking findings and a first submission: {home}"
    );
    let (_, page) = reviewer.page(&format!("/contracts/{id}")).await;
    assert!(
        page.contains(
            "<mark class=\"finding sev-block\" id=\"finding-1\">本工程由乙方垫资施工。</mark>"
        ),
        "{page}"
    );
    assert!(
        page.contains("《关于进一步加强") || page.contains("依据 Provision"),
        "the provision is cited"
    );
    let finding_id = page
        .split(&format!("/contracts/{id}/findings/"))
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .expect("a waive form")
        .to_owned();
    let version = app.contract(&world.reviewer, &id).await["version"].to_string();

    // While the finding is open there is no approve button, and a forged post is refused.
    assert!(
        !page.contains(&format!("/contracts/{id}/transitions/approve")),
        "{page}"
    );
    assert!(page.contains("1 个禁止事项未处理"));
    let refused = reviewer
        .submit(
            &format!("/contracts/{id}/transitions/approve"),
            &[
                ("expected_version", &version),
                ("opinion", "同意"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().await.unwrap().contains("阻断性审查发现"));

    let no_reason = reviewer
        .submit(
            &format!("/contracts/{id}/findings/{finding_id}/waive"),
            &[("reason", " ")],
        )
        .await;
    assert_eq!(no_reason.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let waived = reviewer
        .submit(
            &format!("/contracts/{id}/findings/{finding_id}/waive"),
            &[("reason", "垫资条款已由补充协议删除")],
        )
        .await;
    assert_eq!(waived.status(), StatusCode::SEE_OTHER);
    let (_, page) = reviewer.page(&format!("/contracts/{id}")).await;
    assert!(
        page.contains("经核实排除 Excluded")
            && page.contains("mark class=\"finding sev-block waived\""),
        "{page}"
    );
    assert!(
        page.contains("经核实排除「施工单位垫资」：垫资条款已由补充协议删除")
            && !page.contains("<code>finding.waived"),
        "the audit trail in words: {page}"
    );

    // A stale form is refused without losing the opinion typed into it.
    let stale = reviewer
        .submit(
            &format!("/contracts/{id}/transitions/approve"),
            &[
                ("expected_version", &version),
                ("opinion", "经审查，同意签订。"),
                ("confirm", "yes"),
            ],
        )
        .await;
    let stale_status = stale.status();
    let stale_html = stale.text().await.unwrap();
    assert_eq!(stale_status, StatusCode::CONFLICT, "{stale_html}");
    let html = stale_html;
    assert!(
        html.contains(">经审查，同意签订。</textarea>"),
        "the opinion survives the refusal: {html}"
    );
    let version = app.contract(&world.reviewer, &id).await["version"].to_string();
    let approved = reviewer
        .submit(
            &format!("/contracts/{id}/transitions/approve"),
            &[
                ("expected_version", &version),
                ("opinion", "经审查，同意签订。"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(approved.status(), StatusCode::SEE_OTHER);
    let (_, page) = reviewer.page(&format!("/contracts/{id}")).await;
    assert!(
        page.contains("合法性审查意见书") && page.contains("垫资条款已由补充协议删除"),
        "{page}"
    );

    // The signatory sees the approved version with its hash and signs exactly that.
    let signer = Browser::signed_in(&app, "signer@a.gov.cn").await;
    let (_, home) = signer.page("/").await;
    assert!(home.contains(&format!("/contracts/{id}/sign")), "{home}");
    let (_, sign_page) = signer.page(&format!("/contracts/{id}/sign")).await;
    let hash = app.contract(&world.signatory_a, &id).await["approved_sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(sign_page.contains(&hash), "the hash is shown");
    assert_eq!(
        input_value(&sign_page, "body_sha256").as_deref(),
        Some(hash.as_str())
    );
    let version = input_value(&sign_page, "expected_version").unwrap();
    let forged = signer
        .submit(
            &format!("/contracts/{id}/transitions/sign"),
            &[
                ("expected_version", &version),
                ("body_sha256", &"0".repeat(64)),
            ],
        )
        .await;
    assert_eq!(
        forged.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "another text cannot be signed"
    );
    // Signing is a deliberate act: without the signatory's password nothing is signed.
    let unconfirmed = signer
        .submit(
            &format!("/contracts/{id}/transitions/sign"),
            &[
                ("expected_version", &version),
                ("body_sha256", &hash),
                ("password", "not-my-password"),
            ],
        )
        .await;
    assert_eq!(unconfirmed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = unconfirmed.text().await.unwrap();
    assert!(
        html.contains("id=\"password-error\"") && html.contains("确认签署此版本"),
        "the sign page again, with the reason: {html}"
    );
    assert_eq!(
        app.contract(&world.signatory_a, &id).await["state"],
        "approved"
    );
    let signed = signer
        .submit(
            &format!("/contracts/{id}/transitions/sign"),
            &[
                ("expected_version", &version),
                ("body_sha256", &hash),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.contract(&world.signatory_a, &id).await["state"],
        "signed"
    );
}

async fn a_returned_contract_is_revised_and_the_versions_compared(app: TestApp) {
    let world = World::build(&app).await;
    let id = id_of(&submitted(&app, &world, &valid_contract("办公用品")).await);
    let reviewer = Browser::signed_in(&app, "reviewer@city.gov.cn").await;
    // A 批注 on a clause chosen from the text's own clauses.
    let (_, page) = reviewer.page(&format!("/contracts/{id}")).await;
    assert!(
        page.contains("<option value=\"第一条 标的\">"),
        "the clauses to comment on: {page}"
    );
    let commented = reviewer
        .submit(
            &format!("/contracts/{id}/comments"),
            &[
                ("clause", "第一条 标的"),
                ("comment", "规格不明。"),
                ("suggestion", "复印纸，A4，70克。"),
            ],
        )
        .await;
    assert_eq!(commented.status(), StatusCode::SEE_OTHER);
    let returned = reviewer
        .submit(
            &format!("/contracts/{id}/transitions/return"),
            &[
                ("expected_version", "2"),
                ("opinion", "一、请补充验收条款。\n二、明确付款期限。"),
            ],
        )
        .await;
    assert_eq!(returned.status(), StatusCode::SEE_OTHER);

    let clerk = Browser::signed_in(&app, "clerk@a.gov.cn").await;
    let (_, page) = clerk.page(&format!("/contracts/{id}")).await;
    assert!(
        page.contains("请补充验收条款。") && page.contains(&format!("/contracts/{id}/edit")),
        "{page}"
    );
    // The clerk deals with the comment: a rejection needs its reason.
    let comment_id = page
        .split("/comments/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .expect("a comment to deal with")
        .to_owned();
    let unexplained = clerk
        .submit(
            &format!("/contracts/{id}/comments/{comment_id}/resolve"),
            &[("resolution", "rejected"), ("note", "")],
        )
        .await;
    assert_eq!(unexplained.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let accepted = clerk
        .submit(
            &format!("/contracts/{id}/comments/{comment_id}/resolve"),
            &[("resolution", "accepted")],
        )
        .await;
    assert_eq!(accepted.status(), StatusCode::SEE_OTHER);
    let (_, page) = clerk.page(&format!("/contracts/{id}")).await;
    assert!(page.contains("已采纳 Accepted"), "{page}");
    // The opinion that returned it opens the page, each numbered line a paragraph of its own.
    let banner = page
        .split("id=\"returned-opinion\"")
        .nth(1)
        .and_then(|rest| rest.split("</section>").next())
        .expect("the returned opinion at the top");
    assert!(
        banner.contains("<p>一、请补充验收条款。</p>")
            && banner.contains("<p>二、明确付款期限。</p>"),
        "{banner}"
    );
    assert!(
        page.find("id=\"returned-opinion\"") < page.find("id=\"materials\""),
        "above the rest of the page"
    );
    let (_, edit) = clerk.page(&format!("/contracts/{id}/edit")).await;
    let version = input_value(&edit, "expected_version").unwrap();
    let revised_body = "# 办公用品采购合同\n\n## 第一条 标的\n\n复印纸。\n\n## 第二条 验收\n\n到货后五个工作日内验收。\n";

    let facts = edit_facts(&edit);
    let with_facts = |version: &str| {
        let mut fields: Vec<(String, String)> = facts.clone();
        fields.push(("expected_version".into(), version.into()));
        fields.push(("body_markdown".into(), revised_body.into()));
        fields
    };
    let stale = clerk
        .submit_owned(&format!("/contracts/{id}/edit"), with_facts("1"))
        .await;
    let stale_status = stale.status();
    let stale_html = stale.text().await.unwrap();
    assert_eq!(stale_status, StatusCode::CONFLICT, "{stale_html}");
    assert!(
        stale_html.contains("到货后五个工作日内验收。"),
        "the text typed is kept"
    );

    let saved = clerk
        .submit_owned(&format!("/contracts/{id}/edit"), with_facts(&version))
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let (status, diff) = clerk
        .page(&format!("/contracts/{id}/diff?from=1&to=2"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        diff.contains("<ins>## 第二条 验收</ins>")
            && diff.contains("<ins>到货后五个工作日内验收。</ins>"),
        "{diff}"
    );
    assert!(diff.contains("复印纸。"), "unchanged context is shown");
    assert!(
        diff.contains("<h2 class=\"clause\">第二条 验收</h2>")
            || diff.contains("<h2 class=\"clause\">第一条 标的</h2>"),
        "each group of changes under its clause: {diff}"
    );
    let (status, _) = clerk
        .page(&format!("/contracts/{id}/diff?from=1&to=9"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = clerk.page(&format!("/contracts/{id}/diff?from=x")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Sent again, it reaches the queue marked as a resubmission.
    let version = app.contract(&world.submitter_a, &id).await["version"].clone();
    app.fire_ok(
        &world.submitter_a,
        &id,
        "submit",
        &json!({ "expected_version": version }),
    )
    .await;
    let (_, home) = reviewer.page("/").await;
    assert!(home.contains("再次送审 Resubmitted"), "{home}");
}

async fn a_rejected_form_keeps_what_was_typed_and_names_the_fields(app: TestApp) {
    let world = World::build(&app).await;
    let clerk = Browser::signed_in(&app, "clerk@a.gov.cn").await;
    // Signatories are chosen from the agency's own, none ticked for the clerk in advance.
    let (_, page) = clerk.page("/contracts/new").await;
    assert!(
        page.contains("name=\"signatories\" value=\"signer@a.gov.cn\">")
            && page.contains("name=\"signatories\" value=\"deputy@a.gov.cn\">"),
        "{page}"
    );
    assert!(
        !page.contains("value=\"clerk@a.gov.cn\"") && !page.contains(" checked>"),
        "{page}"
    );
    let chosen = contract_form("", "# 合同\n\n第一条 标的。\n")
        .text("signatories", "deputy@a.gov.cn")
        .text("intent", "save");
    let refused = clerk.submit_multipart("/contracts/new", chosen).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains("value=\"signer@a.gov.cn\" checked>")
            && html.contains("value=\"deputy@a.gov.cn\" checked>"),
        "both ticked signatories stay ticked: {html}"
    );
    let form = Form::new()
        .text("title", "")
        .text("contract_type", "procurement")
        .text("counterparty", "保留的相对方")
        .text("agency_party", "甲方")
        .text("amount", "一百元")
        .text("signatories", "not-an-address")
        .text("body_markdown", "# 合同\n\n第一条 付款。\n")
        .text("intent", "save");
    let response = clerk.submit_multipart("/contracts/new", form).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("value=\"保留的相对方\""), "typed values stay");
    assert!(html.contains("第一条 付款。"), "the body stays");
    for field in ["amount", "title", "signatories"] {
        assert!(
            html.contains(&format!("id=\"{field}-error\"")),
            "every bad field is named at once, {field} too: {html}"
        );
    }
    assert!(api_contracts(&app, &world.submitter_a).await.is_empty());

    let binary = Form::new().part(
        "draft",
        Part::bytes(vec![0xff, 0xfe, 0x00]).file_name("x.md"),
    );
    let response = clerk.submit_multipart("/contracts/new", binary).await;
    assert_eq!(
        response.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a non-UTF-8 upload is refused clearly"
    );

    // A form sent twice (a double click, a resend) creates one contract.
    let (_, page) = clerk.page("/contracts/new").await;
    let key = input_value(&page, "idempotency_key").expect("the form's key");
    let mut locations = Vec::new();
    for _ in 0..2 {
        let form = contract_form("只建一次", "# 合同\n\n第一条 标的。\n")
            .text("intent", "save")
            .text("idempotency_key", key.clone());
        let response = clerk.submit_multipart("/contracts/new", form).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        locations.push(location(&response));
    }
    assert_eq!(locations[0], locations[1]);
    assert_eq!(api_contracts(&app, &world.submitter_a).await.len(), 1);
}

async fn pages_show_only_what_the_user_may_see(app: TestApp) {
    let world = World::build(&app).await;
    let created = app
        .create_contract(&world.submitter_a, &valid_contract("甲局合同"))
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let mut hostile = valid_contract("脚本");
    hostile["body_markdown"] = json!(
        "# 合同\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n[点](javascript:alert(3))\n"
    );
    let hostile = app.create_contract(&world.submitter_a, &hostile).await;
    let other = Browser::signed_in(&app, "clerk@b.gov.cn").await;
    let response = other.get(&format!("/contracts/{id}")).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(
        response.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let (_, home) = other.page("/").await;
    assert!(!home.contains("甲局合同"));
    assert_eq!(
        other.get("/admin/users").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        other.get("/contracts/not-a-uuid").await.status(),
        StatusCode::NOT_FOUND
    );

    let clerk = Browser::signed_in(&app, "clerk@a.gov.cn").await;
    let response = clerk
        .get(&format!("/contracts/{}", hostile["id"].as_str().unwrap()))
        .await;
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert!(
        response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    let html = response.text().await.unwrap();
    let body = html.split("class=\"contract-body\"").nth(1).unwrap();
    assert!(
        !body.contains("<script") && !body.contains("onerror"),
        "{body}"
    );
    assert!(
        body.contains("点") && !body.contains("href=\"javascript:"),
        "{body}"
    );

    // The reviewer's queue: the earliest deadline first, overdue ones marked.
    let late = app
        .create_contract(&world.submitter_a, &valid_contract("已超期"))
        .await;
    let late_id = late["id"].as_str().unwrap().to_owned();
    for contract in [&id, &late_id] {
        app.fire_ok(
            &world.submitter_a,
            contract,
            "submit",
            &json!({ "expected_version": 1 }),
        )
        .await;
    }
    app.execute_sql("UPDATE contracts SET due_at = '2020-01-01T00:00:00Z' WHERE title = '已超期'")
        .await;
    let reviewer = Browser::signed_in(&app, "reviewer@city.gov.cn").await;
    let (_, queue) = reviewer.page("/").await;
    let late_at = queue.find("已超期").expect("the late contract is queued");
    let other_at = queue
        .find("甲局合同")
        .expect("the other contract is queued");
    assert!(late_at < other_at, "the overdue one comes first");
    assert!(queue.contains("已超期 Overdue"), "and is marked");
    let auditor = Browser::signed_in(&app, "auditor@city.gov.cn").await;
    let (_, search) = auditor.page("/contracts?q=%E7%94%B2%E5%B1%80").await;
    assert!(
        search.contains("甲局合同") && !search.contains("已超期</a>"),
        "{search}"
    );
    let (_, reviewing) = auditor.page("/contracts?state=legal_review").await;
    assert!(
        reviewing.contains("甲局合同")
            && reviewing.contains("已超期")
            && !reviewing.contains("脚本</a>")
    );
    let (status, _) = auditor.page("/contracts?state=pending").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, theirs) = other.page("/contracts").await;
    assert!(
        theirs.contains("没有符合条件的合同"),
        "department B sees none of A's: {theirs}"
    );

    // A page at a time, with a link to the next.
    for n in 0..51 {
        app.create_contract(
            &world.submitter_b,
            &valid_contract(&format!("乙局合同{n:02}")),
        )
        .await;
    }
    let (_, first) = other.page("/contracts").await;
    assert_eq!(first.matches("乙局合同").count(), 50);
    let next = first
        .replace("&#x2f;", "/")
        .split("href=\"/contracts?")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a next-page link")
        .replace("&amp;", "&");
    let (_, second) = other.page(&format!("/contracts?{next}")).await;
    assert_eq!(second.matches("乙局合同").count(), 1, "{second}");
    assert!(second.contains("乙局合同00"), "the oldest is on page two");
}

async fn admins_manage_agencies_users_judgments_and_failed_mail(app: TestApp) {
    let world = World::build(&app).await;
    let admin = Browser::signed_in(&app, "admin@city.gov.cn").await;
    let root = app.root_agency.to_string();

    let created = admin
        .submit("/admin/agencies", &[("name", "丙局"), ("parent_id", &root)])
        .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let (_, agencies) = admin.page("/admin/agencies").await;
    assert!(agencies.contains("丙局"));
    let duplicate = admin
        .submit("/admin/agencies", &[("name", "丙局"), ("parent_id", &root)])
        .await;
    assert_eq!(duplicate.status(), StatusCode::CONFLICT);

    let dept_a = world.dept_a.to_string();
    let bad = admin
        .submit(
            "/admin/users",
            &[
                ("email", "not an email"),
                ("name", "新人"),
                ("agency_id", &dept_a),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = bad.text().await.unwrap();
    assert!(
        html.contains("id=\"email-error\"") && html.contains("value=\"新人\""),
        "{html}"
    );
    assert!(
        !html.contains("value=\"short\""),
        "a password is never echoed"
    );
    let good = admin
        .submit(
            "/admin/users",
            &[
                ("email", "new@a.gov.cn"),
                ("name", "新人"),
                ("agency_id", &dept_a),
                ("roles", "submitter"),
                ("roles", "signatory"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(good.status(), StatusCode::SEE_OTHER);
    let users: Value = app
        .get("/api/v1/users", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    let new_id = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "new@a.gov.cn")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let newcomer = Browser::signed_in(&app, "new@a.gov.cn").await;

    let roles = admin
        .submit(
            &format!("/admin/users/{new_id}/roles"),
            &[("roles", "submitter")],
        )
        .await;
    assert_eq!(roles.status(), StatusCode::SEE_OTHER);
    let user: Value = app
        .get("/api/v1/users", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    let roles_now = &user
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == new_id.as_str())
        .unwrap()["roles"];
    assert_eq!(roles_now, &json!(["submitter"]));
    let none = admin
        .submit(&format!("/admin/users/{new_id}/roles"), &[])
        .await;
    assert_eq!(
        none.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a user keeps at least one role"
    );

    // A forgotten password is reset by the admin; the user's sessions end.
    let short = admin
        .submit(
            &format!("/admin/users/{new_id}/password"),
            &[("password", "short")],
        )
        .await;
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short.text().await.unwrap().contains("密码至少"));
    let reset = admin
        .submit(
            &format!("/admin/users/{new_id}/password"),
            &[("password", "a fresh password 1")],
        )
        .await;
    assert_eq!(reset.status(), StatusCode::SEE_OTHER);
    let (_, page) = admin.page(&location(&reset)).await;
    assert!(page.contains("密码已重置"), "{page}");
    assert_eq!(
        newcomer.get("/").await.status(),
        StatusCode::SEE_OTHER,
        "signed out by the reset"
    );
    let newcomer = Browser::new(&app);
    let again = newcomer
        .sign_in("new@a.gov.cn", "a fresh password 1", "/")
        .await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    let me: Value = app
        .get("/api/v1/me", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    let own = admin
        .submit(
            &format!("/admin/users/{}/password", me["id"].as_str().unwrap()),
            &[("password", "a fresh password 1")],
        )
        .await;
    assert_eq!(
        own.status(),
        StatusCode::FORBIDDEN,
        "not one's own, without the current one"
    );

    let deactivated = admin
        .submit(
            &format!("/admin/users/{new_id}/active"),
            &[("active", "false")],
        )
        .await;
    assert_eq!(deactivated.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        newcomer.get("/").await.status(),
        StatusCode::SEE_OTHER,
        "the session ended"
    );

    // The court-judgment register and a payment.
    let judgment = |amount_due: &'static str, effective_on: &'static str| {
        [
            ("case_number", "(2026)示01民终1号"),
            ("court", "示范市中级人民法院"),
            ("agency_id", dept_a.as_str()),
            ("kind", "construction_arrears"),
            ("amount_due", amount_due),
            ("effective_on", effective_on),
        ]
    };
    let bad = admin
        .submit("/admin/judgments", &judgment("abc", "2026-13-01"))
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = bad.text().await.unwrap();
    assert!(
        html.contains("id=\"amount_due-error\"") && html.contains("id=\"effective_on-error\""),
        "{html}"
    );
    assert!(html.contains("示范市中级人民法院"), "typed values stay");
    let registered = admin
        .submit("/admin/judgments", &judgment("50,000", "2026-07-01"))
        .await;
    assert_eq!(registered.status(), StatusCode::SEE_OTHER);
    let list: Value = app
        .get("/api/v1/judgments", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    let judgment = list[0]["id"].as_str().unwrap().to_owned();
    let paid = admin
        .submit(
            &format!("/admin/judgments/{judgment}/payments"),
            &[("amount", "20000"), ("paid_on", "2026-08-01")],
        )
        .await;
    assert_eq!(paid.status(), StatusCode::SEE_OTHER);
    let (_, page) = admin.page("/admin/judgments").await;
    assert!(
        page.contains("¥20,000.00") && page.contains("部分履行"),
        "{page}"
    );
    // Reviewers keep the register, as the README says: they reach the page from the menu.
    let reviewer = Browser::signed_in(&app, "reviewer@city.gov.cn").await;
    let (status, page) = reviewer.page("/admin/judgments").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("(2026)示01民终1号") && page.contains("甲局"),
        "{page}"
    );
    let (_, home) = reviewer.page("/").await;
    assert!(home.contains("href=\"/admin/judgments\""), "{home}");

    // A failed e-mail is listed and queued again.
    submitted(&app, &world, &valid_contract("邮件")).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    app.execute_sql("UPDATE outbox SET status = 'failed', last_error = '550 mailbox unavailable'")
        .await;
    let (_, failed) = admin.page("/admin/outbox").await;
    assert!(failed.contains("550 mailbox unavailable"), "{failed}");
    let mail_id = failed
        .split("/admin/outbox/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let retried = admin
        .submit(&format!("/admin/outbox/{mail_id}/retry"), &[])
        .await;
    assert_eq!(retried.status(), StatusCode::SEE_OTHER);
    let failed_now = app
        .scalar("SELECT COUNT(*) FROM outbox WHERE status = 'failed'")
        .await;
    assert!(failed_now < app.scalar("SELECT COUNT(*) FROM outbox").await);

    // Mail still being retried is listed too, with its attempts, next try and deadline. First
    // the dispatcher finishes what it holds, so that it does not record over the change.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while app
        .scalar("SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')")
        .await
        > 0
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the outbox never drained"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    app.execute_sql(
        "UPDATE outbox SET status = 'pending', attempts = 17, last_error = '421 try again later',
             next_attempt_at = '2099-01-01T00:00:00+00:00', retry_until = '2099-01-02T00:00:00+00:00'",
    )
    .await;
    let (_, waiting) = admin.page("/admin/outbox").await;
    for shown in [
        "421 try again later",
        "17",
        "2099-01-01 08:00",
        "2099-01-02 08:00",
    ] {
        assert!(waiting.contains(shown), "{shown}: {waiting}");
    }
}

async fn reports_draw_charts_and_download_csv(app: TestApp) {
    let world = World::build(&app).await;
    let body = GUARANTEE_BODY;
    let mut contract = valid_contract("报表");
    contract["contract_type"] = json!("construction");
    contract["body_markdown"] = json!(body);
    let id = id_of(&submitted(&app, &world, &contract).await);
    app.fire_ok(
        &world.reviewer,
        &id,
        "return",
        &json!({ "expected_version": 2, "opinion": "删除垫资条款" }),
    )
    .await;
    submitted(&app, &world, &valid_contract("迟到")).await;
    app.execute_sql("UPDATE contracts SET due_at = '2026-01-01T00:00:00Z' WHERE title = '迟到'")
        .await;

    let reviewer = Browser::signed_in(&app, "reviewer@city.gov.cn").await;
    let (status, page) = reviewer.page("/reports").await;
    assert_eq!(status, StatusCode::OK);
    for chart in [
        "合同状态分布",
        "问题类别分布",
        "审查用时分布",
        "超期天数分布",
    ] {
        assert!(
            page.contains(&format!(
                "<svg class=\"chart\" role=\"img\" aria-label=\"{chart}"
            )),
            "no {chart} chart: {page}"
        );
    }
    assert!(
        page.contains("15 天以上"),
        "the late review is over 15 days late"
    );
    assert!(
        page.contains("退回修改") && page.contains("从提交到作出决定的中位数"),
        "{page}"
    );

    let response = reviewer.get("/reports/states.csv").await;
    assert_eq!(response.headers()[CONTENT_TYPE], "text/csv; charset=utf-8");
    let csv = response.text().await.unwrap();
    assert!(csv.starts_with("state,label,count\n"), "{csv}");
    assert!(
        csv.contains("legal_review,") && csv.contains("revision_requested,"),
        "{csv}"
    );
    let overdue = reviewer
        .get("/reports/overdue.csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        overdue.contains(",迟到,legal_review,2026-01-01T00:00:00"),
        "{overdue}"
    );
    let categories = reviewer
        .get("/reports/categories.csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(categories.contains("contractor_advance,"), "{categories}");
    let times = reviewer
        .get("/reports/review-times.csv")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(times.lines().count(), 2, "one decided review: {times}");
    let judgments = reviewer.get("/reports/judgments.csv?period=2026H2").await;
    assert_eq!(judgments.status(), StatusCode::OK);
    assert!(
        judgments
            .text()
            .await
            .unwrap()
            .starts_with("agency_id,agency,unpaid_count")
    );
    assert_eq!(
        reviewer.get("/reports/nothing.csv").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        reviewer.get("/reports?period=2026H3").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // A clerk's reports cover their own agency only.
    let other = Browser::signed_in(&app, "clerk@b.gov.cn").await;
    let csv = other.get("/reports/states.csv").await.text().await.unwrap();
    assert_eq!(csv, "state,label,count\n");
}

async fn changing_the_password_ends_the_other_sessions(app: TestApp) {
    let world = World::build(&app).await;
    let clerk = Browser::signed_in(&app, "clerk@a.gov.cn").await;
    let wrong = clerk
        .submit(
            "/account/password",
            &[
                ("current_password", "nope"),
                ("new_password", "a new long password"),
                ("confirm_password", "a new long password"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("id=\"current_password-error\"")
    );
    let differ = clerk
        .submit(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a new long password"),
                ("confirm_password", "another one"),
            ],
        )
        .await;
    assert_eq!(differ.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let changed = clerk
        .submit(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a new long password"),
                ("confirm_password", "a new long password"),
            ],
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_eq!(
        clerk.get("/").await.status(),
        StatusCode::OK,
        "this session stays"
    );
    let old_token = app.get("/api/v1/contracts", &world.submitter_a).await;
    assert_eq!(
        old_token.status(),
        StatusCode::UNAUTHORIZED,
        "other sessions end"
    );
    assert_eq!(
        app.try_login("clerk@a.gov.cn", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.try_login("clerk@a.gov.cn", "a new long password")
            .await
            .status(),
        StatusCode::OK
    );
}

async fn a_deputy_decides_in_the_reviewers_name(app: TestApp) {
    let world = World::build(&app).await;
    // The deputy reviews for department B; department A's contract is outside their own view.
    app.user("deputy@b.gov.cn", world.dept_b, &["reviewer"])
        .await;
    let id = id_of(&submitted(&app, &world, &valid_contract("代审合同")).await);
    let deputy = Browser::signed_in(&app, "deputy@b.gov.cn").await;
    assert_eq!(
        deputy.get(&format!("/contracts/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );

    let reviewer = Browser::signed_in(&app, "reviewer@city.gov.cn").await;
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let (from, until) = (
        today.to_string(),
        (today + chrono::Days::new(3)).to_string(),
    );
    let backwards = reviewer
        .submit(
            "/account/delegations",
            &[
                ("deputy_email", "deputy@b.gov.cn"),
                ("starts_on", &until),
                ("ends_on", &from),
            ],
        )
        .await;
    assert_eq!(backwards.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = backwards.text().await.unwrap();
    assert!(
        html.contains("id=\"ends_on-error\"") && html.contains("value=\"deputy@b.gov.cn\""),
        "{html}"
    );
    let named = reviewer
        .submit(
            "/account/delegations",
            &[
                ("deputy_email", "deputy@b.gov.cn"),
                ("starts_on", &from),
                ("ends_on", &until),
            ],
        )
        .await;
    assert_eq!(named.status(), StatusCode::SEE_OTHER);

    // The deputy sees the reviewer's queue and decides in their name.
    let (_, home) = deputy.page("/").await;
    assert!(
        home.contains("Acting for reviewer@city.gov.cn") && home.contains("代审合同"),
        "{home}"
    );
    let (status, page) = deputy.page(&format!("/contracts/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    let reviewer_id = input_value(&page, "on_behalf_of").expect("an on-behalf-of field");
    let version = input_value(&page, "expected_version").unwrap();
    let approved = deputy
        .submit(
            &format!("/contracts/{id}/transitions/approve"),
            &[
                ("expected_version", &version),
                ("on_behalf_of", &reviewer_id),
                ("opinion", "代为审查：同意签订。"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(approved.status(), StatusCode::SEE_OTHER);
    let history: Value = app
        .get(&format!("/api/v1/contracts/{id}/history"), &world.reviewer)
        .await
        .json()
        .await
        .unwrap();
    let decision = history.as_array().unwrap().last().unwrap().clone();
    assert_eq!(decision["on_behalf_of"], json!(reviewer_id));
    assert_eq!(decision["to_state"], "approved");
    let (_, page) = reviewer.page(&format!("/contracts/{id}")).await;
    assert!(page.contains("（代 reviewer@city.gov.cn 审查）"), "{page}");

    // Once revoked, the contract is out of the deputy's reach again.
    let (_, list) = reviewer.page("/account/delegations").await;
    let delegation = list
        .split("/account/delegations/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap()
        .to_owned();
    let revoked = reviewer
        .submit(&format!("/account/delegations/{delegation}/revoke"), &[])
        .await;
    assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        deputy.get(&format!("/contracts/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
}

async fn sign_in_goes_only_to_local_paths(app: TestApp) {
    World::build(&app).await;
    for (next, expected) in [
        ("/contracts?q=x", "/contracts?q=x"),
        ("/\t/evil.example", "/"),
        ("/\r\nSet-Cookie: x=1", "/"),
        ("/\n/evil.example", "/"),
        ("/\u{b}/evil.example", "/"),
        ("/\\evil.example", "/"),
        ("//evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/合同", "/"),
    ] {
        let browser = Browser::new(&app);
        let response = browser.sign_in("clerk@a.gov.cn", PASSWORD, next).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(location(&response), expected, "{next:?}");
    }
}

async fn a_department_admin_cannot_make_an_auditor_in_the_pages(app: TestApp) {
    let world = World::build(&app).await;
    app.user("admin@a.gov.cn", world.dept_a, &["admin"]).await;
    let admin = Browser::signed_in(&app, "admin@a.gov.cn").await;
    let clerk = app.user_id("clerk@a.gov.cn").await;
    let refused = admin
        .submit(
            &format!("/admin/users/{clerk}/roles"),
            &[("roles", "submitter"), ("roles", "auditor")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let html = refused.text().await.unwrap();
    assert!(html.contains("审计员"), "the page says why: {html}");
    let users: Value = app
        .get("/api/v1/users", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    let roles = &users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "clerk@a.gov.cn")
        .unwrap()["roles"];
    assert_eq!(roles, &json!(["submitter"]), "nothing was granted");
}

async fn hostile_bodies_render_within_bounds_and_the_service_keeps_answering(app: TestApp) {
    let world = World::build(&app).await;
    let guarantees: String = (1..=9_000)
        .map(|n| format!("## 第{n}条\n\n甲方为乙方向银行的借款提供连带责任保证担保。\n\n"))
        .collect();
    let bodies = [
        ">".repeat(100_000) + " 深处的条款",
        "<div>".repeat(50_000),
        guarantees,
    ];
    let mut ids = Vec::new();
    for (n, body) in bodies.iter().enumerate() {
        let mut contract = valid_contract(&format!("恶意正文 {n}"));
        contract["body_markdown"] = json!(body);
        let draft = app.create_contract(&world.submitter_a, &contract).await;
        // Submitting screens the text and stores every finding.
        let submitted = app
            .fire_ok(
                &world.submitter_a,
                &id_of(&draft),
                "submit",
                &json!({ "expected_version": 1 }),
            )
            .await;
        ids.push(id_of(&submitted));
    }
    let reviewer = Browser::signed_in(&app, "reviewer@city.gov.cn").await;
    let pages = ids.iter().map(|id| {
        let client = reviewer.client.clone();
        let url = format!("{}/contracts/{id}", reviewer.base);
        tokio::spawn(async move {
            let response = client.get(url).send().await.expect("the page");
            let status = response.status();
            (status, response.bytes().await.expect("the page body").len())
        })
    });
    let pages: Vec<_> = pages.collect();
    // While the three pages render, the service answers everyone else.
    for _ in 0..20 {
        let health = reqwest::get(format!("{}/healthz", app.base)).await.unwrap();
        assert_eq!(health.status(), StatusCode::OK);
    }
    for page in pages {
        let (status, size) = page.await.unwrap();
        assert_eq!(status, StatusCode::OK);
        assert!(size < 8 * 1024 * 1024, "a page of {size} bytes");
    }
    let (_, html) = reviewer.page(&format!("/contracts/{}", ids[2])).await;
    assert!(
        html.contains("未在此列出"),
        "the findings beyond the list are counted"
    );
}

/// A Word draft that converted is kept through a refused form (its text shown, the file carried
/// along), so the clerk fixes the field and saves without choosing it again; a damaged file is
/// refused with the reason beside its input and everything typed kept.
async fn a_word_draft_survives_a_refused_form_and_a_damaged_one_is_named(app: TestApp) {
    let world = World::build(&app).await;
    let clerk = Browser::signed_in(&app, "clerk@a.gov.cn").await;
    let docx = crate::office_files::flagged_docx();
    let form = Form::new()
        .text("title", "维修工程")
        .text("contract_type", "construction")
        .text("counterparty", "示范建工集团有限公司")
        .text("agency_party", "甲方")
        .text("amount", "十万")
        .text("funding_source", "2027年度部门预算")
        .text("signatories", "signer@a.gov.cn")
        .text("intent", "save")
        .part(
            "draft",
            Part::bytes(docx.clone()).file_name("维修合同.docx"),
        );
    let refused = clerk.submit_multipart("/contracts/new", form).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.unwrap();
    assert!(html.contains("id=\"amount-error\""), "{html}");
    assert!(
        html.contains("第三条 工程款支付"),
        "the converted text is shown: {html}"
    );
    let kept = text_input(&html, "kept_draft");
    assert!(!kept.is_empty(), "the file is carried along");
    let body = html
        .split("name=\"body_markdown\"")
        .nth(1)
        .and_then(|rest| rest.split('>').nth(1))
        .and_then(|rest| rest.split("</textarea").next())
        .unwrap()
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"");

    // Fixed and saved without choosing the file again: the original is kept.
    let form = contract_form("维修工程", &body)
        .text("intent", "save")
        .text("kept_draft", kept)
        .text("kept_draft_name", "维修合同.docx");
    let saved = clerk.submit_multipart("/contracts/new", form).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let id = contract_id(&location(&saved));
    let original = app
        .get(&format!("/api/v1/contracts/{id}/draft"), &world.submitter_a)
        .await;
    assert_eq!(original.status(), StatusCode::OK);
    assert_eq!(original.bytes().await.unwrap().as_ref(), docx.as_slice());
    let (_, page) = clerk.page(&format!("/contracts/{id}")).await;
    assert!(
        page.contains("维修合同.docx"),
        "the page names the original"
    );

    let form = contract_form("坏文件", "").text("intent", "save").part(
        "draft",
        Part::bytes(b"PK\x03\x04broken".to_vec()).file_name("坏.docx"),
    );
    let refused = clerk.submit_multipart("/contracts/new", form).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains("id=\"draft-error\"") && html.contains("损坏"),
        "{html}"
    );
    assert!(html.contains("value=\"坏文件\""), "what was typed stays");
}

async fn a_decision_names_the_state_it_reached_and_conditions_reach_the_signatory(app: TestApp) {
    let world = World::build(&app).await;
    app.user("lead@city.gov.cn", app.root_agency, &["lead_reviewer"])
        .await;
    let mut large = valid_contract("教学楼设备采购");
    large["amount_fen"] = json!(650_000_000);
    let in_review = submitted(&app, &world, &large).await;
    let id = id_of(&in_review);

    // The reviewer's approval sends it to the lead: the notice says so, not "approved".
    let reviewer = Browser::signed_in(&app, "reviewer@city.gov.cn").await;
    let (_, page) = reviewer.page(&format!("/contracts/{id}")).await;
    assert!(page.contains("id=\"decision-conditions\""), "{page}");
    assert_eq!(
        page.matches("name=\"opinion\"").count(),
        1,
        "one opinion editor for every decision"
    );
    for action in ["approve", "return", "request_materials", "reject"] {
        assert!(
            page.contains(&format!(
                "formaction=\"/contracts/{id}/transitions/{action}\""
            )),
            "{action} sends the one editor"
        );
    }
    let version = input_value(&page, "expected_version").unwrap();
    let unconfirmed = reviewer
        .submit(
            &format!("/contracts/{id}/transitions/approve"),
            &[("expected_version", &version), ("opinion", "一、同意。")],
        )
        .await;
    assert_eq!(unconfirmed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unconfirmed
            .text()
            .await
            .unwrap()
            .contains(">一、同意。</textarea>"),
        "the opinion survives"
    );
    let approved = reviewer
        .submit(
            &format!("/contracts/{id}/transitions/approve"),
            &[
                ("expected_version", &version),
                ("opinion", "一、同意。"),
                (
                    "conditions",
                    "签订前取得财政部门资金确认函\n\n第五条补充验收标准",
                ),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(approved.status(), StatusCode::SEE_OTHER);
    let (_, page) = reviewer.page(&location(&approved)).await;
    let notice = page
        .split("class=\"notice\" role=\"status\">")
        .nth(1)
        .and_then(|rest| rest.split("</p>").next())
        .unwrap_or_default()
        .to_owned();
    assert!(notice.contains("负责人复核"), "{notice}");
    assert!(!notice.contains("审查通过的决定"), "{notice}");
    assert!(
        page.contains("审查通过，报负责人复核") && !page.contains("legal_review →"),
        "the timeline in words"
    );

    // The lead approves; the notice now says approved, and the letter lists the conditions.
    let lead = Browser::signed_in(&app, "lead@city.gov.cn").await;
    let (_, page) = lead.page(&format!("/contracts/{id}")).await;
    let version = input_value(&page, "expected_version").unwrap();
    let approved = lead
        .submit(
            &format!("/contracts/{id}/transitions/approve"),
            &[
                ("expected_version", &version),
                ("opinion", "同意审查意见。"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(approved.status(), StatusCode::SEE_OTHER);
    let (_, page) = lead.page(&location(&approved)).await;
    assert!(page.contains("已作出审查通过的决定"), "{page}");
    let number = app.contract(&world.submitter_a, &id).await["opinion_number"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        page.contains("审查意见书文号") && page.contains(&number),
        "the page names the letter's number: {page}"
    );
    let docx = lead.get(&format!("/contracts/{id}/opinion.docx")).await;
    assert_eq!(docx.status(), StatusCode::OK);
    let text = crate::review::docx_paragraphs(&docx.bytes().await.unwrap()).join("\n");
    assert!(
        text.contains("修改后同意") && text.contains("签订前取得财政部门资金确认函"),
        "{text}"
    );
    assert!(
        text.contains("一、同意。") && text.contains("同意审查意见。"),
        "{text}"
    );
    let mails = app
        .texts("SELECT body_text FROM outbox WHERE event = 'approved'")
        .await;
    assert!(
        mails
            .iter()
            .all(|m| m.contains("第五条补充验收标准") && !m.contains("| ")),
        "plain-text mail with the conditions: {mails:?}"
    );

    // The signatory reads the conditions and confirms them, and their password, to sign.
    let signer = Browser::signed_in(&app, "signer@a.gov.cn").await;
    let (_, sign_page) = signer.page(&format!("/contracts/{id}/sign")).await;
    assert!(
        sign_page.contains("签订前取得财政部门资金确认函"),
        "{sign_page}"
    );
    let version = input_value(&sign_page, "expected_version").unwrap();
    let hash = input_value(&sign_page, "body_sha256").unwrap();
    let unmet = signer
        .submit(
            &format!("/contracts/{id}/transitions/sign"),
            &[
                ("expected_version", &version),
                ("body_sha256", &hash),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(unmet.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let signed = signer
        .submit(
            &format!("/contracts/{id}/transitions/sign"),
            &[
                ("expected_version", &version),
                ("body_sha256", &hash),
                ("conditions_met", "yes"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.contract(&world.signatory_a, &id).await["state"],
        "signed"
    );
}

/// The 待办 count in the header of every page.
fn waiting_in_header(html: &str) -> Option<String> {
    html.split("id=\"inbox-link\"")
        .nth(1)?
        .split("</a>")
        .next()?
        .split("class=\"count\"")
        .nth(1)
        .and_then(|rest| rest.split('>').nth(1))
        .and_then(|rest| rest.split('<').next())
        .map(str::to_owned)
}

async fn the_inbox_counts_what_waits_and_lists_what_happened(app: TestApp) {
    let world = World::build(&app).await;
    let reviewer = Browser::signed_in(&app, "reviewer@city.gov.cn").await;
    let clerk = Browser::signed_in(&app, "clerk@a.gov.cn").await;
    let signer = Browser::signed_in(&app, "signer@a.gov.cn").await;
    let (_, page) = reviewer.page("/").await;
    assert_eq!(waiting_in_header(&page), None, "nothing waits yet");

    let first = submitted(&app, &world, &valid_contract("待办一")).await;
    let second = submitted(&app, &world, &valid_contract("待办二")).await;
    let (_, page) = reviewer.page("/contracts").await;
    assert_eq!(
        waiting_in_header(&page).as_deref(),
        Some("2"),
        "on every page"
    );

    let returned = json!({ "expected_version": second["version"], "opinion": "请补充验收条款。" });
    app.fire_ok(&world.reviewer, &id_of(&second), "return", &returned)
        .await;
    let approved = json!({ "expected_version": first["version"], "opinion": "同意。" });
    app.fire_ok(&world.reviewer, &id_of(&first), "approve", &approved)
        .await;
    let (_, page) = reviewer.page("/").await;
    assert_eq!(waiting_in_header(&page), None, "the reviewer is done");
    let (_, page) = clerk.page("/").await;
    assert_eq!(
        waiting_in_header(&page).as_deref(),
        Some("1"),
        "one to revise"
    );
    let (_, page) = signer.page("/").await;
    assert_eq!(
        waiting_in_header(&page).as_deref(),
        Some("1"),
        "one to sign"
    );

    let (status, inbox) = clerk.page("/inbox").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        inbox.contains("待办二</a>：退回修改")
            && inbox.contains("待办一</a>：审查通过")
            && inbox.contains("送审"),
        "{inbox}"
    );
    let (_, elsewhere) = Browser::signed_in(&app, "clerk@b.gov.cn")
        .await
        .page("/inbox")
        .await;
    assert!(
        !elsewhere.contains("待办一"),
        "another agency sees none of it"
    );
}
