//! The review opinion letter (合法性审查意见书) of a contract's latest decision.

use chrono::SecondsFormat;
use uuid::Uuid;

use super::Service;
use crate::domain::{ContractDetail, ContractTransition, Money, Outcome, Principal, User};
use crate::error::{Error, Result};
use crate::templates::markdown_to_html;
use crate::workflow::calendar::beijing_date;

/// The review opinion letter (合法性审查意见书) in both forms.
#[derive(Debug, Clone)]
pub struct OpinionLetter {
    pub markdown: String,
    pub html: String,
}

impl Service {
    /// The opinion letter of the latest review decision.
    ///
    /// # Errors
    /// 404 outside the caller's view, or before any decision.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id, id = %id))]
    pub async fn opinion_letter(&self, principal: &Principal, id: Uuid) -> Result<OpinionLetter> {
        let detail = self.get_contract(principal, id).await?;
        let history = self.store.contract_transitions(id).await?;
        self.letter_for(&detail, &history)
            .await?
            .ok_or_else(|| Error::not_found("尚无审查结论 / there is no review decision yet"))
    }

    /// The letter of the latest decision in `history`; `None` before any decision.
    pub(super) async fn letter_for(
        &self,
        detail: &ContractDetail,
        history: &[ContractTransition],
    ) -> Result<Option<OpinionLetter>> {
        let id = detail.contract.id;
        let decision = history
            .iter()
            .rev()
            .find(|t| t.outcome.is_some_and(Outcome::is_decision));
        let Some(decision) = decision else {
            return Ok(None);
        };
        let agency = self.store.agency(detail.contract.agency_id).await?;
        let reviewer = self.store.user(decision.decided_by()).await?;
        let deputy = match decision.on_behalf_of {
            Some(_) => self.store.user(decision.actor_id).await?,
            None => None,
        };
        let findings = self.store.findings(id, decision.body_version).await?;
        let checklist: serde_json::Value = self
            .store
            .screening_checklist(id, decision.body_version)
            .await?
            .and_then(|c| serde_json::from_str(&c).ok())
            .unwrap_or(serde_json::Value::Null);
        let supplements: Vec<serde_json::Value> = self
            .store
            .supplement_points(id)
            .await?
            .into_iter()
            .filter(|p| p.requested_at <= decision.at)
            .map(|p| {
                serde_json::json!({
                    "text": p.text,
                    "answer": p.answer.map(crate::domain::AnswerKind::label),
                    "note": p.answer_note,
                })
            })
            .collect();
        let (conclusion_zh, conclusion_en) = match decision.outcome {
            Some(Outcome::Approved) => ("同意签订", "Approved for signing"),
            Some(Outcome::Returned) => ("修改后签订", "Sign only after the required changes"),
            _ => ("不同意签订", "Not to be signed"),
        };
        let person = |user: Option<User>| user.map(|u| format!("{} <{}>", u.name, u.email));
        let date = beijing_date(decision.at);
        let context = serde_json::json!({
            "agency": agency.map(|a| a.name).unwrap_or_default(),
            "contract": detail.contract,
            "amount": Money::from_fen(detail.contract.amount_fen).map(|m| m.to_string()).unwrap_or_default(),
            "decision": decision,
            "conclusion_zh": conclusion_zh,
            "conclusion_en": conclusion_en,
            "reviewer": person(reviewer).unwrap_or_default(),
            "deputy": person(deputy),
            "findings": findings,
            "checklist": checklist,
            "supplements": supplements,
            "date": format!("{} / {}", date.format("%Y年%m月%d日"), date),
            "decided_at": decision.at.to_rfc3339_opts(SecondsFormat::Secs, true),
        });
        let markdown = self.templates.render_opinion(&context)?;
        let html = format!(
            "<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>合法性审查意见书 / Legality Review Opinion</title></head>\n<body>\n{}</body></html>\n",
            markdown_to_html(&markdown)
        );
        Ok(Some(OpinionLetter { markdown, html }))
    }
}
