//! CSV downloads: a table written with the `csv` crate, sent as an attachment.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::domain::JudgmentSummary;
use crate::error::Result;

/// A header row and the rows under it.
pub struct Table {
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

/// The half-year judgment summary, as both the API and the reports page download it.
pub fn judgment_table(summary: &[JudgmentSummary]) -> Table {
    Table {
        header: vec![
            "agency_id",
            "agency",
            "unpaid_count",
            "outstanding_fen",
            "paid_in_period_fen",
        ],
        rows: summary
            .iter()
            .map(|row| {
                vec![
                    row.agency_id.to_string(),
                    row.agency.clone(),
                    row.unpaid_count.to_string(),
                    row.outstanding_fen.to_string(),
                    row.paid_in_period_fen.to_string(),
                ]
            })
            .collect(),
    }
}

/// # Errors
/// Only if writing to memory fails.
pub fn attachment(filename: &str, table: &Table) -> Result<Response> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(&table.header)
        .map_err(anyhow::Error::from)?;
    for row in &table.rows {
        writer.write_record(row).map_err(anyhow::Error::from)?;
    }
    let body = writer
        .into_inner()
        .map_err(|e| anyhow::anyhow!("writing CSV: {e}"))?;
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    let disposition = format!("attachment; filename=\"{filename}\"");
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
