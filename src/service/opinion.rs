//! The review opinion letter (合法性审查意见书): the document the legal-affairs office issues
//! for a contract's latest decision, with its 文号, addressee, every stage's opinion and the
//! people who signed it. One [`ReviewLetter`] is rendered as Markdown (the template operators
//! may customise), as an HTML page to print, and as a Word `.docx` for the office's letterhead.

use serde::Serialize;
use uuid::Uuid;

use super::Service;
use crate::domain::{
    ClauseComment, ContractDetail, ContractState, ContractTransition, Finding, Money, Outcome,
    Principal, SupplementPoint, User, approval_conditions,
};
use crate::error::{Error, Result};
use crate::office::letter::{self, Block, Letter, Run};
use crate::templates::markdown_to_html;
use crate::workflow::calendar::beijing_date;

/// The letter's languages: Chinese, as offices issue it, or with English beside the headings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LetterLanguage {
    #[default]
    Chinese,
    ChineseAndEnglish,
}

impl LetterLanguage {
    /// `zh` (or nothing) and `zh-en`.
    ///
    /// # Errors
    /// 422 on `lang` for anything else.
    pub fn parse(raw: Option<&str>) -> Result<Self> {
        match raw.map(str::trim) {
            None | Some("" | "zh") => Ok(LetterLanguage::Chinese),
            Some("zh-en") => Ok(LetterLanguage::ChineseAndEnglish),
            Some(_) => Err(Error::invalid(
                "lang",
                "须为 zh 或 zh-en / must be zh or zh-en",
            )),
        }
    }
}

/// The letter in every form it is served in.
#[derive(Debug, Clone)]
pub struct OpinionLetter {
    pub letter: ReviewLetter,
    pub markdown: String,
    pub html: String,
}

impl OpinionLetter {
    /// The letter as a Word document.
    ///
    /// # Errors
    /// Only if the document outgrows the zip format.
    pub fn docx(&self) -> Result<Vec<u8>> {
        letter::write(&self.letter.as_office_letter())
            .map_err(|e| anyhow::anyhow!("writing the opinion letter: {e}").into())
    }

    /// A file name for the download: the 文号 and the contract's title.
    pub fn file_name(&self) -> String {
        format!("{}审查意见书.docx", self.letter.number)
    }
}

/// What the letter says, in the words it prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewLetter {
    /// 文号, e.g. 示司审〔2026〕12号.
    pub number: String,
    /// The office that issues it (发文机关).
    pub issuer: String,
    pub title: String,
    /// The submitting agency (主送机关).
    pub addressee: String,
    /// The opening sentence: what was submitted, when.
    pub opening: String,
    /// 基本情况, label and value.
    pub facts: Vec<(String, String)>,
    pub findings: Vec<LetterFinding>,
    /// 逐项核查: every prohibition the screen examined, with 发现问题 or 未发现.
    pub checklist: Vec<(String, String)>,
    pub supplements: Vec<LetterSupplement>,
    /// Every stage's opinion in the round that ended in this decision, in order.
    pub opinions: Vec<StageOpinion>,
    /// 批注 made up to this decision, each with how the clerk dealt with it, as one line.
    pub comments: Vec<String>,
    pub conclusion: String,
    /// 修改后同意: what the agency must do when it signs.
    pub conditions: Vec<String>,
    /// 承办人, 复核人, 签发人 with their names.
    pub signatures: Vec<(String, String)>,
    /// 成文日期: 2026年12月7日.
    pub date: String,
    /// What the approval covers (附注).
    pub note: String,
    /// English beside the Chinese headings, for a reader who needs it.
    pub english: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LetterFinding {
    pub category: String,
    pub clause: String,
    pub excerpt: String,
    pub basis: String,
    /// 处理意见, or 经核实排除 with the reviewer's reason.
    pub disposition: String,
    pub excluded: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LetterSupplement {
    pub text: String,
    pub answer: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageOpinion {
    /// 法制审查意见, 负责人复核意见…
    pub stage: String,
    pub person: String,
    pub date: String,
    /// The opinion's paragraphs as written, each keeping its 一、(一) 1. label.
    pub paragraphs: Vec<String>,
}

impl Service {
    /// The opinion letter of the latest review decision.
    ///
    /// # Errors
    /// 404 outside the caller's view, or before any decision.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id, id = %id))]
    pub async fn opinion_letter(
        &self,
        principal: &Principal,
        id: Uuid,
        language: LetterLanguage,
    ) -> Result<OpinionLetter> {
        let detail = self.get_contract(principal, id).await?;
        let history = self.store.contract_transitions(id).await?;
        self.letter_in(&detail, &history, language)
            .await?
            .ok_or_else(|| Error::not_found("尚无审查结论 / there is no review decision yet"))
    }

    /// The letter of the latest decision in `history`, in Chinese; `None` before any decision.
    pub(super) async fn letter_for(
        &self,
        detail: &ContractDetail,
        history: &[ContractTransition],
    ) -> Result<Option<OpinionLetter>> {
        self.letter_in(detail, history, LetterLanguage::Chinese)
            .await
    }

    async fn letter_in(
        &self,
        detail: &ContractDetail,
        history: &[ContractTransition],
        language: LetterLanguage,
    ) -> Result<Option<OpinionLetter>> {
        let Some(decided) = history
            .iter()
            .rposition(|t| t.outcome.is_some_and(Outcome::is_decision))
        else {
            return Ok(None);
        };
        let decision = &history[decided];
        let submitted = history[..decided]
            .iter()
            .rposition(|t| t.is(Outcome::Submitted));
        let round = &history[submitted.map_or(0, |i| i + 1)..=decided];
        let mut letter = self
            .review_letter(detail, decision, submitted.map(|i| &history[i]), round)
            .await?;
        letter.english = language == LetterLanguage::ChineseAndEnglish;
        let markdown = self.templates.render_opinion(&letter)?;
        let html = format!(
            "<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>合法性审查意见书</title></head>\n<body>\n{}</body></html>\n",
            markdown_to_html(&markdown)
        );
        Ok(Some(OpinionLetter {
            letter,
            markdown,
            html,
        }))
    }

    async fn review_letter(
        &self,
        detail: &ContractDetail,
        decision: &ContractTransition,
        submission: Option<&ContractTransition>,
        round: &[ContractTransition],
    ) -> Result<ReviewLetter> {
        let contract = &detail.contract;
        let addressee = self.agency_name(contract.agency_id).await?;
        let decider = self.store.user(decision.decided_by()).await?;
        let issuer = match &decider {
            Some(user) => self.agency_name(user.agency_id).await?,
            None => String::new(),
        };
        let findings = self
            .store
            .findings(contract.id, decision.body_version)
            .await?;
        let supplements = self.store.supplement_points(contract.id).await?;
        let comments = self
            .store
            .comments(contract.id)
            .await?
            .iter()
            .filter(|c| c.created_at <= decision.at)
            .map(comment_line)
            .collect();
        let checklist = self
            .store
            .screening_checklist(contract.id, decision.body_version)
            .await?
            .and_then(|raw| serde_json::from_str::<Vec<serde_json::Value>>(&raw).ok())
            .unwrap_or_default()
            .iter()
            .map(|item| {
                let label = item["label"].as_str().unwrap_or_default();
                let result = if item["status"] == "flagged" {
                    "发现问题"
                } else {
                    "未发现"
                };
                (chinese_part(label), result.to_owned())
            })
            .collect();
        let conditions = match decision.outcome {
            Some(Outcome::Approved) => approval_conditions(round),
            _ => Vec::new(),
        };
        let mut opinions = Vec::new();
        for step in round.iter().filter(|t| t.opinion.is_some()) {
            opinions.push(self.stage_opinion(step).await?);
        }
        let submitted_on =
            submission.map_or_else(|| "—".to_owned(), |s| chinese_date(beijing_date(s.at)));
        let amount = Money::from_fen(contract.amount_fen)
            .map(|m| format!("人民币{}元", m.to_string().trim_start_matches('¥')))
            .unwrap_or_default();
        Ok(ReviewLetter {
            number: decision.opinion_number.clone().unwrap_or_default(),
            title: format!("关于《{}》的合法性审查意见书", contract.title),
            opening: format!(
                "你单位于{submitted_on}送审的《{}》及相关材料收悉。经审查，现提出如下意见：",
                contract.title
            ),
            facts: vec![
                ("合同名称".into(), contract.title.clone()),
                (
                    "合同类型".into(),
                    chinese_part(contract.contract_type.label()),
                ),
                ("合同相对方".into(), contract.counterparty.clone()),
                ("合同金额".into(), amount),
                (
                    "资金来源".into(),
                    contract
                        .funding_source
                        .clone()
                        .unwrap_or_else(|| "未填写".into()),
                ),
                ("审查版本".into(), format!("第{}版", decision.body_version)),
            ],
            findings: findings.iter().map(|f| self.letter_finding(f)).collect(),
            checklist,
            supplements: supplements
                .iter()
                .filter(|p| p.requested_at <= decision.at)
                .map(letter_supplement)
                .collect(),
            opinions,
            comments,
            conclusion: conclusion(decision.outcome, !conditions.is_empty()).to_owned(),
            conditions,
            signatures: self.signatures(round, decision).await?,
            date: chinese_date(beijing_date(decision.at)),
            note: match decision.outcome {
                Some(Outcome::Approved) => format!(
                    "本意见仅适用于上述审查版本（SHA-256：{}）。合同文本或审查材料如有改动，须重新送审。",
                    decision.body_sha256
                ),
                _ => String::new(),
            },
            issuer,
            addressee,
            english: false,
        })
    }

    async fn agency_name(&self, id: Uuid) -> Result<String> {
        Ok(self
            .store
            .agency(id)
            .await?
            .map(|a| a.name)
            .unwrap_or_default())
    }

    fn letter_finding(&self, finding: &Finding) -> LetterFinding {
        let labels = self.category_labels();
        let category = labels
            .get(&finding.category)
            .map_or_else(|| finding.category.clone(), |l| chinese_part(l));
        let basis = if finding.citation.is_empty() {
            finding.provision.clone()
        } else {
            finding.citation.clone()
        };
        let (disposition, excluded) = match &finding.waive_reason {
            Some(reason) if finding.waived_at.is_some() => (format!("经核实排除：{reason}"), true),
            _ => (finding.advice.clone(), false),
        };
        LetterFinding {
            category,
            clause: finding.clause.clone(),
            excerpt: finding.excerpt.clone(),
            basis,
            disposition,
            excluded,
        }
    }

    async fn stage_opinion(&self, step: &ContractTransition) -> Result<StageOpinion> {
        let stage = match step.from_state {
            ContractState::LegalReview => "法制审查意见",
            ContractState::LeadReview => "负责人复核意见",
            _ => "审查意见",
        };
        Ok(StageOpinion {
            stage: stage.to_owned(),
            person: self.signer_name(step).await?,
            date: chinese_date(beijing_date(step.at)),
            paragraphs: paragraphs(step.opinion.as_deref().unwrap_or_default()),
        })
    }

    /// The name the step was taken in, with the deputy who took it.
    async fn signer_name(&self, step: &ContractTransition) -> Result<String> {
        let name = |user: Option<User>| user.map(|u| u.name).unwrap_or_default();
        let decided_by = name(self.store.user(step.decided_by()).await?);
        Ok(match step.on_behalf_of {
            Some(_) => format!(
                "{decided_by}（{}代为审查）",
                name(self.store.user(step.actor_id).await?)
            ),
            None => decided_by,
        })
    }

    /// 承办人 (who reviewed first), 复核人 (the lead, when the contract went to lead review) and
    /// 签发人 (who took the decision).
    async fn signatures(
        &self,
        round: &[ContractTransition],
        decision: &ContractTransition,
    ) -> Result<Vec<(String, String)>> {
        let at = |state| round.iter().find(|t| t.from_state == state);
        let mut signatures = Vec::new();
        if let Some(first) = at(ContractState::LegalReview) {
            signatures.push(("承办人".to_owned(), self.signer_name(first).await?));
        }
        if let Some(lead) = at(ContractState::LeadReview) {
            signatures.push(("复核人".to_owned(), self.signer_name(lead).await?));
        }
        signatures.push(("签发人".to_owned(), self.signer_name(decision).await?));
        Ok(signatures)
    }
}

/// 第三条 工程款支付：意见。建议修改为：……（已采纳）
fn comment_line(comment: &ClauseComment) -> String {
    let mut line = format!("{}：{}", comment.clause, comment.comment);
    if let Some(suggestion) = &comment.suggestion {
        line.push_str(&format!("建议修改为：{suggestion}"));
    }
    let dealt = match (comment.resolution, &comment.resolution_note) {
        (Some(r), Some(note)) => format!("{}：{note}", chinese_part(r.label())),
        (Some(r), None) => chinese_part(r.label()),
        (None, _) => "待处理".to_owned(),
    };
    line.push_str(&format!("（{dealt}）"));
    line
}

fn letter_supplement(point: &SupplementPoint) -> LetterSupplement {
    let answer = match point.answer {
        Some(kind) => {
            let label = chinese_part(kind.label());
            match point.answer_note.as_deref().filter(|n| !n.is_empty()) {
                Some(note) => format!("{label}：{note}"),
                None => label,
            }
        }
        None => "尚未答复".to_owned(),
    };
    LetterSupplement {
        text: point.text.clone(),
        answer,
    }
}

fn conclusion(outcome: Option<Outcome>, with_conditions: bool) -> &'static str {
    match outcome {
        Some(Outcome::Approved) if with_conditions => {
            "修改后同意。请按以下条件办理后，签订审查通过的版本："
        }
        Some(Outcome::Approved) => "同意签订。",
        Some(Outcome::Returned) => "退回修改。请按上述意见修改后重新送审。",
        _ => "不予通过。该合同不得签订。",
    }
}

/// 2026年12月7日.
fn chinese_date(date: chrono::NaiveDate) -> String {
    date.format("%Y年%-m月%-d日").to_string()
}

/// The Chinese words of a bilingual label: "采购 Procurement" and "经商办企业 / Running…" give
/// 采购 and 经商办企业.
fn chinese_part(label: &str) -> String {
    let end = label
        .find(|c: char| c.is_ascii_alphabetic() || c == '/')
        .unwrap_or(label.len());
    label[..end].trim().to_owned()
}

/// An opinion's paragraphs: every line written on its own stays on its own, so that 一、二、三
/// and (一)(二) read as the reviewer set them out.
pub fn paragraphs(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The label an opinion paragraph opens with, if any: 一、 （一） (1) 1. 1、
fn paragraph_label(paragraph: &str) -> Option<usize> {
    let bracketed = [('（', '）'), ('(', ')')];
    for (open, close) in bracketed {
        if let Some(rest) = paragraph.strip_prefix(open)
            && let Some(end) = rest.find(close)
            && end > 0
            && end <= 9
        {
            return Some(open.len_utf8() + end + close.len_utf8());
        }
    }
    let digits_end = paragraph
        .find(|c: char| !(c.is_ascii_digit() || "一二三四五六七八九十".contains(c)))
        .filter(|&end| end > 0)?;
    let separator = paragraph[digits_end..].chars().next()?;
    ("、.．".contains(separator)).then(|| digits_end + separator.len_utf8())
}

impl ReviewLetter {
    /// A heading in Chinese, with English beside it when asked for.
    fn heading(&self, chinese: &str, english: &str) -> String {
        if self.english {
            format!("{chinese} {english}")
        } else {
            chinese.to_owned()
        }
    }

    /// The letter as the Word writer lays it out.
    pub fn as_office_letter(&self) -> Letter {
        let mut blocks = vec![Block::Paragraph(vec![Run::plain(&self.opening)])];
        blocks.push(Block::Heading(self.heading("一、基本情况", "Basic facts")));
        blocks.push(Block::Table {
            header: vec!["项目".into(), "内容".into()],
            rows: self
                .facts
                .iter()
                .map(|(label, value)| vec![label.clone(), value.clone()])
                .collect(),
        });
        blocks.push(Block::Heading(self.heading("二、审查发现", "Findings")));
        if self.findings.is_empty() {
            blocks.push(Block::Paragraph(vec![Run::plain(
                "经审查，未发现禁止性事项。",
            )]));
        }
        for (i, f) in self.findings.iter().enumerate() {
            blocks.push(Block::Numbered {
                label: format!("（{}）", chinese_ordinal(i + 1)),
                text: vec![
                    Run::bold(format!("{}。", f.category)),
                    Run::plain(format!(
                        "{}「{}」。依据：{}。{}",
                        f.clause, f.excerpt, f.basis, f.disposition
                    )),
                ],
            });
        }
        if !self.checklist.is_empty() {
            blocks.push(Block::Paragraph(vec![Run::plain("逐项核查情况如下：")]));
            blocks.push(Block::Table {
                header: vec!["禁止事项".into(), "核查结果".into()],
                rows: self
                    .checklist
                    .iter()
                    .map(|(label, result)| vec![label.clone(), result.clone()])
                    .collect(),
            });
        }
        if !self.supplements.is_empty() {
            blocks.push(Block::Heading(self.heading("三、补正情况", "Supplements")));
            for (i, s) in self.supplements.iter().enumerate() {
                blocks.push(Block::Numbered {
                    label: format!("{}.", i + 1),
                    text: vec![Run::plain(format!("{}——{}", s.text, s.answer))],
                });
            }
        }
        let next = if self.supplements.is_empty() {
            ["三", "四"]
        } else {
            ["四", "五"]
        };
        blocks.push(Block::Heading(
            self.heading(&format!("{}、审查意见", next[0]), "Opinions"),
        ));
        for opinion in &self.opinions {
            blocks.push(Block::Paragraph(vec![Run::bold(format!(
                "{}（{}，{}）：",
                opinion.stage, opinion.person, opinion.date
            ))]));
            for paragraph in &opinion.paragraphs {
                blocks.push(match paragraph_label(paragraph) {
                    Some(end) => Block::Numbered {
                        label: paragraph[..end].to_owned(),
                        text: vec![Run::plain(&paragraph[end..])],
                    },
                    None => Block::Paragraph(vec![Run::plain(paragraph)]),
                });
            }
        }
        if !self.comments.is_empty() {
            blocks.push(Block::Paragraph(vec![Run::bold("逐条修改意见（批注）：")]));
            for (i, comment) in self.comments.iter().enumerate() {
                blocks.push(Block::Numbered {
                    label: format!("{}.", i + 1),
                    text: vec![Run::plain(comment)],
                });
            }
        }
        blocks.push(Block::Heading(
            self.heading(&format!("{}、审查结论", next[1]), "Conclusion"),
        ));
        blocks.push(Block::Paragraph(vec![Run::bold(&self.conclusion)]));
        for (i, condition) in self.conditions.iter().enumerate() {
            blocks.push(Block::Numbered {
                label: format!("{}.", i + 1),
                text: vec![Run::plain(condition)],
            });
        }
        Letter {
            issuer: String::new(),
            number: self.number.clone(),
            title: if self.english {
                format!("{}（Legality Review Opinion）", self.title)
            } else {
                self.title.clone()
            },
            addressee: format!("{}：", self.addressee),
            blocks,
            signatures: self.signatures.clone(),
            issuer_signature: self.issuer.clone(),
            date: self.date.clone(),
            note: (!self.note.is_empty()).then(|| self.note.clone()),
        }
    }
}

/// 一, 二 … 九十九: enough for the findings of one contract.
fn chinese_ordinal(n: usize) -> String {
    const DIGITS: [&str; 10] = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        0 => "零".into(),
        1..=9 => DIGITS[n].into(),
        10..=19 => format!("十{}", DIGITS[n % 10]),
        20..=99 => format!("{}十{}", DIGITS[n / 10], DIGITS[n % 10]),
        _ => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_opinions_keep_their_lines_and_labels() {
        let text = "一、删除第三条垫资条款。\n\n二、明确资金来源：\n（一）财政预算；\n(2) 专项资金。\n3. 其他。\n请于五日内修改。";
        let paragraphs = paragraphs(text);
        assert_eq!(paragraphs.len(), 6);
        let labels: Vec<Option<&str>> = paragraphs
            .iter()
            .map(|p| paragraph_label(p).map(|end| &p[..end]))
            .collect();
        assert_eq!(
            labels,
            [
                Some("一、"),
                Some("二、"),
                Some("（一）"),
                Some("(2)"),
                Some("3."),
                None
            ]
        );
    }

    #[test]
    fn labels_read_in_chinese() {
        assert_eq!(chinese_part("采购 Procurement"), "采购");
        assert_eq!(
            chinese_part("经商办企业 / Running a business"),
            "经商办企业"
        );
        assert_eq!(
            chinese_part("不修改及理由 Not changed, because"),
            "不修改及理由"
        );
        assert_eq!(chinese_ordinal(12), "十二");
        assert_eq!(chinese_ordinal(21), "二十一");
        assert_eq!(
            chinese_date(chrono::NaiveDate::from_ymd_opt(2026, 3, 7).unwrap()),
            "2026年3月7日"
        );
    }
}
