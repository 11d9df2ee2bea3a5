//! Running the rule book over a contract: text rules sentence by sentence (one automaton pass
//! per sentence), payment terms, the project title, then the rules on the submission's facts.
//! The result lists the findings and, for every category, whether it was flagged or clear.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::document::{self, Document};
use super::parties::{LOOK_BACK, Parties, Side, look_back};
use super::rules::{Actor, Check, FactRule, Kind, RuleBook, Severity, TextRule};
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
    /// The contract's title or project description, screened too.
    pub title: Option<String>,
    #[serde(default)]
    pub unpaid_judgments: Vec<UnpaidJudgment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Finding {
    pub rule: String,
    pub category: String,
    pub severity: Severity,
    /// The clause path, e.g. "第五条 付款方式 › 2".
    pub clause: String,
    /// Byte offsets of the sentence in the Markdown (0..0 for findings on facts or the title).
    pub start: usize,
    pub end: usize,
    pub excerpt: String,
    pub provision: String,
    pub explanation: String,
    pub advice: String,
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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub checklist: Vec<ChecklistItem>,
}

impl Report {
    pub fn has_blocking(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Block)
    }
}

const MAX_EXCERPT_CHARS: usize = 200;

fn excerpt(text: &str) -> String {
    let mut out: String = text.chars().take(MAX_EXCERPT_CHARS).collect();
    if text.chars().count() > MAX_EXCERPT_CHARS {
        out.push('…');
    }
    out
}

/// Screens `source` with `book`.
pub fn screen(book: &RuleBook, source: &str, facts: &Facts) -> Report {
    let document = document::parse(source);
    let parties = Parties::learn(
        source,
        facts.agency_party.as_deref().unwrap_or("甲方"),
        facts.counterparty.as_deref().unwrap_or(""),
    );
    let days = &*PAYMENT_TERMS;
    let mut findings = Vec::new();
    let scope = Scope {
        book,
        facts,
        parties: &parties,
        days,
    };
    for clause in &document.clauses {
        for sentence in &clause.sentences {
            scope.sentence(
                &source[sentence.clone()],
                &clause.path,
                sentence.start,
                &mut findings,
            );
        }
    }
    if let Some(title) = facts.title.as_deref() {
        let mut from_title = Vec::new();
        scope.sentence(title, "标题 / Title", 0, &mut from_title);
        findings.extend(
            from_title
                .into_iter()
                .filter(|f| book.rules.iter().any(|r| r.id == f.rule && r.screen_title))
                .map(|f| Finding {
                    start: 0,
                    end: 0,
                    ..f
                }),
        );
    }
    for rule in &book.facts {
        if let Some(finding) = fact_finding(rule, facts) {
            findings.push(finding);
        }
    }
    let checklist = checklist(book, &document, facts, &findings);
    Report {
        findings,
        checklist,
    }
}

struct Scope<'a> {
    book: &'a RuleBook,
    facts: &'a Facts,
    parties: &'a Parties,
    days: &'a PaymentTerms,
}

impl Scope<'_> {
    fn applies(&self, rule: &TextRule) -> bool {
        match self.facts.contract_type {
            Some(kind) => rule.contract_types.is_empty() || rule.contract_types.contains(&kind),
            None => true,
        }
    }

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

    fn finding(&self, rule: &TextRule, clause: &str, text: &str, offset: usize) -> Finding {
        Finding {
            rule: rule.id.clone(),
            category: rule.category.clone(),
            severity: self.severity(rule),
            clause: clause.to_owned(),
            start: offset,
            end: offset + text.len(),
            excerpt: excerpt(text),
            provision: rule.provision.clone(),
            explanation: rule.explanation.clone(),
            advice: rule.advice.clone(),
        }
    }

    /// Screens one sentence; `offset` is where it starts in the source.
    fn sentence(&self, text: &str, clause: &str, offset: usize, findings: &mut Vec<Finding>) {
        let lower = text.to_ascii_lowercase();
        let mut fired: Vec<usize> = Vec::new();
        for found in self.book.automaton.find_iter(&lower) {
            let index = self.book.pattern_rule[found.pattern().as_usize()];
            let rule = &self.book.rules[index];
            if fired.contains(&index)
                || !self.applies(rule)
                || !self.counts(rule, text, &lower, found.start(), found.end())
            {
                continue;
            }
            fired.push(index);
            findings.push(self.finding(rule, clause, text, offset));
        }
        for rule in self
            .book
            .rules
            .iter()
            .filter(|r| r.kind == Kind::PaymentDays && self.applies(r))
        {
            let excepted = rule.exceptions.iter().any(|e| lower.contains(e.as_str()));
            if !excepted && self.days.longest(&lower).is_some_and(|d| d > rule.max_days) {
                findings.push(self.finding(rule, clause, text, offset));
            }
        }
    }

    /// Whether the trigger at `start..end` counts: not negated, not excepted, in context, and
    /// done by the agency where the rule says so.
    fn counts(&self, rule: &TextRule, text: &str, lower: &str, start: usize, end: usize) -> bool {
        let before = &lower[look_back(lower, start, self.book.negation_window)..start];
        if self
            .book
            .negations
            .iter()
            .any(|n| before.contains(n.as_str()))
        {
            return false;
        }
        // 除……外: the trigger sits inside an exception, within its clause.
        let clause = &lower[look_back(lower, start, LOOK_BACK)..start];
        let after = &lower[end..];
        let after = &after[..after
            .char_indices()
            .nth(LOOK_BACK)
            .map_or(after.len(), |(i, _)| i)];
        if clause.contains('除') && after.contains('外') {
            return false;
        }
        if rule.exceptions.iter().any(|e| lower.contains(e.as_str())) {
            return false;
        }
        if !rule.context.is_empty() && !rule.context.iter().any(|c| lower.contains(c.as_str())) {
            return false;
        }
        rule.actor == Actor::Any
            || self.parties.actor_before(text, start) != Some(Side::Counterparty)
    }
}

static PAYMENT_TERMS: LazyLock<PaymentTerms> = LazyLock::new(PaymentTerms::new);

/// Payment terms in days: "验收合格后九十日内付款", "net 60", "within 45 days of invoice".
struct PaymentTerms {
    chinese: Regex,
    english: Regex,
    payment: Regex,
}

impl PaymentTerms {
    fn new() -> Self {
        let compile = |pattern: &str| Regex::new(pattern).expect("a valid literal pattern");
        Self {
            chinese: compile(
                r"([0-9]+|[零〇一二两三四五六七八九十百]+)\s*个?\s*(工作日|自然日|日历日|日|天)",
            ),
            english: compile(
                r"(?:net\s*([0-9]+))|(?:([0-9]+)\s+(calendar\s+|business\s+|working\s+)?days)",
            ),
            payment: compile(r"付款|支付|付清|结清|结算|pay"),
        }
    }

    /// The longest payment term in the sentence, in calendar days (working days × 7 / 5).
    fn longest(&self, lower: &str) -> Option<u32> {
        if !self.payment.is_match(lower) {
            return None;
        }
        let chinese = self.chinese.captures_iter(lower).filter_map(|c| {
            let days = number(c.get(1)?.as_str())?;
            Some(if c.get(2)?.as_str() == "工作日" {
                days * 7 / 5
            } else {
                days
            })
        });
        let english = self.english.captures_iter(lower).filter_map(|c| {
            let days: u32 = c.get(1).or(c.get(2))?.as_str().parse().ok()?;
            let working = c
                .get(3)
                .is_some_and(|w| !w.as_str().starts_with("calendar"));
            Some(if working { days * 7 / 5 } else { days })
        });
        chinese.chain(english).max()
    }
}

/// "90", "九十", "一百二十", "十五" → the number.
fn number(text: &str) -> Option<u32> {
    if let Ok(n) = text.parse() {
        return Some(n);
    }
    let digit = |c: char| {
        "零一二三四五六七八九"
            .find(c)
            .map(|i| (i / 3) as u32)
            .or((c == '〇').then_some(0))
            .or((c == '两').then_some(2))
    };
    let (mut total, mut current) = (0u32, 0u32);
    for c in text.chars() {
        match c {
            '十' => {
                total += current.max(1) * 10;
                current = 0;
            }
            '百' => {
                total += current.max(1) * 100;
                current = 0;
            }
            other => current = digit(other)?,
        }
    }
    Some(total + current)
}

fn fact_finding(rule: &FactRule, facts: &Facts) -> Option<Finding> {
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
    applies.then(|| Finding {
        rule: rule.id.clone(),
        category: rule.category.clone(),
        severity: rule.severity,
        clause: "送审信息 / Submission facts".to_owned(),
        start: 0,
        end: 0,
        excerpt,
        provision: rule.provision.clone(),
        explanation: rule.explanation.clone(),
        advice: rule.advice.clone(),
    })
}

fn checklist(
    book: &RuleBook,
    document: &Document,
    facts: &Facts,
    findings: &[Finding],
) -> Vec<ChecklistItem> {
    let sentences: usize = document.clauses.iter().map(|c| c.sentences.len()).sum();
    book.categories
        .iter()
        .map(|category| {
            let flagged = findings.iter().any(|f| f.category == category.id);
            let fact_checks = book.facts.iter().filter(|f| f.category == category.id).count();
            let mut examined = format!(
                "{} 个条款、{sentences} 个句子 / {} clauses, {sentences} sentences",
                document.clauses.len(),
                document.clauses.len()
            );
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
        assert_eq!(report.checklist.len(), 9);
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

    #[test]
    fn chinese_numbers() {
        for (text, n) in [
            ("九十", 90),
            ("十五", 15),
            ("三十", 30),
            ("一百二十", 120),
            ("两", 2),
            ("45", 45),
        ] {
            assert_eq!(number(text), Some(n), "{text}");
        }
    }
}
