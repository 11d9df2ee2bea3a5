//! The management reports: contracts by state and by finding category, how long reviews take,
//! which reviews are overdue, and the half-year summary of the court-judgment register. All
//! within the reader's view.

use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::contracts::{ListParams, MAX_PAGE_SIZE};
use super::{Service, now};
use crate::domain::{ContractState, Principal};
use crate::error::Result;
use crate::store::{Contract, JudgmentSummary, StageChange};

/// One bar of a chart: a key, what people read, a count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub key: String,
    pub label: String,
    pub count: i64,
}

/// How long reviews took from submission to a decision (approval, return or rejection).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewTimes {
    pub decided: usize,
    pub median_hours: Option<f64>,
    /// `(contract, hours)` for each decided review, in order, for the CSV.
    pub reviews: Vec<(Uuid, f64)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Reports {
    pub by_state: Vec<Tally>,
    pub by_category: Vec<Tally>,
    pub review_times: ReviewTimes,
    /// Contracts whose current review stage is past its deadline, the oldest deadline first.
    pub overdue: Vec<Contract>,
    pub period: String,
    pub judgments: Vec<JudgmentSummary>,
}

/// The half-year containing `at`, e.g. `2026H2`.
pub fn half_year_of(at: DateTime<Utc>) -> String {
    let half = if at.month() <= 6 { 1 } else { 2 };
    format!("{}H{half}", at.year())
}

/// Review spans from each submission to the decision that ends it. A withdrawal ends a review
/// without a decision and is not counted; a review still open is not counted either.
pub fn review_times(changes: &[StageChange]) -> ReviewTimes {
    let mut reviews = Vec::new();
    let mut open: Option<(Uuid, DateTime<Utc>)> = None;
    for change in changes {
        if open.is_some_and(|(contract, _)| contract != change.contract_id) {
            open = None;
        }
        match change.to_state {
            ContractState::LegalReview if open.is_none() => {
                open = Some((change.contract_id, change.at));
            }
            ContractState::Approved
            | ContractState::Rejected
            | ContractState::RevisionRequested => {
                if let Some((contract, since)) = open.take() {
                    let hours = (change.at - since).num_seconds() as f64 / 3600.0;
                    reviews.push((contract, hours));
                }
            }
            ContractState::Withdrawn => open = None,
            _ => {}
        }
    }
    let mut hours: Vec<f64> = reviews.iter().map(|(_, h)| *h).collect();
    hours.sort_by(f64::total_cmp);
    let median_hours = match hours.len() {
        0 => None,
        n if n % 2 == 1 => Some(hours[n / 2]),
        n => Some((hours[n / 2 - 1] + hours[n / 2]) / 2.0),
    };
    ReviewTimes {
        decided: reviews.len(),
        median_hours,
        reviews,
    }
}

impl Service {
    /// Every report for `period` (a half-year such as `2026H2`; the current one when absent).
    ///
    /// # Errors
    /// 422 for a malformed period.
    pub async fn reports(&self, principal: &Principal, period: Option<&str>) -> Result<Reports> {
        let period = period
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map_or_else(|| half_year_of(now()), str::to_owned);
        let judgments = self.judgment_report(principal, &period).await?;
        let data = self.store.report_data(principal.visibility()).await?;
        let workflow = self.current_workflow();
        let by_state = data
            .by_state
            .into_iter()
            .map(|(key, count)| Tally {
                label: ContractState::parse(&key)
                    .ok()
                    .and_then(|state| workflow.state(state))
                    .map_or_else(|| key.clone(), |s| s.label.clone()),
                key,
                count,
            })
            .collect();
        let by_category = data
            .by_category
            .into_iter()
            .map(|(key, count)| Tally {
                label: self
                    .rules
                    .categories
                    .iter()
                    .find(|c| c.id == key)
                    .map_or_else(|| key.clone(), |c| c.label.clone()),
                key,
                count,
            })
            .collect();
        let mut overdue = self
            .list_contracts(
                principal,
                ListParams {
                    overdue: Some(true),
                    limit: Some(MAX_PAGE_SIZE),
                    ..ListParams::default()
                },
            )
            .await?
            .items;
        overdue.sort_by_key(|c| c.due_at);
        Ok(Reports {
            by_state,
            by_category,
            review_times: review_times(&data.stage_changes),
            overdue,
            period,
            judgments,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn change(contract: Uuid, to_state: ContractState, hours: i64) -> StageChange {
        let start = Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap();
        StageChange {
            contract_id: contract,
            to_state,
            at: start + Duration::hours(hours),
        }
    }

    #[test]
    fn a_review_runs_from_submission_to_the_decision() {
        use ContractState::*;
        let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let changes = [
            // a: returned after 10 h, resubmitted, approved via lead review after 20 h more
            change(a, LegalReview, 0),
            change(a, RevisionRequested, 10),
            change(a, LegalReview, 30),
            change(a, LeadReview, 40),
            change(a, Approved, 50),
            // b: withdrawn during review, not a decision
            change(b, LegalReview, 0),
            change(b, Withdrawn, 5),
            // c: still in review when its contract's rows end
            change(c, LegalReview, 0),
        ];
        let times = review_times(&changes);
        assert_eq!(times.decided, 2);
        assert_eq!(times.median_hours, Some(15.0));
        assert_eq!(times.reviews, vec![(a, 10.0), (a, 20.0)]);
    }

    #[test]
    fn no_decisions_have_no_median() {
        assert_eq!(review_times(&[]).median_hours, None);
    }

    #[test]
    fn half_years() {
        let at = |m| Utc.with_ymd_and_hms(2026, m, 1, 0, 0, 0).unwrap();
        assert_eq!(half_year_of(at(6)), "2026H1");
        assert_eq!(half_year_of(at(7)), "2026H2");
    }
}
