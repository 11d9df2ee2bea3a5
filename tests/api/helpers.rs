//! `TestApp`: the real service on a random port, over its own database (a fresh SQLite file, or a
//! fresh PostgreSQL database when `TEST_POSTGRES_URL` is set), driven over HTTP.

use std::str::FromStr;
use std::sync::Once;

use contract_review::config::{AuthSettings, HttpSettings, MailSettings};
use contract_review::defaults::Overrides;
use contract_review::service::Caller;
use contract_review::service::directory::UserInput;
use contract_review::store::DatabaseOptions;
use contract_review::{App, Settings};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection;
use tokio::sync::oneshot;
use uuid::Uuid;

pub const PASSWORD: &str = "correct horse battery";

/// Runs each named story as two tests, `sqlite::NAME` and `postgres::NAME`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::TestApp::sqlite().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = $crate::helpers::TestApp::postgres().await {
                        super::$name(app).await;
                    }
                }
            )*
        }
    };
}

fn init_logging() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            contract_review::telemetry::init(contract_review::config::LogFormat::Text);
        }
    });
}

enum Database {
    Sqlite { _dir: tempfile::TempDir },
    Postgres { admin_url: String, name: String },
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub database_url: String,
    /// The root agency and its admin, created through the service as the operator would.
    pub root_agency: Uuid,
    pub admin_token: String,
    /// The service under the server, for arranging what only the operator may do.
    pub service: contract_review::service::Service,
    _server: Server,
    _mail_dir: tempfile::TempDir,
    database: Database,
}

/// Mail settings that make the dispatcher quick in tests: frequent polls, short back-off.
pub fn fast_mail() -> MailSettings {
    MailSettings {
        mail_poll_ms: 25,
        mail_retry_base_ms: 100,
        ..MailSettings::default()
    }
}

/// `postgres://u@h:5432/db?x` → the same URL naming database `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// A fresh PostgreSQL database under `TEST_POSTGRES_URL`, or `None` (said loudly) without it.
async fn fresh_postgres() -> Option<(String, Database)> {
    let Ok(admin_url) = std::env::var("TEST_POSTGRES_URL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the PostgreSQL tests: set TEST_POSTGRES_URL"
        );
        eprintln!("SKIPPED: PostgreSQL test (set TEST_POSTGRES_URL to run it)");
        return None;
    };
    let name = format!("cr_test_{}", Uuid::now_v7().simple());
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .expect("connect to TEST_POSTGRES_URL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create the test database");
    let url = with_database(&admin_url, &name);
    Some((url, Database::Postgres { admin_url, name }))
}

/// A database of its own for a test that runs the service itself (the real binary): a fresh
/// SQLite file, or a fresh PostgreSQL database dropped with the value.
pub struct TestDatabase {
    pub url: String,
    database: Database,
}

impl TestDatabase {
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite:{}", dir.path().join("test.db").display());
        Self {
            url,
            database: Database::Sqlite { _dir: dir },
        }
    }

    /// `None` (after saying so loudly) when `TEST_POSTGRES_URL` is unset.
    pub async fn postgres() -> Option<Self> {
        let (url, database) = fresh_postgres().await?;
        Some(Self { url, database })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        self.database.drop_postgres();
    }
}

impl TestApp {
    pub async fn sqlite() -> Self {
        Self::sqlite_with(None).await
    }

    /// With `mail`, e-mail goes where it says; without, to `.eml` files in a temporary directory.
    pub async fn sqlite_with(mail: Option<MailSettings>) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite:{}", dir.path().join("test.db").display());
        Self::start(url, Database::Sqlite { _dir: dir }, mail).await
    }

    /// `None` (after saying so loudly) when `TEST_POSTGRES_URL` is unset; CI always sets it.
    pub async fn postgres() -> Option<Self> {
        Self::postgres_with(None).await
    }

    pub async fn postgres_with(mail: Option<MailSettings>) -> Option<Self> {
        let (url, database) = fresh_postgres().await?;
        Some(Self::start(url, database, mail).await)
    }

    async fn start(database_url: String, database: Database, mail: Option<MailSettings>) -> Self {
        init_logging();
        let mail_dir = tempfile::tempdir().expect("mail directory");
        let mail = mail.unwrap_or_else(|| MailSettings {
            mail_url: Some(format!("file://{}", mail_dir.path().display())),
            ..fast_mail()
        });
        let (server, app_service) = Server::start(&database_url, mail, Overrides::default())
            .await
            .expect("build the app");
        let base = server.base.clone();

        let root = app_service
            .create_agency(Caller::Operator, "测试市人民政府", None, None)
            .await
            .expect("root agency");
        app_service
            .create_user(
                Caller::Operator,
                UserInput {
                    email: "admin@city.gov.cn".into(),
                    name: "管理员".into(),
                    agency_id: root.id,
                    roles: vec!["admin".into()],
                    password: PASSWORD.into(),
                },
            )
            .await
            .expect("admin user");
        let mut app = Self {
            base,
            client: reqwest::Client::new(),
            database_url,
            root_agency: root.id,
            admin_token: String::new(),
            service: app_service.clone(),
            _server: server,
            _mail_dir: mail_dir,
            database,
        };
        app.admin_token = app.login("admin@city.gov.cn").await;
        app
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let builder = self.client.request(method, format!("{}{path}", self.base));
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path, Some(token))
            .send()
            .await
            .expect("GET")
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Response {
        self.request(Method::POST, path, Some(token))
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    pub async fn put(&self, path: &str, token: &str, body: &Value) -> Response {
        self.request(Method::PUT, path, Some(token))
            .json(body)
            .send()
            .await
            .expect("PUT")
    }

    pub async fn try_login(&self, email: &str, password: &str) -> Response {
        self.request(Method::POST, "/api/v1/auth/login", None)
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .expect("login request")
    }

    pub async fn login(&self, email: &str) -> String {
        let response = self.try_login(email, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK, "login of {email}");
        let body: Value = response.json().await.expect("token JSON");
        body["token"].as_str().expect("token").to_owned()
    }

    /// Creates an agency below `parent` as the root admin; returns its id.
    pub async fn create_agency(&self, name: &str, parent: Uuid) -> Uuid {
        let response = self
            .post(
                "/api/v1/agencies",
                &self.admin_token,
                &json!({ "name": name, "parent_id": parent }),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "create agency {name}"
        );
        let body: Value = response.json().await.expect("agency JSON");
        Uuid::from_str(body["id"].as_str().expect("agency id")).expect("uuid")
    }

    /// Creates a user as the root admin and signs them in; returns their token.
    pub async fn user(&self, email: &str, agency: Uuid, roles: &[&str]) -> String {
        let response = self
            .post(
                "/api/v1/users",
                &self.admin_token,
                &json!({ "email": email, "name": email, "agency_id": agency, "roles": roles, "password": PASSWORD }),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "create user {email}"
        );
        self.login(email).await
    }

    /// Creates a user as the operator does from the command line, who may grant any role.
    #[allow(
        dead_code,
        reason = "for stories that need what only the operator may do"
    )]
    pub async fn operator_user(&self, email: &str, agency: Uuid, roles: &[&str]) {
        self.service
            .create_user(
                Caller::Operator,
                UserInput {
                    email: email.into(),
                    name: email.into(),
                    agency_id: agency,
                    roles: roles.iter().map(|r| (*r).to_owned()).collect(),
                    password: PASSWORD.into(),
                },
            )
            .await
            .expect("the operator creates the user");
    }

    /// Lists `emails` as external signatories of `agency`, as the root admin.
    pub async fn allow_signers(&self, agency: Uuid, emails: &[&str]) {
        for email in emails {
            let response = self
                .post(
                    &format!("/api/v1/agencies/{agency}/external-signatories"),
                    &self.admin_token,
                    &json!({ "email": email, "name": email, "organisation": "外部签署单位" }),
                )
                .await;
            assert_eq!(response.status(), StatusCode::CREATED, "list {email}");
        }
    }

    /// The id of the user with this e-mail, as the root admin lists them.
    pub async fn user_id(&self, email: &str) -> String {
        let users: Value = self
            .get("/api/v1/users", &self.admin_token)
            .await
            .json()
            .await
            .expect("users JSON");
        users
            .as_array()
            .and_then(|users| users.iter().find(|u| u["email"] == email))
            .and_then(|u| u["id"].as_str())
            .expect("the user is listed")
            .to_owned()
    }

    /// Fires a transition; the body is the request JSON (`expected_version`, `opinion`…).
    pub async fn fire(&self, token: &str, id: &str, name: &str, body: &Value) -> Response {
        self.post(
            &format!("/api/v1/contracts/{id}/transitions/{name}"),
            token,
            body,
        )
        .await
    }

    /// Fires a transition that must succeed; returns the contract after it.
    pub async fn fire_ok(&self, token: &str, id: &str, name: &str, body: &Value) -> Value {
        let response = self.fire(token, id, name, body).await;
        let status = response.status();
        let json: Value = response.json().await.expect("transition JSON");
        assert_eq!(status, StatusCode::OK, "{name}: {json}");
        json
    }

    pub async fn contract(&self, token: &str, id: &str) -> Value {
        let response = self.get(&format!("/api/v1/contracts/{id}"), token).await;
        assert_eq!(response.status(), StatusCode::OK, "get contract");
        response.json().await.expect("contract JSON")
    }

    /// Creates a contract and attaches the materials the default workflow requires for its type,
    /// so that it can be submitted.
    pub async fn create_contract(&self, token: &str, contract: &Value) -> Value {
        let response = self.post("/api/v1/contracts", token, contract).await;
        assert_eq!(response.status(), StatusCode::CREATED, "create contract");
        let created: Value = response.json().await.expect("contract JSON");
        let id = id_of(&created);
        for kind in required_materials(contract["contract_type"].as_str().unwrap_or_default()) {
            let response = self
                .attach(token, &id, kind, "材料.pdf", b"%PDF-1.4\n% test\n")
                .await;
            assert_eq!(response.status(), StatusCode::CREATED, "attach {kind}");
        }
        created
    }

    /// Uploads a review material.
    pub async fn attach(
        &self,
        token: &str,
        id: &str,
        kind: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> Response {
        let form = reqwest::multipart::Form::new()
            .text("kind", kind.to_owned())
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(file_name.to_owned()),
            );
        self.request(
            Method::POST,
            &format!("/api/v1/contracts/{id}/attachments"),
            Some(token),
        )
        .multipart(form)
        .send()
        .await
        .expect("attach")
    }

    /// Runs one statement directly on this test's database, for arranging states the API cannot
    /// reach yet. Returns the rows affected.
    pub async fn execute_sql(&self, sql: &str) -> u64 {
        if self.database_url.starts_with("sqlite:") {
            let mut conn = sqlx::SqliteConnection::connect(&self.database_url)
                .await
                .expect("connect");
            sqlx::query(sql)
                .execute(&mut conn)
                .await
                .expect(sql)
                .rows_affected()
        } else {
            let mut conn = sqlx::PgConnection::connect(&self.database_url)
                .await
                .expect("connect");
            sqlx::query(sql)
                .execute(&mut conn)
                .await
                .expect(sql)
                .rows_affected()
        }
    }

    /// One text column of this test's database, for reading what was stored (the mail queued).
    pub async fn texts(&self, sql: &str) -> Vec<String> {
        if self.database_url.starts_with("sqlite:") {
            let mut conn = sqlx::SqliteConnection::connect(&self.database_url)
                .await
                .expect("connect");
            sqlx::query_scalar(sql)
                .fetch_all(&mut conn)
                .await
                .expect(sql)
        } else {
            let mut conn = sqlx::PgConnection::connect(&self.database_url)
                .await
                .expect("connect");
            sqlx::query_scalar(sql)
                .fetch_all(&mut conn)
                .await
                .expect(sql)
        }
    }

    /// A single integer from this test's database, for checking what was stored.
    pub async fn scalar(&self, sql: &str) -> i64 {
        if self.database_url.starts_with("sqlite:") {
            let mut conn = sqlx::SqliteConnection::connect(&self.database_url)
                .await
                .expect("connect");
            sqlx::query_scalar(sql)
                .fetch_one(&mut conn)
                .await
                .expect(sql)
        } else {
            let mut conn = sqlx::PgConnection::connect(&self.database_url)
                .await
                .expect("connect");
            sqlx::query_scalar(sql)
                .fetch_one(&mut conn)
                .await
                .expect(sql)
        }
    }
}

/// A running service instance on a random port; stops when dropped.
pub struct Server {
    pub base: String,
    shutdown: Option<oneshot::Sender<()>>,
    _data_dir: tempfile::TempDir,
}

impl Server {
    /// Builds and serves an app over `database_url` with the given files.
    pub async fn start(
        database_url: &str,
        mail: MailSettings,
        overrides: Overrides,
    ) -> anyhow::Result<(Self, contract_review::service::Service)> {
        let data_dir = tempfile::tempdir()?;
        let settings = Settings {
            database_url: database_url.to_owned(),
            database: DatabaseOptions::default(),
            data_dir: data_dir.path().to_owned(),
            overrides,
            http: HttpSettings::default(),
            auth: AuthSettings::default(),
            audit: Default::default(),
            mail,
        };
        let app = App::build(settings).await?;
        let service = app.service().clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let (shutdown, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = app
                .serve(listener, async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok((
            Self {
                base,
                shutdown: Some(shutdown),
                _data_dir: data_dir,
            },
            service,
        ))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.database.drop_postgres();
    }
}

impl Database {
    fn drop_postgres(&self) {
        if let Database::Postgres { admin_url, name } = self {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs inside the test's runtime; do the async clean-up on a thread of its own.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(runtime) = runtime {
                    runtime.block_on(async {
                        if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                            let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                            let _ = sqlx::query(&sql).execute(&mut admin).await;
                        }
                    });
                }
            })
            .join();
        }
    }
}

/// A procurement contract that passes intake.
pub fn valid_contract(title: &str) -> Value {
    json!({
        "title": title,
        "contract_type": "procurement",
        "counterparty": "示范市文具用品有限公司",
        "amount_fen": 18_600_000,
        "funding_source": "2027年度部门预算",
        "agency_party": "甲方",
        "signatories": ["signer@a.gov.cn"],
        "body_markdown": "# 办公用品采购合同\n\n## 第一条 标的\n\n复印纸。\n",
    })
}

/// The materials the built-in workflow requires before a contract of `contract_type` is submitted.
pub fn required_materials(contract_type: &str) -> &'static [&'static str] {
    match contract_type {
        "construction" => &["project_approval", "funding_proof"],
        "procurement" => &["tender_documents", "award_notice"],
        _ => &[],
    }
}

pub fn id_of(contract: &Value) -> String {
    contract["id"].as_str().expect("a contract id").to_owned()
}

/// A draft by clerk A, submitted; returns the contract in legal review.
pub async fn submitted(app: &TestApp, world: &World, contract: &Value) -> Value {
    let draft = app.create_contract(&world.submitter_a, contract).await;
    app.fire_ok(
        &world.submitter_a,
        &id_of(&draft),
        "submit",
        &json!({ "expected_version": 1 }),
    )
    .await
}

/// The problem document of an error response, after checking its status and media type.
pub async fn problem(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status, "status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.expect("problem JSON");
    assert_eq!(body["status"], status.as_u16());
    body
}

/// The fields an invalid-input problem names.
pub fn problem_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A small agency tree with one user per role, for access tests:
/// city (admin, reviewer, auditor) ─┬─ dept A (submitter, signatory) ── unit A1 (submitter)
///                                  └─ dept B (submitter)
pub struct World {
    pub dept_a: Uuid,
    pub dept_b: Uuid,
    pub unit_a1: Uuid,
    pub reviewer: String,
    pub auditor: String,
    pub submitter_a: String,
    pub signatory_a: String,
    pub submitter_a1: String,
    pub submitter_b: String,
}

impl World {
    pub async fn build(app: &TestApp) -> Self {
        let dept_a = app.create_agency("甲局", app.root_agency).await;
        let dept_b = app.create_agency("乙局", app.root_agency).await;
        let unit_a1 = app.create_agency("甲局下属中心", dept_a).await;
        // The stories name these as signatories besides signer@a.gov.cn, dept A's own.
        app.allow_signers(
            dept_a,
            &[
                "deputy@a.gov.cn",
                "deputy-signer@a.gov.cn",
                "s2@a.gov.cn",
                "s3@a.gov.cn",
                "s4@a.gov.cn",
                "signer0@a.gov.cn",
                "signer1@a.gov.cn",
                "signer2@a.gov.cn",
                "bounce@a.gov.cn",
            ],
        )
        .await;
        app.allow_signers(unit_a1, &["signer@a.gov.cn"]).await;
        app.allow_signers(dept_b, &["signer@a.gov.cn"]).await;
        Self {
            dept_a,
            dept_b,
            unit_a1,
            reviewer: app
                .user("reviewer@city.gov.cn", app.root_agency, &["reviewer"])
                .await,
            auditor: app
                .user("auditor@city.gov.cn", app.root_agency, &["auditor"])
                .await,
            submitter_a: app.user("clerk@a.gov.cn", dept_a, &["submitter"]).await,
            signatory_a: app.user("signer@a.gov.cn", dept_a, &["signatory"]).await,
            submitter_a1: app.user("clerk@a1.gov.cn", unit_a1, &["submitter"]).await,
            submitter_b: app.user("clerk@b.gov.cn", dept_b, &["submitter"]).await,
        }
    }
}

#[test]
fn swaps_the_database_name() {
    assert_eq!(
        with_database("postgres://u@h:5432/postgres", "x"),
        "postgres://u@h:5432/x"
    );
    assert_eq!(
        with_database("postgres://u@h/db?sslmode=disable", "x"),
        "postgres://u@h/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
}

/// Awaits every future at once (the tests stay free of a futures crate).
pub async fn join_all<F, T>(futures: impl IntoIterator<Item = F>) -> Vec<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.expect("a task"));
    }
    out
}
