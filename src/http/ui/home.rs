//! The home page: one section per role the user holds. A clerk's contracts by state, a
//! reviewer's queue by due date with overdue ones marked, a signatory's contracts to sign, an
//! auditor's search.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use minijinja::{Value, context};
use serde::Deserialize;

use super::contracts;
use super::session::Session;
use super::{PageResult, render};
use crate::domain::Contract;
use crate::domain::{ContractState, Principal, Role};
use crate::error::Result;
use crate::http::AppState;
use crate::service::contracts::{ListParams, MAX_PAGE_SIZE};
use crate::service::now;

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    state: String,
}

pub async fn home(
    State(state): State<AppState>,
    session: Session,
    Query(search): Query<SearchQuery>,
) -> PageResult {
    let principal = &session.principal;
    let labels = state_labels(&state);
    let mine = if principal.has(Role::Submitter) {
        Some(by_state(
            &labels,
            list(&state, principal, ListParams::default()).await?,
        ))
    } else {
        None
    };
    let queue = if principal.has(Role::Reviewer) || principal.has(Role::LeadReviewer) {
        Some(review_queue(&state, principal).await?)
    } else {
        None
    };
    let mut as_deputy = Vec::new();
    for delegator in state.service.active_delegators(principal).await? {
        let queue = review_queue(&state, &delegator).await?;
        as_deputy.push(context! { delegator => delegator.name, queue });
    }
    let to_sign = if principal.has(Role::Signatory) {
        let params = ListParams {
            state: Some(ContractState::Approved.as_str().to_owned()),
            signatory: Some(principal.email.clone()),
            ..ListParams::default()
        };
        Some(list(&state, principal, params).await?)
    } else {
        None
    };
    let (searched, more) = if principal.has(Role::Auditor) {
        let (found, more) =
            contracts::search(&state, principal, &search.q, &search.state, "").await?;
        (Some(found), more)
    } else {
        (None, None)
    };
    render(
        &state,
        &session,
        StatusCode::OK,
        "home.html",
        context! {
            mine, queue, as_deputy, to_sign, searched, more,
            search => context! { q => search.q, state => search.state },
            now => now(),
            ..state_choices(&labels)
        },
    )
}

/// The states for a filter's options (`states`) and for showing a contract's state (`labels`).
pub fn state_choices(labels: &[(String, String)]) -> Value {
    let states: Vec<Value> = labels
        .iter()
        .map(|(key, label)| context! { key, label })
        .collect();
    let labels: std::collections::BTreeMap<&str, &str> = labels
        .iter()
        .map(|(key, label)| (key.as_str(), label.as_str()))
        .collect();
    context! { states, labels }
}

pub fn state_labels(state: &AppState) -> Vec<(String, String)> {
    state
        .service
        .current_workflow()
        .states
        .iter()
        .map(|(key, def)| ((*key).to_owned(), def.label.clone()))
        .collect()
}

async fn list(
    state: &AppState,
    principal: &Principal,
    params: ListParams,
) -> Result<Vec<Contract>> {
    let params = ListParams {
        limit: Some(MAX_PAGE_SIZE),
        ..params
    };
    Ok(state.service.list_contracts(principal, params).await?.items)
}

/// Groups contracts by state, in the workflow's order of states.
fn by_state(labels: &[(String, String)], contracts: Vec<Contract>) -> Vec<Value> {
    labels
        .iter()
        .filter_map(|(key, label)| {
            let in_state: Vec<&Contract> = contracts
                .iter()
                .filter(|c| c.state.as_str() == key)
                .collect();
            (!in_state.is_empty()).then(|| context! { key, label, contracts => in_state })
        })
        .collect()
}

/// Contracts in the stages where the user decides (by the workflow: the roles whose transitions
/// out of a stage need an opinion), within their jurisdiction, the earliest deadline first.
async fn review_queue(state: &AppState, principal: &Principal) -> Result<Vec<Value>> {
    let workflow = state.service.current_workflow();
    let stages = workflow.states.values().map(|s| s.state).filter(|stage| {
        workflow
            .deciders(*stage)
            .iter()
            .any(|role| principal.has(*role))
    });
    let mut queue = Vec::new();
    for stage in stages {
        let params = ListParams {
            state: Some(stage.as_str().to_owned()),
            ..ListParams::default()
        };
        queue.extend(list(state, principal, params).await?);
    }
    queue.sort_by_key(|c| (c.due_at.is_none(), c.due_at));
    let at = now();
    Ok(queue
        .into_iter()
        .map(|contract| {
            let overdue = contract.due_at.is_some_and(|due| due < at);
            context! { contract, overdue }
        })
        .collect())
}
