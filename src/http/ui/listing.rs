//! What the pages that list contracts share: the search with its next page, and the states for
//! a filter and for showing where a contract stands.

use std::collections::BTreeMap;

use minijinja::{Value, context};

use crate::domain::{Contract, Principal};
use crate::error::Error;
use crate::http::AppState;
use crate::service::listing::{ContractQuery, ListParams};

/// One page of contracts matching `q` and `in_state`, from `cursor`, with the address of the next
/// page when there is one.
pub(super) async fn search(
    state: &AppState,
    principal: &Principal,
    q: &str,
    in_state: &str,
    cursor: &str,
) -> Result<(Vec<Contract>, Option<String>), Error> {
    let query = ContractQuery::parse(ListParams {
        q: Some(q.to_owned()),
        state: Some(in_state.to_owned()),
        cursor: Some(cursor.to_owned()),
        ..ListParams::default()
    })?;
    let page = state.service.list_contracts(principal, &query).await?;
    let next = page.next_cursor.map(|cursor| {
        let query = [("q", q), ("state", in_state), ("cursor", cursor.as_str())];
        format!(
            "/contracts?{}",
            serde_urlencoded::to_string(query).unwrap_or_default()
        )
    });
    Ok((page.items, next))
}

/// Every state of the current workflow, in its order, with what people read.
pub(super) fn state_labels(state: &AppState) -> Vec<(String, String)> {
    state
        .service
        .current_workflow()
        .states
        .iter()
        .map(|(key, def)| ((*key).to_owned(), def.label.clone()))
        .collect()
}

/// The states for a filter's options (`states`) and for showing a contract's state (`labels`).
pub(super) fn state_choices(labels: &[(String, String)]) -> Value {
    let states: Vec<Value> = labels
        .iter()
        .map(|(key, label)| context! { key, label })
        .collect();
    let labels: BTreeMap<&str, &str> = labels
        .iter()
        .map(|(key, label)| (key.as_str(), label.as_str()))
        .collect();
    context! { states, labels }
}
