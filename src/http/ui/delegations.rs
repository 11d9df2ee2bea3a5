//! A reviewer's deputies: name a colleague to decide in your name while you are away, see who
//! named you, end a delegation early.

use axum::extract::State;
use axum::http::StatusCode;
use minijinja::{Value, context};
use uuid::Uuid;

use super::form::{SessionForm, parse_date};
use super::session::Session;
use super::{PageResult, form_problem, render, see_other};
use crate::domain::FieldErrors;
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::http::extract::ApiPath;
use crate::service::delegations::DelegationInput;

pub async fn page(State(state): State<AppState>, session: Session) -> PageResult {
    delegations_page(&state, &session, StatusCode::OK, context! {}).await
}

async fn delegations_page(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    extra: Value,
) -> PageResult {
    let me = session.principal.user_id;
    let delegations = state.service.list_delegations(&session.principal).await?;
    let mut rows = Vec::new();
    for d in &delegations {
        let other = if d.delegator_id == me {
            d.deputy_id
        } else {
            d.delegator_id
        };
        let name = state.service.user_name(other).await?;
        rows.push(context! { d, given => d.delegator_id == me, other => name });
    }
    render(
        state,
        session,
        status,
        "delegations.html",
        context! { delegations => rows, ..extra },
    )
}

fn delegation_input(fields: &super::form::Fields) -> Result<DelegationInput> {
    let mut errors = FieldErrors::default();
    let starts_on = errors.check("starts_on", parse_date(fields.get("starts_on")));
    let ends_on = errors.check("ends_on", parse_date(fields.get("ends_on")));
    match (starts_on, ends_on) {
        (Some(starts_on), Some(ends_on)) => Ok(DelegationInput {
            deputy_email: fields.get("deputy_email").to_owned(),
            starts_on,
            ends_on,
        }),
        _ => Err(Error::Invalid(errors.into_vec())),
    }
}

pub async fn create(State(state): State<AppState>, form: SessionForm) -> PageResult {
    let SessionForm { session, fields } = form;
    let created = async {
        let input = delegation_input(&fields)?;
        state
            .service
            .create_delegation(&session.principal, input)
            .await
    }
    .await;
    match created {
        Ok(_) => see_other("/account/delegations"),
        Err(error) => {
            let (status, error, errors) = form_problem(error)?;
            let values = fields.echo();
            delegations_page(&state, &session, status, context! { values, error, errors }).await
        }
    }
}

pub async fn revoke(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    form: SessionForm,
) -> PageResult {
    state
        .service
        .revoke_delegation(&form.session.principal, id)
        .await?;
    see_other("/account/delegations")
}
