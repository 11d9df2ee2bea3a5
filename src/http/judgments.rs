//! `/judgments`: the court-judgment register, and `/reports/judgments`: its half-yearly summary.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::domain::{Judgment, JudgmentKind, JudgmentSummary};
use crate::error::{Problem, Result};
use crate::service::judgments::JudgmentInput;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_judgment, list_judgments))
        .routes(routes!(record_payment))
        .routes(routes!(report))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateJudgmentRequest {
    /// 案号.
    pub case_number: String,
    pub court: String,
    pub agency_id: Uuid,
    #[schema(value_type = JudgmentKind)]
    pub kind: String,
    pub amount_due_fen: i64,
    #[serde(default)]
    pub amount_paid_fen: i64,
    pub effective_on: NaiveDate,
    pub due_on: Option<NaiveDate>,
}

/// Register an effective judgment against an agency (admins and reviewers, own jurisdiction).
#[utoipa::path(post, path = "/judgments", tag = "judgments", security(("bearer" = [])), request_body = CreateJudgmentRequest, responses(
    (status = 201, description = "Registered", body = Judgment),
    (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Neither admin nor reviewer", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "The case number is already registered", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
))]
async fn create_judgment(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(r): ApiJson<CreateJudgmentRequest>,
) -> Result<(StatusCode, Json<Judgment>)> {
    let input = JudgmentInput {
        case_number: r.case_number,
        court: r.court,
        agency_id: r.agency_id,
        kind: r.kind,
        amount_due_fen: r.amount_due_fen,
        amount_paid_fen: r.amount_paid_fen,
        effective_on: r.effective_on,
        due_on: r.due_on,
    };
    Ok((
        StatusCode::CREATED,
        Json(
            state
                .service
                .create_judgment(&auth.principal, input)
                .await?,
        ),
    ))
}

/// The judgments in the caller's view (an agency reads its own).
#[utoipa::path(get, path = "/judgments", tag = "judgments", security(("bearer" = [])), responses(
    (status = 200, description = "Judgments, latest first", body = [Judgment]),
    (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
))]
async fn list_judgments(State(state): State<AppState>, auth: Auth) -> Result<Json<Vec<Judgment>>> {
    Ok(Json(state.service.list_judgments(&auth.principal).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    pub amount_fen: i64,
    pub paid_on: NaiveDate,
}

/// Record a payment against a judgment.
#[utoipa::path(post, path = "/judgments/{id}/payments", tag = "judgments", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = PaymentRequest, responses(
    (status = 200, description = "The judgment after the payment", body = Judgment),
    (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Neither admin nor reviewer", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such judgment in the caller's jurisdiction", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "A bad amount or date", body = Problem, content_type = "application/problem+json"),
))]
async fn record_payment(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(r): ApiJson<PaymentRequest>,
) -> Result<Json<Judgment>> {
    Ok(Json(
        state
            .service
            .record_judgment_payment(&auth.principal, id, r.amount_fen, r.paid_on)
            .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// The half-year, e.g. `2026H2`.
    pub period: String,
    /// `json` (default) or `csv`; `Accept: text/csv` also gives CSV.
    pub format: Option<String>,
}

/// The half-yearly summary per agency: judgments unpaid at the end of the period, the amount
/// outstanding, and what was paid in the period.
#[utoipa::path(get, path = "/reports/judgments", tag = "judgments", security(("bearer" = [])), params(ReportQuery), responses(
    (status = 200, description = "The summary", body = [JudgmentSummary], content_type = "application/json"),
    (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "A malformed period", body = Problem, content_type = "application/problem+json"),
))]
async fn report(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Response> {
    let rows = state
        .service
        .judgment_report(&auth.principal, &query.period)
        .await?;
    let wants_csv = query.format.as_deref() == Some("csv")
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/csv"));
    if !wants_csv {
        return Ok(Json(rows).into_response());
    }
    let filename = format!("judgments-{}.csv", query.period.trim());
    super::csv::attachment(&filename, &super::csv::judgment_table(&rows))
}
