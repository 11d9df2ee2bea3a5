//! Measuring the screen on a labelled corpus: per category and overall precision and recall,
//! counting per document whether each category was flagged when it should have been.

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

#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    pub documents: usize,
    pub per_category: BTreeMap<String, Counts>,
    pub overall: Counts,
    /// (document, category, "missed" | "spurious") for every mistake.
    pub mistakes: Vec<(String, String, &'static str)>,
}

/// Screens every labelled document and compares.
pub fn evaluate(book: &RuleBook, documents: &[(String, Label, String)]) -> Evaluation {
    let mut evaluation = Evaluation::default();
    for category in &book.categories {
        evaluation
            .per_category
            .insert(category.id.clone(), Counts::default());
    }
    for (name, label, body) in documents {
        let facts = Facts {
            contract_type: Some(label.contract_type),
            agency_party: Some(label.agency_party.clone()),
            counterparty: Some(label.counterparty.clone()),
            amount_fen: None,
            funding_source: label.funding_source.clone(),
            title: label.title.clone(),
            unpaid_judgments: label.unpaid_judgments.clone(),
        };
        let found: BTreeSet<String> = screen(book, body, &facts)
            .findings
            .into_iter()
            .map(|f| f.category)
            .collect();
        let expected: BTreeSet<String> = label.expect.iter().cloned().collect();
        for category in found.union(&expected) {
            let counts = Counts {
                true_positives: usize::from(
                    found.contains(category) && expected.contains(category),
                ),
                false_positives: usize::from(
                    found.contains(category) && !expected.contains(category),
                ),
                false_negatives: usize::from(
                    !found.contains(category) && expected.contains(category),
                ),
            };
            if counts.false_positives > 0 {
                evaluation
                    .mistakes
                    .push((name.clone(), category.clone(), "spurious"));
            }
            if counts.false_negatives > 0 {
                evaluation
                    .mistakes
                    .push((name.clone(), category.clone(), "missed"));
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
