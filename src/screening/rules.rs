//! The rule book (`workflows/screening-rules.toml`), validated and compiled: every text rule's
//! triggers, Chinese and English, go into one Aho-Corasick automaton (ASCII case-insensitive,
//! leftmost-longest), so a sentence is scanned once for all rules.

use std::collections::{BTreeMap, BTreeSet};

use aho_corasick::{AhoCorasick, MatchKind};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::domain::ContractType;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Severity {
    Block,
    Warn,
}

impl Severity {
    /// As stored in the `findings.severity` column.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// The agency must be the one acting in the sentence.
    Agency,
    Any,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    #[default]
    Text,
    /// A payment term longer than `max_days` after delivery, acceptance or invoice.
    PaymentDays,
}

/// A check on the submission's facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    ConstructionFundingUnsecured,
    ConstructionWithArrearsJudgments,
}

#[derive(Debug, Clone)]
pub struct Category {
    pub id: String,
    pub label: String,
    pub provision: String,
}

#[derive(Debug, Clone)]
pub struct TextRule {
    pub id: String,
    pub category: String,
    pub severity: Severity,
    pub block_with_unpaid_judgments: bool,
    pub actor: Actor,
    pub kind: Kind,
    pub max_days: u32,
    /// Empty: every contract type.
    pub contract_types: Vec<ContractType>,
    pub context: Vec<String>,
    pub exceptions: Vec<String>,
    pub screen_title: bool,
    pub provision: String,
    pub explanation: String,
    pub advice: String,
}

#[derive(Debug, Clone)]
pub struct FactRule {
    pub id: String,
    pub category: String,
    pub severity: Severity,
    pub check: Check,
    pub unsecured_terms: Vec<String>,
    pub provision: String,
    pub explanation: String,
    pub advice: String,
}

/// The compiled rule book.
#[derive(Debug, Clone)]
pub struct RuleBook {
    pub negation_window: usize,
    pub negations: Vec<String>,
    pub categories: Vec<Category>,
    pub rules: Vec<TextRule>,
    pub facts: Vec<FactRule>,
    /// All triggers of all text rules.
    pub automaton: AhoCorasick,
    /// For each automaton pattern, the index of its rule.
    pub pattern_rule: Vec<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBook {
    #[allow(dead_code)]
    version: i64,
    negation: RawNegation,
    categories: BTreeMap<String, RawCategory>,
    rules: Vec<Spanned<RawRule>>,
    #[serde(default)]
    facts: Vec<Spanned<RawFact>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNegation {
    window: usize,
    terms: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCategory {
    label: String,
    provision: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    category: String,
    severity: Severity,
    #[serde(default)]
    block_with_unpaid_judgments: bool,
    actor: Actor,
    #[serde(default)]
    kind: Kind,
    #[serde(default)]
    max_days: Option<u32>,
    #[serde(default)]
    contract_types: Vec<String>,
    triggers: Vec<String>,
    #[serde(default)]
    context: Vec<String>,
    exceptions: Vec<String>,
    #[serde(default)]
    screen_title: bool,
    explanation: String,
    advice: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFact {
    id: String,
    category: String,
    severity: Severity,
    check: Check,
    #[serde(default)]
    unsecured_terms: Vec<String>,
    explanation: String,
    advice: String,
}

fn line_of(source: &str, offset: usize) -> usize {
    source[..offset.min(source.len())].matches('\n').count() + 1
}

fn lower(terms: &[String]) -> Vec<String> {
    terms.iter().map(|t| t.to_lowercase()).collect()
}

impl RuleBook {
    /// Parses and validates a rule book.
    ///
    /// # Errors
    /// Every problem, as `file:line: message`.
    pub fn parse(file: &str, source: &str) -> Result<Self, Vec<String>> {
        let raw: RawBook = toml::from_str(source).map_err(|e| {
            let line = e.span().map_or(1, |span| line_of(source, span.start));
            vec![format!("{file}:{line}: {}", e.message())]
        })?;
        let mut problems = Vec::new();
        let categories: Vec<Category> = raw
            .categories
            .iter()
            .map(|(id, c)| Category {
                id: id.clone(),
                label: c.label.clone(),
                provision: c.provision.clone(),
            })
            .collect();
        let provision_of = |category: &str| {
            categories
                .iter()
                .find(|c| c.id == category)
                .map(|c| c.provision.clone())
        };
        let mut ids = BTreeSet::new();
        let mut used = BTreeSet::new();
        let mut rules = Vec::new();
        for spanned in &raw.rules {
            let (rule, line) = (spanned.get_ref(), line_of(source, spanned.span().start));
            let mut problem = |message: String| {
                problems.push(format!("{file}:{line}: rule {}: {message}", rule.id))
            };
            if !ids.insert(rule.id.clone()) {
                problem("duplicate id".into());
            }
            let Some(provision) = provision_of(&rule.category) else {
                problem(format!("unknown category `{}`", rule.category));
                continue;
            };
            used.insert(rule.category.clone());
            let contract_types: Vec<ContractType> = rule
                .contract_types
                .iter()
                .filter_map(|t| ContractType::parse(t).map_err(&mut problem).ok())
                .collect();
            if rule.kind == Kind::Text && rule.triggers.is_empty() {
                problem("a text rule needs triggers".into());
            }
            if rule.kind == Kind::PaymentDays && rule.max_days.is_none() {
                problem("a payment_days rule needs max_days".into());
            }
            rules.push((
                TextRule {
                    id: rule.id.clone(),
                    category: rule.category.clone(),
                    severity: rule.severity,
                    block_with_unpaid_judgments: rule.block_with_unpaid_judgments,
                    actor: rule.actor,
                    kind: rule.kind,
                    max_days: rule.max_days.unwrap_or(0),
                    contract_types,
                    context: lower(&rule.context),
                    exceptions: lower(&rule.exceptions),
                    screen_title: rule.screen_title,
                    provision,
                    explanation: rule.explanation.clone(),
                    advice: rule.advice.clone(),
                },
                lower(&rule.triggers),
            ));
        }
        let mut facts = Vec::new();
        for spanned in &raw.facts {
            let (fact, line) = (spanned.get_ref(), line_of(source, spanned.span().start));
            if !ids.insert(fact.id.clone()) {
                problems.push(format!(
                    "{file}:{line}: fact rule {}: duplicate id",
                    fact.id
                ));
            }
            let Some(provision) = provision_of(&fact.category) else {
                problems.push(format!(
                    "{file}:{line}: fact rule {}: unknown category `{}`",
                    fact.id, fact.category
                ));
                continue;
            };
            used.insert(fact.category.clone());
            facts.push(FactRule {
                id: fact.id.clone(),
                category: fact.category.clone(),
                severity: fact.severity,
                check: fact.check,
                unsecured_terms: lower(&fact.unsecured_terms),
                provision,
                explanation: fact.explanation.clone(),
                advice: fact.advice.clone(),
            });
        }
        for category in &categories {
            if !used.contains(&category.id) {
                problems.push(format!(
                    "{file}: category `{}` has no rule: it could never be flagged",
                    category.id
                ));
            }
        }
        let mut patterns = Vec::new();
        let mut pattern_rule = Vec::new();
        for (index, (_, triggers)) in rules.iter().enumerate() {
            for trigger in triggers {
                patterns.push(trigger.clone());
                pattern_rule.push(index);
            }
        }
        let automaton = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .map_err(|e| vec![format!("{file}: the triggers do not compile: {e}")])?;
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Self {
            negation_window: raw.negation.window,
            negations: lower(&raw.negation.terms),
            categories,
            rules: rules.into_iter().map(|(rule, _)| rule).collect(),
            facts,
            automaton,
            pattern_rule,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOOK: &str = include_str!("../../workflows/screening-rules.toml");

    #[test]
    fn the_rule_book_is_valid_and_covers_every_category() {
        let book = RuleBook::parse("screening-rules.toml", BOOK).unwrap();
        assert_eq!(book.categories.len(), 9);
        assert!(book.automaton.patterns_len() > 100);
    }

    #[test]
    fn a_broken_rule_book_is_refused_with_its_line() {
        let broken = BOOK.replacen(
            "category = \"guarantee\"\nseverity = \"block\"",
            "category = \"gambling\"\nseverity = \"block\"",
            1,
        );
        let errors = RuleBook::parse("x.toml", &broken).unwrap_err();
        let line = broken
            .lines()
            .position(|l| l.contains("guarantee.agency_guarantor"))
            .unwrap()
            + 1;
        assert!(
            errors
                .iter()
                .any(|e| e.contains("unknown category `gambling`")),
            "{errors:?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with(&format!("x.toml:{}:", line - 1))
                    || e.starts_with(&format!("x.toml:{line}:"))),
            "{errors:?}"
        );
        let bad_severity = BOOK.replacen("severity = \"block\"", "severity = \"maybe\"", 1);
        assert!(RuleBook::parse("x.toml", &bad_severity).is_err());
    }
}
