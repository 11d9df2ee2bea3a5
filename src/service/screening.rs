//! The legality screen in the workflow: run on submission (the `screen` effect) and stored per
//! body version with its checklist; a self-check for the clerk before submitting; waivers by the
//! reviewer, with a reason, in the audit trail.

use std::sync::Arc;

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::transitions::Situation;
use super::{Service, now};
use crate::domain::ContractDraft;
use crate::domain::field::text_block;
use crate::domain::{Contract, Finding, FindingSpan, Waiver};
use crate::domain::{NewContract, Principal, Role};
use crate::error::{Error, Result};
use crate::screening::{Facts, Report, UnpaidJudgment, screen};
use crate::store::{NewFinding, ScreeningRecord};

const MAX_REASON_CHARS: usize = 2_000;

/// A contract's stored findings for its current version, with the checklist.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FindingsView {
    pub body_version: i64,
    pub findings: Vec<Finding>,
    /// Every category flagged or clear, with what was examined; null before the first screen.
    #[schema(value_type = Option<Vec<crate::screening::ChecklistItem>>, nullable)]
    pub checklist: Option<serde_json::Value>,
}

impl Service {
    /// What people read for each finding category, by its id.
    pub fn category_labels(&self) -> std::collections::BTreeMap<String, String> {
        self.rules
            .categories
            .iter()
            .map(|c| (c.id.clone(), c.label.clone()))
            .collect()
    }

    /// Screens `body` with the contract's facts and the agency's unpaid judgments.
    pub(super) async fn screen_body(&self, contract: &Contract, body: &str) -> Result<Report> {
        let facts = Facts {
            contract_type: Some(contract.contract_type),
            agency_party: Some(contract.agency_party.clone()),
            counterparty: Some(contract.counterparty.clone()),
            amount_fen: Some(contract.amount_fen),
            funding_source: contract.funding_source.clone(),
            title: Some(contract.title.clone()),
            unpaid_judgments: self.unpaid_judgments(contract.agency_id).await?,
        };
        self.run_screen(body.to_owned(), facts).await
    }

    /// The screen, off the async workers: its time grows with the text.
    async fn run_screen(&self, body: String, facts: Facts) -> Result<Report> {
        let rules = Arc::clone(&self.rules);
        let report = tokio::task::spawn_blocking(move || screen(&rules, &body, &facts))
            .await
            .map_err(|e| anyhow::anyhow!("the screen stopped: {e}"))?;
        Ok(report)
    }

    async fn unpaid_judgments(&self, agency_id: Uuid) -> Result<Vec<UnpaidJudgment>> {
        let unpaid = self.store.unpaid_judgments(agency_id).await?;
        Ok(unpaid
            .into_iter()
            .map(|(kind, outstanding_fen)| UnpaidJudgment {
                kind: <&'static str>::from(kind).to_owned(),
                outstanding_fen,
            })
            .collect())
    }

    /// Screens a draft that is not stored yet, exactly as submission would: the clerk's check
    /// on the new-contract form. Stores nothing.
    ///
    /// # Errors
    /// 403 without the submitter role; 422 naming every invalid field of the draft.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id))]
    pub async fn screen_draft(
        &self,
        principal: &Principal,
        draft: ContractDraft,
    ) -> Result<Report> {
        if !principal.has(Role::Submitter) {
            return Err(Error::forbidden(
                "需要经办人角色 / the submitter role is required",
            ));
        }
        let contract =
            NewContract::parse(draft).map_err(|errors| Error::Invalid(errors.into_vec()))?;
        let facts = Facts {
            contract_type: Some(contract.contract_type),
            agency_party: Some(contract.agency_party),
            counterparty: Some(contract.counterparty),
            amount_fen: Some(contract.amount.fen()),
            funding_source: contract.funding_source,
            title: Some(contract.title),
            unpaid_judgments: self.unpaid_judgments(principal.agency_id).await?,
        };
        self.run_screen(contract.body.markdown().to_owned(), facts)
            .await
    }

    /// The screen of `body` as it is stored with a transition.
    pub(super) async fn screening_record(
        &self,
        contract: &Contract,
        body_version: i64,
        body: &str,
    ) -> Result<ScreeningRecord> {
        let report = self.screen_body(contract, body).await?;
        let findings = report
            .findings
            .iter()
            .map(|f| NewFinding {
                id: Uuid::now_v7(),
                rule: f.rule.clone(),
                category: f.category.clone(),
                severity: f.severity.as_str().to_owned(),
                clause: f.clause.clone(),
                start_offset: i64::try_from(f.start).unwrap_or(i64::MAX),
                end_offset: i64::try_from(f.end).unwrap_or(i64::MAX),
                excerpt: f.excerpt.clone(),
                provision: f.provision.clone(),
                citation: f.citation.clone(),
                advice: f.advice.clone(),
                spans: f
                    .spans
                    .iter()
                    .map(|span| FindingSpan {
                        start: i64::try_from(span.start).unwrap_or(i64::MAX),
                        end: i64::try_from(span.end).unwrap_or(i64::MAX),
                        excerpt: span.excerpt.clone(),
                    })
                    .collect(),
            })
            .collect();
        Ok(ScreeningRecord {
            body_version,
            findings,
            checklist: serde_json::to_string(&report.checklist).map_err(anyhow::Error::from)?,
        })
    }

    /// Screens the current version without storing anything or changing the state: the clerk's
    /// check before submitting.
    ///
    /// # Errors
    /// 404 outside the caller's view.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id, id = %id))]
    pub async fn self_check(&self, principal: &Principal, id: Uuid) -> Result<Report> {
        let detail = self.get_contract(principal, id).await?;
        self.screen_body(&detail.contract, &detail.body_markdown)
            .await
    }

    /// The stored findings of the current version.
    ///
    /// # Errors
    /// 404 outside the caller's view.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id, id = %id))]
    pub async fn contract_findings(&self, principal: &Principal, id: Uuid) -> Result<FindingsView> {
        let detail = self.get_contract(principal, id).await?;
        self.stored_screening(id, detail.contract.body_version)
            .await
    }

    /// The findings and checklist stored for one body version of a contract in view.
    pub(super) async fn stored_screening(&self, id: Uuid, version: i64) -> Result<FindingsView> {
        let findings = self.store.findings(id, version).await?;
        let checklist = self.store.screening_checklist(id, version).await?;
        Ok(FindingsView {
            body_version: version,
            findings,
            checklist: checklist.and_then(|c| serde_json::from_str(&c).ok()),
        })
    }

    /// Waives an open finding, with a reason, during review.
    ///
    /// # Errors
    /// 404 outside the view or for no such open finding; 403 for anyone but a reviewer or lead
    /// reviewer whose jurisdiction covers the contract; 422 for a missing reason or for one of
    /// the contract's authors (separation of duties); 409 outside a review stage.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id, id = %id))]
    pub async fn waive_finding(
        &self,
        principal: &Principal,
        id: Uuid,
        finding_id: Uuid,
        reason: &str,
    ) -> Result<Finding> {
        let situation = self.situation(principal, id, None).await?;
        may_rule_on_findings(principal, &situation)?;
        let reason = waiver_reason(reason)?;
        let contract = &situation.detail.contract;
        let waiver = Waiver {
            contract_id: id,
            finding_id,
            reason,
            actor_id: principal.user_id,
            at: now(),
        };
        if !self.store.waive_finding(&waiver).await? {
            return Err(Error::not_found(
                "没有该未处理的审查发现 / no such open finding",
            ));
        }
        let findings = self.store.findings(id, contract.body_version).await?;
        findings
            .into_iter()
            .find(|f| f.id == finding_id)
            .ok_or_else(|| Error::not_found("没有该审查发现 / no such finding"))
    }

    /// Takes a waiver back while the review is open: the finding is open again and blocks
    /// approval as before. The withdrawal and its reason are audited.
    ///
    /// # Errors
    /// As [`Service::waive_finding`]; 404 for a finding that is not waived.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id, id = %id))]
    pub async fn withdraw_waiver(
        &self,
        principal: &Principal,
        id: Uuid,
        finding_id: Uuid,
        reason: &str,
    ) -> Result<Finding> {
        let situation = self.situation(principal, id, None).await?;
        may_rule_on_findings(principal, &situation)?;
        let withdrawal = Waiver {
            contract_id: id,
            finding_id,
            reason: waiver_reason(reason)?,
            actor_id: principal.user_id,
            at: now(),
        };
        if !self.store.withdraw_waiver(&withdrawal).await? {
            return Err(Error::not_found(
                "没有该已排除的审查发现 / no such excluded finding",
            ));
        }
        let findings = self
            .store
            .findings(id, situation.detail.contract.body_version)
            .await?;
        findings
            .into_iter()
            .find(|f| f.id == finding_id)
            .ok_or_else(|| Error::not_found("没有该审查发现 / no such finding"))
    }
}

/// Only a reviewer or lead reviewer whose jurisdiction covers the contract, and who did not
/// draft or submit it, rules on its findings, and only while it is under review.
pub(super) fn may_rule_on_findings(principal: &Principal, situation: &Situation) -> Result<()> {
    if !principal.has(Role::Reviewer) && !principal.has(Role::LeadReviewer) {
        return Err(Error::forbidden(
            "只有审查人可以经核实排除审查发现 / only reviewers can waive findings",
        ));
    }
    if !situation.actor().me.in_jurisdiction {
        return Err(Error::forbidden(
            "该合同不在您的审查管辖范围内 / the contract is outside your review jurisdiction",
        ));
    }
    if situation.facts().authors.contains(&principal.user_id) {
        return Err(Error::Guard {
            guard: "not_submitter",
            reason: "起草或提交合同的人不能排除其审查发现 / whoever drafted or submitted a contract may not waive its findings".into(),
        });
    }
    let state = situation.detail.contract.state;
    if situation.definition.deciders(state).is_empty() {
        return Err(Error::Conflict {
            kind: "/problems/invalid-state",
            detail: format!(
                "合同处于 {state} 状态，不在审查中 / the contract is {state}, not under review"
            ),
        });
    }
    Ok(())
}

fn waiver_reason(reason: &str) -> Result<String> {
    text_block(reason, MAX_REASON_CHARS).map_err(|problem| {
        Error::invalid(
            "reason",
            format!("须填写理由（最多 2000 字）/ a reason of at most 2,000 characters is required: {problem}"),
        )
    })
}
