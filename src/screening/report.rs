//! What the screen hands back: findings (one per rule and clause, every matching sentence
//! listed), the checklist of every category, and what the text itself says about the
//! submission. The JSON keeps the fields operators rely on (`rule, category, severity,
//! clause, start, end, excerpt, provision, advice`) and adds `spans`, `basis`, `citation`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::infer::Inferred;
use super::rules::{Basis, Severity};
use crate::domain::ContractType;

/// One of the agency's entries in the court-judgment register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnpaidJudgment {
    /// `construction_arrears`, `procurement_arrears`, `administrative_compensation`, `business_debt`, `other`.
    pub kind: String,
    pub outstanding_fen: i64,
}

/// The submission's facts (the `--facts` JSON of `contract-review screen`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Facts {
    pub contract_type: Option<ContractType>,
    pub agency_party: Option<String>,
    pub counterparty: Option<String>,
    pub amount_fen: Option<i64>,
    pub funding_source: Option<String>,
    /// The contract's title or project description: context for the screen, and a finding of
    /// its own only where the body says nothing of the kind.
    pub title: Option<String>,
    #[serde(default)]
    pub unpaid_judgments: Vec<UnpaidJudgment>,
}

/// One matching sentence of a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Span {
    /// Byte offsets in the Markdown.
    pub start: usize,
    pub end: usize,
    pub excerpt: String,
}

/// A finding of a screen just run (the self-check); stored findings are `Finding`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = ScreenFinding)]
pub struct Finding {
    pub rule: String,
    pub category: String,
    pub severity: Severity,
    /// The clause path, e.g. "第五条 付款方式 › 2".
    pub clause: String,
    /// Byte offsets of the first matching sentence in the Markdown (0..0 for findings on facts
    /// or the title).
    pub start: usize,
    pub end: usize,
    pub excerpt: String,
    /// The short provision id (`三(二)`); the documents themselves are in `basis`.
    pub provision: String,
    pub explanation: String,
    pub advice: String,
    /// Every matching sentence of the clause (or of the document, for rules on the subject).
    pub spans: Vec<Span>,
    /// The documents the finding rests on, by title and article: the opinions and the statute.
    pub basis: Vec<Basis>,
    /// The same as one line a reviewer can put in the opinion letter.
    pub citation: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Flagged,
    Clear,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ChecklistItem {
    pub category: String,
    pub label: String,
    pub provision: String,
    pub status: Status,
    /// What was looked at, so that "clear" means checked, not skipped.
    pub examined: String,
    /// The documents the category rests on.
    pub citation: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub checklist: Vec<ChecklistItem>,
    /// The contract type and agency party the text suggests, with notes.
    pub inferred: Inferred,
}

impl Report {
    pub fn has_blocking(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Block)
    }
}

const MAX_EXCERPT_CHARS: usize = 200;

/// At most [`MAX_EXCERPT_CHARS`] characters of `text`, with an ellipsis when cut.
pub fn excerpt(text: &str) -> String {
    let mut chars = text.char_indices();
    match chars.nth(MAX_EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}
