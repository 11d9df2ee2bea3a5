//! The whole lifecycle in a real browser: headless Chromium from Debian, driven over WebDriver
//! (chromedriver) by fantoccini. The clerk signs in, uploads a draft, self-checks and submits;
//! the reviewer waives the finding and approves; the signatory signs. Screenshots of each step,
//! at 1280 and 390 pixels wide, go to `target/screenshots/{sqlite,postgres}/`.
//!
//! Every page shot is also checked with axe-core against the WCAG 2.1 A and AA rules.
//!
//! Needs `chromium` and `chromium-driver` (`.ci/run` installs them) and axe-core from the npm
//! registry in `target/axe/` (`.ci/run` installs it too). Without them the test says loudly that
//! it was skipped; under CI it fails instead.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use tokio::process::{Child, Command};

use crate::helpers::{PASSWORD, TestApp, World};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// chromedriver on a free port, stopped when dropped.
struct Driver {
    url: String,
    _process: Child,
}

impl Driver {
    async fn start() -> Option<Self> {
        if !Path::new(CHROMEDRIVER).exists() || !Path::new(CHROMIUM).exists() {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must run the browser test: install chromium and chromium-driver"
            );
            eprintln!("SKIPPED: browser test (install Debian's chromium and chromium-driver)");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let process = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if reqwest::get(format!("{url}/status")).await.is_ok() {
                return Some(Self {
                    url,
                    _process: process,
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not answer on {url}");
    }

    async fn browser(&self, profile: &Path) -> Client {
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,900",
            &format!("--user-data-dir={}", profile.display()),
        ];
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object literal")
        };
        ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("a WebDriver session")
    }
}

/// axe-core, the accessibility checker, as `.ci/run` installs it from the npm registry.
fn axe_source() -> Option<String> {
    let path = std::env::var_os("AXE_CORE_JS").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("target/axe/node_modules/axe-core/axe.min.js")
        },
        PathBuf::from,
    );
    match std::fs::read_to_string(&path) {
        Ok(source) => Some(source),
        Err(_) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must check accessibility: {} is missing (npm install --prefix target/axe axe-core)",
                path.display()
            );
            eprintln!(
                "SKIPPED: accessibility checks ({} is missing)",
                path.display()
            );
            None
        }
    }
}

/// One user's walk through the pages.
struct Walk<'a> {
    client: &'a Client,
    base: &'a str,
    shots: &'a Path,
    axe: Option<&'a str>,
}

impl Walk<'_> {
    async fn open(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .expect("open a page");
    }

    async fn type_into(&self, id: &str, text: &str) {
        let input = self.client.find(Locator::Id(id)).await.expect(id);
        input.clear().await.expect("clear");
        input.send_keys(text).await.expect("type");
    }

    /// Ticks the checkbox named `name` with `value`, unless it is ticked already.
    async fn tick_value(&self, name: &str, value: &str) {
        let css = format!("input[name='{name}'][value='{value}']");
        let checkbox = self.client.find(Locator::Css(&css)).await.expect(&css);
        if checkbox.prop("checked").await.ok().flatten().as_deref() != Some("true") {
            checkbox.click().await.expect("tick");
        }
    }

    /// Ticks a checkbox (no page load).
    async fn tick(&self, id: &str) {
        let checkbox = self.client.find(Locator::Id(id)).await.expect(id);
        checkbox.click().await.expect("tick");
    }

    /// Clicks something that loads a new page, and waits until the new page has loaded.
    async fn click(&self, css: &str) {
        let element = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"));
        self.client
            .execute("window.leaving = true;", vec![])
            .await
            .expect("mark the old page");
        element.click().await.expect("click");
        for _ in 0..200 {
            let loaded = self
                .client
                .execute(
                    "return window.leaving === undefined && document.readyState === 'complete';",
                    vec![],
                )
                .await
                .expect("ask the page");
            if loaded == json!(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("clicking {css} loaded no new page");
    }

    async fn source(&self) -> String {
        self.client.source().await.expect("page source")
    }

    async fn path(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("url")
            .path()
            .to_owned()
    }

    /// Runs axe-core's WCAG 2 A and AA rules on the page; panics naming every violation.
    async fn check_accessibility(&self, name: &str) {
        let Some(axe) = self.axe else {
            return;
        };
        self.client
            .execute(&format!("{axe}\nreturn true;"), vec![])
            .await
            .expect("load axe-core");
        let violations = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
                    .then(r => done(r.violations.map(v =>
                        v.impact + ' ' + v.id + ': ' + v.help + ' at ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))))
                    .catch(e => done(['axe failed: ' + e]));",
                vec![],
            )
            .await
            .expect("run axe-core");
        let violations: Vec<String> =
            serde_json::from_value(violations).expect("axe's list of violations");
        assert!(
            violations.is_empty(),
            "{name}: accessibility violations:\n{}",
            violations.join("\n")
        );
    }

    /// Checks the page's accessibility and saves it at desktop and phone width.
    async fn shoot(&self, name: &str) {
        self.check_accessibility(name).await;
        for (width, height) in [(1280, 900), (390, 844)] {
            self.client
                .set_window_size(width, height)
                .await
                .expect("resize");
            let png = self.client.screenshot().await.expect("screenshot");
            std::fs::write(self.shots.join(format!("{name}-{width}.png")), png)
                .expect("save the screenshot");
        }
        self.client
            .set_window_size(1280, 900)
            .await
            .expect("resize");
    }

    async fn sign_in(&self, email: &str) {
        self.open("/").await;
        assert_eq!(
            self.path().await,
            "/login",
            "signed out, / leads to sign-in"
        );
        self.type_into("email", email).await;
        self.type_into("password", PASSWORD).await;
        self.click("main form button[type=submit]").await;
        assert_eq!(self.path().await, "/");
        assert!(self.source().await.contains(email), "signed in as {email}");
    }

    async fn sign_in_again_as(&self, email: &str) {
        self.sign_out().await;
        self.sign_in(email).await;
    }

    async fn sign_out(&self) {
        self.open("/").await;
        self.click("header form[action='/logout'] button").await;
        assert_eq!(self.path().await, "/login");
    }
}

/// A large contract goes through the reviewer (with a numbered opinion and a condition) and the
/// lead reviewer in the browser; the letter is then printed as `.docx` with the browser's
/// session and read back with a real parser.
async fn print_the_letter_after_lead_review(walk: &Walk<'_>, app: &TestApp, world: &World) {
    app.user("lead@city.gov.cn", app.root_agency, &["lead_reviewer"])
        .await;
    let mut large = crate::helpers::valid_contract("实训楼设备采购");
    large["amount_fen"] = json!(650_000_000);
    let id = crate::helpers::id_of(&crate::helpers::submitted(app, world, &large).await);

    walk.sign_in("reviewer@city.gov.cn").await;
    walk.open(&format!("/contracts/{id}")).await;
    walk.type_into(
        "decision-opinion",
        "一、付款条款合规。\n二、资金来源已落实。",
    )
    .await;
    walk.type_into("decision-conditions", "签订前取得财政部门资金确认函")
        .await;
    walk.tick("decision-confirm").await;
    walk.click("#decide-approve").await;
    assert!(walk.source().await.contains("负责人复核"));
    walk.sign_out().await;

    walk.sign_in("lead@city.gov.cn").await;
    walk.open(&format!("/contracts/{id}")).await;
    walk.type_into("decision-opinion", "同意审查意见。").await;
    walk.tick("decision-confirm").await;
    walk.click("#decide-approve").await;
    assert!(walk.source().await.contains("已作出审查通过的决定"));
    walk.shoot("22-letter-after-lead-review").await;

    let cookies = walk.client.get_all_cookies().await.expect("the session");
    let cookie = cookies
        .iter()
        .map(|c| format!("{}={}", c.name(), c.value()))
        .collect::<Vec<_>>()
        .join("; ");
    let docx = reqwest::Client::new()
        .get(format!("{}/contracts/{id}/opinion.docx", walk.base))
        .header("cookie", cookie)
        .send()
        .await
        .expect("download the letter");
    assert_eq!(docx.status(), reqwest::StatusCode::OK);
    let paragraphs = crate::review::docx_paragraphs(&docx.bytes().await.expect("the file"));
    let text = paragraphs.join("\n");
    let number = app.contract(&world.submitter_a, &id).await["opinion_number"]
        .as_str()
        .expect("a 文号")
        .to_owned();
    assert!(paragraphs.contains(&number), "{number} in {text}");
    assert!(
        paragraphs.iter().any(|p| p == "甲局："),
        "the addressee: {text}"
    );
    for opinion in [
        "一、付款条款合规。",
        "二、资金来源已落实。",
        "同意审查意见。",
    ] {
        assert!(text.contains(opinion), "{opinion} in {text}");
    }
    assert!(text.contains("修改后同意") && text.contains("签订前取得财政部门资金确认函"));
    walk.sign_out().await;
    walk.sign_in("signer@a.gov.cn").await;
    walk.open(&format!("/contracts/{id}/sign")).await;
    walk.shoot("23-sign-with-conditions").await;
    walk.sign_out().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lifecycle_in_a_real_browser_on_sqlite() {
    if let Some(driver) = Driver::start().await {
        walk_the_lifecycle(&driver, TestApp::sqlite().await, "sqlite").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lifecycle_in_a_real_browser_on_postgres() {
    if let Some(driver) = Driver::start().await
        && let Some(app) = TestApp::postgres().await
    {
        walk_the_lifecycle(&driver, app, "postgres").await;
    }
}

async fn walk_the_lifecycle(driver: &Driver, app: TestApp, backend: &str) {
    let world = World::build(&app).await;
    let profile = tempfile::tempdir().expect("a browser profile");
    let upload_dir = tempfile::tempdir().expect("an upload directory");
    // A Word draft with automatic 第X条 numbering, whose 第三条 has the contractor advance funds.
    let upload = upload_dir.path().join("校舍维修合同.docx");
    std::fs::write(&upload, crate::office_files::flagged_docx()).expect("write the draft");
    let materials: Vec<(&str, PathBuf)> = [
        ("project_approval", "立项批复.pdf"),
        ("funding_proof", "资金来源证明.pdf"),
    ]
    .into_iter()
    .map(|(kind, name)| {
        let path = upload_dir.path().join(name);
        std::fs::write(&path, crate::office_files::text_pdf(&["Approved"]))
            .expect("write a material");
        (kind, path)
    })
    .collect();
    // The revision: no more 垫资, but payment still waits for the subsidy.
    let revised = upload_dir.path().join("校舍维修合同（修改稿）.docx");
    let articles = [
        "工程概况：本工程为办公楼维修改造工程。",
        "合同价款：暂定人民币壹佰万元。",
        "工程款支付：按月完成工程量的百分之八十支付进度款，待上级补助资金到位后支付余款。",
    ];
    let body: String = articles
        .iter()
        .map(|text| crate::office_files::numbered(crate::office_files::ARTICLES, 0, text))
        .collect();
    std::fs::write(&revised, crate::office_files::docx(&body)).expect("write the revision");
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("../screenshots")
        .join(backend);
    std::fs::create_dir_all(&shots).expect("the screenshot directory");

    let axe = axe_source();
    let client = driver.browser(profile.path()).await;
    let walk = Walk {
        client: &client,
        base: &app.base,
        shots: &shots,
        axe: axe.as_deref(),
    };

    // The clerk fills in the form, uploads the text and self-checks it.
    walk.sign_in("clerk@a.gov.cn").await;
    walk.shoot("01-clerk-home").await;
    walk.open("/contracts/new").await;
    walk.type_into("title", "校舍维修工程施工合同").await;
    client
        .find(Locator::Css("#contract_type option[value='construction']"))
        .await
        .expect("the construction option")
        .click()
        .await
        .expect("choose construction");
    walk.type_into("counterparty", "示范建工集团有限公司").await;
    walk.type_into("agency_party", "甲方").await;
    walk.type_into("amount", "186,000").await;
    walk.type_into("funding_source", "2027年度部门预算").await;
    walk.tick_value("signatories", "signer@a.gov.cn").await;
    let file = client.find(Locator::Id("draft")).await.expect("file input");
    file.send_keys(&upload.display().to_string())
        .await
        .expect("choose the file");
    walk.click("button[value='check']").await;
    let checked = walk.source().await;
    assert!(
        checked.contains("自查结果"),
        "the self-check ran: {checked}"
    );
    assert!(
        checked.contains("mark class=\"finding sev-block\"") && checked.contains("第三条"),
        "the finding is marked in the preview, numbering and all: {checked}"
    );
    walk.shoot("02-self-check").await;

    // Saved (the uploaded text now sits in the text box), then submitted.
    walk.click("button[value='save']").await;
    let contract_path = walk.path().await;
    assert!(contract_path.starts_with("/contracts/"), "{contract_path}");
    let id = contract_path.trim_start_matches("/contracts/").to_owned();
    let draft_page = walk.source().await;
    assert!(
        draft_page.contains("校舍维修合同.docx"),
        "the original file is named"
    );
    walk.shoot("03-draft").await;
    // The materials a construction contract needs, then it can be submitted.
    for (kind, path) in &materials {
        client
            .find(Locator::Css(&format!(
                "#material-kind option[value='{kind}']"
            )))
            .await
            .expect("the kind")
            .click()
            .await
            .expect("choose the kind");
        client
            .find(Locator::Id("material-file"))
            .await
            .expect("the material's file input")
            .send_keys(&path.display().to_string())
            .await
            .expect("choose the material");
        walk.click("form[action$='/attachments'] button").await;
    }
    assert!(walk.source().await.contains("资金来源证明.pdf"));
    walk.shoot("03b-materials").await;
    walk.click("form[action$='/transitions/submit'] button")
        .await;
    assert!(walk.source().await.contains("已送审"));
    walk.sign_out().await;

    // The reviewer finds it in the queue, waives the finding with a reason and approves.
    walk.sign_in("reviewer@city.gov.cn").await;
    walk.shoot("04-review-queue").await;
    walk.click(&format!("a[href='/contracts/{id}']")).await;
    assert!(
        walk.source()
            .await
            .contains("mark class=\"finding sev-block\""),
        "the reviewer sees the finding marked"
    );
    walk.shoot("05-review").await;
    // 退回补正: two points; the deadline stops.
    walk.type_into(
        "decision-points",
        "请删除第三条中由乙方垫资的约定\n请补充资金来源证明的批复文号",
    )
    .await;
    walk.click("#decide-request_materials").await;
    assert!(walk.source().await.contains("已退回补正"));
    walk.sign_out().await;

    // The clerk uploads the revised Word draft and answers each point.
    walk.sign_in("clerk@a.gov.cn").await;
    walk.open(&format!("/contracts/{id}")).await;
    let returned = walk.source().await;
    assert!(returned.contains("请删除第三条中由乙方垫资的约定") && returned.contains("期限暂停"));
    walk.shoot("05b-returned-for-supplements").await;
    walk.open(&format!("/contracts/{id}/edit")).await;
    client
        .find(Locator::Id("draft"))
        .await
        .expect("the draft input")
        .send_keys(&revised.display().to_string())
        .await
        .expect("choose the revised draft");
    walk.click("form[action$='/edit'] button[type='submit']")
        .await;
    assert!(walk.source().await.contains("新版本已保存"));
    client
        .find(Locator::Css("#answer-1 option[value='revised']"))
        .await
        .expect("answer 1")
        .click()
        .await
        .expect("choose revised");
    client
        .find(Locator::Css("#answer-2 option[value='declined']"))
        .await
        .expect("answer 2")
        .click()
        .await
        .expect("choose declined");
    walk.type_into(
        "answer-note-2",
        "资金来源证明已作为审查材料上传，无批复文号",
    )
    .await;
    walk.shoot("05c-answers").await;
    walk.click("form[action$='/transitions/submit'] button")
        .await;
    assert!(walk.source().await.contains("已送审"));
    walk.sign_out().await;

    // The reviewer waives the remaining finding with a reason and approves.
    walk.sign_in("reviewer@city.gov.cn").await;
    walk.open(&format!("/contracts/{id}")).await;
    let reason = client
        .find(Locator::Css("textarea[name='reason']"))
        .await
        .expect("the waiver reason");
    reason
        .send_keys("补助资金已列入2027年度预算，见资金来源证明")
        .await
        .expect("type the reason");
    walk.click("form[action*='/waive'] button").await;
    assert!(walk.source().await.contains("已经核实排除该问题"));
    walk.type_into("decision-opinion", "经审查，同意签订。")
        .await;
    walk.tick("decision-confirm").await;
    walk.click("#decide-approve").await;
    let approved = walk.source().await;
    assert!(approved.contains("已作出审查通过的决定"), "approved");
    assert!(
        approved.contains("合法性审查意见书"),
        "the opinion letter is shown"
    );
    walk.shoot("06-approved").await;
    walk.sign_out().await;

    // The signatory signs the approved version.
    walk.sign_in("signer@a.gov.cn").await;
    walk.click(&format!("a[href='/contracts/{id}/sign']")).await;
    let hash = app.contract(&world.signatory_a, &id).await["approved_sha256"]
        .as_str()
        .expect("an approved hash")
        .to_owned();
    let shown = client
        .find(Locator::Id("approved-hash"))
        .await
        .expect("the hash on the page")
        .text()
        .await
        .expect("its text");
    assert_eq!(shown, hash, "the page shows the approved version's hash");
    walk.shoot("07-sign").await;
    walk.type_into("password", PASSWORD).await;
    walk.click("form[action$='/transitions/sign'] button").await;
    assert!(walk.source().await.contains("已签署"));
    walk.shoot("08-signed").await;
    walk.sign_out().await;

    // What the office sees afterwards: the reports, and the admin's users page.
    walk.sign_in("reviewer@city.gov.cn").await;
    walk.open("/reports").await;
    assert!(walk.source().await.contains("<svg class=\"chart\""));
    walk.shoot("09-reports").await;
    walk.sign_out().await;
    walk.sign_in("admin@city.gov.cn").await;
    walk.open("/admin/users").await;
    walk.shoot("10-admin-users").await;
    // The other pages, checked for accessibility too.
    for (name, path) in [
        ("11-admin-agencies", "/admin/agencies".to_owned()),
        ("12-admin-judgments", "/admin/judgments".to_owned()),
        ("13-admin-outbox", "/admin/outbox".to_owned()),
        ("14-password", "/account/password".to_owned()),
        ("15-opinion", format!("/contracts/{id}/opinion")),
        ("16-not-found", "/no/such/page".to_owned()),
        ("24-inbox", "/inbox".to_owned()),
    ] {
        walk.open(&path).await;
        walk.shoot(name).await;
    }
    walk.sign_out().await;
    walk.shoot("17-login").await;
    walk.sign_in("clerk@a.gov.cn").await;
    for (name, path) in [
        ("18-new-contract", "/contracts/new".to_owned()),
        ("21-contracts", "/contracts?state=signed".to_owned()),
        ("19-edit", format!("/contracts/{id}/edit")),
    ] {
        walk.open(&path).await;
        walk.shoot(name).await;
    }
    walk.sign_in_again_as("reviewer@city.gov.cn").await;
    walk.open("/account/delegations").await;
    walk.shoot("20-deputies").await;
    walk.sign_out().await;

    print_the_letter_after_lead_review(&walk, &app, &world).await;

    client.close().await.expect("close the browser");
    assert_eq!(
        app.contract(&world.signatory_a, &id).await["state"],
        "signed"
    );
    eprintln!("screenshots in {}", shots.display());
}
