//! Writing a contract: the new-contract form (typed, or a Word, PDF or Markdown draft uploaded,
//! with a self-check before saving) and the revision form (facts and text together, while the
//! contract is editable). A refused form comes back with everything typed; an uploaded draft that
//! converted is kept in the form (so it need not be chosen again) as long as its text is not edited.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use minijinja::{Value, context};
use strum::IntoEnumIterator;
use uuid::Uuid;

use super::contracts::{MAX_LISTED_FINDINGS, report_findings};
use super::form::{Fields, SessionForm};
use super::highlight::body_html;
use super::session::{Session, random_token};
use super::{PageResult, form_problem, render, see_other};
use crate::domain::{
    ContractDetail, ContractType, FactsDraft, FieldError, Money, NewFacts, Upload,
};
use crate::error::Error;
use crate::http::AppState;
use crate::http::extract::ApiPath;

/// An uploaded original larger than this is not carried through a refused form: the clerk is
/// asked to choose it again instead of the page carrying megabytes.
const MAX_KEPT_DRAFT_BYTES: usize = 4 * 1024 * 1024;

fn contract_types() -> Vec<Value> {
    ContractType::iter()
        .map(|t| context! { key => t.as_str(), label => t.label() })
        .collect()
}

/// Where the text of a form comes from: typed, or converted from an uploaded file.
enum Text {
    Typed(String),
    File { upload: Upload, markdown: String },
}

impl Text {
    fn markdown(&self) -> &str {
        match self {
            Text::Typed(text) | Text::File { markdown: text, .. } => text,
        }
    }
}

/// The form's text: a newly chosen file, else the file kept from a refused form while its text
/// stands unedited, else what was typed.
fn text_of(state: &AppState, fields: &Fields) -> Result<Text, Error> {
    let typed = fields.get("body_markdown").replace("\r\n", "\n");
    let upload = match fields.file("draft") {
        Some(upload) => upload.clone(),
        None => match kept_draft(fields) {
            Some(upload) => upload,
            None => return Ok(Text::Typed(typed)),
        },
    };
    let chosen_now = fields.file("draft").is_some();
    let converted = state.service.convert_draft(upload)?;
    let markdown = converted.converted.markdown.clone();
    if chosen_now || markdown == typed {
        Ok(Text::File {
            upload: converted.upload,
            markdown,
        })
    } else {
        // The clerk edited the converted text: the file no longer produced it.
        Ok(Text::Typed(typed))
    }
}

fn kept_draft(fields: &Fields) -> Option<Upload> {
    let bytes = BASE64.decode(fields.optional("kept_draft")?).ok()?;
    Some(Upload {
        file_name: fields.optional("kept_draft_name").unwrap_or_default(),
        bytes,
    })
}

/// The values to show the form with again: what was typed, the converted text, and the original
/// file carried along when it is small enough.
fn echo(fields: &Fields, text: Option<&Text>) -> BTreeMap<String, String> {
    let mut values: BTreeMap<String, String> = fields
        .echo()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    values.insert("signatories".into(), fields.all("signatories").join("\n"));
    if let Some(Text::File { upload, markdown }) = text {
        values.insert("body_markdown".into(), markdown.clone());
        if upload.bytes.len() <= MAX_KEPT_DRAFT_BYTES {
            values.insert("kept_draft".into(), BASE64.encode(&upload.bytes));
            values.insert("kept_draft_name".into(), upload.file_name.clone());
        } else {
            values.remove("kept_draft");
            values.remove("kept_draft_name");
        }
    }
    values
}

/// The facts as the form sent them; an amount that does not parse is reported with the rest.
fn facts_from(fields: &Fields) -> (FactsDraft, Option<FieldError>) {
    let amount = Money::parse_yuan(fields.get("amount"));
    let signatories = fields
        .all("signatories")
        .iter()
        .flat_map(|value| value.split(['\n', ',', '，', ';', '；']))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let facts = FactsDraft {
        title: fields.get("title").to_owned(),
        contract_type: fields.get("contract_type").to_owned(),
        counterparty: fields.get("counterparty").to_owned(),
        amount_fen: amount.as_ref().map_or(0, |m| m.fen()),
        funding_source: fields.optional("funding_source"),
        agency_party: fields.get("agency_party").to_owned(),
        signatories,
    };
    let amount_error = amount.err().map(|message| FieldError {
        field: "amount".into(),
        message,
    });
    (facts, amount_error)
}

/// Refuses the facts when the amount did not parse, naming every other bad field too.
fn checked_facts(fields: &Fields) -> Result<FactsDraft, Error> {
    let (facts, amount_error) = facts_from(fields);
    match amount_error {
        None => Ok(facts),
        Some(amount) => {
            let mut errors = vec![amount];
            if let Err(others) = NewFacts::parse(facts) {
                errors.extend(others.into_vec());
            }
            Err(Error::Invalid(errors))
        }
    }
}

/// The form's field names for the service's: the amount is typed in yuan, signatories in one box,
/// the body's file is the `draft` input.
fn form_field(field: &str) -> String {
    match field {
        "amount_fen" => "amount".into(),
        "body_markdown" | "draft" => field.into(),
        f if f.starts_with("signatories") => "signatories".into(),
        f => f.into(),
    }
}

fn form_errors(errors: BTreeMap<String, String>) -> BTreeMap<String, String> {
    errors
        .into_iter()
        .map(|(field, message)| (form_field(&field), message))
        .collect()
}

// ---- the new-contract form -------------------------------------------------------------

pub async fn new_page(State(state): State<AppState>, session: Session) -> PageResult {
    // The key makes a double-clicked or resent form create the contract once.
    let key = random_token();
    // The clerk chooses who signs; only when the agency has one signatory is it chosen already.
    let signers = state
        .service
        .signers_of_my_agency(&session.principal)
        .await?;
    let only = if signers.len() == 1 {
        signers.join("")
    } else {
        String::new()
    };
    let values = BTreeMap::from([
        ("signatories".to_owned(), only),
        ("idempotency_key".to_owned(), key),
    ]);
    new_form(&state, &session, StatusCode::OK, values, context! {}).await
}

async fn new_form(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    values: BTreeMap<String, String>,
    page: Value,
) -> PageResult {
    let signers = signer_choices(state, session, &values).await?;
    render(
        state,
        session,
        status,
        "contract_new.html",
        context! { values, signers, types => contract_types(), category_labels => state.service.category_labels(), ..page },
    )
}

/// The agency's signatories to choose from, each ticked when the form names it; an address the
/// contract already names stays on offer, so that it can be seen and unticked.
async fn signer_choices(
    state: &AppState,
    session: &Session,
    values: &BTreeMap<String, String>,
) -> Result<Vec<Value>, Error> {
    let chosen: Vec<&str> = values
        .get("signatories")
        .map(|s| s.lines().map(str::trim).filter(|l| !l.is_empty()).collect())
        .unwrap_or_default();
    let mut offered = state
        .service
        .signers_of_my_agency(&session.principal)
        .await?;
    for named in &chosen {
        if !offered.iter().any(|o| o == named) {
            offered.push((*named).to_owned());
        }
    }
    Ok(offered
        .into_iter()
        .enumerate()
        .map(|(i, email)| {
            let checked = chosen.contains(&email.as_str());
            context! { email, checked, id => format!("signatory-{i}") }
        })
        .collect())
}

pub async fn create(State(state): State<AppState>, form: SessionForm) -> PageResult {
    let SessionForm { session, fields } = form;
    let text = text_of(&state, &fields);
    let values = echo(&fields, text.as_ref().ok());
    let sent = async {
        let text = text?;
        let facts = checked_facts(&fields)?;
        if fields.get("intent") == "check" {
            let draft = facts.with_body(text.markdown().to_owned());
            let report = state
                .service
                .screen_draft(&session.principal, draft.clone())
                .await?;
            let (mut findings, marks) = report_findings(&report);
            findings.truncate(MAX_LISTED_FINDINGS);
            let preview = body_html(&draft.body_markdown, &marks);
            let report = context! { findings, checklist => report.checklist, preview };
            return new_form(
                &state,
                &session,
                StatusCode::OK,
                values.clone(),
                context! { report },
            )
            .await;
        }
        let key = fields.optional("idempotency_key");
        let service = &state.service;
        let created = match text {
            Text::File { upload, .. } => {
                service
                    .create_contract_from_file(&session.principal, facts, upload, key)
                    .await?
            }
            Text::Typed(body) => {
                service
                    .create_contract(&session.principal, facts.with_body(body), key)
                    .await?
            }
        };
        let id = created.into_inner().contract.id;
        see_other(&format!("/contracts/{id}?done=created"))
    }
    .await;
    match sent {
        Ok(page) => Ok(page),
        Err(error) => {
            let (status, error, errors) = form_problem(error)?;
            let errors = form_errors(errors);
            new_form(&state, &session, status, values, context! { error, errors }).await
        }
    }
}

// ---- revising a contract ---------------------------------------------------------------

fn edit_values(detail: &ContractDetail) -> BTreeMap<String, String> {
    let c = &detail.contract;
    BTreeMap::from([
        ("title".to_owned(), c.title.clone()),
        (
            "contract_type".to_owned(),
            c.contract_type.as_str().to_owned(),
        ),
        ("counterparty".to_owned(), c.counterparty.clone()),
        (
            "amount".to_owned(),
            Money::from_fen(c.amount_fen)
                .map(|m| m.to_string())
                .unwrap_or_default(),
        ),
        (
            "funding_source".to_owned(),
            c.funding_source.clone().unwrap_or_default(),
        ),
        ("agency_party".to_owned(), c.agency_party.clone()),
        ("signatories".to_owned(), detail.signatories.join("\n")),
        ("body_markdown".to_owned(), detail.body_markdown.clone()),
        ("expected_version".to_owned(), c.version.to_string()),
    ])
}

async fn edit_form(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    detail: &ContractDetail,
    values: BTreeMap<String, String>,
    page: Value,
) -> PageResult {
    let signers = signer_choices(state, session, &values).await?;
    render(
        state,
        session,
        status,
        "contract_edit.html",
        context! { values, signers, contract => detail.contract, types => contract_types(), ..page },
    )
}

pub async fn edit_page(
    State(state): State<AppState>,
    session: Session,
    ApiPath(id): ApiPath<Uuid>,
) -> PageResult {
    let detail = state.service.get_contract(&session.principal, id).await?;
    let values = edit_values(&detail);
    edit_form(
        &state,
        &session,
        StatusCode::OK,
        &detail,
        values,
        context! {},
    )
    .await
}

/// Saves the revised facts (when they changed), then the revised text (when it changed or a
/// new file was chosen), each kept as a version.
pub async fn revise(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    form: SessionForm,
) -> PageResult {
    let SessionForm { session, fields } = form;
    let principal = &session.principal;
    let text = text_of(&state, &fields);
    let values = echo(&fields, text.as_ref().ok());
    let revised = async {
        let text = text?;
        let expected: i64 = fields.get("expected_version").trim().parse().map_err(|_| {
            Error::invalid("expected_version", "版本号无效 / invalid version number")
        })?;
        let facts = checked_facts(&fields)?;
        let service = &state.service;
        let detail = service.revise_facts(principal, id, facts, expected).await?;
        let expected = detail.contract.version;
        match text {
            Text::File { upload, .. } => {
                service
                    .replace_body_from_file(principal, id, upload, expected)
                    .await?;
            }
            Text::Typed(body) if body != detail.body_markdown => {
                service.replace_body(principal, id, body, expected).await?;
            }
            Text::Typed(_) => {}
        }
        see_other(&format!("/contracts/{id}?done=revised"))
    }
    .await;
    match revised {
        Ok(page) => Ok(page),
        Err(error) => {
            let (status, error, errors) = form_problem(error)?;
            let detail = state.service.get_contract(principal, id).await?;
            let mut values = values;
            // A revision of the facts may have gone through before the text was refused.
            values.insert(
                "expected_version".into(),
                detail.contract.version.to_string(),
            );
            let errors = form_errors(errors);
            edit_form(
                &state,
                &session,
                status,
                &detail,
                values,
                context! { error, errors },
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_map_back_to_the_inputs() {
        assert_eq!(form_field("amount_fen"), "amount");
        assert_eq!(form_field("signatories[2]"), "signatories");
        assert_eq!(form_field("title"), "title");
        assert_eq!(form_field("draft"), "draft");
    }
}
