//! The management reports: contracts by state and by finding category, how long reviews take,
//! which reviews are overdue, and the half-year summary of the court-judgment register. All
//! within the reader's view.

use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::listing::{ContractQuery, MAX_PAGE_SIZE};
use super::{Service, now};
use crate::domain::{Contract, JudgmentSummary};
use crate::domain::{ContractState, Principal};
use crate::error::Result;
use crate::store::StageChange;

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

/// Day ranges for the charts of review times and of lateness: `(upper bound in hours, label)`.
const DAY_BUCKETS: [(f64, &str); 5] = [
    (24.0, "1 天内 within 1 day"),
    (72.0, "1–3 天 1–3 days"),
    (168.0, "3–7 天 3–7 days"),
    (360.0, "7–15 天 7–15 days"),
    (f64::INFINITY, "15 天以上 over 15 days"),
];

/// Counts durations (in hours) per range of days; every range is listed, empty or not.
pub fn by_days(hours: impl IntoIterator<Item = f64>) -> Vec<Tally> {
    let mut counts = [0i64; DAY_BUCKETS.len()];
    for h in hours {
        let bucket = DAY_BUCKETS
            .iter()
            .position(|(upper, _)| h < *upper)
            .unwrap_or(DAY_BUCKETS.len() - 1);
        counts[bucket] += 1;
    }
    DAY_BUCKETS
        .iter()
        .zip(counts)
        .enumerate()
        .map(|(i, ((_, label), count))| Tally {
            key: format!("range{}", i + 1),
            label: (*label).to_owned(),
            count,
        })
        .collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct Reports {
    pub by_state: Vec<Tally>,
    pub by_category: Vec<Tally>,
    pub review_times: ReviewTimes,
    /// Decided reviews by how many days they took.
    pub review_days: Vec<Tally>,
    /// Contracts whose current review stage is past its deadline, the oldest deadline first.
    pub overdue: Vec<Contract>,
    /// Overdue reviews by how many days late they are.
    pub overdue_days: Vec<Tally>,
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
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id))]
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
            .map(|(state, count)| Tally {
                key: state.as_str().to_owned(),
                label: workflow
                    .state(state)
                    .map_or_else(|| state.to_string(), |s| s.label.clone()),
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
                &ContractQuery {
                    overdue: true,
                    limit: MAX_PAGE_SIZE,
                    ..ContractQuery::default()
                },
            )
            .await?
            .items;
        overdue.sort_by_key(|c| c.due_at);
        let at = now();
        let overdue_days = by_days(
            overdue
                .iter()
                .filter_map(|c| c.due_at)
                .map(|due| (at - due).num_seconds() as f64 / 3600.0),
        );
        let review_times = review_times(&data.stage_changes);
        Ok(Reports {
            by_state,
            by_category,
            review_days: by_days(review_times.reviews.iter().map(|(_, h)| *h)),
            review_times,
            overdue,
            overdue_days,
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
    fn durations_fall_into_day_ranges() {
        let tallies = by_days([1.0, 23.9, 24.0, 100.0, 1000.0]);
        let counts: Vec<i64> = tallies.iter().map(|t| t.count).collect();
        assert_eq!(counts, [2, 1, 1, 0, 1]);
        assert_eq!(tallies[4].label, "15 天以上 over 15 days");
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
