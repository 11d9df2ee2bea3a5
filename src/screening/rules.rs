//! The rule book (`workflows/screening-rules.toml`), validated and compiled. Every text rule's
//! literal triggers, Chinese and English, go into one Aho-Corasick automaton (leftmost-longest)
//! over the normalised text, so a sentence is scanned once for all rules; triggers written as
//! `re:…` are regular expressions for how an obligation is phrased (who pays, when, from which
//! money), tried on the sentences of the rules that apply. Context, exceptions and negations
//! are term lists too, each at the reach the rule gives it: the sentence, the clause, the
//! document. Each category names the documents it rests on: the 2012 opinions and the binding
//! law beside them, by title and article.

use std::collections::{BTreeMap, BTreeSet};

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::anchors::Anchors;
use super::terms::Terms;
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
    /// The act must not be the counterparty's or a third party's (the agency's, or nobody named).
    Agency,
    /// The agency must be named as the one acting (for words that others use just as often).
    AgencyNamed,
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

/// How far a finding reaches: one per clause, or one per document (the subject of the contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Reach {
    Sentence,
    #[default]
    Clause,
    Document,
}

/// A check on the submission's facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    ConstructionFundingUnsecured,
    ConstructionWithArrearsJudgments,
}

/// A document a finding rests on: its title and the article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Basis {
    /// 《中华人民共和国民法典》
    pub title: String,
    /// 第六百八十三条第一款
    pub article: String,
}

#[derive(Debug, Clone)]
pub struct Category {
    pub id: String,
    pub label: String,
    /// The short id in the 2012 opinions (`三(二)`), or the regulation's for `payment_terms`.
    pub provision: String,
    pub basis: Vec<Basis>,
    /// The provisions as a reviewer writes them in a letter: every title and article.
    pub citation: String,
    /// What the checklist line says was checked.
    pub checklist: String,
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
    /// `re:` triggers (the literal ones are in the book's automaton).
    pub patterns: Vec<regex::Regex>,
    pub context: Terms,
    pub context_reach: Reach,
    /// An alternative to `context`, anywhere in the document.
    pub document_context: Terms,
    pub exceptions: Terms,
    /// Exceptions that do not hold when one of these is in the same sentence.
    pub exceptions_unless: Terms,
    pub clause_exceptions: Terms,
    pub document_exceptions: Terms,
    pub reach: Reach,
    pub screen_title: bool,
    /// Another category whose finding on the same clause makes this one redundant.
    pub yields_to: Vec<String>,
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
    pub negations: Terms,
    /// Negations that count anywhere in the comma clause before a trigger.
    pub clause_negations: Terms,
    /// Who else may be the subject of an act (a bank, a village committee): not the agency.
    pub third_parties: Vec<String>,
    pub categories: Vec<Category>,
    pub rules: Vec<TextRule>,
    pub facts: Vec<FactRule>,
    /// All literal triggers of all text rules.
    pub automaton: AhoCorasick,
    /// For each automaton pattern, the index of its rule.
    pub pattern_rule: Vec<usize>,
    /// The literals every `re:` trigger begins or ends with, so a sentence is scanned once and
    /// only the patterns that may match in it are run.
    pub pattern_anchors: Anchors,
    /// For each anchored pattern, (rule, index into the rule's `patterns`).
    pub pattern_owner: Vec<(usize, usize)>,
}

impl RuleBook {
    pub fn category(&self, id: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.id == id)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBook {
    #[allow(dead_code)]
    version: i64,
    negation: RawNegation,
    #[serde(default)]
    third_parties: Vec<String>,
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
    #[serde(default)]
    clause_terms: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCategory {
    label: String,
    provision: String,
    #[serde(default)]
    basis: Vec<Basis>,
    #[serde(default)]
    checklist: Option<String>,
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
    #[serde(default = "sentence_reach")]
    context_reach: Reach,
    #[serde(default)]
    document_context: Vec<String>,
    exceptions: Vec<String>,
    #[serde(default)]
    exceptions_unless: Vec<String>,
    #[serde(default)]
    clause_exceptions: Vec<String>,
    #[serde(default)]
    document_exceptions: Vec<String>,
    #[serde(default)]
    reach: Reach,
    #[serde(default)]
    screen_title: bool,
    #[serde(default)]
    yields_to: Vec<String>,
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

fn sentence_reach() -> Reach {
    Reach::Sentence
}

fn line_of(source: &str, offset: usize) -> usize {
    source[..offset.min(source.len())].matches('\n').count() + 1
}

fn lower(terms: &[String]) -> Vec<String> {
    terms.iter().map(|t| t.to_lowercase()).collect()
}

/// 《A》第一条；《B》第二条
fn citation(basis: &[Basis]) -> String {
    basis
        .iter()
        .map(|b| format!("{}{}", b.title, b.article))
        .collect::<Vec<_>>()
        .join("；")
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
                citation: citation(&c.basis),
                basis: c.basis.clone(),
                checklist: c.checklist.clone().unwrap_or_default(),
            })
            .collect();
        let provision_of = |category: &str| {
            categories
                .iter()
                .find(|c| c.id == category)
                .map(|c| c.provision.clone())
        };
        let compile = |terms: &[String], what: &str, problems: &mut Vec<String>| {
            Terms::compile(terms).unwrap_or_else(|e| {
                problems.push(format!("{file}: {what}: {e}"));
                Terms::default()
            })
        };
        let negations = compile(&raw.negation.terms, "negation", &mut problems);
        let clause_negations = compile(&raw.negation.clause_terms, "negation", &mut problems);
        let mut ids = BTreeSet::new();
        let mut used = BTreeSet::new();
        let mut rules = Vec::new();
        for spanned in &raw.rules {
            let (rule, line) = (spanned.get_ref(), line_of(source, spanned.span().start));
            let at = format!("{file}:{line}: rule {}", rule.id);
            let mut problem = |message: String| problems.push(format!("{at}: {message}"));
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
            for other in &rule.yields_to {
                if provision_of(other).is_none() {
                    problem(format!("yields to unknown category `{other}`"));
                }
            }
            let mut terms = |list: &[String], what: &str| {
                Terms::compile(list).unwrap_or_else(|e| {
                    problems.push(format!("{at}: {what}: {e}"));
                    Terms::default()
                })
            };
            let triggers = terms(&rule.triggers, "triggers");
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
                    patterns: triggers.patterns,
                    context: terms(&rule.context, "context"),
                    context_reach: rule.context_reach,
                    document_context: terms(&rule.document_context, "document_context"),
                    exceptions: terms(&rule.exceptions, "exceptions"),
                    exceptions_unless: terms(&rule.exceptions_unless, "exceptions_unless"),
                    clause_exceptions: terms(&rule.clause_exceptions, "clause_exceptions"),
                    document_exceptions: terms(&rule.document_exceptions, "document_exceptions"),
                    reach: rule.reach,
                    screen_title: rule.screen_title,
                    yields_to: rule.yields_to.clone(),
                    provision,
                    explanation: rule.explanation.clone(),
                    advice: rule.advice.clone(),
                },
                triggers.literals,
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
            if category.basis.is_empty() {
                problems.push(format!(
                    "{file}: category `{}` names no document it rests on (basis)",
                    category.id
                ));
            }
        }
        let mut patterns = Vec::new();
        let mut pattern_rule = Vec::new();
        for (index, (_, literals)) in rules.iter().enumerate() {
            for literal in literals {
                patterns.push(literal.clone());
                pattern_rule.push(index);
            }
        }
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&patterns)
            .map_err(|e| vec![format!("{file}: the triggers do not compile: {e}")])?;
        let mut owners = Vec::new();
        let mut sources = Vec::new();
        for (index, (rule, _)) in rules.iter().enumerate() {
            for (number, pattern) in rule.patterns.iter().enumerate() {
                owners.push((index, number));
                sources.push(pattern.as_str().to_owned());
            }
        }
        let sources: Vec<&str> = sources.iter().map(String::as_str).collect();
        let pattern_anchors = Anchors::new(&sources).map_err(|e| vec![format!("{file}: {e}")])?;
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Self {
            pattern_anchors,
            pattern_owner: owners,
            negation_window: raw.negation.window,
            negations,
            clause_negations,
            third_parties: raw
                .third_parties
                .iter()
                .map(|t| super::normalize::term(t))
                .filter(|t| !t.is_empty())
                .collect(),
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
        assert_eq!(book.categories.len(), 10);
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
