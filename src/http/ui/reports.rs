//! The reports page: contracts by state and by finding category, the median review time, the
//! overdue reviews and the half-year judgment summary, each as a chart drawn on the server
//! (SVG) and as a CSV download.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use minijinja::{Value, context};
use serde::Deserialize;

use super::session::Session;
use super::{PageResult, render};
use crate::error::Error;
use crate::http::AppState;
use crate::http::csv::{Table, attachment, judgment_table};
use crate::http::extract::ApiPath;
use crate::service::reports::{Reports, Tally};

const BAR_AREA_PX: i64 = 330;
const BAR_ROW_PX: i64 = 30;

#[derive(Deserialize, Default)]
pub struct PeriodQuery {
    #[serde(default)]
    period: String,
}

const LABEL_CHARS: usize = 22;

/// A label that fits the chart's label column.
fn short_label(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS {
        label.to_owned()
    } else {
        let mut short: String = label.chars().take(LABEL_CHARS - 1).collect();
        short.push('…');
        short
    }
}

/// A horizontal bar chart's geometry: one row per tally, bars scaled to the largest.
fn bar_chart(tallies: &[Tally]) -> Value {
    let max = tallies.iter().map(|t| t.count).max().unwrap_or(0).max(1);
    let bars: Vec<Value> = tallies
        .iter()
        .enumerate()
        .map(|(i, t)| {
            context! {
                label => t.label, count => t.count,
                short => short_label(&t.label),
                y => i as i64 * BAR_ROW_PX,
                width => if t.count > 0 { (t.count * BAR_AREA_PX / max).max(2) } else { 0 },
            }
        })
        .collect();
    context! { bars, height => (tallies.len() as i64 * BAR_ROW_PX).max(BAR_ROW_PX) }
}

pub async fn page(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<PeriodQuery>,
) -> PageResult {
    let reports = state
        .service
        .reports(&session.principal, Some(&query.period))
        .await?;
    let judgment_bars: Vec<Tally> = reports
        .judgments
        .iter()
        .map(|j| Tally {
            key: j.agency_id.to_string(),
            label: j.agency.clone(),
            count: j.outstanding_fen / 100,
        })
        .collect();
    render(
        &state,
        &session,
        StatusCode::OK,
        "reports.html",
        context! {
            state_chart => bar_chart(&reports.by_state),
            category_chart => bar_chart(&reports.by_category),
            review_chart => bar_chart(&reports.review_days),
            overdue_chart => bar_chart(&reports.overdue_days),
            judgment_chart => bar_chart(&judgment_bars),
            median_hours => reports.review_times.median_hours.map(|h| format!("{h:.1}")),
            median_days => reports.review_times.median_hours.map(|h| format!("{:.1}", h / 24.0)),
            decided => reports.review_times.decided,
            overdue => reports.overdue,
            period => reports.period,
            judgments => reports.judgments,
        },
    )
}

pub async fn csv(
    State(state): State<AppState>,
    session: Session,
    ApiPath(file): ApiPath<String>,
    Query(query): Query<PeriodQuery>,
) -> PageResult {
    let reports = state
        .service
        .reports(&session.principal, Some(&query.period))
        .await?;
    let name = file.strip_suffix(".csv").unwrap_or_default();
    let table =
        table(name, &reports).ok_or_else(|| Error::not_found("没有这份报表 / no such report"))?;
    let filename = format!("{name}-{}.csv", reports.period);
    attachment(&filename, &table)
}

fn tally_table(tallies: &[Tally], key: &'static str) -> Table {
    Table {
        header: vec![key, "label", "count"],
        rows: tallies
            .iter()
            .map(|t| vec![t.key.clone(), t.label.clone(), t.count.to_string()])
            .collect(),
    }
}

fn table(name: &str, reports: &Reports) -> Option<Table> {
    Some(match name {
        "states" => tally_table(&reports.by_state, "state"),
        "categories" => tally_table(&reports.by_category, "category"),
        "review-times" => Table {
            header: vec!["contract_id", "hours"],
            rows: reports
                .review_times
                .reviews
                .iter()
                .map(|(id, hours)| vec![id.to_string(), format!("{hours:.2}")])
                .collect(),
        },
        "overdue" => Table {
            header: vec!["contract_id", "title", "state", "due_at"],
            rows: reports
                .overdue
                .iter()
                .map(|c| {
                    vec![
                        c.id.to_string(),
                        c.title.clone(),
                        c.state.as_str().to_owned(),
                        c.due_at.map(|d| d.to_rfc3339()).unwrap_or_default(),
                    ]
                })
                .collect(),
        },
        "judgments" => judgment_table(&reports.judgments),
        _ => return None,
    })
}
