//! Sign-in, sign-out and changing one's password.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum_extra::extract::cookie::CookieJar;
use minijinja::context;
use serde::Deserialize;

use super::form::{LoginForm, SessionForm};
use super::session::{
    LOGIN_CSRF_COOKIE, SESSION_COOKIE, Session, expired_cookie, private_cookie, random_token,
};
use super::{PageResult, form_problem, render, safe_next};
use crate::error::Error;
use crate::http::AppState;
use crate::http::extract::ClientAddr;
use crate::service::now;

/// How long the sign-in form stays usable.
const LOGIN_FORM_SECS: i64 = 3600;

#[derive(Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

pub async fn login_page(
    State(state): State<AppState>,
    Query(query): Query<NextQuery>,
) -> PageResult {
    login_form(&state, StatusCode::OK, &query.next, "", None)
}

/// The sign-in form, with a fresh CSRF token in its cookie and hidden field.
fn login_form(
    state: &AppState,
    status: StatusCode,
    next: &str,
    email: &str,
    error: Option<String>,
) -> PageResult {
    let csrf = random_token();
    let cookie = private_cookie(
        LOGIN_CSRF_COOKIE,
        csrf.clone(),
        state.secure_cookies,
        LOGIN_FORM_SECS,
    );
    let html = state.pages.render(
        "login.html",
        context! { csrf, next => safe_next(next), email, error },
    )?;
    Ok((status, CookieJar::new().add(cookie), html).into_response())
}

pub async fn login(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    LoginForm(fields): LoginForm,
) -> PageResult {
    let email = fields.get("email").trim();
    let next = safe_next(fields.get("next"));
    match state
        .service
        .login(email, fields.get("password"), &address)
        .await
    {
        Ok(token) => {
            let lifetime = (token.expires_at - now()).num_seconds().max(0);
            let session =
                private_cookie(SESSION_COOKIE, token.token, state.secure_cookies, lifetime);
            let jar = CookieJar::new()
                .add(session)
                .add(expired_cookie(LOGIN_CSRF_COOKIE));
            Ok((jar, Redirect::to(next)).into_response())
        }
        Err(Error::Unauthorized) => login_form(
            &state,
            StatusCode::UNAUTHORIZED,
            next,
            email,
            Some("邮箱或密码不正确，或账号已停用 / wrong e-mail or password, or the account is deactivated".into()),
        ),
        Err(error @ Error::TooManyRequests { .. }) => login_form(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            next,
            email,
            Some(error.detail()),
        ),
        Err(other) => Err(other),
    }
}

pub async fn logout(State(state): State<AppState>, form: SessionForm) -> PageResult {
    state.service.logout(&form.session.token).await?;
    let jar = CookieJar::new().add(expired_cookie(SESSION_COOKIE));
    Ok((jar, Redirect::to("/login")).into_response())
}

pub async fn password_page(State(state): State<AppState>, session: Session) -> PageResult {
    render(
        &state,
        &session,
        StatusCode::OK,
        "password.html",
        context! {},
    )
}

pub async fn change_password(State(state): State<AppState>, form: SessionForm) -> PageResult {
    let SessionForm { session, fields } = form;
    let new = fields.get("new_password");
    let outcome = if new == fields.get("confirm_password") {
        state
            .service
            .change_password(
                &session.principal,
                &session.token,
                fields.get("current_password"),
                new,
            )
            .await
    } else {
        Err(Error::invalid(
            "confirm_password",
            "两次输入的新密码不一致 / the two new passwords differ",
        ))
    };
    match outcome {
        Ok(()) => render(
            &state,
            &session,
            StatusCode::OK,
            "password.html",
            context! { notice => "密码已修改，其他会话已退出 / password changed; your other sessions were signed out" },
        ),
        Err(error) => {
            let (status, error, errors) = form_problem(error)?;
            render(
                &state,
                &session,
                status,
                "password.html",
                context! { error, errors },
            )
        }
    }
}
