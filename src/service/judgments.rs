//! The court-judgment register: effective judgments against agencies, what was paid, and the
//! half-yearly summary (part 四(一): reporting in June and December). The screen reads it: unpaid
//! judgments block new vehicles and equipment, construction arrears block new projects.

use chrono::NaiveDate;
use uuid::Uuid;

use super::{Caller, Service, now};
use crate::domain::field::bounded_text;
use crate::domain::money::MAX_FEN;
use crate::domain::{
    FieldErrors, Judgment, JudgmentKind, JudgmentPayment, JudgmentStatus, JudgmentSummary,
    Principal, Role,
};
use crate::error::{Error, Result};

/// A judgment as an admin or reviewer registers it.
#[derive(Debug, Clone)]
pub struct JudgmentInput {
    pub case_number: String,
    pub court: String,
    pub agency_id: Uuid,
    pub kind: String,
    pub amount_due_fen: i64,
    pub amount_paid_fen: i64,
    pub effective_on: NaiveDate,
    pub due_on: Option<NaiveDate>,
}

/// A reporting half-year, e.g. `2026H2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Period {
    /// # Errors
    /// A bilingual message for anything but `YYYYH1` or `YYYYH2`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "期间须为 2026H1 或 2026H2 这样的半年 / period must look like 2026H1 or 2026H2, not {raw:?}"
            )
        };
        let (year, half) = raw.trim().split_once(['H', 'h']).ok_or_else(bad)?;
        let year: i32 = year.parse().map_err(|_| bad())?;
        if !(2000..=2099).contains(&year) {
            return Err(bad());
        }
        let (start, end) = match half {
            "1" => ((year, 1, 1), (year, 6, 30)),
            "2" => ((year, 7, 1), (year, 12, 31)),
            _ => return Err(bad()),
        };
        let date = |(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).ok_or_else(bad);
        Ok(Self {
            start: date(start)?,
            end: date(end)?,
        })
    }
}

fn require_writer(principal: &Principal) -> Result<()> {
    if principal.has(Role::Admin)
        || principal.has(Role::Reviewer)
        || principal.has(Role::LeadReviewer)
    {
        Ok(())
    } else {
        Err(Error::forbidden(
            "只有管理员和审查人可以登记生效裁判 / only admins and reviewers maintain the register",
        ))
    }
}

impl Service {
    /// # Errors
    /// 403 for other roles; 422 naming every invalid field or an agency outside the caller's
    /// jurisdiction; 409 for a case number already registered.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id))]
    pub async fn create_judgment(
        &self,
        principal: &Principal,
        input: JudgmentInput,
    ) -> Result<Judgment> {
        require_writer(principal)?;
        let mut errors = FieldErrors::default();
        let case_number = errors.check("case_number", bounded_text(&input.case_number, 100));
        let court = errors.check("court", bounded_text(&input.court, 100));
        let kind = errors.check("kind", JudgmentKind::parse(&input.kind));
        if !(1..=MAX_FEN).contains(&input.amount_due_fen) {
            errors.add("amount_due_fen", "应付金额须为正数且不超过上限 / the amount due must be positive and within the limit");
        }
        if !(0..=input.amount_due_fen.max(0)).contains(&input.amount_paid_fen) {
            errors.add("amount_paid_fen", "已付金额须在 0 与应付金额之间 / the amount paid must be between 0 and the amount due");
        }
        if input.due_on.is_some_and(|due| due < input.effective_on) {
            errors.add(
                "due_on",
                "履行期限早于生效日期 / due_on is before effective_on",
            );
        }
        if self.store.agency(input.agency_id).await?.is_none() {
            errors.add("agency_id", "机构不存在 / no such agency");
        } else if !self
            .store
            .agency_within(input.agency_id, principal.agency_id)
            .await?
        {
            errors.add(
                "agency_id",
                "该机构不在您的管辖范围内 / that agency is outside your jurisdiction",
            );
        }
        let (Some(case_number), Some(court), Some(kind), true) =
            (case_number, court, kind, errors.is_empty())
        else {
            return Err(Error::Invalid(errors.into_vec()));
        };
        let at = now();
        let judgment = Judgment {
            id: Uuid::now_v7(),
            case_number,
            court,
            agency_id: input.agency_id,
            kind,
            amount_due_fen: input.amount_due_fen,
            amount_paid_fen: input.amount_paid_fen,
            effective_on: input.effective_on,
            due_on: input.due_on,
            status: JudgmentStatus::of(input.amount_due_fen, input.amount_paid_fen),
            created_at: at,
            updated_at: at,
        };
        self.store
            .create_judgment(&judgment, Caller::User(principal).audit())
            .await?;
        Ok(judgment)
    }

    /// The judgments in the caller's view: an agency's staff see their own agency's.
    ///
    /// # Errors
    /// Only on database failures.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id))]
    pub async fn list_judgments(&self, principal: &Principal) -> Result<Vec<Judgment>> {
        Ok(self.store.list_judgments(principal.visibility()).await?)
    }

    /// Records a payment against a judgment.
    ///
    /// # Errors
    /// 403 for other roles; 404 outside the caller's jurisdiction; 422 for a bad amount or date.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id, id = %id))]
    pub async fn record_judgment_payment(
        &self,
        principal: &Principal,
        id: Uuid,
        amount_fen: i64,
        paid_on: NaiveDate,
    ) -> Result<Judgment> {
        require_writer(principal)?;
        let not_found = || Error::not_found("没有该裁判 / no such judgment");
        let judgment = self.store.judgment(id).await?.ok_or_else(not_found)?;
        if !self
            .store
            .agency_within(judgment.agency_id, principal.agency_id)
            .await?
        {
            return Err(not_found());
        }
        let outstanding = judgment.outstanding_fen();
        if amount_fen <= 0 || amount_fen > outstanding {
            return Err(Error::invalid(
                "amount_fen",
                format!(
                    "付款须为正数且不超过未付金额 {outstanding} 分 / the payment must be positive and at most the {outstanding} fen outstanding"
                ),
            ));
        }
        if paid_on < judgment.effective_on {
            return Err(Error::invalid(
                "paid_on",
                "付款日期早于裁判生效日期 / paid_on is before the judgment took effect",
            ));
        }
        let payment = JudgmentPayment {
            judgment_id: id,
            amount_fen,
            paid_on,
        };
        self.store
            .record_judgment_payment(&payment, Caller::User(principal).audit())
            .await?;
        self.store.judgment(id).await?.ok_or_else(not_found)
    }

    /// The half-yearly summary per agency in the caller's view.
    ///
    /// # Errors
    /// 422 for a malformed period.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id))]
    pub async fn judgment_report(
        &self,
        principal: &Principal,
        period: &str,
    ) -> Result<Vec<JudgmentSummary>> {
        let period = Period::parse(period).map_err(|message| Error::invalid("period", message))?;
        Ok(self
            .store
            .judgment_report(principal.visibility(), period.start, period.end)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_years_parse() {
        let h2 = Period::parse("2026H2").unwrap();
        assert_eq!(
            (h2.start.to_string(), h2.end.to_string()),
            ("2026-07-01".into(), "2026-12-31".into())
        );
        assert!(Period::parse("2026H3").is_err());
        assert!(Period::parse("H1").is_err());
        assert!(Period::parse("2026-06").is_err());
        assert!(Period::parse("0H1").is_err());
        assert!(Period::parse("99999H1").is_err());
    }
}
