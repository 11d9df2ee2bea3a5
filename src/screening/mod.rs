//! The legality screen: finds the clauses where the agency would do what the 2012 opinions forbid
//! (part 三) or the payment regulation does not allow, each finding pointing at its clause and
//! citing the documents it rests on. Pure: the text, the submission's facts and the rule book go
//! in, findings, a checklist and what the text says about itself come out.

mod anchors;
pub mod document;
pub mod eval;
pub mod infer;
pub mod matcher;
pub mod normalize;
pub mod numerals;
pub mod parties;
pub mod payment;
pub mod report;
pub mod rules;
pub mod terms;

pub use infer::Inferred;
pub use matcher::screen;
pub use report::{ChecklistItem, Facts, Finding, Report, Span, Status, UnpaidJudgment};
pub use rules::{Basis, RuleBook, Severity};
