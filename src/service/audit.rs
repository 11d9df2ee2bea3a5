//! `audit verify`: recompute every hash chain and report the first break.

use uuid::Uuid;

use super::Service;
use crate::domain::audit::{AuditRecord, verify_chain};
use crate::error::Result;

/// Where a chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenChain {
    pub subject_kind: String,
    pub subject_id: Uuid,
    pub event_id: Uuid,
    pub seq: i64,
    pub reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub chains: usize,
    pub events: usize,
    pub broken: Vec<BrokenChain>,
}

impl Service {
    /// Verifies every subject's chain.
    ///
    /// # Errors
    /// Only on database failures; broken chains are in the report.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn verify_audit(&self) -> Result<AuditReport> {
        let records = self.store.all_audit_records().await?;
        let mut report = AuditReport {
            chains: 0,
            events: records.len(),
            broken: Vec::new(),
        };
        for chain in records
            .chunk_by(|a, b| a.subject_kind == b.subject_kind && a.subject_id == b.subject_id)
        {
            report.chains += 1;
            if let Err(broken) = verify_chain(chain) {
                let first: &AuditRecord = &chain[0];
                report.broken.push(BrokenChain {
                    subject_kind: first.subject_kind.clone(),
                    subject_id: first.subject_id,
                    event_id: broken.event_id,
                    seq: broken.seq,
                    reason: broken.reason,
                });
            }
        }
        Ok(report)
    }
}
