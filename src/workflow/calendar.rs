//! Review deadlines in working days: Monday to Friday, minus public holidays, plus the weekend
//! days declared working days (调休). Dates are Beijing dates; a deadline ends at midnight
//! Beijing time (China keeps UTC+8 all year).

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Days, FixedOffset, NaiveDate, Offset, Utc, Weekday};
use serde::Deserialize;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkingCalendar {
    holidays: BTreeSet<NaiveDate>,
    working_weekends: BTreeSet<NaiveDate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    #[serde(default)]
    #[allow(dead_code)]
    year: Option<i32>,
    #[serde(default)]
    holidays: Vec<NaiveDate>,
    #[serde(default)]
    working_weekends: Vec<NaiveDate>,
}

pub fn beijing() -> FixedOffset {
    // 8 hours is within FixedOffset's ±24 h range, so this never falls back.
    FixedOffset::east_opt(8 * 3600).unwrap_or(Utc.fix())
}

impl WorkingCalendar {
    /// Parses a calendar file (`holidays = [dates]`, `working_weekends = [dates]`).
    ///
    /// # Errors
    /// A message with the line of the first problem.
    pub fn parse(file: &str, source: &str) -> Result<Self, String> {
        let raw: RawCalendar = toml::from_str(source).map_err(|e| {
            let line = e.span().map_or(1, |span| {
                source[..span.start.min(source.len())].matches('\n').count() + 1
            });
            format!("{file}:{line}: {}", e.message())
        })?;
        let calendar = Self {
            holidays: raw.holidays.into_iter().collect(),
            working_weekends: raw.working_weekends.into_iter().collect(),
        };
        if let Some(day) = calendar.working_weekends.iter().find(|d| !is_weekend(**d)) {
            return Err(format!(
                "{file}: {day} is listed as a working weekend day but is a weekday"
            ));
        }
        Ok(calendar)
    }

    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        if self.working_weekends.contains(&day) {
            return true;
        }
        !is_weekend(day) && !self.holidays.contains(&day)
    }

    /// The `n`th working day after `start` (not counting `start` itself).
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> NaiveDate {
        let mut day = start;
        let mut remaining = n;
        while remaining > 0 {
            day = day.checked_add_days(Days::new(1)).unwrap_or(day);
            if self.is_working_day(day) {
                remaining -= 1;
            }
        }
        day
    }

    /// When a stage entered at `entered` with `sla_days` working days is due: the end of the
    /// last working day, Beijing time.
    pub fn due_at(&self, entered: DateTime<Utc>, sla_days: u32) -> DateTime<Utc> {
        let start = beijing_date(entered);
        let last = self.add_working_days(start, sla_days);
        let end = last.succ_opt().unwrap_or(last);
        end.and_hms_opt(0, 0, 0)
            .and_then(|midnight| midnight.and_local_timezone(beijing()).single())
            .map_or(entered, |local| local.with_timezone(&Utc))
    }
}

impl WorkingCalendar {
    /// The working days still left at `at` before a stage due at `due` (the day of `at` itself
    /// counts as used): what a stopped clock keeps until it runs again.
    pub fn working_days_left(&self, at: DateTime<Utc>, due: DateTime<Utc>) -> u32 {
        let today = beijing_date(at);
        // `due` is the midnight after the last working day.
        let last = beijing_date(due - chrono::Duration::seconds(1));
        let mut day = today;
        let mut left = 0;
        while day < last {
            let Some(next) = day.succ_opt() else { break };
            day = next;
            if self.is_working_day(day) {
                left += 1;
            }
        }
        left
    }
}

/// A review stage's deadline, and the working days a stopped clock keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    pub due_at: Option<DateTime<Utc>>,
    pub paused_days: Option<i64>,
}

impl WorkingCalendar {
    /// The clock after a transition at `at`. A transition that `pauses` (退回补正) stops it and
    /// keeps the working days left; the next stage with a deadline (`sla_days`) runs on with the
    /// days kept, or starts afresh when none are.
    pub fn clock_after(
        &self,
        before: Clock,
        pauses: bool,
        sla_days: Option<u32>,
        at: DateTime<Utc>,
    ) -> Clock {
        if pauses {
            let left = before
                .due_at
                .map_or(0, |due| self.working_days_left(at, due));
            return Clock {
                due_at: None,
                paused_days: Some(i64::from(left)),
            };
        }
        match (sla_days, before.paused_days) {
            (Some(_), Some(kept)) => Clock {
                due_at: Some(self.due_at(at, u32::try_from(kept).unwrap_or(0))),
                paused_days: None,
            },
            (Some(days), None) => Clock {
                due_at: Some(self.due_at(at, days)),
                paused_days: None,
            },
            (None, kept) => Clock {
                due_at: None,
                paused_days: kept,
            },
        }
    }
}

/// The Beijing calendar date at instant `at` (delegations and letters use Beijing dates).
pub fn beijing_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&beijing()).date_naive()
}

/// The last day a stage due at `due_at` may be decided on: a deadline falls at midnight after
/// the last working day, and people read it as that day.
pub fn last_day(due_at: DateTime<Utc>) -> NaiveDate {
    beijing_date(due_at - chrono::Duration::seconds(1))
}

fn is_weekend(day: NaiveDate) -> bool {
    matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calendar() -> WorkingCalendar {
        WorkingCalendar::parse("cn.toml", include_str!("../../workflows/calendar-cn.toml")).unwrap()
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn skips_weekends_and_holidays_and_counts_make_up_days() {
        let cal = calendar();
        assert!(!cal.is_working_day(date("2026-10-01")), "National Day");
        assert!(
            cal.is_working_day(date("2026-10-10")),
            "a Saturday made a working day"
        );
        // Friday 2026-09-18: Mon 21, Tue 22, Wed 23, Thu 24 are working days; Sun 20 is 调休.
        assert_eq!(
            cal.add_working_days(date("2026-09-18"), 1),
            date("2026-09-20")
        );
        // Entering on 2026-09-30: 10-01..07 are off, 10-08 Thu, 10-09 Fri, 10-10 Sat (调休).
        assert_eq!(
            cal.add_working_days(date("2026-09-30"), 3),
            date("2026-10-10")
        );
        // An ordinary week in another year: only weekends count.
        assert_eq!(
            cal.add_working_days(date("2027-03-05"), 5),
            date("2027-03-12")
        );
    }

    #[test]
    fn a_deadline_ends_at_beijing_midnight() {
        let cal = calendar();
        // 2026-11-26 20:00 UTC is already Friday 27 in Beijing; five working days → Fri 4 Dec.
        let entered: DateTime<Utc> = "2026-11-26T20:00:00Z".parse().unwrap();
        let due: DateTime<Utc> = "2026-12-04T16:00:00Z".parse().unwrap();
        assert_eq!(cal.due_at(entered, 5), due);
    }

    #[test]
    fn a_stopped_clock_keeps_the_working_days_left() {
        let cal = calendar();
        // Entered Mon 2026-09-28 with 5 days: 29, 30, then 10-08, 10-09, 10-10 (调休) → due 10-11.
        let entered: DateTime<Utc> = "2026-09-28T02:00:00Z".parse().unwrap();
        let due = cal.due_at(entered, 5);
        assert_eq!(cal.working_days_left(entered, due), 5);
        // Stopped on Wed 30 (Beijing): 08, 09, 10 are left.
        let stopped: DateTime<Utc> = "2026-09-30T03:00:00Z".parse().unwrap();
        assert_eq!(cal.working_days_left(stopped, due), 3);
        // Past the deadline nothing is left.
        let late: DateTime<Utc> = "2026-10-12T03:00:00Z".parse().unwrap();
        assert_eq!(cal.working_days_left(late, due), 0);
    }

    #[test]
    fn a_supplement_request_stops_the_clock_over_a_holiday_and_it_runs_on_after_a_weekend() {
        let cal = calendar();
        let entered: DateTime<Utc> = "2026-09-28T02:00:00Z".parse().unwrap(); // Mon, Beijing 10:00
        let review = cal.clock_after(
            Clock {
                due_at: None,
                paused_days: None,
            },
            false,
            Some(5),
            entered,
        );
        let due: DateTime<Utc> = "2026-10-10T16:00:00Z".parse().unwrap(); // after Sat 10-10 (调休)
        assert_eq!(review.due_at, Some(due));
        // 补正 on Tue 09-29: 09-30, 10-08, 10-09 and 10-10 are left.
        let returned: DateTime<Utc> = "2026-09-29T02:00:00Z".parse().unwrap();
        let paused = cal.clock_after(review, true, None, returned);
        assert_eq!(
            paused,
            Clock {
                due_at: None,
                paused_days: Some(4)
            }
        );
        // Resubmitted on Fri 10-09, after National Day: 10-10 (调休), then Mon 10-12 to Wed 10-14
        // once the weekend has passed.
        let resubmitted: DateTime<Utc> = "2026-10-09T02:00:00Z".parse().unwrap();
        let resumed = cal.clock_after(paused, false, Some(5), resubmitted);
        let new_due: DateTime<Utc> = "2026-10-14T16:00:00Z".parse().unwrap();
        assert_eq!(
            resumed,
            Clock {
                due_at: Some(new_due),
                paused_days: None
            }
        );
        // A plain return does not keep days: the next review starts afresh.
        let fresh = cal.clock_after(
            Clock {
                due_at: Some(due),
                paused_days: None,
            },
            false,
            None,
            returned,
        );
        assert_eq!(
            fresh,
            Clock {
                due_at: None,
                paused_days: None
            }
        );
    }

    #[test]
    fn refuses_a_weekday_listed_as_working_weekend() {
        let error =
            WorkingCalendar::parse("x.toml", r#"working_weekends = ["2026-10-09"]"#).unwrap_err();
        assert!(error.contains("2026-10-09"), "{error}");
    }
}
