//! The legality screen: finds the clauses where the agency would do what the 2012 opinions forbid
//! (part 三), each finding pointing at its clause and citing its provision. Pure: the text, the
//! submission's facts and the rule book go in, findings and a checklist come out.

pub mod document;
pub mod eval;
pub mod matcher;
pub mod parties;
pub mod rules;

pub use matcher::{ChecklistItem, Facts, Finding, Report, Status, UnpaidJudgment, screen};
pub use rules::{RuleBook, Severity};
