//! `audit verify`: recompute every hash chain, hold each contract's rows against its chain, and,
//! given a checkpoint, check that no chain has lost events since. `audit checkpoint`: seal every
//! chain's head with the operator's key.

use std::collections::BTreeMap;

use uuid::Uuid;

use super::{Service, now};
use crate::domain::audit::anchor::{Checkpoint, check_head, cross_check};
use crate::domain::audit::{AuditRecord, SubjectKind, verify_chain};
use crate::error::{Error, Result};

/// The shortest key a checkpoint is sealed with.
pub const MIN_KEY_BYTES: usize = 32;

/// Where a chain breaks, or where a contract and its chain disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenChain {
    pub subject_kind: String,
    pub subject_id: Uuid,
    /// The event at fault, when one is.
    pub event_id: Option<Uuid>,
    pub seq: i64,
    pub reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub chains: usize,
    pub events: usize,
    /// Contracts held against their chains.
    pub contracts: usize,
    /// Heads checked against a checkpoint, when one was given.
    pub checkpoint_heads: usize,
    pub broken: Vec<BrokenChain>,
}

type Chains<'a> = BTreeMap<(&'a str, Uuid), &'a [AuditRecord]>;

fn refuse_short_key(key: &[u8]) -> Result<()> {
    if key.len() < MIN_KEY_BYTES {
        return Err(Error::invalid(
            "key",
            format!(
                "密钥至少 {MIN_KEY_BYTES} 字节 / the key must have at least {MIN_KEY_BYTES} bytes"
            ),
        ));
    }
    Ok(())
}

impl Service {
    /// Verifies every chain and every contract against its chain; with a checkpoint and its
    /// key, also that every chain still holds the head the checkpoint recorded.
    ///
    /// # Errors
    /// A checkpoint that is not authentic under `key` (422); database failures. Broken chains
    /// are in the report.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn verify_audit(
        &self,
        checkpoint: Option<(&Checkpoint, &[u8])>,
    ) -> Result<AuditReport> {
        if let Some((checkpoint, key)) = checkpoint
            && !checkpoint.is_authentic(key)
        {
            return Err(Error::invalid(
                "checkpoint",
                "检查点的签名不符，文件被改动过或密钥不对 / the checkpoint's seal does not match: the file was changed or the key is wrong",
            ));
        }
        let records = self.store.all_audit_records().await?;
        let chains: Chains<'_> = records
            .chunk_by(|a, b| a.subject_kind == b.subject_kind && a.subject_id == b.subject_id)
            .map(|chain| ((chain[0].subject_kind.as_str(), chain[0].subject_id), chain))
            .collect();
        let mut report = AuditReport {
            chains: chains.len(),
            events: records.len(),
            contracts: 0,
            checkpoint_heads: 0,
            broken: chains
                .values()
                .filter_map(|chain| broken_link(chain))
                .collect(),
        };
        self.check_contracts(&chains, &mut report).await?;
        if let Some((checkpoint, _)) = checkpoint {
            check_checkpoint(checkpoint, &chains, &mut report);
        }
        Ok(report)
    }

    /// Holds each contract's rows against its chain, and finds chains whose contract is gone.
    async fn check_contracts(&self, chains: &Chains<'_>, report: &mut AuditReport) -> Result<()> {
        let contract = SubjectKind::Contract.as_str();
        let anchors = self.store.contract_anchors().await?;
        report.contracts = anchors.len();
        for anchor in &anchors {
            let chain = chains.get(&(contract, anchor.id)).copied().unwrap_or(&[]);
            if let Err(reason) = cross_check(anchor, chain) {
                report.broken.push(BrokenChain {
                    subject_kind: contract.to_owned(),
                    subject_id: anchor.id,
                    event_id: None,
                    seq: anchor.head_seq,
                    reason,
                });
            }
        }
        for ((kind, id), chain) in chains {
            if *kind == contract && !anchors.iter().any(|a| a.id == *id) {
                report.broken.push(BrokenChain {
                    subject_kind: contract.to_owned(),
                    subject_id: *id,
                    event_id: None,
                    seq: chain.len() as i64,
                    reason: "the chain belongs to a contract that no longer exists",
                });
            }
        }
        Ok(())
    }

    /// Seals the head of every chain as it stands now with `key`.
    ///
    /// # Errors
    /// A key shorter than [`MIN_KEY_BYTES`] (422); database failures.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn audit_checkpoint(&self, key: &[u8]) -> Result<Checkpoint> {
        refuse_short_key(key)?;
        let heads = self.store.chain_heads().await?;
        Ok(Checkpoint::seal(now(), heads, key))
    }
}

fn broken_link(chain: &[AuditRecord]) -> Option<BrokenChain> {
    let broken = verify_chain(chain).err()?;
    Some(BrokenChain {
        subject_kind: chain[0].subject_kind.clone(),
        subject_id: chain[0].subject_id,
        event_id: Some(broken.event_id),
        seq: broken.seq,
        reason: broken.reason,
    })
}

fn check_checkpoint(checkpoint: &Checkpoint, chains: &Chains<'_>, report: &mut AuditReport) {
    report.checkpoint_heads = checkpoint.heads.len();
    for head in &checkpoint.heads {
        let chain = chains
            .get(&(head.subject_kind.as_str(), head.subject_id))
            .copied()
            .unwrap_or(&[]);
        if let Err(reason) = check_head(head, chain) {
            report.broken.push(BrokenChain {
                subject_kind: head.subject_kind.clone(),
                subject_id: head.subject_id,
                event_id: None,
                seq: head.seq,
                reason,
            });
        }
    }
}
