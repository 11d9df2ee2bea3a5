//! Finding contracts: the list query a client sends, checked once into typed filters; pages of
//! contracts in the reader's view; and the reviewer's queue — what waits for the reader's
//! decision, the earliest deadline first.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Service, now};
use crate::domain::field::has_control;
use crate::domain::{Contract, ContractState, FieldErrors, Principal};
use crate::error::{Error, Result};
use crate::store::ContractFilter;

pub const DEFAULT_PAGE_SIZE: i64 = 50;
pub const MAX_PAGE_SIZE: i64 = 200;
const MAX_SEARCH_CHARS: usize = 200;
/// The most contracts a queue shows; the full list is paged at `/contracts`.
const QUEUE_LIMIT: i64 = 200;

/// List parameters as the client typed them, before they are checked.
#[derive(Debug, Clone, Default)]
pub struct ListParams {
    pub state: Option<String>,
    pub q: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
    pub overdue: Option<bool>,
}

/// A checked list query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractQuery {
    pub state: Option<ContractState>,
    /// Free text matched against title and counterparty.
    pub text: Option<String>,
    /// The `next_cursor` of the previous page.
    pub after: Option<Uuid>,
    pub limit: i64,
    /// Only contracts whose current review stage is past its deadline.
    pub overdue: bool,
    /// Only contracts this address is named to sign.
    pub signatory: Option<String>,
}

impl Default for ContractQuery {
    fn default() -> Self {
        Self {
            state: None,
            text: None,
            after: None,
            limit: DEFAULT_PAGE_SIZE,
            overdue: false,
            signatory: None,
        }
    }
}

impl ContractQuery {
    /// # Errors
    /// 422 naming every bad field: an unknown state, a bad cursor, a limit out of range, a
    /// search text too long.
    pub fn parse(params: ListParams) -> Result<Self> {
        let mut errors = FieldErrors::default();
        let state = params
            .state
            .filter(|s| !s.is_empty())
            .and_then(|s| errors.check("state", ContractState::parse(&s)));
        let after = params.cursor.filter(|c| !c.is_empty()).and_then(|c| {
            errors.check(
                "cursor",
                Uuid::parse_str(&c).map_err(|_| "游标无效 / invalid cursor".to_owned()),
            )
        });
        let limit = params.limit.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(1..=MAX_PAGE_SIZE).contains(&limit) {
            errors.add(
                "limit",
                format!("每页条数须在 1 到 {MAX_PAGE_SIZE} 之间 / limit must be between 1 and {MAX_PAGE_SIZE}"),
            );
        }
        let text = params
            .q
            .map(|q| q.trim().to_owned())
            .filter(|q| !q.is_empty());
        if text
            .as_ref()
            .is_some_and(|q| q.chars().count() > MAX_SEARCH_CHARS)
        {
            errors.add("q", "搜索词过长 / the search text is too long");
        } else if text.as_deref().is_some_and(has_control) {
            errors.add(
                "q",
                "搜索词不能包含控制字符 / the search text must not contain control characters",
            );
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors.into_vec()));
        }
        Ok(Self {
            state,
            text,
            after,
            limit,
            overdue: params.overdue.unwrap_or(false),
            signatory: None,
        })
    }

    /// The store's filter, asking for one row more than a page to tell whether another follows.
    fn filter(&self, at: DateTime<Utc>) -> ContractFilter {
        ContractFilter {
            state: self.state,
            text: self.text.clone(),
            before: self.after,
            overdue_at: self.overdue.then_some(at),
            signatory: self.signatory.clone(),
            limit: self.limit + 1,
        }
    }
}

/// One page of a keyset-paginated list, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContractList {
    pub items: Vec<Contract>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A contract waiting for a decision.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QueueItem {
    pub contract: Contract,
    /// Its review stage is past its deadline.
    pub overdue: bool,
    /// The submitting agency.
    pub agency: String,
    /// Blocking findings of the current version not yet excluded.
    pub open_blocking_findings: i64,
    /// Submitted again after being returned.
    pub resubmitted: bool,
}

/// What waits for a reviewer acting as another's deputy.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeputyQueue {
    pub delegator_id: Uuid,
    pub delegator: String,
    pub items: Vec<QueueItem>,
}

/// What waits for the reader's decision: their own queue, and the queues of the reviewers who
/// named them deputy for today.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewQueue {
    pub items: Vec<QueueItem>,
    pub as_deputy: Vec<DeputyQueue>,
}

impl Service {
    /// One page of the contracts in the reader's view that match `query`.
    ///
    /// # Errors
    /// Only on database failures.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id))]
    pub async fn list_contracts(
        &self,
        principal: &Principal,
        query: &ContractQuery,
    ) -> Result<ContractList> {
        let mut rows = self
            .store
            .list_contracts(principal.visibility(), &query.filter(now()))
            .await?;
        let has_more = rows.len() as i64 > query.limit;
        rows.truncate(usize::try_from(query.limit).unwrap_or(0));
        let next_cursor = if has_more {
            rows.last().map(|c| c.id.to_string())
        } else {
            None
        };
        Ok(ContractList {
            items: rows,
            next_cursor,
        })
    }

    /// The contracts in the stages where the reader decides (by the workflow: the roles whose
    /// transitions out of a stage need an opinion), within their jurisdiction, the earliest
    /// deadline first; and the same for each reviewer they deputise for today.
    ///
    /// # Errors
    /// Only on database failures.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id))]
    pub async fn review_queue(&self, principal: &Principal) -> Result<ReviewQueue> {
        let items = self.queue_of(principal).await?;
        let mut as_deputy = Vec::new();
        for delegator in self.active_delegators(principal).await? {
            as_deputy.push(DeputyQueue {
                delegator_id: delegator.user_id,
                items: self.queue_of(&delegator).await?,
                delegator: delegator.name,
            });
        }
        Ok(ReviewQueue { items, as_deputy })
    }

    async fn queue_of(&self, principal: &Principal) -> Result<Vec<QueueItem>> {
        let stages = self.current_workflow().stages_decided_by(&principal.roles);
        let contracts = self
            .store
            .review_queue(principal.visibility(), &stages, QUEUE_LIMIT)
            .await?;
        let at = now();
        Ok(contracts
            .into_iter()
            .map(|entry| QueueItem {
                overdue: entry.contract.due_at.is_some_and(|due| due < at),
                contract: entry.contract,
                agency: entry.agency,
                open_blocking_findings: entry.open_blocking_findings,
                resubmitted: entry.submissions > 1,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_params_name_every_bad_field() {
        let params = ListParams {
            state: Some("pending".into()),
            q: None,
            cursor: Some("not-a-uuid".into()),
            limit: Some(0),
            overdue: None,
        };
        let Err(Error::Invalid(errors)) = ContractQuery::parse(params) else {
            panic!("expected invalid input");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["state", "cursor", "limit"]);
    }

    #[test]
    fn a_search_text_too_long_is_named_too() {
        let params = ListParams {
            state: Some("pending".into()),
            q: Some("x".repeat(MAX_SEARCH_CHARS + 1)),
            cursor: Some("not-a-uuid".into()),
            limit: Some(0),
            overdue: None,
        };
        let Err(Error::Invalid(errors)) = ContractQuery::parse(params) else {
            panic!("expected invalid input");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["state", "cursor", "limit", "q"]);
    }

    #[test]
    fn a_good_query_is_typed() {
        let params = ListParams {
            state: Some("legal_review".into()),
            q: Some("  道路  ".into()),
            overdue: Some(true),
            ..ListParams::default()
        };
        let query = ContractQuery::parse(params).unwrap();
        assert_eq!(query.state, Some(ContractState::LegalReview));
        assert_eq!(query.text.as_deref(), Some("道路"));
        assert!(query.overdue);
        assert_eq!(query.limit, DEFAULT_PAGE_SIZE);
    }
}
