//! The web pages: server-rendered HTML from the minijinja templates in `templates/web/`, Chinese
//! first with English beside, usable without JavaScript. A session cookie carries the sign-in;
//! every form carries a CSRF token. Each handler calls the same services as the JSON API.

mod admin;
mod auth;
mod contracts;
mod delegations;
mod diff;
mod drafts;
mod form;
mod highlight;
mod home;
mod listing;
mod materials;
mod pages;
mod reports;
mod session;

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::context;

pub use pages::Pages;

use super::AppState;
use crate::error::{Error, Problem};

fn sign_in_redirect(next: &str) -> Response {
    let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
    Redirect::to(&format!("/login?{query}")).into_response()
}

/// A page, or the error it became: the [`error_pages`] middleware shows an error as an HTML
/// page, and a 401 as the way to the sign-in.
pub type PageResult = Result<Response, Error>;

/// The forms that take files: the upload reader holds them to the upload limit instead of the
/// service-wide body limit.
fn uploads() -> Router<AppState> {
    Router::new()
        .route("/contracts/new", get(drafts::new_page).post(drafts::create))
        .route(
            "/contracts/{id}/edit",
            get(drafts::edit_page).post(drafts::revise),
        )
        .route("/contracts/{id}/attachments", post(materials::attach))
        .layer(DefaultBodyLimit::disable())
}

pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(home::home))
        .route("/inbox", get(home::inbox))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route(
            "/account/password",
            get(auth::password_page).post(auth::change_password),
        )
        .route(
            "/account/delegations",
            get(delegations::page).post(delegations::create),
        )
        .route(
            "/account/delegations/{id}/revoke",
            post(delegations::revoke),
        )
        .route("/contracts", get(contracts::list))
        .merge(uploads())
        .route("/contracts/{id}", get(contracts::page))
        .route("/contracts/{id}/check", post(contracts::self_check))
        .route(
            "/contracts/{id}/attachments/{attachment}",
            get(materials::download_attachment),
        )
        .route(
            "/contracts/{id}/attachments/{attachment}/remove",
            post(materials::remove),
        )
        .route("/contracts/{id}/draft", get(materials::download_draft))
        .route("/contracts/{id}/transitions/{name}", post(contracts::fire))
        .route(
            "/contracts/{id}/findings/{finding}/waive",
            post(contracts::waive),
        )
        .route(
            "/contracts/{id}/findings/{finding}/withdraw-waiver",
            post(contracts::withdraw_waiver),
        )
        .route("/contracts/{id}/comments", post(contracts::add_comment))
        .route(
            "/contracts/{id}/comments/{comment}/resolve",
            post(contracts::resolve_comment),
        )
        .route("/contracts/{id}/diff", get(contracts::diff))
        .route("/contracts/{id}/sign", get(contracts::sign_page))
        .route("/contracts/{id}/opinion", get(contracts::opinion_page))
        .route("/contracts/{id}/opinion.docx", get(contracts::opinion_docx))
        .route(
            "/admin/agencies",
            get(admin::agencies).post(admin::create_agency),
        )
        .route("/admin/users", get(admin::users).post(admin::create_user))
        .route("/admin/users/{id}/active", post(admin::set_active))
        .route("/admin/users/{id}/roles", post(admin::set_roles))
        .route("/admin/users/{id}/password", post(admin::reset_password))
        .route(
            "/admin/judgments",
            get(admin::judgments).post(admin::create_judgment),
        )
        .route(
            "/admin/judgments/{id}/payments",
            post(admin::record_payment),
        )
        .route("/admin/outbox", get(admin::outbox))
        .route("/admin/outbox/{id}/retry", post(admin::retry_mail))
        .route("/reports", get(reports::page))
        .route("/reports/{file}", get(reports::csv))
        .route("/static/site.css", get(stylesheet))
        .layer(middleware::from_fn_with_state(state.clone(), error_pages))
}

async fn stylesheet(State(state): State<AppState>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        state.pages.stylesheet.clone(),
    )
        .into_response()
}

/// An unknown address: a page for browsers, a problem document for everyone else.
pub async fn not_found(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let response = Error::not_found("没有这个地址 / no such endpoint").into_response();
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if !wants_html {
        return response;
    }
    match response.extensions().get::<Problem>() {
        Some(problem) => error_page(&state, response.status(), problem).unwrap_or(response),
        None => response,
    }
}

fn error_page(state: &AppState, status: StatusCode, problem: &Problem) -> Option<Response> {
    let html = state
        .pages
        .render("error.html", context! { problem })
        .ok()?;
    Some((status, html).into_response())
}

/// Turns an error response into the error page: the same problem, as HTML, with a way back.
async fn error_pages(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // After signing in, come back to the page; a form's address cannot be opened again.
    let back = match request.method() {
        &axum::http::Method::GET => request
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned()),
        _ => None,
    }
    .unwrap_or_else(|| "/".to_owned());
    let response = next.run(request).await;
    let Some(problem) = response.extensions().get::<Problem>().cloned() else {
        return response;
    };
    if problem.status == 401 {
        return sign_in_redirect(&back);
    }
    error_page(&state, response.status(), &problem).unwrap_or(response)
}

/// Every response, page or API: contract data is never cached; no scripts, frames or foreign
/// resources; no content sniffing.
pub async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let is_html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html") || v.starts_with("text/csv"));
    if is_html {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// Renders a page for a signed-in user: the layout's context merged with the page's own.
fn render(
    state: &AppState,
    session: &session::Session,
    status: StatusCode,
    template: &str,
    page: minijinja::Value,
) -> PageResult {
    let html = state
        .pages
        .render(template, context! { ..session.layout(), ..page })?;
    Ok((status, html).into_response())
}

/// Like [`render`], off the async workers, for pages whose size follows the contract's (its text
/// with the findings marked, a diff): a long contract then slows its own page, not the service.
async fn render_heavy(
    state: &AppState,
    session: &session::Session,
    status: StatusCode,
    template: &'static str,
    build: impl FnOnce() -> minijinja::Value + Send + 'static,
) -> PageResult {
    let pages = std::sync::Arc::clone(&state.pages);
    let layout = session.layout();
    tokio::task::spawn_blocking(move || {
        let page = build();
        let html = pages.render(template, context! { ..layout, ..page })?;
        Ok((status, html).into_response())
    })
    .await
    .map_err(|e| anyhow::anyhow!("rendering {template}: {e}"))?
}

/// The field errors of invalid input, by field name; `None` for any other error.
fn field_errors(error: &Error) -> Option<BTreeMap<String, String>> {
    match error {
        Error::Invalid(errors) => Some(
            errors
                .iter()
                .map(|e| (e.field.clone(), e.message.clone()))
                .collect(),
        ),
        Error::BadRequest {
            detail,
            field: Some(field),
        } => Some(BTreeMap::from([(field.clone(), detail.clone())])),
        _ => None,
    }
}

/// A refusal worth showing on the form the user just sent, keeping what they typed: invalid
/// fields, a guard, a conflict, a forbidden action. Anything else becomes the error page.
fn form_problem(error: Error) -> Result<(StatusCode, String, BTreeMap<String, String>), Error> {
    if let Some(fields) = field_errors(&error) {
        let status = error.status();
        return Ok((
            status,
            "请更正标出的字段 / please correct the marked fields".to_owned(),
            fields,
        ));
    }
    match error {
        Error::Guard { .. } | Error::Conflict { .. } | Error::Forbidden(_) => {
            Ok((error.status(), error.to_string(), BTreeMap::new()))
        }
        Error::MissingMaterials(_) | Error::FileTooLarge(_) => {
            Ok((error.status(), error.detail(), BTreeMap::new()))
        }
        other => Err(other),
    }
}

/// Where to go after signing in: only a path on this site, in plain visible ASCII. Browsers
/// drop tabs and line breaks and read a backslash as a slash, so `/\t/evil.example` or
/// `/\\evil.example` would leave the site; anything but a clean local path goes home.
fn safe_next(next: &str) -> &str {
    let clean = next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    let local = next.starts_with('/') && !next.starts_with("//");
    if clean && local { next } else { "/" }
}

/// After a successful post, show the result page (post/redirect/get).
fn see_other(path: &str) -> PageResult {
    Ok(Redirect::to(path).into_response())
}

/// What a page was redirected back with after a successful post (post/redirect/get).
#[derive(serde::Deserialize, Default)]
pub struct DoneQuery {
    #[serde(default)]
    done: String,
}

/// The confirmation for `?done=…` after an action that is not a workflow step; the contract page
/// words a step's confirmation from the history (see `contracts::step_notice`).
pub(super) fn notice_for(done: &str) -> Option<&'static str> {
    Some(match done {
        "created" => {
            "草稿已保存。提交前可先自查。/ Draft saved. You may self-check it before submitting."
        }
        "revised" => "新版本已保存。/ The new version was saved.",
        "attached" => {
            "材料已上传，其哈希已记录。/ The material was uploaded and its hash recorded."
        }
        "removed" => {
            "材料已移除，记录保留在审计记录中。/ The material was removed; the audit trail keeps the record."
        }
        "request_materials" => {
            "已退回补正，审查期限暂停计算。/ Returned for supplements; the review deadline is stopped."
        }
        "waived" => {
            "已经核实排除该问题，理由已记入审计记录。/ Finding waived; the reason is in the audit trail."
        }
        "commented" => "批注已添加。/ The comment was added.",
        "resolved" => "已记录对该批注的处理。/ How the comment was dealt with is recorded.",
        "waiver_withdrawn" => {
            "已撤销排除，该问题重新待处理，撤销理由已记入审计记录。/ The exclusion was withdrawn; the finding is open again."
        }
        "password" => {
            "密码已重置，该用户须用新密码重新登录。/ Password reset; the user signs in again with the new one."
        }
        "retried" => "已重新排队发送。/ Queued to be sent again.",
        _ => return None,
    })
}
