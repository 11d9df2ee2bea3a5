//! What each audit event records: one constructor per action, so that the store writes events
//! and never decides what goes into them.

use serde_json::json;
use uuid::Uuid;

use super::{AuditEntry, AuditMeta, SubjectKind};
use crate::domain::{
    Agency, Attachment, ClauseComment, ContractDetail, ContractTransition, ContractVersion,
    Delegation, DraftFile, ExternalSignatory, Facts, Judgment, JudgmentPayment, Role, User, Waiver,
};

impl AuditEntry {
    fn new(
        subject: (SubjectKind, Uuid),
        meta: AuditMeta,
        action: &'static str,
        data: serde_json::Value,
    ) -> Self {
        Self {
            subject_kind: subject.0,
            subject_id: subject.1,
            actor_id: meta.actor_id,
            action,
            at: meta.at,
            data,
        }
    }

    pub fn agency_created(agency: &Agency, meta: AuditMeta) -> Self {
        let data = json!({ "name": agency.name, "parent_id": agency.parent_id });
        Self::new(
            (SubjectKind::Agency, agency.id),
            meta,
            "agency.created",
            data,
        )
    }

    pub fn user_created(user: &User, meta: AuditMeta) -> Self {
        let data = json!({
            "email": user.email,
            "name": user.name,
            "agency_id": user.agency_id,
            "roles": user.roles,
        });
        Self::new((SubjectKind::User, user.id), meta, "user.created", data)
    }

    pub fn roles_changed(user_id: Uuid, roles: &[Role], meta: AuditMeta) -> Self {
        let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        let data = json!({ "roles": names });
        Self::new(
            (SubjectKind::User, user_id),
            meta,
            "user.roles_changed",
            data,
        )
    }

    pub fn password_changed(user_id: Uuid, meta: AuditMeta) -> Self {
        Self::new(
            (SubjectKind::User, user_id),
            meta,
            "user.password_changed",
            json!({}),
        )
    }

    pub fn activation_changed(user_id: Uuid, active: bool, meta: AuditMeta) -> Self {
        let action = if active {
            "user.activated"
        } else {
            "user.deactivated"
        };
        let data = json!({ "active": active });
        Self::new((SubjectKind::User, user_id), meta, action, data)
    }

    /// The first event of a contract's chain.
    pub fn contract_created(detail: &ContractDetail) -> Self {
        let c = &detail.contract;
        let data = json!({
            "title": c.title,
            "contract_type": c.contract_type,
            "counterparty": c.counterparty,
            "amount_fen": c.amount_fen,
            "state": c.state,
            "workflow": format!("{}@{}", c.workflow_id, c.workflow_version),
            "body_version": c.body_version,
            "body_sha256": c.body_sha256,
        });
        let meta = AuditMeta {
            actor_id: Some(c.created_by),
            at: c.created_at,
        };
        Self::new(
            (SubjectKind::Contract, c.id),
            meta,
            "contract.created",
            data,
        )
    }

    pub fn body_replaced(contract_id: Uuid, version: &ContractVersion) -> Self {
        let data = json!({ "body_version": version.number, "body_sha256": version.sha256 });
        let meta = AuditMeta {
            actor_id: Some(version.created_by),
            at: version.created_at,
        };
        Self::new(
            (SubjectKind::Contract, contract_id),
            meta,
            "contract.body_replaced",
            data,
        )
    }

    /// The Word or PDF file a body version was converted from.
    pub fn draft_file_kept(draft: &DraftFile) -> Self {
        let data = json!({
            "body_version": draft.body_version,
            "file_name": draft.file.file_name,
            "media_type": draft.file.media_type,
            "sha256": draft.file.sha256,
        });
        let meta = AuditMeta {
            actor_id: Some(draft.uploaded_by),
            at: draft.uploaded_at,
        };
        Self::new(
            (SubjectKind::Contract, draft.contract_id),
            meta,
            "contract.draft_file_kept",
            data,
        )
    }

    pub fn material_added(attachment: &Attachment) -> Self {
        let data = json!({
            "attachment_id": attachment.id,
            "kind": attachment.kind,
            "file_name": attachment.file.file_name,
            "size_bytes": attachment.file.size_bytes,
            "sha256": attachment.file.sha256,
        });
        let meta = AuditMeta {
            actor_id: Some(attachment.uploaded_by),
            at: attachment.uploaded_at,
        };
        Self::new(
            (SubjectKind::Contract, attachment.contract_id),
            meta,
            "contract.material_added",
            data,
        )
    }

    pub fn material_removed(contract_id: Uuid, attachment_id: Uuid, meta: AuditMeta) -> Self {
        Self::new(
            (SubjectKind::Contract, contract_id),
            meta,
            "contract.material_removed",
            json!({ "attachment_id": attachment_id }),
        )
    }

    pub fn facts_revised(
        contract_id: Uuid,
        before: &Facts,
        after: &Facts,
        meta: AuditMeta,
    ) -> Self {
        Self::new(
            (SubjectKind::Contract, contract_id),
            meta,
            "contract.facts_revised",
            json!({ "before": before, "after": after }),
        )
    }

    /// A workflow step; `workflow` is the `id@version` the contract follows.
    pub fn transition(contract_id: Uuid, step: &ContractTransition, workflow: &str) -> Self {
        let mut data = json!({
            "transition": step.transition,
            "from": step.from_state,
            "to": step.to_state,
            "outcome": step.outcome,
            "on_behalf_of": step.on_behalf_of,
            "opinion": step.opinion,
            "body_version": step.body_version,
            "body_sha256": step.body_sha256,
            "workflow": workflow,
        });
        if let Some(number) = &step.opinion_number {
            data["opinion_number"] = json!(number);
        }
        if !step.conditions.is_empty() {
            data["conditions"] = json!(step.conditions);
        }
        let meta = AuditMeta {
            actor_id: Some(step.actor_id),
            at: step.at,
        };
        Self::new(
            (SubjectKind::Contract, contract_id),
            meta,
            "contract.transition",
            data,
        )
    }

    /// A waiver of the finding of `rule`, which had `severity`.
    pub fn finding_waived(waiver: &Waiver, rule: &str, severity: &str) -> Self {
        let data = json!({
            "finding_id": waiver.finding_id,
            "rule": rule,
            "severity": severity,
            "reason": waiver.reason,
        });
        let meta = AuditMeta {
            actor_id: Some(waiver.actor_id),
            at: waiver.at,
        };
        Self::new(
            (SubjectKind::Contract, waiver.contract_id),
            meta,
            "finding.waived",
            data,
        )
    }

    /// A waiver taken back while the review is open: the finding is open again. `withdrawal`
    /// carries why; `withdrawn_reason` is the reason the finding had been excluded for.
    pub fn waiver_withdrawn(withdrawal: &Waiver, rule: &str, withdrawn_reason: &str) -> Self {
        let data = json!({
            "finding_id": withdrawal.finding_id,
            "rule": rule,
            "reason": withdrawal.reason,
            "withdrawn_reason": withdrawn_reason,
        });
        let meta = AuditMeta {
            actor_id: Some(withdrawal.actor_id),
            at: withdrawal.at,
        };
        Self::new(
            (SubjectKind::Contract, withdrawal.contract_id),
            meta,
            "finding.waiver_withdrawn",
            data,
        )
    }

    /// A reviewer's 批注 on a clause.
    pub fn comment_added(comment: &ClauseComment) -> Self {
        let data = json!({
            "comment_id": comment.id,
            "body_version": comment.body_version,
            "clause": comment.clause,
            "comment": comment.comment,
            "suggestion": comment.suggestion,
        });
        let meta = AuditMeta {
            actor_id: Some(comment.author_id),
            at: comment.created_at,
        };
        Self::new(
            (SubjectKind::Contract, comment.contract_id),
            meta,
            "comment.added",
            data,
        )
    }

    /// The clerk accepted or rejected a 批注.
    pub fn comment_resolved(comment: &ClauseComment, meta: AuditMeta) -> Self {
        let data = json!({
            "comment_id": comment.id,
            "clause": comment.clause,
            "resolution": comment.resolution,
            "note": comment.resolution_note,
        });
        Self::new(
            (SubjectKind::Contract, comment.contract_id),
            meta,
            "comment.resolved",
            data,
        )
    }

    pub fn judgment_registered(judgment: &Judgment, meta: AuditMeta) -> Self {
        let data = json!({
            "judgment_id": judgment.id,
            "case_number": judgment.case_number,
            "kind": judgment.kind,
            "amount_due_fen": judgment.amount_due_fen,
        });
        Self::new(
            (SubjectKind::Agency, judgment.agency_id),
            meta,
            "judgment.registered",
            data,
        )
    }

    /// A payment on a judgment of `agency_id`, which now stands at `paid_fen` of `due_fen`.
    pub fn judgment_paid(
        agency_id: Uuid,
        payment: &JudgmentPayment,
        (paid_fen, due_fen): (i64, i64),
        meta: AuditMeta,
    ) -> Self {
        let data = json!({
            "judgment_id": payment.judgment_id,
            "amount_fen": payment.amount_fen,
            "paid_on": payment.paid_on,
            "amount_paid_fen": paid_fen,
            "amount_due_fen": due_fen,
        });
        Self::new(
            (SubjectKind::Agency, agency_id),
            meta,
            "judgment.payment",
            data,
        )
    }

    pub fn external_signatory_added(signatory: &ExternalSignatory, meta: AuditMeta) -> Self {
        let data = json!({
            "email": signatory.email,
            "name": signatory.name,
            "organisation": signatory.organisation,
        });
        Self::new(
            (SubjectKind::Agency, signatory.agency_id),
            meta,
            "agency.external_signatory_added",
            data,
        )
    }

    pub fn external_signatory_removed(agency_id: Uuid, email: &str, meta: AuditMeta) -> Self {
        Self::new(
            (SubjectKind::Agency, agency_id),
            meta,
            "agency.external_signatory_removed",
            json!({ "email": email }),
        )
    }

    pub fn delegation_created(delegation: &Delegation, meta: AuditMeta) -> Self {
        let data = json!({
            "delegation_id": delegation.id,
            "deputy_id": delegation.deputy_id,
            "starts_on": delegation.starts_on,
            "ends_on": delegation.ends_on,
        });
        Self::new(
            (SubjectKind::User, delegation.delegator_id),
            meta,
            "user.delegation_created",
            data,
        )
    }

    pub fn delegation_revoked(delegator_id: Uuid, delegation_id: Uuid, meta: AuditMeta) -> Self {
        let data = json!({ "delegation_id": delegation_id });
        Self::new(
            (SubjectKind::User, delegator_id),
            meta,
            "user.delegation_revoked",
            data,
        )
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::domain::{ContractState, Outcome};

    fn meta() -> AuditMeta {
        AuditMeta {
            actor_id: Some(Uuid::nil()),
            at: Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap(),
        }
    }

    #[test]
    fn a_transition_records_the_step_and_the_workflow() {
        let contract = Uuid::now_v7();
        let step = ContractTransition {
            id: Uuid::now_v7(),
            transition: "approve".into(),
            from_state: ContractState::LegalReview,
            to_state: ContractState::Approved,
            outcome: Some(Outcome::Approved),
            actor_id: Uuid::nil(),
            on_behalf_of: None,
            opinion: Some("同意".into()),
            opinion_number: None,
            conditions: Vec::new(),
            body_version: 2,
            body_sha256: "ab".into(),
            at: meta().at,
        };
        let entry = AuditEntry::transition(contract, &step, "contract-review@1");
        assert_eq!(entry.action, "contract.transition");
        assert_eq!(
            (entry.subject_kind, entry.subject_id),
            (SubjectKind::Contract, contract)
        );
        assert_eq!(entry.data["outcome"], "approved");
        assert_eq!(entry.data["to"], "approved");
        assert_eq!(entry.data["opinion"], "同意");
        assert_eq!(entry.data["workflow"], "contract-review@1");
    }

    #[test]
    fn a_waiver_keeps_what_was_waived_and_why() {
        let waiver = Waiver {
            contract_id: Uuid::now_v7(),
            finding_id: Uuid::now_v7(),
            reason: "系履约保函，非甲方担保".into(),
            actor_id: Uuid::nil(),
            at: meta().at,
        };
        let entry = AuditEntry::finding_waived(&waiver, "guarantee-agency", "block");
        assert_eq!(entry.action, "finding.waived");
        assert_eq!(entry.subject_id, waiver.contract_id);
        assert_eq!(entry.data["reason"], "系履约保函，非甲方担保");
        assert_eq!(entry.data["rule"], "guarantee-agency");
        assert_eq!(entry.actor_id, Some(Uuid::nil()));
    }

    #[test]
    fn activation_and_roles_name_their_action() {
        let user = Uuid::now_v7();
        assert_eq!(
            AuditEntry::activation_changed(user, false, meta()).action,
            "user.deactivated"
        );
        let roles = AuditEntry::roles_changed(user, &[Role::Reviewer, Role::Admin], meta());
        assert_eq!(roles.data["roles"], json!(["reviewer", "admin"]));
    }

    #[test]
    fn judgment_events_belong_to_the_agency() {
        let agency = Uuid::now_v7();
        let payment = JudgmentPayment {
            judgment_id: Uuid::now_v7(),
            amount_fen: 30_000_000,
            paid_on: chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
        };
        let entry = AuditEntry::judgment_paid(agency, &payment, (30_000_000, 128_000_000), meta());
        assert_eq!(
            (entry.subject_kind, entry.subject_id),
            (SubjectKind::Agency, agency)
        );
        assert_eq!(entry.data["amount_paid_fen"], 30_000_000);
        assert_eq!(entry.data["paid_on"], "2026-11-30");
    }
}
