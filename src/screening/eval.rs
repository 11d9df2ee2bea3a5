//! Measuring the screen on labelled texts: per category and overall precision and recall,
//! counting per document whether each category was flagged when it should have been.
//!
//! Two corpus formats are read (the loading lives in `screen_cli`, this module only parses):
//! our own drafts in `tests/corpus/` (a `+++` TOML front matter on each Markdown file) and the
//! real-text corpora with a `labels.json` beside the texts (`../shared/corpus/{a,b,c}`), whose
//! facts are the ones the shared scoring script gives: the declared contract type, the party
//! label as the agency, a secured funding source and one unpaid procurement-arrears judgment.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::matcher::{Facts, UnpaidJudgment, screen};
use super::rules::RuleBook;
use crate::domain::ContractType;

/// A corpus document's front matter: the facts and the expected categories.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Label {
    pub contract_type: ContractType,
    #[serde(default = "default_agency_party")]
    pub agency_party: String,
    #[serde(default)]
    pub counterparty: String,
    pub funding_source: Option<String>,
    pub title: Option<String>,
    #[serde(default)]
    pub unpaid_judgments: Vec<UnpaidJudgment>,
    /// The categories a reviewer would flag; empty for a clean draft.
    pub expect: Vec<String>,
    /// Where the text comes from.
    pub source: String,
}

fn default_agency_party() -> String {
    "甲方".to_owned()
}

/// One entry of a `labels.json` file.
#[derive(Debug, Clone, Deserialize)]
pub struct SharedLabel {
    /// Relative to the corpus folder or to its parent (`a/001.md`).
    pub file: String,
    #[serde(default)]
    pub lang: String,
    #[serde(default)]
    pub agency_party: String,
    /// What the clauses call the agency; it is the agency party of the facts.
    pub party_label: String,
    pub contract_type: ContractType,
    pub expected: Vec<String>,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub note: String,
}

/// The categories a `labels.json` corpus is labelled for (the others are never expected
/// there, so they are not counted against the screen).
pub const SHARED_CATEGORIES: [&str; 7] = [
    "business",
    "guarantee",
    "credit_purchase",
    "contractor_advance",
    "no_funding_source",
    "restricted_purchase",
    "luxury_building",
];

/// A labelled text ready to screen.
#[derive(Debug, Clone)]
pub struct Case {
    /// How mistakes name it: `a/001.md`, `zh-credit-90.md`.
    pub name: String,
    pub facts: Facts,
    pub expected: BTreeSet<String>,
    pub body: String,
    /// The categories this case is judged on; `None` for all of the rule book's.
    pub scored: Option<BTreeSet<String>>,
}

impl Case {
    /// A case of our own corpus.
    pub fn from_label(name: String, label: Label, body: String) -> Self {
        Self {
            name,
            facts: Facts {
                contract_type: Some(label.contract_type),
                agency_party: Some(label.agency_party),
                counterparty: Some(label.counterparty),
                amount_fen: None,
                funding_source: label.funding_source,
                title: label.title,
                unpaid_judgments: label.unpaid_judgments,
            },
            expected: label.expect.into_iter().collect(),
            body,
            scored: None,
        }
    }

    /// A case of a `labels.json` corpus, with the facts the shared scoring script gives.
    pub fn from_shared(label: SharedLabel, body: String) -> Self {
        Self {
            facts: Facts {
                contract_type: Some(label.contract_type),
                agency_party: Some(label.party_label),
                counterparty: None,
                amount_fen: None,
                funding_source: Some("财政预算资金已批复 approved budget appropriation".into()),
                title: None,
                unpaid_judgments: vec![UnpaidJudgment {
                    kind: "procurement_arrears".into(),
                    outstanding_fen: 5_000_000,
                }],
            },
            name: label.file,
            expected: label.expected.into_iter().collect(),
            body,
            scored: Some(SHARED_CATEGORIES.iter().map(|c| (*c).to_owned()).collect()),
        }
    }
}

/// Splits `+++ toml +++ markdown`.
///
/// # Errors
/// A message when the front matter is missing or invalid.
pub fn parse_document(name: &str, text: &str) -> Result<(Label, String), String> {
    let text = text.replace("\r\n", "\n");
    let rest = text
        .strip_prefix("+++\n")
        .ok_or_else(|| format!("{name}: no +++ front matter"))?;
    let (front, body) = rest
        .split_once("\n+++\n")
        .ok_or_else(|| format!("{name}: front matter not closed"))?;
    let label: Label = toml::from_str(front).map_err(|e| format!("{name}: {}", e.message()))?;
    Ok((label, body.to_owned()))
}

/// Parses a `labels.json` file.
///
/// # Errors
/// A message when the JSON is not a list of labels.
pub fn parse_labels(name: &str, json: &str) -> Result<Vec<SharedLabel>, String> {
    serde_json::from_str(json).map_err(|e| format!("{name}: {e}"))
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub true_positives: usize,
    pub false_positives: usize,
    pub false_negatives: usize,
}

impl Counts {
    pub fn precision(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        )
    }

    pub fn recall(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
        )
    }

    fn add(&mut self, other: Counts) {
        self.true_positives += other.true_positives;
        self.false_positives += other.false_positives;
        self.false_negatives += other.false_negatives;
    }
}

fn ratio(numerator: usize, denominator: usize) -> f64 {
    if denominator == 0 {
        1.0
    } else {
        numerator as f64 / denominator as f64
    }
}

/// Whether a category was missed or flagged without reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mistake {
    Missed,
    FalseAlarm,
}

impl Mistake {
    pub fn as_str(self) -> &'static str {
        match self {
            Mistake::Missed => "missed",
            Mistake::FalseAlarm => "false alarm",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    pub documents: usize,
    pub per_category: BTreeMap<String, Counts>,
    pub overall: Counts,
    /// (document, category, mistake) for every mistake.
    pub mistakes: Vec<(String, String, Mistake)>,
}

impl Evaluation {
    /// The lowest recall of any category that has positives.
    pub fn worst_recall(&self) -> Option<(&str, f64)> {
        self.per_category
            .iter()
            .filter(|(_, c)| c.true_positives + c.false_negatives > 0)
            .map(|(k, c)| (k.as_str(), c.recall()))
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }
}

/// Screens every case and compares.
pub fn evaluate(book: &RuleBook, cases: &[Case]) -> Evaluation {
    let mut evaluation = Evaluation::default();
    let all: BTreeSet<String> = book.categories.iter().map(|c| c.id.clone()).collect();
    for case in cases {
        let scored = case.scored.as_ref().unwrap_or(&all);
        for category in scored {
            evaluation.per_category.entry(category.clone()).or_default();
        }
        let found: BTreeSet<String> = screen(book, &case.body, &case.facts)
            .findings
            .into_iter()
            .map(|f| f.category)
            .filter(|c| scored.contains(c))
            .collect();
        let expected: BTreeSet<String> = case
            .expected
            .iter()
            .filter(|c| scored.contains(*c))
            .cloned()
            .collect();
        for category in found.union(&expected) {
            let (hit, wanted) = (found.contains(category), expected.contains(category));
            let counts = Counts {
                true_positives: usize::from(hit && wanted),
                false_positives: usize::from(hit && !wanted),
                false_negatives: usize::from(!hit && wanted),
            };
            if counts.false_positives > 0 {
                evaluation.mistakes.push((
                    case.name.clone(),
                    category.clone(),
                    Mistake::FalseAlarm,
                ));
            }
            if counts.false_negatives > 0 {
                evaluation
                    .mistakes
                    .push((case.name.clone(), category.clone(), Mistake::Missed));
            }
            evaluation
                .per_category
                .entry(category.clone())
                .or_default()
                .add(counts);
            evaluation.overall.add(counts);
        }
        evaluation.documents += 1;
    }
    evaluation
}
