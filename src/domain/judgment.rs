//! The court-judgment register (part 四 of the 2012 opinions): effective judgments against
//! agencies and what has been paid on them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::choice::parse_choice;

/// What a judgment is about.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    ToSchema,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum JudgmentKind {
    ConstructionArrears,
    ProcurementArrears,
    AdministrativeCompensation,
    BusinessDebt,
    Other,
}

impl JudgmentKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// # Errors
    /// A bilingual message listing the valid values.
    pub fn parse(raw: &str) -> Result<Self, String> {
        parse_choice(raw, "裁判类型", "judgment kind")
    }
}

impl TryFrom<String> for JudgmentKind {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        JudgmentKind::parse(&raw)
    }
}

/// How far a judgment has been paid; decided from the amounts, here only.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema, strum::EnumString, strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum JudgmentStatus {
    Unpaid,
    PartiallyPaid,
    Paid,
}

impl JudgmentStatus {
    pub fn of(amount_due_fen: i64, amount_paid_fen: i64) -> Self {
        if amount_paid_fen >= amount_due_fen {
            JudgmentStatus::Paid
        } else if amount_paid_fen > 0 {
            JudgmentStatus::PartiallyPaid
        } else {
            JudgmentStatus::Unpaid
        }
    }

    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// An effective court judgment against an agency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Judgment {
    pub id: Uuid,
    /// 案号, e.g. (2025)某01民终123号.
    pub case_number: String,
    pub court: String,
    pub agency_id: Uuid,
    pub kind: JudgmentKind,
    pub amount_due_fen: i64,
    pub amount_paid_fen: i64,
    pub effective_on: NaiveDate,
    pub due_on: Option<NaiveDate>,
    pub status: JudgmentStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Judgment {
    pub fn outstanding_fen(&self) -> i64 {
        self.amount_due_fen - self.amount_paid_fen
    }
}

/// A payment made on a judgment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JudgmentPayment {
    pub judgment_id: Uuid,
    pub amount_fen: i64,
    pub paid_on: NaiveDate,
}

/// One agency's line of the half-yearly judgment report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct JudgmentSummary {
    pub agency_id: Uuid,
    pub agency: String,
    /// Judgments not fully paid at the end of the period.
    pub unpaid_count: i64,
    pub outstanding_fen: i64,
    /// Paid during the period.
    pub paid_in_period_fen: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_follows_the_amounts() {
        assert_eq!(JudgmentStatus::of(100, 0), JudgmentStatus::Unpaid);
        assert_eq!(JudgmentStatus::of(100, 40), JudgmentStatus::PartiallyPaid);
        assert_eq!(JudgmentStatus::of(100, 100), JudgmentStatus::Paid);
        assert_eq!(JudgmentStatus::PartiallyPaid.as_str(), "partially_paid");
    }
}
