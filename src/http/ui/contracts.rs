//! The contract pages: the new-contract form with its self-check, the contract page (the body
//! with findings marked, versions and their diff, the timeline, the opinion, the actions, the
//! workflow diagram), revising a returned draft, and the signatory's view.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use minijinja::{Value, context};
use serde::Deserialize;
use strum::IntoEnumIterator;
use uuid::Uuid;

use super::form::{Fields, SessionForm};
use super::highlight::{Mark, body_html};
use super::listing;
use super::session::Session;
use super::{DoneQuery, PageResult, form_problem, notice_for, render, render_heavy, see_other};
use crate::domain::{AnswerInput, AnswerKind, MaterialKind, SupplementPoint};
use crate::domain::{ContractState, FieldErrors, Outcome, Principal, Role};
use crate::domain::{Finding, Resolution, approval_conditions};
use crate::error::Error;
use crate::http::AppState;
use crate::http::extract::ApiPath;
use crate::http::workflow::LetterQuery;
use crate::screening::Report;
use crate::service::comments::CommentInput;
use crate::service::opinion::LetterLanguage;
use crate::service::overview::ContractOverview;
use crate::service::transitions::{AvailableTransition, TransitionRequest};
use crate::templates::markdown_to_html;

/// The most findings the contract page lists (each with its waiver form); every finding is still
/// marked in the text. A pathological draft must not make a page of tens of megabytes.
pub(super) const MAX_LISTED_FINDINGS: usize = 200;

// ---- browsing ----------------------------------------------------------------------------

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    cursor: String,
}

/// Every contract in the reader's view, newest first, by title or counterparty and state, a page
/// at a time.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<ListQuery>,
) -> PageResult {
    let (contracts, next) = listing::search(
        &state,
        &session.principal,
        &query.q,
        &query.state,
        &query.cursor,
    )
    .await?;
    let labels = listing::state_labels(&state);
    render(
        &state,
        &session,
        StatusCode::OK,
        "contracts.html",
        context! {
            contracts, next,
            search => context! { q => query.q, state => query.state },
            ..listing::state_choices(&labels)
        },
    )
}

// ---- the contract page -----------------------------------------------------------------

pub async fn page(
    State(state): State<AppState>,
    session: Session,
    ApiPath(id): ApiPath<Uuid>,
    Query(query): Query<DoneQuery>,
) -> PageResult {
    let overview = state
        .service
        .contract_overview(&session.principal, id)
        .await?;
    let notice = match notice_for(&query.done) {
        Some(fixed) => Some(fixed.to_owned()),
        None if !query.done.is_empty() => step_notice(&overview),
        None => None,
    };
    let extra = context! { notice };
    render_overview(&state, &session, overview, StatusCode::OK, extra, None).await
}

/// What the last workflow step did, in words, naming the state it reached when that is not
/// already said: the confirmation after an action.
fn step_notice(overview: &ContractOverview) -> Option<String> {
    let step = overview.history.last()?;
    Some(match step.outcome {
        Some(Outcome::Submitted) => "已送审。/ Submitted for legal review.".to_owned(),
        Some(Outcome::Approved) => "已作出审查通过的决定。/ Approved.".to_owned(),
        Some(Outcome::Returned) => "已退回修改。/ Returned for revision.".to_owned(),
        Some(Outcome::Rejected) => "已作出不予通过的决定。/ Rejected.".to_owned(),
        Some(Outcome::Withdrawn) => "已撤回。/ Withdrawn.".to_owned(),
        Some(Outcome::Signed) => "已签署。/ Signed.".to_owned(),
        None => format!(
            "已完成，合同现处于「{0}」。/ Done; the contract is now at: {0}.",
            overview.state_label
        ),
    })
}

/// Renders the contract page; `extra` adds a notice, an error with what the user typed, or a
/// self-check report that replaces the stored findings.
pub(super) async fn contract_page(
    state: &AppState,
    session: &Session,
    id: Uuid,
    status: StatusCode,
    extra: Value,
    report: Option<Report>,
) -> PageResult {
    let overview = state
        .service
        .contract_overview(&session.principal, id)
        .await?;
    render_overview(state, session, overview, status, extra, report).await
}

async fn render_overview(
    state: &AppState,
    session: &Session,
    overview: ContractOverview,
    status: StatusCode,
    extra: Value,
    report: Option<Report>,
) -> PageResult {
    let principal = session.principal.clone();
    let labels = state.service.category_labels();
    render_heavy(state, session, status, "contract.html", move || {
        let page = overview_context(&principal, overview, report);
        context! { category_labels => labels, ..context! { ..extra, ..page } }
    })
    .await
}

fn overview_context(principal: &Principal, o: ContractOverview, report: Option<Report>) -> Value {
    let contract = &o.detail.contract;
    let (mut findings, marks, self_check) = match &report {
        Some(report) => {
            let (findings, marks) = report_findings(report);
            (findings, marks, true)
        }
        None => stored_findings(&o.findings),
    };
    let findings_total = findings.len();
    findings.truncate(MAX_LISTED_FINDINGS);
    let findings_hidden = findings_total - findings.len();
    let checklist = match &report {
        Some(report) => serde_json::to_value(&report.checklist).ok(),
        None => o.checklist.clone(),
    };
    let body = body_html(&o.detail.body_markdown, &marks);
    let in_review = matches!(
        contract.state,
        ContractState::LegalReview | ContractState::LeadReview
    );
    let may_waive = in_review
        && (principal.has(Role::Reviewer) || principal.has(Role::LeadReviewer))
        && !self_check;
    let open_points: Vec<&SupplementPoint> = o
        .points
        .iter()
        .filter(|p| p.answered_at.is_none())
        .collect();
    let (decisions, actions) = action_forms(&o.available, !open_points.is_empty());
    let as_deputy: Vec<Value> = o
        .as_deputy
        .iter()
        .map(|d| {
            let (decisions, actions) = action_forms(&d.available, false);
            context! { delegator_id => d.delegator_id, delegator => d.delegator, decisions, actions }
        })
        .collect();
    let name_of = |id: &Uuid| o.people.get(id).cloned().unwrap_or_else(|| id.to_string());
    let history: Vec<Value> = o
        .history
        .iter()
        .zip(&o.history_words)
        .map(|(t, words)| {
            context! {
                t, words,
                actor => name_of(&t.actor_id),
                on_behalf_of => t.on_behalf_of.as_ref().map(name_of),
                opinion => t.opinion.as_deref().map(crate::service::opinion::paragraphs),
            }
        })
        .collect();
    let events: Vec<Value> = o
        .events
        .iter()
        .zip(&o.event_words)
        .map(|(e, words)| context! { e, words, actor => e.actor_id.as_ref().map(name_of) })
        .collect();
    // A returned contract opens with the opinion that returned it.
    let comments: Vec<Value> = o
        .comments
        .iter()
        .map(|c| context! { c, resolution_label => c.resolution.map(Resolution::label) })
        .collect();
    let clauses: Vec<String> = o
        .detail
        .body_markdown
        .lines()
        .filter_map(super::diff::clause_heading)
        .collect();
    let returned = (contract.state == ContractState::RevisionRequested)
        .then(|| {
            let with_opinion = |h: &&Value| h.get_attr("opinion").is_ok_and(|o| !o.is_none());
            history.iter().rev().find(with_opinion).cloned()
        })
        .flatten();
    let may_edit = contract.state.body_editable()
        && principal.has(Role::Submitter)
        && principal.agency_id == contract.agency_id;
    let may_check = principal.agency_id == contract.agency_id && principal.has(Role::Submitter);
    let may_attach = may_check
        && matches!(
            contract.state,
            ContractState::Draft | ContractState::RevisionRequested | ContractState::Approved
        );
    context! {
        contract,
        type_label => contract.contract_type.label(),
        state_label => o.state_label,
        signatories => o.detail.signatories,
        body,
        findings, findings_total, findings_hidden, checklist, self_check, may_waive, may_edit, may_check,
        open_blocking => o.findings.iter().filter(|f| f.severity == "block" && f.waived_at.is_none()).count(),
        versions => o.versions,
        history, events, returned, comments, clauses,
        decisions, actions,
        as_deputy,
        may_sign => o.available.iter().any(|a| a.name == "sign"),
        opinion => o.opinion.as_deref().map(markdown_to_html),
        diagram => o.diagram,
        may_attach,
        materials => materials_context(&o),
        open_points,
        answer_kinds => AnswerKind::iter().map(|k| context! { key => k.as_str(), label => k.label() }).collect::<Vec<_>>(),
    }
}

/// The materials part of the contract page: what is attached, what the type requires and
/// whether it is there, the original draft file, the 补正 requests and the facts' revisions.
fn materials_context(o: &ContractOverview) -> Value {
    let attached: Vec<Value> = o
        .attachments
        .iter()
        .map(|a| context! { a, kind_label => a.kind.label() })
        .collect();
    let required: Vec<Value> = o
        .required_materials
        .iter()
        .map(|(kind, present)| context! { label => kind.label(), present })
        .collect();
    let missing: Vec<&str> = o
        .required_materials
        .iter()
        .filter(|(_, present)| !present)
        .map(|(kind, _)| kind.label())
        .collect();
    let kinds: Vec<Value> = MaterialKind::iter()
        .map(|k| context! { key => k.as_str(), label => k.label() })
        .collect();
    let requests = supplement_requests(&o.points);
    context! {
        attached, required, missing, kinds, requests,
        draft_file => o.draft_file,
        fact_revisions => o.fact_revisions,
    }
}

/// 补正 points grouped by the request that asked them, oldest first.
fn supplement_requests(points: &[SupplementPoint]) -> Vec<Value> {
    let mut requests: Vec<(Uuid, Vec<&SupplementPoint>)> = Vec::new();
    for point in points {
        match requests.iter_mut().find(|(id, _)| *id == point.request_id) {
            Some((_, list)) => list.push(point),
            None => requests.push((point.request_id, vec![point])),
        }
    }
    requests
        .into_iter()
        .map(|(_, list)| {
            let asked = list.first().map(|p| p.requested_at);
            let points: Vec<Value> = list
                .iter()
                .map(|p| context! { p, answer_label => p.answer.map(AnswerKind::label) })
                .collect();
            context! { asked, points }
        })
        .collect()
}

/// The transitions one may fire, each saying what it needs: the decisions that take an opinion
/// or 补正 points (approve, return, 补正, reject), which share one opinion editor, and the other actions
/// (submit with the answers to open points, withdraw), each a form of its own.
fn action_forms(available: &[AvailableTransition], points_open: bool) -> (Value, Vec<Value>) {
    let needs = |a: &AvailableTransition, input: &str| a.requires.iter().any(|r| r == input);
    let view = |a: &AvailableTransition| {
        context! {
            name => a.name, label => a.label,
            answers => needs(a, "answers") && points_open,
            tone => action_tone(&a.name),
        }
    };
    let (deciding, others): (Vec<&AvailableTransition>, Vec<&AvailableTransition>) = available
        .iter()
        .filter(|a| a.name != "sign") // signing happens on the signatory's page
        .partition(|a| needs(a, "opinion") || needs(a, "points"));
    let decisions = (!deciding.is_empty()).then(|| {
        context! {
            buttons => deciding.iter().map(|a| view(a)).collect::<Vec<_>>(),
            points => deciding.iter().any(|a| needs(a, "points")),
            conditions => deciding.iter().any(|a| a.name == "approve"),
            confirm => deciding.iter().any(|a| is_decisive(&a.name)),
        }
    });
    (
        Value::from_serialize(decisions),
        others.into_iter().map(view).collect(),
    )
}

/// How an action's button looks: approval stands out, sending back is secondary, refusing and
/// withdrawing are marked as such.
fn action_tone(name: &str) -> &'static str {
    match name {
        "reject" | "withdraw" => "danger",
        "approve" | "submit" => "",
        _ => "secondary",
    }
}

/// The decisions that end a review round for good: the form asks to confirm them.
fn is_decisive(name: &str) -> bool {
    matches!(name, "approve" | "reject")
}

fn anchor(index: usize) -> String {
    format!("finding-{}", index + 1)
}

fn stored_findings(stored: &[Finding]) -> (Vec<Value>, Vec<Mark>, bool) {
    let mut views = Vec::new();
    let mut marks = Vec::new();
    for (index, f) in stored.iter().enumerate() {
        let waived = f.waived_at.is_some();
        let first = (f.start_offset, f.end_offset);
        let spans = std::iter::once(first).chain(f.spans.iter().map(|s| (s.start, s.end)));
        for (start, end) in spans {
            let range = usize::try_from(start).unwrap_or(0)..usize::try_from(end).unwrap_or(0);
            if !range.is_empty() {
                marks.push(Mark {
                    range,
                    anchor: anchor(index),
                    severity: f.severity.clone(),
                    waived,
                });
            }
        }
        views.push(context! { anchor => anchor(index), number => index + 1, f, waived });
    }
    (views, marks, false)
}

pub(super) fn report_findings(report: &Report) -> (Vec<Value>, Vec<Mark>) {
    let mut views = Vec::new();
    let mut marks = Vec::new();
    for (index, f) in report.findings.iter().enumerate() {
        let spans = std::iter::once(f.start..f.end).chain(f.spans.iter().map(|s| s.start..s.end));
        for range in spans.filter(|r| r.start < r.end) {
            marks.push(Mark {
                range,
                anchor: anchor(index),
                severity: f.severity.as_str().to_owned(),
                waived: false,
            });
        }
        views.push(context! {
            anchor => anchor(index), number => index + 1, waived => false,
            f => context! {
                category => f.category, severity => f.severity.as_str(), clause => f.clause,
                excerpt => f.excerpt, provision => f.provision, citation => f.citation,
                advice => f.advice, explanation => f.explanation, spans => f.spans,
            },
        });
    }
    (views, marks)
}

// ---- actions ---------------------------------------------------------------------------

pub async fn self_check(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    form: SessionForm,
) -> PageResult {
    let report = state
        .service
        .self_check(&form.session.principal, id)
        .await?;
    let notice = "自查结果：以下问题尚未保存，提交时将重新筛查。/ Self-check: these findings are not stored; the screen runs again on submission.";
    contract_page(
        &state,
        &form.session,
        id,
        StatusCode::OK,
        context! { notice },
        Some(report),
    )
    .await
}

pub async fn fire(
    State(state): State<AppState>,
    ApiPath((id, name)): ApiPath<(Uuid, String)>,
    form: SessionForm,
) -> PageResult {
    let SessionForm { session, fields } = form;
    let fired = async {
        let request = transition_request(&fields)?;
        if is_decisive(&name) && fields.get("confirm") != "yes" {
            return Err(Error::invalid(
                "confirm",
                "请勾选确认后再作出决定 / tick the box to confirm the decision",
            ));
        }
        if name == "sign" {
            let history = state.service.contract_history(&session.principal, id).await?;
            if !approval_conditions(&history).is_empty() && fields.get("conditions_met") != "yes" {
                return Err(Error::invalid(
                    "conditions_met",
                    "请先确认已落实审查意见书所列条件 / confirm that the conditions of the opinion letter are met",
                ));
            }
            state
                .service
                .confirm_password(&session.principal, fields.get("password"))
                .await?;
        }
        state
            .service
            .fire_transition(&session.principal, id, &name, request, None)
            .await
    }
    .await;
    match fired {
        Ok(_) => see_other(&format!("/contracts/{id}?done={name}")),
        Err(error) if name == "sign" => {
            let (status, error, errors) = form_problem(error)?;
            render_sign_page(&state, &session, id, status, context! { error, errors }).await
        }
        Err(error) => {
            let action = format!("{name}{}", fields.get("on_behalf_of").trim());
            let typed = context! {
                action,
                // The decision editor is refilled whichever of its buttons was pressed.
                editor => fields.names().any(|n| n == "opinion").then(|| fields.get("on_behalf_of").trim().to_owned()),
                opinion => fields.get("opinion"),
                points => fields.get("points"),
                conditions => fields.get("conditions"),
            };
            refused(&state, &session, id, error, typed).await
        }
    }
}

/// The contract page again after a refused action, with the reason and what was typed.
async fn refused(
    state: &AppState,
    session: &Session,
    id: Uuid,
    error: Error,
    typed: Value,
) -> PageResult {
    let (status, error, errors) = form_problem(error)?;
    let extra = context! { error, errors, typed };
    contract_page(state, session, id, status, extra, None).await
}

/// The contract version a form was shown at, sent back so that a stale form is refused.
fn expected_version(fields: &Fields) -> Result<i64, String> {
    fields
        .get("expected_version")
        .trim()
        .parse()
        .map_err(|_| "版本号无效 / invalid version number".to_owned())
}

/// What the action form sent: the version it was shown at, the opinion, the hash to sign, and
/// the reviewer a deputy acts for.
fn transition_request(fields: &Fields) -> Result<TransitionRequest, Error> {
    let mut errors = FieldErrors::default();
    let expected_version = errors.check("expected_version", expected_version(fields));
    let on_behalf_of = errors.check(
        "on_behalf_of",
        fields
            .optional("on_behalf_of")
            .map(|raw| Uuid::parse_str(&raw))
            .transpose()
            .map_err(|_| "被代理人无效 / invalid reviewer to act for".to_owned()),
    );
    match (expected_version, on_behalf_of) {
        (Some(expected_version), Some(on_behalf_of)) => Ok(TransitionRequest {
            expected_version,
            opinion: fields.optional("opinion"),
            body_sha256: fields.optional("body_sha256"),
            on_behalf_of,
            points: fields
                .optional("points")
                .map(|text| text.lines().map(str::to_owned).collect()),
            answers: answers(fields),
            conditions: fields
                .optional("conditions")
                .map(|text| text.lines().map(str::to_owned).collect()),
        }),
        _ => Err(Error::Invalid(errors.into_vec())),
    }
}

/// The answers to open 补正 points, sent as `answer_N` (and `answer_note_N`) per point N.
fn answers(fields: &Fields) -> Option<Vec<AnswerInput>> {
    let answers: Vec<AnswerInput> = fields
        .names()
        .filter_map(|name| name.strip_prefix("answer_")?.parse::<i64>().ok())
        .map(|point| AnswerInput {
            point,
            answer: fields.get(&format!("answer_{point}")).to_owned(),
            note: fields.optional(&format!("answer_note_{point}")),
        })
        .collect();
    (!answers.is_empty()).then_some(answers)
}

pub async fn waive(
    State(state): State<AppState>,
    ApiPath((id, finding)): ApiPath<(Uuid, Uuid)>,
    form: SessionForm,
) -> PageResult {
    let SessionForm { session, fields } = form;
    let reason = fields.get("reason");
    match state
        .service
        .waive_finding(&session.principal, id, finding, reason)
        .await
    {
        Ok(_) => see_other(&format!("/contracts/{id}?done=waived")),
        Err(error) => {
            let typed = context! { finding => finding.to_string(), reason };
            refused(&state, &session, id, error, typed).await
        }
    }
}

pub async fn add_comment(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    form: SessionForm,
) -> PageResult {
    let SessionForm { session, fields } = form;
    let input = CommentInput {
        clause: fields.get("clause").to_owned(),
        comment: fields.get("comment").to_owned(),
        suggestion: fields.optional("suggestion"),
    };
    match state
        .service
        .add_comment(&session.principal, id, input)
        .await
    {
        Ok(_) => see_other(&format!("/contracts/{id}?done=commented#comments")),
        Err(error) => {
            let typed = context! {
                clause => fields.get("clause"),
                comment_text => fields.get("comment"),
                suggestion => fields.get("suggestion"),
            };
            refused(&state, &session, id, error, typed).await
        }
    }
}

pub async fn resolve_comment(
    State(state): State<AppState>,
    ApiPath((id, comment)): ApiPath<(Uuid, Uuid)>,
    form: SessionForm,
) -> PageResult {
    let SessionForm { session, fields } = form;
    let resolved = async {
        let resolution = fields
            .get("resolution")
            .parse::<Resolution>()
            .map_err(|_| {
                Error::invalid(
                    "resolution",
                    "请选择采纳或不采纳 / choose accepted or not followed",
                )
            })?;
        state
            .service
            .resolve_comment(
                &session.principal,
                id,
                comment,
                resolution,
                fields.optional("note").as_deref(),
            )
            .await
    }
    .await;
    match resolved {
        Ok(_) => see_other(&format!("/contracts/{id}?done=resolved#comments")),
        Err(error) => {
            let typed = context! { comment => comment.to_string(), note => fields.get("note") };
            refused(&state, &session, id, error, typed).await
        }
    }
}

pub async fn withdraw_waiver(
    State(state): State<AppState>,
    ApiPath((id, finding)): ApiPath<(Uuid, Uuid)>,
    form: SessionForm,
) -> PageResult {
    let SessionForm { session, fields } = form;
    let reason = fields.get("reason");
    match state
        .service
        .withdraw_waiver(&session.principal, id, finding, reason)
        .await
    {
        Ok(_) => see_other(&format!("/contracts/{id}?done=waiver_withdrawn")),
        Err(error) => {
            let typed = context! { finding => finding.to_string(), reason };
            refused(&state, &session, id, error, typed).await
        }
    }
}

// ---- revising --------------------------------------------------------------------------

// ---- versions --------------------------------------------------------------------------

#[derive(Deserialize)]
pub struct DiffQuery {
    from: i64,
    to: i64,
}

pub async fn diff(
    State(state): State<AppState>,
    session: Session,
    ApiPath(id): ApiPath<Uuid>,
    query: Result<Query<DiffQuery>, axum::extract::rejection::QueryRejection>,
) -> PageResult {
    let Ok(Query(query)) = query else {
        return Err(Error::BadRequest {
            detail: "请给出要比较的两个版本号 from 和 to / give the two version numbers to compare as from and to".into(),
            field: None,
        });
    };
    let principal = &session.principal;
    let old = state
        .service
        .contract_version(principal, id, query.from)
        .await?;
    let new = state
        .service
        .contract_version(principal, id, query.to)
        .await?;
    let detail = state.service.get_contract(principal, id).await?;
    let (old_text, new_text) = (
        old.body_markdown.unwrap_or_default(),
        new.body_markdown.unwrap_or_default(),
    );
    render_heavy(&state, &session, StatusCode::OK, "diff.html", move || {
        let hunks = super::diff::hunks(&old_text, &new_text);
        context! { contract => detail.contract, from => old.version, to => new.version, hunks }
    })
    .await
}

/// The opinion letter on its own, to print or save.
pub async fn opinion_page(
    State(state): State<AppState>,
    session: Session,
    ApiPath(id): ApiPath<Uuid>,
    Query(query): Query<LetterQuery>,
) -> PageResult {
    let language = LetterLanguage::parse(query.lang.as_deref())?;
    let letter = state
        .service
        .opinion_letter(&session.principal, id, language)
        .await?;
    Ok(axum::response::Html(letter.html).into_response())
}

/// The opinion letter as a Word document, for the office to print on its letterhead.
pub async fn opinion_docx(
    State(state): State<AppState>,
    session: Session,
    ApiPath(id): ApiPath<Uuid>,
    Query(query): Query<LetterQuery>,
) -> PageResult {
    let language = LetterLanguage::parse(query.lang.as_deref())?;
    let letter = state
        .service
        .opinion_letter(&session.principal, id, language)
        .await?;
    Ok(crate::http::documents::file_download(
        letter.docx()?,
        &letter.file_name(),
        crate::http::workflow::DOCX,
    ))
}

// ---- signing ---------------------------------------------------------------------------

/// The signatory's view: the approved text, its hash and the opinion; the sign action only
/// when the reader may sign now.
pub async fn sign_page(
    State(state): State<AppState>,
    session: Session,
    ApiPath(id): ApiPath<Uuid>,
) -> PageResult {
    render_sign_page(&state, &session, id, StatusCode::OK, context! {}).await
}

async fn render_sign_page(
    state: &AppState,
    session: &Session,
    id: Uuid,
    status: StatusCode,
    extra: Value,
) -> PageResult {
    let o = state
        .service
        .contract_overview(&session.principal, id)
        .await?;
    render_heavy(state, session, status, "sign.html", move || {
        let contract = &o.detail.contract;
        let approved = contract.approved_sha256.as_deref() == Some(contract.body_sha256.as_str());
        let materials: Vec<Value> = o
            .attachments
            .iter()
            .map(|a| context! { a, kind_label => a.kind.label() })
            .collect();
        context! {
            contract,
            state_label => o.state_label,
            approved,
            materials,
            body => approved.then(|| body_html(&o.detail.body_markdown, &[])),
            opinion => o.opinion.as_deref().map(markdown_to_html),
            may_sign => o.available.iter().any(|a| a.name == "sign"),
            signatories => o.detail.signatories,
            conditions => approval_conditions(&o.history),
            ..extra
        }
    })
    .await
}
