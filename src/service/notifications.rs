//! What the workflow tells people by e-mail. Mails are rendered when they are queued, in the
//! transaction of the change they announce, so that the dispatcher only has to send them; the
//! deadline reminders are queued by the dispatcher's periodic sweep.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::transitions::Situation;
use super::{Service, now};
use crate::domain::{Contract, OutboxStatus, OutgoingMail, QueuedMail, approval_conditions};
use crate::domain::{Money, Principal, Role};
use crate::error::{Error, Result};
use crate::screening::Severity;
use crate::store::{ReminderMail, ScreeningRecord};
use crate::workflow::calendar::{beijing_date, last_day};
use crate::workflow::definition::{Audience, Outcome};
use crate::workflow::{Effect, Plan};

/// The most rows the outbox listing returns.
const OUTBOX_PAGE: i64 = 200;

impl Service {
    /// The e-mails a planned transition sends: one per recipient of each `notify` effect.
    pub(super) async fn compose_mails(
        &self,
        situation: &Situation,
        plan: &Plan,
        after: &Contract,
        screening: Option<&ScreeningRecord>,
    ) -> Result<Vec<OutgoingMail>> {
        let mut mails = Vec::new();
        // An approval carries the conditions set in its round, by the reviewer and by the lead.
        let mut conditions = Vec::new();
        if plan.outcome == Some(Outcome::Approved) {
            let history = self.store.contract_transitions(after.id).await?;
            conditions = approval_conditions(&history);
        }
        conditions.extend(plan.conditions.iter().cloned());
        for effect in &plan.effects {
            let Effect::Notify { event, to } = effect else {
                continue;
            };
            let mut recipients = BTreeSet::new();
            for audience in to {
                recipients.extend(self.audience(*audience, situation, plan).await?);
            }
            if recipients.is_empty() {
                continue;
            }
            let mut context = self
                .mail_context(after, plan.opinion.as_deref(), screening)
                .await?;
            context["points"] = serde_json::json!(plan.points);
            context["conditions"] = serde_json::json!(conditions);
            let rendered = self.templates.render_email(event, &context)?;
            mails.extend(recipients.into_iter().map(|recipient| OutgoingMail {
                id: Uuid::now_v7(),
                contract_id: Some(after.id),
                event: event.clone(),
                recipient,
                subject: rendered.subject.clone(),
                body_text: rendered.text.clone(),
                body_html: rendered.html.clone(),
            }));
        }
        Ok(mails)
    }

    /// E-mail addresses of one audience, for the contract in `situation`.
    async fn audience(
        &self,
        audience: Audience,
        situation: &Situation,
        plan: &Plan,
    ) -> Result<Vec<String>> {
        let contract = &situation.detail.contract;
        let actors = situation.acting_user_ids();
        let ids = match audience {
            Audience::Signatories => {
                return self
                    .current_signers(contract.agency_id, &situation.detail.signatories)
                    .await;
            }
            Audience::Reviewers => {
                return self
                    .covering_emails(contract.agency_id, Role::Reviewer)
                    .await;
            }
            Audience::LeadReviewers => {
                return self
                    .covering_emails(contract.agency_id, Role::LeadReviewer)
                    .await;
            }
            Audience::Submitter if plan.outcome == Some(Outcome::Submitted) => {
                vec![situation.actor_user_id()]
            }
            Audience::Submitter => {
                let history = self.store.contract_transitions(contract.id).await?;
                let last = history.iter().rev().find(|t| t.is(Outcome::Submitted));
                vec![last.map_or(contract.created_by, |t| t.actor_id)]
            }
            Audience::Approvers => {
                let history = self.store.contract_transitions(contract.id).await?;
                let mut ids: Vec<Uuid> = history
                    .iter()
                    .filter(|t| t.is(Outcome::Approved))
                    .flat_map(|t| [Some(t.actor_id), t.on_behalf_of])
                    .flatten()
                    .collect();
                if plan.outcome == Some(Outcome::Approved) {
                    ids.extend(actors);
                }
                ids
            }
        };
        let mut emails = Vec::new();
        for id in ids {
            if let Some(user) = self.store.user(id).await?
                && user.active
            {
                emails.push(user.email);
            }
        }
        Ok(emails)
    }

    async fn covering_emails(&self, agency_id: Uuid, role: Role) -> Result<Vec<String>> {
        let users = self.store.users_covering(agency_id, role).await?;
        Ok(users.into_iter().map(|u| u.email).collect())
    }

    /// What the e-mail templates can use. `screening` is the screen the same transaction stores
    /// (on submission): the mail must tell its findings, not the ones of the version before.
    async fn mail_context(
        &self,
        contract: &Contract,
        opinion: Option<&str>,
        screening: Option<&ScreeningRecord>,
    ) -> Result<serde_json::Value> {
        let agency = self
            .store
            .agency(contract.agency_id)
            .await?
            .map(|a| a.name)
            .unwrap_or_default();
        let (total, blocking) = match screening {
            Some(record) => (
                record.findings.len(),
                record
                    .findings
                    .iter()
                    .filter(|f| f.severity == Severity::Block.as_str())
                    .count(),
            ),
            None => {
                let findings = self
                    .store
                    .findings(contract.id, contract.body_version)
                    .await?;
                let open_blocking = findings
                    .iter()
                    .filter(|f| f.severity == Severity::Block.as_str() && f.waived_at.is_none())
                    .count();
                (findings.len(), open_blocking)
            }
        };
        let findings_summary = if total == 0 {
            "自动审查未发现问题。".to_owned()
        } else if blocking == 0 {
            format!("自动审查提示 {total} 项问题，均为提示事项，请审查人核实。")
        } else {
            format!("自动审查发现 {total} 项问题，其中 {blocking} 项须修改或经核实排除后方可通过。")
        };
        let due_at = contract.due_at.map_or_else(
            || "—".to_owned(),
            |due| {
                format!(
                    "{}（北京时间 / Beijing time）",
                    last_day(due).format("%Y-%m-%d")
                )
            },
        );
        Ok(serde_json::json!({
            "contract": contract,
            "agency": agency,
            "amount": Money::from_fen(contract.amount_fen).map(|m| m.to_string()).unwrap_or_default(),
            "opinion": opinion.unwrap_or(""),
            "findings_summary": findings_summary,
            "due_at": due_at,
            "link": format!("{}/contracts/{}", self.public_url.trim_end_matches('/'), contract.id),
        }))
    }

    /// Queues deadline mail: a reminder to the stage's reviewers when a review is due within one
    /// working day, an escalation to the lead reviewers once it is overdue; at most one of each per
    /// contract, recipient and day. Returns how many were queued.
    ///
    /// # Errors
    /// Database or rendering failures.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn enqueue_reminders(&self, at: DateTime<Utc>) -> Result<usize> {
        let horizon = self.calendar.due_at(at, 1);
        let day = beijing_date(at);
        let mut reminders = Vec::new();
        for contract in self.store.contracts_due_before(horizon).await? {
            let Some(due) = contract.due_at else { continue };
            let (kind, roles) = if due <= at {
                ("escalation", vec![Role::LeadReviewer])
            } else {
                let definition = self.workflow_of(&contract).await?;
                ("reminder", definition.deciders(contract.state))
            };
            let mut recipients = BTreeSet::new();
            for role in roles {
                recipients.extend(self.covering_emails(contract.agency_id, role).await?);
            }
            if recipients.is_empty() {
                continue;
            }
            let rendered = self
                .templates
                .render_email(kind, self.mail_context(&contract, None, None).await?)?;
            reminders.extend(recipients.into_iter().map(|recipient| ReminderMail {
                kind,
                day,
                message: OutgoingMail {
                    id: Uuid::now_v7(),
                    contract_id: Some(contract.id),
                    event: kind.to_owned(),
                    recipient,
                    subject: rendered.subject.clone(),
                    body_text: rendered.text.clone(),
                    body_html: rendered.html.clone(),
                },
            }));
        }
        Ok(self.store.enqueue_reminders(&reminders, at).await?)
    }

    /// The outbox of the admin's jurisdiction, newest first.
    ///
    /// # Errors
    /// 403 without the admin role; 422 for an unknown status.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id))]
    pub async fn list_outbox(
        &self,
        principal: &Principal,
        status: Option<&str>,
    ) -> Result<Vec<QueuedMail>> {
        if !principal.has(Role::Admin) {
            return Err(Error::forbidden(
                "需要管理员角色 / the admin role is required",
            ));
        }
        let status = match status.filter(|s| !s.is_empty()) {
            Some(raw) => Some(raw.parse::<OutboxStatus>().map_err(|_| {
                Error::invalid("status", "状态须为 pending、sending、sent 或 failed / status must be pending, sending, sent or failed")
            })?),
            None => None,
        };
        Ok(self
            .store
            .list_outbox(principal.visibility(), status, OUTBOX_PAGE)
            .await?)
    }

    /// Queues a failed e-mail again.
    ///
    /// # Errors
    /// 403 without the admin role; 404 for an e-mail that is not failed or not in view.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id, id = %id))]
    pub async fn retry_outbox(&self, principal: &Principal, id: Uuid) -> Result<()> {
        if !principal.has(Role::Admin) {
            return Err(Error::forbidden(
                "需要管理员角色 / the admin role is required",
            ));
        }
        if self
            .store
            .requeue_outbox(id, principal.visibility(), now())
            .await?
        {
            Ok(())
        } else {
            Err(Error::not_found("没有该失败邮件 / no such failed e-mail"))
        }
    }
}
