//! The home page: one section per role the user holds. A clerk's contracts by state, a
//! reviewer's queue by due date with overdue ones marked (also for the reviewers they deputise
//! for), a signatory's contracts to sign, an auditor's search.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use minijinja::{Value, context};
use serde::Deserialize;

use super::session::Session;
use super::{PageResult, listing, render};
use crate::domain::{Contract, ContractState, Principal, Role};
use crate::error::Result;
use crate::http::AppState;
use crate::service::listing::{ContractQuery, MAX_PAGE_SIZE};

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
    let labels = listing::state_labels(&state);
    let mine = if principal.has(Role::Submitter) {
        let ours = list(&state, principal, ContractQuery::default()).await?;
        Some(by_state(&labels, ours))
    } else {
        None
    };
    let reviews = state.service.review_queue(principal).await?;
    let queue = (principal.has(Role::Reviewer) || principal.has(Role::LeadReviewer))
        .then_some(reviews.items);
    let as_deputy: Vec<Value> = reviews
        .as_deputy
        .into_iter()
        .map(|d| context! { delegator => d.delegator, queue => d.items })
        .collect();
    let to_sign = if principal.has(Role::Signatory) {
        let query = ContractQuery {
            state: Some(ContractState::Approved),
            signatory: Some(principal.email.clone()),
            ..ContractQuery::default()
        };
        Some(list(&state, principal, query).await?)
    } else {
        None
    };
    let (searched, more) = if principal.has(Role::Auditor) {
        let (found, more) =
            listing::search(&state, principal, &search.q, &search.state, "").await?;
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
            ..listing::state_choices(&labels)
        },
    )
}

/// 待办与消息: the count of what waits, and the latest steps on contracts in view.
pub async fn inbox(State(state): State<AppState>, session: Session) -> PageResult {
    let messages = state.service.messages(&session.principal).await?;
    render(
        &state,
        &session,
        StatusCode::OK,
        "inbox.html",
        context! { messages },
    )
}

async fn list(
    state: &AppState,
    principal: &Principal,
    query: ContractQuery,
) -> Result<Vec<Contract>> {
    let query = ContractQuery {
        limit: MAX_PAGE_SIZE,
        ..query
    };
    Ok(state.service.list_contracts(principal, &query).await?.items)
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
