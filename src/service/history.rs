//! What happened to a contract: its workflow history and its hash-chained audit trail.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Service;
use crate::domain::audit::{AuditRecord, SubjectKind};
use crate::domain::{ContractTransition, Principal};
use crate::error::Result;

/// One audit event of a contract.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEventView {
    pub id: Uuid,
    pub seq: i64,
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub at: DateTime<Utc>,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

impl Service {
    /// The contract's workflow history, oldest first.
    ///
    /// # Errors
    /// 404 outside the caller's view.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id, id = %id))]
    pub async fn contract_history(
        &self,
        principal: &Principal,
        id: Uuid,
    ) -> Result<Vec<ContractTransition>> {
        self.get_contract(principal, id).await?;
        Ok(self.store.contract_transitions(id).await?)
    }

    /// The contract's audit trail, oldest first.
    ///
    /// # Errors
    /// 404 outside the caller's view.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id, id = %id))]
    pub async fn contract_events(
        &self,
        principal: &Principal,
        id: Uuid,
    ) -> Result<Vec<AuditEventView>> {
        self.get_contract(principal, id).await?;
        let records = self.store.audit_trail(SubjectKind::Contract, id).await?;
        Ok(audit_views(records))
    }
}

pub(super) fn audit_views(records: Vec<AuditRecord>) -> Vec<AuditEventView> {
    records
        .into_iter()
        .map(|r| AuditEventView {
            id: r.id,
            seq: r.seq,
            actor_id: r.actor_id,
            action: r.action,
            at: r.at,
            data: serde_json::from_str(&r.data).unwrap_or(serde_json::Value::String(r.data)),
            prev_hash: r.prev_hash,
            hash: r.hash,
        })
        .collect()
}
