//! Everything the contract page shows, gathered in one call that checks the reader's view once:
//! the contract, its findings and checklist, versions, history, audit trail with people's names,
//! the actions the reader may take now, the opinion letter and the workflow diagram.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::sync::Arc;

use uuid::Uuid;

use super::Service;
use super::history::{AuditEventView, audit_views};
use super::transitions::{AvailableTransition, Situation, available_view};
use super::views::VersionView;
use crate::domain::Principal;
use crate::domain::audit::SubjectKind;
use crate::domain::{
    Attachment, ClauseComment, ContractDetail, ContractTransition, DraftFile, Finding,
    MaterialKind, SupplementPoint,
};
use crate::error::{Error, Result};
use crate::store::FactRevision;
use crate::workflow::engine;
use crate::workflow::graph::{self, Layout};

pub struct ContractOverview {
    pub detail: ContractDetail,
    pub state_label: String,
    /// Stored findings of the current body version (empty before the first submission).
    pub findings: Vec<Finding>,
    pub checklist: Option<serde_json::Value>,
    pub versions: Vec<VersionView>,
    pub history: Vec<ContractTransition>,
    /// Each step of `history` in words.
    pub history_words: Vec<String>,
    /// Each event of `events` in words: what was done, to what, and why.
    pub event_words: Vec<String>,
    pub events: Vec<AuditEventView>,
    /// Names of everyone who acted on the contract, by user id.
    pub people: BTreeMap<Uuid, String>,
    pub available: Vec<AvailableTransition>,
    /// What the reader may do today as the deputy of another reviewer.
    pub as_deputy: Vec<DeputyActions>,
    /// The opinion letter in Markdown, once a review decided.
    pub opinion: Option<String>,
    pub diagram: Layout,
    /// The review materials attached now.
    pub attachments: Vec<Attachment>,
    /// The materials the contract's type requires, each with whether it is attached.
    pub required_materials: Vec<(MaterialKind, bool)>,
    /// The Word or PDF file the current body was converted from.
    pub draft_file: Option<DraftFile>,
    /// Every 补正 point asked, with its answer once given.
    pub points: Vec<SupplementPoint>,
    pub fact_revisions: Vec<FactRevision>,
    /// 批注, oldest first.
    pub comments: Vec<ClauseComment>,
}

/// The actions a deputy may take in the name of one reviewer.
pub struct DeputyActions {
    pub delegator_id: Uuid,
    pub delegator: String,
    pub available: Vec<AvailableTransition>,
}

fn available_now(situation: &Situation) -> Vec<AvailableTransition> {
    engine::available(
        &situation.definition,
        &situation.facts(),
        &situation.actor(),
    )
    .into_iter()
    .map(available_view)
    .collect()
}

impl Service {
    /// For each reviewer who named the reader as deputy for today, what the reader may do on
    /// this contract in their name, with the contract as that reviewer sees it.
    async fn deputy_situations(
        &self,
        principal: &Principal,
        id: Uuid,
    ) -> Result<Vec<(DeputyActions, Situation)>> {
        let mut out = Vec::new();
        for delegator in self.active_delegators(principal).await? {
            let situation = match self.situation(principal, id, Some(delegator.user_id)).await {
                Ok(situation) => situation,
                // Outside the delegator's view too, or the delegation ended a moment ago.
                Err(Error::NotFound(_) | Error::Forbidden(_)) => continue,
                Err(other) => return Err(other),
            };
            let available = available_now(&situation);
            let actions = DeputyActions {
                delegator_id: delegator.user_id,
                delegator: delegator.name,
                available,
            };
            out.push((actions, situation));
        }
        Ok(out)
    }

    /// # Errors
    /// 404 when the contract is outside the reader's view.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id, id = %id))]
    pub async fn contract_overview(
        &self,
        principal: &Principal,
        id: Uuid,
    ) -> Result<ContractOverview> {
        let (as_deputy, mut borrowed): (Vec<DeputyActions>, Vec<Situation>) = self
            .deputy_situations(principal, id)
            .await?
            .into_iter()
            .unzip();
        // A deputy may open a contract outside their own view through the reviewer they act for.
        let (situation, available) = match self.situation(principal, id, None).await {
            Ok(own) => {
                let available = available_now(&own);
                (own, available)
            }
            Err(Error::NotFound(not_found)) => match borrowed.pop() {
                Some(theirs) => (theirs, Vec::new()),
                None => return Err(Error::NotFound(not_found)),
            },
            Err(other) => return Err(other),
        };
        let as_deputy = as_deputy
            .into_iter()
            .filter(|actions| !actions.available.is_empty())
            .collect();
        let definition = Arc::clone(&situation.definition);
        let detail = situation.detail;
        let contract = &detail.contract;
        let state_label = definition
            .state(contract.state)
            .map_or_else(|| contract.state.to_string(), |s| s.label.clone());
        let screening = self.stored_screening(id, contract.body_version).await?;
        let versions = self.version_list(id).await?;
        let history = self.store.contract_transitions(id).await?;
        let history_words = history
            .iter()
            .map(|t| definition.step_in_words(&t.transition, t.from_state, t.to_state))
            .collect();
        let events = audit_views(self.store.audit_trail(SubjectKind::Contract, id).await?);
        let labels = self.category_labels();
        let event_words = events
            .iter()
            .map(|e| event_in_words(e, &definition, &labels))
            .collect();
        let mut people = BTreeMap::new();
        let actors = events.iter().filter_map(|e| e.actor_id).chain(
            history
                .iter()
                .flat_map(|t| std::iter::once(t.actor_id).chain(t.on_behalf_of)),
        );
        for actor in actors {
            if let Entry::Vacant(slot) = people.entry(actor)
                && let Some(user) = self.store.user(actor).await?
            {
                slot.insert(user.name);
            }
        }
        let opinion = self
            .letter_for(&detail, &history)
            .await?
            .map(|letter| letter.markdown);
        let diagram = graph::layout(&definition, Some(contract.state.as_str()));
        let attachments = self.store.attachments(id).await?;
        let required_materials = definition
            .required_materials(contract.contract_type)
            .iter()
            .map(|kind| (*kind, attachments.iter().any(|a| a.kind == *kind)))
            .collect();
        let draft_file = self.draft_file_info(id).await?;
        let points = self.store.supplement_points(id).await?;
        let fact_revisions = self.store.fact_revisions(id).await?;
        let comments = self.store.comments(id).await?;
        Ok(ContractOverview {
            attachments,
            required_materials,
            draft_file,
            points,
            fact_revisions,
            comments,
            detail,
            state_label,
            findings: screening.findings,
            checklist: screening.checklist,
            versions,
            history,
            history_words,
            event_words,
            events,
            people,
            available,
            as_deputy,
            opinion,
            diagram,
        })
    }
}

/// An audit event as a reader of the trail says it: 经核实排除「施工单位垫资」：理由…, 送审：草稿 →
/// 法制审查, 上传材料：立项批复（批复.pdf）.
fn event_in_words(
    event: &AuditEventView,
    definition: &crate::workflow::Definition,
    categories: &BTreeMap<String, String>,
) -> String {
    let data = &event.data;
    let text = |key: &str| data[key].as_str().unwrap_or_default().to_owned();
    let rule = || {
        let rule = text("rule");
        let category = rule.split('.').next().unwrap_or_default();
        categories.get(category).map_or(rule.clone(), |label| {
            label.split(" / ").next().unwrap_or(label).to_owned()
        })
    };
    match event.action.as_str() {
        "contract.created" => format!("起草合同《{}》", text("title")),
        "contract.body_replaced" => format!("修改正文，形成第{}版", data["body_version"]),
        "contract.draft_file_kept" => format!("上传原始文件：{}", text("file_name")),
        "contract.facts_revised" => "修改合同信息（金额、资金来源、相对方等）".to_owned(),
        "contract.material_added" => {
            let kind = text("kind")
                .parse::<crate::domain::MaterialKind>()
                .map_or_else(|_| text("kind"), |k| k.label().to_owned());
            format!("上传审查材料：{kind}（{}）", text("file_name"))
        }
        "contract.material_removed" => "移除一份审查材料".to_owned(),
        "contract.transition" => {
            let state = |key: &str| text(key).parse::<crate::domain::ContractState>().ok();
            let step = match (state("from"), state("to")) {
                (Some(from), Some(to)) => definition.step_in_words(&text("transition"), from, to),
                _ => text("transition"),
            };
            match data["opinion_number"].as_str() {
                Some(number) => format!("{step}（{number}）"),
                None => step,
            }
        }
        "finding.waived" => format!("经核实排除「{}」：{}", rule(), text("reason")),
        "finding.waiver_withdrawn" => format!(
            "撤销对「{}」的排除：{}（原排除理由：{}）",
            rule(),
            text("reason"),
            text("withdrawn_reason")
        ),
        "comment.added" => format!("批注「{}」：{}", text("clause"), text("comment")),
        "comment.resolved" => {
            let how = match text("resolution").as_str() {
                "accepted" => "已采纳".to_owned(),
                _ => format!("不采纳：{}", text("note")),
            };
            format!("处理批注「{}」：{how}", text("clause"))
        }
        other => other.to_owned(),
    }
}
