//! Running the rule book over a contract. Each clause is normalised once (see
//! [`normalize`](super::normalize)) and split into sentences; every sentence is scanned once by
//! the automaton of literal triggers, then by the pattern triggers and the payment-term reader
//! of the rules that apply to the contract's declared or inferred type. A trigger counts when
//! no negation or exception stands in its way, its context is there (in the sentence, the
//! clause or the document, as the rule says), and — for acts only the agency can commit —
//! nobody else is the actor. Hits are gathered into one finding per rule and clause (or per
//! document, for rules on the subject of the contract), listing every matching sentence; the
//! title is context and yields a finding only where the body has none of that rule. Then the
//! rules on the submission's facts, and a checklist of every category.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ops::Range;

use super::document::{self, Clause};
use super::infer::{self, Inferred};
use super::normalize::{self, Normalized};
use super::parties::{LOOK_BACK, Parties, Side, look_back};
use super::payment;
use super::rules::{Actor, Check, FactRule, Kind, Reach, RuleBook, Severity, TextRule};
use super::terms::{Terms, starts_a_word};
use crate::domain::ContractType;

pub use super::report::{
    ChecklistItem, Facts, Finding, Report, Span, Status, UnpaidJudgment, excerpt,
};

/// A clause made ready for the rules.
struct Prepared<'a> {
    clause: &'a Clause,
    norm: Normalized,
    /// Sentences as ranges of `norm.text`.
    sentences: Vec<Range<usize>>,
    /// The clause's heading path, normalised, for clause-level terms beside its text.
    path: String,
}

/// Where a trigger counted.
struct Hit {
    rule: usize,
    /// Index into the prepared clauses; `None` for the title.
    clause: Option<usize>,
    sentence: usize,
    /// Original byte offsets of the sentence.
    span: Range<usize>,
}

/// What every sentence of one document is screened with.
struct Scope<'a> {
    book: &'a RuleBook,
    facts: &'a Facts,
    parties: &'a Parties,
    /// Per rule: applies to this contract type, and is not excepted by the document.
    active: Vec<bool>,
    /// Per rule: its document context is present.
    document_context: Vec<bool>,
    /// Per rule whose context reaches the whole document: the context is in it.
    context_in_document: Vec<bool>,
    /// The rules with pattern triggers or payment terms among the active ones.
    scanned: Vec<usize>,
}

const TITLE_PATH: &str = "标题 / Title";
const BODY_PATH: &str = "正文 / Text";

/// Screens `source` with `book`.
pub fn screen(book: &RuleBook, source: &str, facts: &Facts) -> Report {
    let document = document::parse(source);
    let prepared: Vec<Prepared<'_>> = document
        .clauses
        .iter()
        .map(|clause| {
            let norm = Normalized::new(source.get(clause.span.clone()).unwrap_or_default());
            let sentences = document::sentences(&norm.text);
            let path = normalize::term(&clause.path);
            Prepared {
                clause,
                norm,
                sentences,
                path,
            }
        })
        .collect();
    let title = facts
        .title
        .as_deref()
        .map(normalize::term)
        .unwrap_or_default();
    let mut whole = String::with_capacity(source.len() + title.len() + 1);
    whole.push_str(&title);
    for clause in &prepared {
        whole.push('\n');
        whole.push_str(&clause.norm.text);
    }
    let heading = prepared
        .iter()
        .find(|c| c.clause.heading)
        .or(prepared.first())
        .map_or("", |c| c.norm.text.as_str());
    let mut inferred = Inferred::default();
    if let Some((kind, note)) =
        infer::contract_type(facts.contract_type, &format!("{title}\n{heading}"), &whole)
    {
        inferred.contract_type = Some(kind);
        inferred.notes.push(note);
    }
    let declared_party = facts
        .agency_party
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    let agency = match declared_party {
        Some(party) => party.to_owned(),
        None => {
            let label = infer::agency_label(&whole);
            if let Some(label) = &label {
                inferred.agency_party = Some(label.clone());
                inferred.notes.push(format!(
                    "送审信息未写明本机关在合同中的称谓，按首部推定为“{label}”。/ The submission names no agency party; the preamble suggests “{label}”."
                ));
            }
            label.unwrap_or_else(|| "甲方".to_owned())
        }
    };
    let parties = Parties::learn(source, &agency, facts.counterparty.as_deref().unwrap_or(""));
    let types = [facts.contract_type, inferred.contract_type];
    let active: Vec<bool> = book
        .rules
        .iter()
        .map(|rule| applies(rule, &types) && !rule.document_exceptions.any_in(&whole))
        .collect();
    let document_context: Vec<bool> = book
        .rules
        .iter()
        .map(|rule| !rule.document_context.is_empty() && rule.document_context.any_in(&whole))
        .collect();
    let context_in_document: Vec<bool> = book
        .rules
        .iter()
        .map(|rule| rule.context_reach == Reach::Document && rule.context.any_in(&whole))
        .collect();
    let scanned = book
        .rules
        .iter()
        .enumerate()
        .filter(|(i, r)| active[*i] && (!r.patterns.is_empty() || r.kind == Kind::PaymentDays))
        .map(|(i, _)| i)
        .collect();
    let scope = Scope {
        book,
        facts,
        parties: &parties,
        active,
        document_context,
        context_in_document,
        scanned,
    };
    let surroundings: Vec<Surroundings<'_>> = prepared
        .iter()
        .map(|c| Surroundings::new(&c.path, &c.norm.text, book.rules.len()))
        .collect();
    let mut hits = Vec::new();
    for (index, clause) in prepared.iter().enumerate() {
        for (number, sentence) in clause.sentences.iter().enumerate() {
            let text = &clause.norm.text[sentence.clone()];
            let base = clause.clause.span.start;
            let span =
                base + clause.norm.start(sentence.start)..base + clause.norm.end(sentence.end);
            let around = &surroundings[index];
            scope.sentence(text, around, &mut |rule| {
                hits.push(Hit {
                    rule,
                    clause: Some(index),
                    sentence: number,
                    span: span.clone(),
                });
            });
        }
    }
    if !title.is_empty() {
        let around = Surroundings::new(TITLE_PATH, &title, book.rules.len());
        scope.sentence(&title, &around, &mut |rule| {
            if book.rules[rule].screen_title {
                hits.push(Hit {
                    rule,
                    clause: None,
                    sentence: 0,
                    span: 0..0,
                });
            }
        });
    }
    let mut findings = scope.gather(source, &prepared, hits);
    for rule in &book.facts {
        if let Some(finding) = fact_finding(book, rule, facts) {
            findings.push(finding);
        }
    }
    let sentences: usize = prepared.iter().map(|c| c.sentences.len()).sum();
    let checklist = checklist(book, prepared.len(), sentences, facts, &findings);
    Report {
        findings,
        checklist,
        inferred,
    }
}

fn applies(rule: &TextRule, types: &[Option<ContractType>; 2]) -> bool {
    if rule.contract_types.is_empty() || types.iter().all(Option::is_none) {
        return true;
    }
    types
        .iter()
        .flatten()
        .any(|kind| rule.contract_types.contains(kind))
}

/// A clause as the sentences in it see it: its heading path and text, and what has been worked
/// out about them per rule (the clause's exceptions and context), so a clause full of triggers
/// is read once per rule, not once per trigger.
struct Surroundings<'a> {
    path: &'a str,
    body: &'a str,
    excepted: RefCell<Vec<Option<bool>>>,
    in_context: RefCell<Vec<Option<bool>>>,
}

impl<'a> Surroundings<'a> {
    fn new(path: &'a str, body: &'a str, rules: usize) -> Self {
        Self {
            path,
            body,
            excepted: RefCell::new(vec![None; rules]),
            in_context: RefCell::new(vec![None; rules]),
        }
    }

    fn any_in(&self, terms: &Terms) -> bool {
        terms.any_in(self.path) || terms.any_in(self.body)
    }

    fn remembered(
        memo: &RefCell<Vec<Option<bool>>>,
        rule: usize,
        work: impl FnOnce() -> bool,
    ) -> bool {
        if let Some(known) = memo.borrow().get(rule).copied().flatten() {
            return known;
        }
        let answer = work();
        if let Some(slot) = memo.borrow_mut().get_mut(rule) {
            *slot = Some(answer);
        }
        answer
    }

    /// Whether one of the rule's clause exceptions is in the clause.
    fn excepted(&self, rule: usize, terms: &Terms) -> bool {
        !terms.is_empty() && Self::remembered(&self.excepted, rule, || self.any_in(terms))
    }

    /// Whether the rule's context is in the clause.
    fn in_context(&self, rule: usize, terms: &Terms) -> bool {
        Self::remembered(&self.in_context, rule, || self.any_in(terms))
    }
}

impl Scope<'_> {
    fn severity(&self, rule: &TextRule) -> Severity {
        if rule.block_with_unpaid_judgments
            && self
                .facts
                .unpaid_judgments
                .iter()
                .any(|j| j.outstanding_fen > 0)
        {
            Severity::Block
        } else {
            rule.severity
        }
    }

    /// Screens one normalised sentence; `clause` is its clause's path and text. Calls `hit`
    /// once per rule that counts.
    fn sentence(&self, text: &str, clause: &Surroundings<'_>, hit: &mut dyn FnMut(usize)) {
        let mut fired: Vec<usize> = Vec::new();
        for found in self.book.automaton.find_iter(text) {
            let index = self.book.pattern_rule[found.pattern().as_usize()];
            if fired.contains(&index) || !self.active[index] {
                continue;
            }
            let literal = &text[found.start()..found.end()];
            if !starts_a_word(text, found.start(), literal) {
                continue;
            }
            let rule = &self.book.rules[index];
            if self.counts(rule, index, text, clause, found.start(), found.end()) {
                fired.push(index);
                hit(index);
            }
        }
        let mut days: Option<Option<(u32, (usize, usize))>> = None;
        for &index in &self.scanned {
            let rule = &self.book.rules[index];
            if fired.contains(&index) || rule.kind != Kind::PaymentDays {
                continue;
            }
            let longest = *days.get_or_insert_with(|| payment::longest(text));
            if longest.is_some_and(|(days, (start, end))| {
                days > rule.max_days && self.counts(rule, index, text, clause, start, end)
            }) {
                fired.push(index);
                hit(index);
            }
        }
        if self.book.pattern_owner.is_empty() {
            return;
        }
        for matched in self.book.pattern_anchors.candidates(text) {
            let (index, number) = self.book.pattern_owner[matched];
            if fired.contains(&index) || !self.active[index] {
                continue;
            }
            let rule = &self.book.rules[index];
            let counted = rule.patterns[number]
                .find_iter(text)
                .any(|m| self.counts(rule, index, text, clause, m.start(), m.end()));
            if counted {
                fired.push(index);
                hit(index);
            }
        }
    }

    /// Whether the trigger at `start..end` of `text` counts.
    fn counts(
        &self,
        rule: &TextRule,
        index: usize,
        text: &str,
        clause: &Surroundings<'_>,
        start: usize,
        end: usize,
    ) -> bool {
        let before = &text[look_back(text, start, self.book.negation_window)..start];
        // 不提供…担保, 未约定…: a one-character negation right before the trigger, or before
        // the verb right before it (未新建办公用房).
        if self.book.negations.any_in(before) || negated_verb(before) {
            return false;
        }
        // From the last comma before the trigger: 不在…建造宾馆, shall not … guarantee.
        let phrase_start = text[..start]
            .rfind([',', ';', ':', '。'])
            .map_or(0, |i| i + 1);
        if !self.book.clause_negations.is_empty()
            && self
                .book
                .clause_negations
                .any_in(&text[phrase_start..start])
        {
            return false;
        }
        // 除……外: the trigger sits inside an exception, within its clause.
        let lead = &text[look_back(text, start, LOOK_BACK)..start];
        let after = &text[end..];
        let after = &after[..after
            .char_indices()
            .nth(LOOK_BACK)
            .map_or(after.len(), |(i, _)| i)];
        if lead.contains('除') && after.contains('外') {
            return false;
        }
        if rule.exceptions.any_in(text) && !rule.exceptions_unless.any_in(text) {
            return false;
        }
        if clause.excepted(index, &rule.clause_exceptions) {
            return false;
        }
        let in_context = || match rule.context_reach {
            Reach::Sentence => rule.context.any_in(text),
            Reach::Clause => clause.in_context(index, &rule.context),
            Reach::Document => self.context_in_document[index],
        };
        if !rule.context.is_empty() && !self.document_context[index] && !in_context() {
            return false;
        }
        match rule.actor {
            Actor::Any => true,
            Actor::Agency => matches!(
                self.parties
                    .actor_before(text, start, &self.book.third_parties),
                None | Some(Side::Agency)
            ),
            Actor::AgencyNamed => {
                self.parties
                    .actor_before(text, start, &self.book.third_parties)
                    == Some(Side::Agency)
            }
        }
    }

    /// One finding per rule and clause (or document), the title only where the body is silent.
    fn gather(&self, source: &str, prepared: &[Prepared<'_>], hits: Vec<Hit>) -> Vec<Finding> {
        // (rule, group) → hits, in document order of their first hit.
        let mut groups: BTreeMap<(usize, String), Vec<&Hit>> = BTreeMap::new();
        let mut order: Vec<(usize, String)> = Vec::new();
        let has_body_hit: Vec<bool> = (0..self.book.rules.len())
            .map(|r| hits.iter().any(|h| h.rule == r && h.clause.is_some()))
            .collect();
        for hit in &hits {
            let rule = &self.book.rules[hit.rule];
            if hit.clause.is_none() && has_body_hit[hit.rule] {
                continue;
            }
            let path = match hit.clause {
                Some(index) => prepared[index].clause.path.clone(),
                None => TITLE_PATH.to_owned(),
            };
            let group = match rule.reach {
                Reach::Document => String::new(),
                Reach::Clause => path,
                Reach::Sentence => format!("{path}\u{0}{:?}\u{0}{}", hit.clause, hit.sentence),
            };
            let key = (hit.rule, group);
            if !groups.contains_key(&key) {
                order.push(key.clone());
            }
            groups.entry(key).or_default().push(hit);
        }
        let mut findings: Vec<(Finding, Vec<Option<usize>>)> = order
            .into_iter()
            .filter_map(|key| {
                let group = groups.remove(&key)?;
                let first = group.first()?;
                let rule = &self.book.rules[key.0];
                let mut spans: Vec<Span> = Vec::new();
                for hit in &group {
                    if spans
                        .iter()
                        .any(|s| s.start == hit.span.start && s.end == hit.span.end)
                    {
                        continue;
                    }
                    let text = match hit.clause {
                        Some(_) => source.get(hit.span.clone()).unwrap_or_default().to_owned(),
                        None => self.facts.title.clone().unwrap_or_default(),
                    };
                    spans.push(Span {
                        start: hit.span.start,
                        end: hit.span.end,
                        excerpt: excerpt(&text),
                    });
                }
                let clause = match first.clause {
                    Some(index) if prepared[index].clause.path.is_empty() => BODY_PATH.to_owned(),
                    Some(index) => prepared[index].clause.path.clone(),
                    None => TITLE_PATH.to_owned(),
                };
                let category = self.book.category(&rule.category);
                let head = spans.first().cloned()?;
                Some((
                    Finding {
                        rule: rule.id.clone(),
                        category: rule.category.clone(),
                        severity: self.severity(rule),
                        clause,
                        start: head.start,
                        end: head.end,
                        excerpt: head.excerpt,
                        provision: rule.provision.clone(),
                        explanation: rule.explanation.clone(),
                        advice: rule.advice.clone(),
                        spans,
                        basis: category.map(|c| c.basis.clone()).unwrap_or_default(),
                        citation: category.map(|c| c.citation.clone()).unwrap_or_default(),
                    },
                    group.iter().map(|h| h.clause).collect(),
                ))
            })
            .collect();
        // A rule that yields to another category gives way where that category already
        // flagged the same clause (payment terms beside a credit purchase).
        let snapshot: Vec<(String, Vec<Option<usize>>)> = findings
            .iter()
            .map(|(f, clauses)| (f.category.clone(), clauses.clone()))
            .collect();
        findings.retain(|(finding, clauses)| {
            let Some(rule) = self.book.rules.iter().find(|r| r.id == finding.rule) else {
                return true;
            };
            !rule.yields_to.iter().any(|other| {
                snapshot.iter().any(|(category, theirs)| {
                    category == other && theirs.iter().any(|c| clauses.contains(c))
                })
            })
        });
        findings.into_iter().map(|(f, _)| f).collect()
    }
}

/// Verbs a one-character negation may stand before, ahead of the trigger they govern.
const NEGATED_VERBS: [&str; 16] = [
    "新建", "建设", "修建", "兴建", "扩建", "建", "购买", "购置", "采购", "提供", "出具", "设立",
    "成立", "签订", "参与", "约定",
];

/// Whether `before` (the text right before a trigger) ends in a negation, directly or before one
/// of [`NEGATED_VERBS`].
fn negated_verb(before: &str) -> bool {
    let negation = |s: &str| s.ends_with(['不', '未', '无', '非', '没']);
    negation(before)
        || NEGATED_VERBS
            .iter()
            .any(|verb| before.strip_suffix(verb).is_some_and(negation))
}

fn fact_finding(book: &RuleBook, rule: &FactRule, facts: &Facts) -> Option<Finding> {
    let construction = facts.contract_type == Some(ContractType::Construction);
    let (applies, excerpt) = match rule.check {
        Check::ConstructionFundingUnsecured => {
            let funding = facts
                .funding_source
                .as_deref()
                .map(str::trim)
                .unwrap_or_default();
            let lower = funding.to_lowercase();
            let unsecured = funding.is_empty()
                || rule
                    .unsecured_terms
                    .iter()
                    .any(|t| lower.contains(t.as_str()));
            let shown = if funding.is_empty() {
                "资金来源：未填写 / funding source: none".to_owned()
            } else {
                format!("资金来源 / funding source：{funding}")
            };
            (construction && unsecured, shown)
        }
        Check::ConstructionWithArrearsJudgments => {
            let arrears: i64 = facts
                .unpaid_judgments
                .iter()
                .filter(|j| j.kind == "construction_arrears")
                .map(|j| j.outstanding_fen)
                .sum();
            (
                construction && arrears > 0,
                format!(
                    "未清偿拖欠工程款生效裁判 / unpaid construction-arrears judgments: {arrears} 分"
                ),
            )
        }
    };
    let category = book.category(&rule.category);
    applies.then(|| Finding {
        rule: rule.id.clone(),
        category: rule.category.clone(),
        severity: rule.severity,
        clause: "送审信息 / Submission facts".to_owned(),
        start: 0,
        end: 0,
        spans: vec![Span {
            start: 0,
            end: 0,
            excerpt: excerpt.clone(),
        }],
        excerpt,
        provision: rule.provision.clone(),
        explanation: rule.explanation.clone(),
        advice: rule.advice.clone(),
        basis: category.map(|c| c.basis.clone()).unwrap_or_default(),
        citation: category.map(|c| c.citation.clone()).unwrap_or_default(),
    })
}

fn checklist(
    book: &RuleBook,
    clauses: usize,
    sentences: usize,
    facts: &Facts,
    findings: &[Finding],
) -> Vec<ChecklistItem> {
    book.categories
        .iter()
        .map(|category| {
            let flagged = findings.iter().any(|f| f.category == category.id);
            let fact_checks = book.facts.iter().filter(|f| f.category == category.id).count();
            let mut examined = format!(
                "{clauses} 个条款、{sentences} 个句子 / {clauses} clauses, {sentences} sentences"
            );
            if !category.checklist.is_empty() {
                examined = format!("{}；{examined}", category.checklist);
            }
            if fact_checks > 0 {
                examined.push_str(&format!(
                    "；送审信息（合同类型、资金来源、{} 条未清偿裁判）/ submission facts (type, funding, {} unpaid judgments)",
                    facts.unpaid_judgments.len(),
                    facts.unpaid_judgments.len()
                ));
            }
            ChecklistItem {
                category: category.id.clone(),
                label: category.label.clone(),
                provision: category.provision.clone(),
                status: if flagged { Status::Flagged } else { Status::Clear },
                examined,
                citation: category.citation.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book() -> RuleBook {
        RuleBook::parse(
            "rules.toml",
            include_str!("../../workflows/screening-rules.toml"),
        )
        .unwrap()
    }

    fn facts(kind: ContractType) -> Facts {
        Facts {
            contract_type: Some(kind),
            agency_party: Some("甲方".into()),
            counterparty: Some("某某公司".into()),
            funding_source: Some("2027年度部门预算（已批复）".into()),
            ..Facts::default()
        }
    }

    fn categories(source: &str, facts: &Facts) -> Vec<String> {
        screen(&book(), source, facts)
            .findings
            .into_iter()
            .map(|f| f.category)
            .collect()
    }

    #[test]
    fn a_guarantee_counts_only_when_the_agency_gives_it() {
        let f = facts(ContractType::Service);
        assert_eq!(
            categories("甲方为乙方向银行的贷款提供连带责任保证。", &f),
            ["guarantee"]
        );
        assert!(categories("乙方应向甲方提交履约保函。", &f).is_empty());
        assert!(categories("甲方不提供任何形式的担保。", &f).is_empty());
        assert!(categories("乙方的贷款由甲方提供担保。", &f) == ["guarantee"]);
        assert!(categories("乙方保证所供货物质量合格。", &f).is_empty());
    }

    #[test]
    fn payment_terms_beyond_thirty_days_are_credit_purchases() {
        let f = facts(ContractType::Procurement);
        assert_eq!(
            categories("货到验收合格后九十日内付款。", &f),
            ["credit_purchase"]
        );
        assert_eq!(
            categories("Payment terms: net 60 after invoice.", &f),
            ["credit_purchase"]
        );
        assert!(categories("验收合格后五个工作日内支付货款。", &f).is_empty());
        assert!(categories("Payment within 30 days of acceptance.", &f).is_empty());
        assert!(
            categories(
                "逾期付款的，每日按万分之五支付违约金，最长不超过六十日。",
                &f
            )
            .is_empty()
        );
        assert_eq!(categories("采用月结方式结算。", &f), ["credit_purchase"]);
        assert!(categories("按月支付租金。", &facts(ContractType::Lease)).is_empty());
    }

    #[test]
    fn contractor_financing_and_unsecured_funding_are_found_in_construction() {
        let mut f = facts(ContractType::Construction);
        let source = "# 施工合同\n\n## 第三条 工程款支付\n\n1. 本工程由乙方垫资施工。\n2. 待上级补助资金到位后支付工程款。\n";
        let report = screen(&book(), source, &f);
        let found: Vec<(&str, &str)> = report
            .findings
            .iter()
            .map(|x| (x.category.as_str(), x.clause.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("contractor_advance", "施工合同 › 第三条 工程款支付 › 1"),
                ("no_funding_source", "施工合同 › 第三条 工程款支付 › 2")
            ]
        );
        let sentence = &report.findings[0];
        assert_eq!(
            &source[sentence.start..sentence.end],
            "本工程由乙方垫资施工。"
        );
        assert!(categories("按月完成工程量的百分之八十支付进度款。", &f).is_empty());
        f.funding_source = Some("待申请专项资金".into());
        assert_eq!(categories("按进度付款。", &f), ["no_funding_source"]);
    }

    #[test]
    fn vehicles_and_equipment_block_only_while_judgments_are_unpaid() {
        let mut f = facts(ContractType::Procurement);
        let source = "乙方向甲方供应台式计算机二十台。";
        let report = screen(&book(), source, &f);
        assert_eq!(report.findings[0].severity, Severity::Warn);
        f.unpaid_judgments = vec![UnpaidJudgment {
            kind: "business_debt".into(),
            outstanding_fen: 1,
        }];
        assert_eq!(
            screen(&book(), source, &f).findings[0].severity,
            Severity::Block
        );
        assert!(categories("乙方为甲方公务用车提供维修保养服务。", &f).is_empty());
    }

    #[test]
    fn buildings_businesses_and_arrears_projects() {
        let mut f = facts(ContractType::Construction);
        assert_eq!(
            categories("新建办公楼一栋，建筑面积八千平方米。", &f),
            ["luxury_building"]
        );
        assert!(categories("对办公楼外墙进行维修。", &f).is_empty());
        f.title = Some("市民服务中心暨培训中心新建工程".into());
        assert_eq!(categories("按进度付款。", &f), ["luxury_building"]);
        f.title = None;
        f.unpaid_judgments = vec![UnpaidJudgment {
            kind: "construction_arrears".into(),
            outstanding_fen: 100,
        }];
        assert_eq!(categories("按进度付款。", &f), ["new_project_blocked"]);
        let investment = facts(ContractType::Investment);
        assert_eq!(
            categories("甲方以现金出资，占股百分之三十。", &investment),
            ["business"]
        );
        assert!(categories("乙方：某某律师事务所（特殊普通合伙）", &investment).is_empty());
    }

    #[test]
    fn the_checklist_covers_every_category() {
        let report = screen(
            &book(),
            "第一条 乙方按时供货。",
            &facts(ContractType::Procurement),
        );
        assert_eq!(report.checklist.len(), 10);
        assert!(report.checklist.iter().all(|c| c.status == Status::Clear));
        assert!(report.checklist[0].examined.contains("1 clauses"));
    }

    #[test]
    fn hostile_documents_are_screened_without_blowing_up() {
        let book = book();
        let f = facts(ContractType::Construction);
        let one_line = "甲方为乙方提供担保，".repeat(2 * 1024 * 1024 / 30);
        let nested: String = (0..10_000)
            .map(|depth| format!("{}- 垫资\n", " ".repeat(depth % 40)))
            .collect();
        let punctuation = "。，；！？.,;!?（）【】".repeat(50_000);
        let definitions = "甲方（采购人）：某市财政局\n乙方：某公司\n".repeat(5_000);
        for source in [one_line, nested, punctuation, definitions] {
            let report = screen(&book, &source, &f);
            assert!(report.findings.iter().all(|x| x.end <= source.len()));
        }
    }
}
