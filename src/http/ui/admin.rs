//! The admin pages: agencies, users (create, deactivate, roles), the court-judgment register and
//! e-mails that failed, with retry. The services decide who may do what; these pages only show
//! the forms and what was refused.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use minijinja::{Value, context};
use strum::IntoEnumIterator;
use uuid::Uuid;

use super::form::{SessionForm, parse_date};
use super::session::Session;
use super::{DoneQuery, PageResult, form_problem, notice_for, render, see_other};
use crate::domain::{Agency, JudgmentKind};
use crate::domain::{FieldErrors, Money, Role};
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::http::extract::ApiPath;
use crate::service::Caller;
use crate::service::directory::UserInput;
use crate::service::judgments::JudgmentInput;

fn role_label(role: Role) -> &'static str {
    match role {
        Role::Submitter => "经办人 Submitter",
        Role::Reviewer => "审查人 Reviewer",
        Role::LeadReviewer => "复核负责人 Lead reviewer",
        Role::Signatory => "签署人 Signatory",
        Role::Admin => "管理员 Admin",
        Role::Auditor => "审计员 Auditor",
    }
}

fn judgment_kind_label(kind: JudgmentKind) -> &'static str {
    match kind {
        JudgmentKind::ConstructionArrears => "拖欠工程款 Construction arrears",
        JudgmentKind::ProcurementArrears => "拖欠采购款 Procurement arrears",
        JudgmentKind::AdministrativeCompensation => "行政赔偿 Administrative compensation",
        JudgmentKind::BusinessDebt => "经营性债务 Business debt",
        JudgmentKind::Other => "其他 Other",
    }
}

/// A form's outcome: on success go to `done`; on a refusal show `page` again with the error.
async fn after_post<T>(
    outcome: Result<T>,
    done: &str,
    show_again: impl AsyncFnOnce(StatusCode, Value) -> PageResult,
) -> PageResult {
    match outcome {
        Ok(_) => see_other(done),
        Err(error) => {
            let (status, error, errors) = form_problem(error)?;
            show_again(status, context! { error, errors }).await
        }
    }
}

fn parse_uuid(raw: &str) -> Result<Uuid, String> {
    Uuid::parse_str(raw.trim()).map_err(|_| "请选择 / please choose one".to_owned())
}

fn parse_amount(raw: &str) -> Result<i64, String> {
    Money::parse_yuan(raw).map(Money::fen)
}

/// One parsed field, or the service's invalid-input error naming it.
fn field<T>(name: &str, parsed: Result<T, String>) -> Result<T> {
    parsed.map_err(|message| Error::invalid(name, message))
}

// ---- agencies --------------------------------------------------------------------------

pub async fn agencies(State(state): State<AppState>, session: Session) -> PageResult {
    agencies_page(&state, &session, StatusCode::OK, context! {}).await
}

async fn agencies_page(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    extra: Value,
) -> PageResult {
    let agencies = state.service.list_agencies(&session.principal).await?;
    let names: BTreeMap<String, String> = agencies
        .iter()
        .map(|a| (a.id.to_string(), a.name.clone()))
        .collect();
    render(
        state,
        session,
        status,
        "admin_agencies.html",
        context! { agencies, names, ..extra },
    )
}

pub async fn create_agency(State(state): State<AppState>, form: SessionForm) -> PageResult {
    let SessionForm { session, fields } = form;
    let created = async {
        let parent = field("parent_id", parse_uuid(fields.get("parent_id")))?;
        let actor = Caller::User(&session.principal);
        state
            .service
            .create_agency(
                actor,
                fields.get("name"),
                Some(parent),
                fields.optional("opinion_prefix").as_deref(),
            )
            .await
    }
    .await;
    after_post(created, "/admin/agencies", async |status, page| {
        let values = fields.echo();
        agencies_page(&state, &session, status, context! { values, ..page }).await
    })
    .await
}

// ---- users -----------------------------------------------------------------------------

pub async fn users(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<DoneQuery>,
) -> PageResult {
    let notice = notice_for(&query.done);
    users_page(&state, &session, StatusCode::OK, context! { notice }).await
}

async fn users_page(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    extra: Value,
) -> PageResult {
    let principal = &session.principal;
    let users = state.service.list_users(principal).await?;
    let agencies = state.service.list_agencies(principal).await?;
    let roles: Vec<Value> = Role::iter()
        .map(|r| context! { key => r.as_str(), label => role_label(r) })
        .collect();
    render(
        state,
        session,
        status,
        "admin_users.html",
        context! { users, agencies => agency_names(&agencies), agency_list => agencies, roles, me => principal.user_id, ..extra },
    )
}

fn agency_names(agencies: &[Agency]) -> BTreeMap<String, String> {
    agencies
        .iter()
        .map(|a| (a.id.to_string(), a.name.clone()))
        .collect()
}

pub async fn create_user(State(state): State<AppState>, form: SessionForm) -> PageResult {
    let SessionForm { session, fields } = form;
    let created = async {
        let input = UserInput {
            email: fields.get("email").to_owned(),
            name: fields.get("name").to_owned(),
            agency_id: field("agency_id", parse_uuid(fields.get("agency_id")))?,
            roles: fields.all("roles"),
            password: fields.get("password").to_owned(),
        };
        let actor = Caller::User(&session.principal);
        state.service.create_user(actor, input).await
    }
    .await;
    after_post(created, "/admin/users", async |status, page| {
        let mut values = fields.echo();
        values.remove("password");
        let checked = fields.all("roles");
        users_page(
            &state,
            &session,
            status,
            context! { values, checked, ..page },
        )
        .await
    })
    .await
}

pub async fn set_active(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    form: SessionForm,
) -> PageResult {
    let SessionForm { session, fields } = form;
    let active = fields.get("active") == "true";
    let changed = state
        .service
        .set_user_active(&session.principal, id, active)
        .await;
    back_to_users(&state, &session, changed, "/admin/users", context! {}).await
}

/// After an action on the users page: on to `done`, or the page again with the refusal.
async fn back_to_users<T>(
    state: &AppState,
    session: &Session,
    outcome: Result<T>,
    done: &str,
    extra: Value,
) -> PageResult {
    after_post(outcome, done, async |status, page| {
        users_page(state, session, status, context! { ..extra, ..page }).await
    })
    .await
}

pub async fn set_roles(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    form: SessionForm,
) -> PageResult {
    let SessionForm { session, fields } = form;
    let changed = state
        .service
        .set_user_roles(&session.principal, id, &fields.all("roles"))
        .await;
    back_to_users(&state, &session, changed, "/admin/users", context! {}).await
}

pub async fn reset_password(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    form: SessionForm,
) -> PageResult {
    let SessionForm { session, fields } = form;
    let reset = state
        .service
        .reset_password(&session.principal, id, fields.get("password"))
        .await;
    let reset_for = id.to_string();
    let extra = context! { reset_for };
    back_to_users(&state, &session, reset, "/admin/users?done=password", extra).await
}

// ---- the court-judgment register -------------------------------------------------------

pub async fn judgments(State(state): State<AppState>, session: Session) -> PageResult {
    judgments_page(&state, &session, StatusCode::OK, context! {}).await
}

async fn judgments_page(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    extra: Value,
) -> PageResult {
    let principal = &session.principal;
    let judgments = state.service.list_judgments(principal).await?;
    let agencies = state.service.register_agencies(principal).await?;
    let kinds: Vec<Value> = JudgmentKind::iter()
        .map(|k| context! { key => <&'static str>::from(k), label => judgment_kind_label(k) })
        .collect();
    let kind_labels: BTreeMap<&str, &str> = JudgmentKind::iter()
        .map(|k| (<&'static str>::from(k), judgment_kind_label(k)))
        .collect();
    render(
        state,
        session,
        status,
        "admin_judgments.html",
        context! { judgments, agencies => agency_names(&agencies), agency_list => agencies, kinds, kind_labels, ..extra },
    )
}

fn judgment_input(fields: &super::form::Fields) -> Result<JudgmentInput> {
    let mut errors = FieldErrors::default();
    let agency_id = errors.check("agency_id", parse_uuid(fields.get("agency_id")));
    let due = errors.check("amount_due", parse_amount(fields.get("amount_due")));
    let paid = errors.check(
        "amount_paid",
        fields
            .optional("amount_paid")
            .map_or(Ok(0), |raw| parse_amount(&raw)),
    );
    let effective_on = errors.check("effective_on", parse_date(fields.get("effective_on")));
    let due_on = errors.check(
        "due_on",
        fields
            .optional("due_on")
            .map(|raw| parse_date(&raw))
            .transpose(),
    );
    let (
        Some(agency_id),
        Some(amount_due_fen),
        Some(amount_paid_fen),
        Some(effective_on),
        Some(due_on),
    ) = (agency_id, due, paid, effective_on, due_on)
    else {
        return Err(Error::Invalid(errors.into_vec()));
    };
    Ok(JudgmentInput {
        case_number: fields.get("case_number").to_owned(),
        court: fields.get("court").to_owned(),
        agency_id,
        kind: fields.get("kind").to_owned(),
        amount_due_fen,
        amount_paid_fen,
        effective_on,
        due_on,
    })
}

pub async fn create_judgment(State(state): State<AppState>, form: SessionForm) -> PageResult {
    let SessionForm { session, fields } = form;
    let created = async {
        let input = judgment_input(&fields)?;
        state
            .service
            .create_judgment(&session.principal, input)
            .await
    }
    .await;
    after_post(created, "/admin/judgments", async |status, page| {
        let values = fields.echo();
        judgments_page(&state, &session, status, context! { values, ..page }).await
    })
    .await
}

pub async fn record_payment(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    form: SessionForm,
) -> PageResult {
    let SessionForm { session, fields } = form;
    let recorded = async {
        let amount = field("amount", parse_amount(fields.get("amount")))?;
        let paid_on = field("paid_on", parse_date(fields.get("paid_on")))?;
        state
            .service
            .record_judgment_payment(&session.principal, id, amount, paid_on)
            .await
    }
    .await;
    after_post(recorded, "/admin/judgments", async |status, page| {
        let payment = context! { id => id.to_string(), amount => fields.get("amount"), paid_on => fields.get("paid_on") };
        judgments_page(&state, &session, status, context! { payment, ..page }).await
    })
    .await
}

// ---- e-mail not yet delivered ----------------------------------------------------------

/// Failed e-mails (with retry), and those still waiting: their attempts, next try and last error.
pub async fn outbox(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<DoneQuery>,
) -> PageResult {
    let notice = notice_for(&query.done);
    let outbox = |status| state.service.list_outbox(&session.principal, Some(status));
    let failed = outbox("failed").await?;
    let mut waiting = outbox("sending").await?;
    waiting.extend(outbox("pending").await?);
    render(
        &state,
        &session,
        StatusCode::OK,
        "admin_outbox.html",
        context! { failed, waiting, notice },
    )
}

pub async fn retry_mail(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    form: SessionForm,
) -> PageResult {
    state
        .service
        .retry_outbox(&form.session.principal, id)
        .await?;
    see_other("/admin/outbox?done=retried")
}
