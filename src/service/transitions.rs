//! Moving contracts through the review workflow: gather the facts, ask the pure engine, commit
//! its plan in one transaction. Also what the workflow produces: the history, the audit events
//! and the review opinion letter.

use std::sync::Arc;

use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::idempotency::{Idempotent, Retry};
use super::{Service, now};
use crate::domain::field::bounded_text;
use crate::domain::{
    AnswerInput, Contract, ContractDetail, ContractTransition, Manifest, MaterialKind,
    SupplementPoint, User,
};
use crate::domain::{ContractState, Principal, Roles, Visibility};
use crate::error::{Error, Result, stale};
use crate::store::{Numbering, SupplementStep, TransitionRecord};
use crate::workflow::calendar::{Clock, beijing_date};
use crate::workflow::engine::{self, Available};
use crate::workflow::{Actor, ContractFacts, Definition, Effect, Inputs, Plan, Refusal, Standing};

/// What a client sends to fire a transition.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TransitionRequest {
    pub expected_version: i64,
    pub opinion: Option<String>,
    pub body_sha256: Option<String>,
    /// Act as the deputy of this reviewer (needs an active delegation).
    pub on_behalf_of: Option<Uuid>,
    /// 退回补正: what must be supplied or changed, point by point.
    pub points: Option<Vec<String>>,
    /// Resubmitting after 补正: the answer to each open point.
    pub answers: Option<Vec<AnswerInput>>,
    /// 修改后同意: the conditions an approval sets for signing.
    pub conditions: Option<Vec<String>>,
}

/// A transition the caller may fire now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AvailableTransition {
    pub name: String,
    pub label: String,
    pub to: ContractState,
    /// Inputs to send with it: `opinion`, `body_sha256`.
    pub requires: Vec<String>,
}

/// A principal's or a delegator's standing, owned, so that the engine can borrow it.
struct Party {
    user_id: Uuid,
    agency_id: Uuid,
    email: String,
    roles: Roles,
    own_agency: bool,
    in_jurisdiction: bool,
}

impl Party {
    fn standing(&self) -> Standing<'_> {
        Standing {
            user_id: self.user_id,
            email: &self.email,
            roles: &self.roles,
            own_agency: self.own_agency,
            in_jurisdiction: self.in_jurisdiction,
        }
    }
}

/// Everything the engine needs to decide about one contract and one actor.
pub(super) struct Situation {
    pub detail: ContractDetail,
    pub definition: Arc<Definition>,
    authors: Vec<Uuid>,
    open_blocking_findings: u32,
    /// The kinds of material attached now, and what an approval would cover.
    materials: Vec<MaterialKind>,
    manifest: Manifest,
    open_points: Vec<SupplementPoint>,
    me: Party,
    delegator: Option<Party>,
}

impl Situation {
    pub fn facts(&self) -> ContractFacts<'_> {
        let c = &self.detail.contract;
        ContractFacts {
            state: c.state,
            contract_type: c.contract_type,
            amount_fen: c.amount_fen,
            has_funding_source: c.funding_source.is_some(),
            authors: &self.authors,
            signatories: &self.detail.signatories,
            open_blocking_findings: self.open_blocking_findings,
            body_sha256: &c.body_sha256,
            approved_sha256: c.approved_sha256.as_deref(),
            manifest_sha256: &self.manifest.sha256,
            approved_manifest_sha256: c.approved_manifest_sha256.as_deref(),
            materials: &self.materials,
            open_points: &self.open_points,
        }
    }

    pub fn actor(&self) -> Actor<'_> {
        Actor {
            me: self.me.standing(),
            on_behalf_of: self.delegator.as_ref().map(Party::standing),
        }
    }

    fn on_behalf_of(&self) -> Option<Uuid> {
        self.delegator.as_ref().map(|d| d.user_id)
    }

    /// The office in whose name a decision is issued: the deciding reviewer's agency (the
    /// delegator's, for a deputy).
    fn deciding_office(&self) -> Uuid {
        self.delegator.as_ref().unwrap_or(&self.me).agency_id
    }

    /// The user who acts.
    pub fn actor_user_id(&self) -> Uuid {
        self.me.user_id
    }

    /// The actor and, for a deputy, the reviewer they act for.
    pub fn acting_user_ids(&self) -> Vec<Uuid> {
        std::iter::once(self.me.user_id)
            .chain(self.on_behalf_of())
            .collect()
    }
}

pub(super) fn refusal_error(refusal: Refusal) -> Error {
    match refusal {
        Refusal::UnknownTransition { name } => Error::not_found(format!(
            "没有名为 {name} 的流转 / no transition named {name}"
        )),
        Refusal::WrongState { name, state } => Error::Conflict {
            kind: "/problems/invalid-state",
            detail: format!(
                "合同处于 {state} 状态，不能执行 {name} / a contract in state {state} cannot {name}"
            ),
        },
        Refusal::Role { name, required } => {
            let roles: Vec<&str> = required.iter().map(|r| r.as_str()).collect();
            Error::forbidden(format!(
                "执行 {name} 需要以下角色之一：{0} / {name} requires one of the roles: {0}",
                roles.join(", ")
            ))
        }
        Refusal::Outside { reason, .. } => Error::Forbidden(reason),
        Refusal::Guard { guard, reason } => Error::Guard {
            guard: guard.into(),
            reason,
        },
        Refusal::Input { input, reason } => Error::invalid(<&'static str>::from(input), reason),
        Refusal::MissingMaterials { missing } => Error::MissingMaterials(missing),
    }
}

impl Service {
    /// Loads the contract as the actor (or the reviewer they deputise for) sees it, with every
    /// fact the engine needs.
    pub(super) async fn situation(
        &self,
        principal: &Principal,
        id: Uuid,
        on_behalf_of: Option<Uuid>,
    ) -> Result<Situation> {
        let delegator = match on_behalf_of {
            Some(delegator_id) => Some(self.active_delegator(principal, delegator_id).await?),
            None => None,
        };
        let visibility = delegator.as_ref().map_or_else(
            || principal.visibility(),
            |(user, roles)| Visibility::of(roles, user.agency_id),
        );
        let detail = self
            .store
            .contract(id, visibility)
            .await?
            .ok_or_else(|| Error::not_found("合同不存在 / contract not found"))?;
        let contract = &detail.contract;
        let definition = self.workflow_of(contract).await?;
        let facts = self
            .store
            .review_facts(
                id,
                contract.agency_id,
                contract.body_version,
                [
                    Some(principal.agency_id),
                    delegator.as_ref().map(|(user, _)| user.agency_id),
                ],
            )
            .await?;
        let me = Party {
            user_id: principal.user_id,
            agency_id: principal.agency_id,
            email: principal.email.clone(),
            roles: principal.roles.clone(),
            own_agency: principal.agency_id == contract.agency_id,
            in_jurisdiction: facts.within[0],
        };
        let attachments = self.store.attachments(id).await?;
        let open_points = self
            .store
            .supplement_points(id)
            .await?
            .into_iter()
            .filter(|p| p.answered_at.is_none())
            .collect();
        let delegator = delegator.map(|(user, roles)| Party {
            user_id: user.id,
            agency_id: user.agency_id,
            own_agency: user.agency_id == contract.agency_id,
            in_jurisdiction: facts.within[1],
            email: user.email,
            roles,
        });
        let manifest = Manifest::of(&detail, &attachments);
        Ok(Situation {
            materials: attachments.iter().map(|a| a.kind).collect(),
            manifest,
            open_points,
            detail,
            definition,
            authors: facts.authors,
            open_blocking_findings: u32::try_from(facts.open_blocking_findings).unwrap_or(u32::MAX),
            me,
            delegator,
        })
    }

    /// The workflow definition a contract is pinned to.
    pub(super) async fn workflow_of(&self, contract: &Contract) -> Result<Arc<Definition>> {
        let definition = self
            .workflows
            .get(
                &self.store,
                &contract.workflow_id,
                contract.workflow_version,
            )
            .await?;
        Ok(definition)
    }

    async fn active_delegator(
        &self,
        principal: &Principal,
        delegator_id: Uuid,
    ) -> Result<(User, Roles)> {
        let today = beijing_date(now());
        let active = self
            .store
            .delegations_of(principal.user_id)
            .await?
            .iter()
            .any(|d| d.delegator_id == delegator_id && d.lets_act(principal.user_id, today));
        let user = match self.store.user(delegator_id).await? {
            Some(user) if active && user.active => user,
            _ => {
                return Err(Error::forbidden(
                    "该审查人今天没有委托您代为审查 / that reviewer has not named you as deputy for today",
                ));
            }
        };
        let roles = Roles::new(user.roles.clone()).map_err(|e| anyhow::anyhow!(e))?;
        Ok((user, roles))
    }

    /// What a plan writes, given the body version it applies to, with its e-mails rendered.
    pub(super) async fn transition_record(
        &self,
        situation: &Situation,
        plan: &Plan,
        expected_version: i64,
        (body_version, body_sha256, body): (i64, &str, &str),
        at: DateTime<Utc>,
    ) -> Result<TransitionRecord> {
        let contract = &situation.detail.contract;
        let before = Clock {
            due_at: contract.due_at,
            paused_days: contract.clock_paused_days,
        };
        let clock = self
            .calendar
            .clock_after(before, plan.pauses_clock, plan.sla_days, at);
        let mut record = TransitionRecord {
            contract_id: contract.id,
            expected_version,
            step: ContractTransition {
                id: Uuid::now_v7(),
                transition: plan.transition.clone(),
                from_state: plan.from,
                to_state: plan.to,
                outcome: plan.outcome,
                actor_id: situation.me.user_id,
                on_behalf_of: situation.on_behalf_of(),
                opinion: plan.opinion.clone(),
                opinion_number: None,
                conditions: plan.conditions.clone(),
                body_version,
                body_sha256: body_sha256.to_owned(),
                at,
            },
            pins_version: plan.pins_version,
            approved_manifest_sha256: plan.pins_version.then(|| situation.manifest.sha256.clone()),
            due_at: clock.due_at,
            clock_paused_days: clock.paused_days,
            supplement: if !plan.points.is_empty() {
                SupplementStep::Request(plan.points.clone())
            } else if !plan.answers.is_empty() {
                SupplementStep::Answer(plan.answers.clone())
            } else {
                SupplementStep::None
            },
            mails: Vec::new(),
            screening: None,
            numbering: None,
            workflow: situation.definition.key(),
        };
        if plan.outcome.is_some_and(|o| o.is_decision()) {
            record.numbering = Some(self.numbering(situation.deciding_office(), at).await?);
        }
        let after = detail_after(&situation.detail, &record);
        if plan.effects.contains(&Effect::Screen) {
            record.screening = Some(
                self.screening_record(&after.contract, body_version, body)
                    .await?,
            );
        }
        // E-mails are rendered now, so that the dispatcher only sends them.
        record.mails = self
            .compose_mails(situation, plan, &after.contract, record.screening.as_ref())
            .await?;
        Ok(record)
    }

    /// Where the 文号 of a decision taken in `office_id`'s name at `at` comes from.
    async fn numbering(&self, office_id: Uuid, at: DateTime<Utc>) -> Result<Numbering> {
        let office = self
            .store
            .agency(office_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the deciding office {office_id} vanished"))?;
        Ok(Numbering {
            office_id,
            year: beijing_date(at).year(),
            prefix: office.letter_prefix(),
        })
    }

    /// Fires a transition by name.
    ///
    /// # Errors
    /// 404 unknown contract or transition; 403 role, jurisdiction or agency; 409 wrong state or
    /// stale version; 422 a failed guard or a missing input.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id, id = %id, transition = name))]
    pub async fn fire_transition(
        &self,
        principal: &Principal,
        id: Uuid,
        name: &str,
        request: TransitionRequest,
        idempotency_key: Option<String>,
    ) -> Result<Idempotent<ContractDetail>> {
        let retry = Retry::new(principal.user_id, idempotency_key, &(id, name, &request))?;
        if let Some(earlier) = retry.earlier(&self.store).await? {
            return Ok(earlier);
        }
        match self.fire_once(principal, id, name, &request, &retry).await {
            // A retry that raced the first request finds the contract moved on: answer as the
            // first request was answered.
            Err(refused) => retry.after_refusal(&self.store, refused).await,
            done => done,
        }
    }

    async fn fire_once(
        &self,
        principal: &Principal,
        id: Uuid,
        name: &str,
        request: &TransitionRequest,
        retry: &Retry,
    ) -> Result<Idempotent<ContractDetail>> {
        let situation = self.situation(principal, id, request.on_behalf_of).await?;
        let inputs = Inputs {
            opinion: request.opinion.as_deref(),
            body_sha256: request.body_sha256.as_deref(),
            points: request.points.as_deref(),
            answers: request.answers.as_deref(),
        };
        let plan = engine::fire(
            &situation.definition,
            &situation.facts(),
            &situation.actor(),
            name,
            &inputs,
        )
        .map_err(refusal_error)?;
        let mut plan = plan;
        plan.conditions = approval_conditions(request.conditions.as_deref(), &plan)?;
        let contract = &situation.detail.contract;
        if contract.version != request.expected_version {
            return Err(stale());
        }
        let at = now();
        let record = self
            .transition_record(
                &situation,
                &plan,
                request.expected_version,
                (
                    contract.body_version,
                    &contract.body_sha256,
                    &situation.detail.body_markdown,
                ),
                at,
            )
            .await?;
        let mut after = detail_after(&situation.detail, &record);
        let saved = retry.save(&after, at)?;
        let committed = match self.store.apply_transition(&record, saved.as_ref()).await {
            Ok(Some(number)) => {
                after.contract.opinion_number = Some(number);
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(refused) => Err(refused),
        };
        retry.settle(&self.store, committed, after).await
    }

    /// The transitions the caller may fire now, with the inputs each needs.
    ///
    /// # Errors
    /// 404 outside the caller's view.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id, id = %id))]
    pub async fn available_transitions(
        &self,
        principal: &Principal,
        id: Uuid,
    ) -> Result<Vec<AvailableTransition>> {
        let situation = self.situation(principal, id, None).await?;
        let available = engine::available(
            &situation.definition,
            &situation.facts(),
            &situation.actor(),
        );
        Ok(available.into_iter().map(available_view).collect())
    }
}

pub(super) fn available_view(available: Available) -> AvailableTransition {
    AvailableTransition {
        name: available.name,
        label: available.label,
        to: available.to,
        requires: available
            .requires
            .into_iter()
            .map(|i| <&'static str>::from(i).to_owned())
            .collect(),
    }
}

/// The contract as it reads once `record` is committed.
/// The most conditions one approval sets, and the longest one.
const MAX_CONDITIONS: usize = 20;
const MAX_CONDITION_CHARS: usize = 500;

/// 修改后同意: the conditions an approval sets, each checked; only an approval may set them.
fn approval_conditions(raw: Option<&[String]>, plan: &Plan) -> Result<Vec<String>> {
    let conditions: Vec<&str> = raw
        .unwrap_or_default()
        .iter()
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
        .collect();
    if conditions.is_empty() {
        return Ok(Vec::new());
    }
    if plan.transition != "approve" {
        return Err(Error::invalid(
            "conditions",
            "只有审查通过（修改后同意）时才能附条件 / only an approval can set conditions",
        ));
    }
    if conditions.len() > MAX_CONDITIONS {
        return Err(Error::invalid(
            "conditions",
            format!("条件最多 {MAX_CONDITIONS} 项 / at most {MAX_CONDITIONS} conditions"),
        ));
    }
    conditions
        .into_iter()
        .map(|c| {
            bounded_text(c, MAX_CONDITION_CHARS).map_err(|problem| {
                Error::invalid(
                    "conditions",
                    format!("条件无效 / a condition is invalid: {problem}"),
                )
            })
        })
        .collect()
}

pub(super) fn detail_after(detail: &ContractDetail, record: &TransitionRecord) -> ContractDetail {
    let step = &record.step;
    let mut after = detail.clone();
    let contract = &mut after.contract;
    contract.state = step.to_state;
    contract.version = record.expected_version + 1;
    contract.body_version = step.body_version;
    contract.body_sha256 = step.body_sha256.clone();
    contract.due_at = record.due_at;
    contract.clock_paused_days = record.clock_paused_days;
    contract.updated_at = step.at;
    if record.pins_version {
        contract.approved_sha256 = Some(step.body_sha256.clone());
        contract.approved_manifest_sha256 = record.approved_manifest_sha256.clone();
    }
    after
}
