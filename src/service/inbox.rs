//! 待办与消息: how many contracts wait for the reader's action, and what happened lately to the
//! contracts in their view — beside the e-mails, for those who work from the pages.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::Service;
use crate::domain::{ContractState, Principal, Role};
use crate::error::Result;

/// The most recent steps the message list shows.
const RECENT_STEPS: i64 = 50;

/// One thing that happened to a contract in view.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub contract_id: Uuid,
    pub title: String,
    /// The step in words: 退回修改：法制审查 → 退回修改.
    pub words: String,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub opinion_number: Option<String>,
}

impl Service {
    /// How many contracts wait for the reader: to decide in a review stage, to revise when
    /// returned (a clerk), to sign (a signatory).
    ///
    /// # Errors
    /// Only on database failures.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id))]
    pub async fn waiting_count(&self, principal: &Principal) -> Result<i64> {
        let visibility = principal.visibility();
        let deciding = self.current_workflow().stages_decided_by(&principal.roles);
        let mut waiting = self
            .store
            .count_waiting(visibility, &deciding, None)
            .await?;
        if principal.has(Role::Submitter) {
            let returned = [ContractState::RevisionRequested];
            waiting += self
                .store
                .count_waiting(visibility, &returned, None)
                .await?;
        }
        if principal.has(Role::Signatory) {
            let approved = [ContractState::Approved];
            waiting += self
                .store
                .count_waiting(visibility, &approved, Some(&principal.email))
                .await?;
        }
        Ok(waiting)
    }

    /// The latest steps on contracts in the reader's view, newest first, in words.
    ///
    /// # Errors
    /// Only on database failures.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id))]
    pub async fn messages(&self, principal: &Principal) -> Result<Vec<Message>> {
        let steps = self
            .store
            .recent_steps(principal.visibility(), RECENT_STEPS)
            .await?;
        let workflow = self.current_workflow();
        let mut names: BTreeMap<Uuid, String> = BTreeMap::new();
        let mut messages = Vec::with_capacity(steps.len());
        for recent in steps {
            let step = recent.step;
            let actor = match names.get(&step.actor_id) {
                Some(name) => name.clone(),
                None => {
                    let name = self
                        .store
                        .user(step.actor_id)
                        .await?
                        .map(|u| u.name)
                        .unwrap_or_default();
                    names.insert(step.actor_id, name.clone());
                    name
                }
            };
            messages.push(Message {
                contract_id: recent.contract_id,
                title: recent.title,
                words: workflow.step_in_words(&step.transition, step.from_state, step.to_state),
                actor,
                at: step.at,
                opinion_number: step.opinion_number,
            });
        }
        Ok(messages)
    }
}
