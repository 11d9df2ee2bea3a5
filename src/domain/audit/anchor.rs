//! Anchors that keep a hash chain from being cut short unnoticed. A chain proves that no event
//! inside it was changed; it cannot prove that none was removed from its end, or that the
//! contract's row still agrees with it. So each contract keeps its chain's head on its own row,
//! `audit verify` holds the row (state, body versions, history) against the chain, and a
//! checkpoint of every chain's head, sealed with a key the database does not hold, proves later
//! that no chain has since lost events.

use chrono::{DateTime, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

use super::AuditRecord;
use crate::domain::ContractState;

/// The last event of one subject's chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    pub subject_kind: String,
    pub subject_id: Uuid,
    pub seq: i64,
    pub hash: String,
}

/// What a contract's own rows say of it, to hold against its audit chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractAnchor {
    pub id: Uuid,
    pub state: ContractState,
    pub body_version: i64,
    /// The chain head the contract row recorded with its last event.
    pub head_seq: i64,
    pub head_hash: String,
    /// Rows in the body versions and in the workflow history.
    pub versions: i64,
    pub transitions: i64,
}

/// Why a contract's rows and its chain disagree.
pub fn cross_check(anchor: &ContractAnchor, chain: &[AuditRecord]) -> Result<(), &'static str> {
    let Some(last) = chain.last() else {
        return Err("the contract has no audit events");
    };
    if last.seq < anchor.head_seq {
        return Err("the chain ends before the head the contract recorded: events were removed");
    }
    if last.seq != anchor.head_seq || last.hash != anchor.head_hash {
        return Err("the contract's recorded chain head differs from its chain");
    }
    let mut state = None;
    let (mut versions, mut latest_version, mut transitions) = (0, 0, 0);
    for record in chain {
        let data: serde_json::Value = serde_json::from_str(&record.data).unwrap_or_default();
        match record.action.as_str() {
            "contract.created" => {
                state = data["state"].as_str().map(str::to_owned);
                versions += 1;
                latest_version = data["body_version"].as_i64().unwrap_or(1);
            }
            "contract.body_replaced" => {
                versions += 1;
                latest_version = data["body_version"].as_i64().unwrap_or(0);
            }
            "contract.transition" => {
                transitions += 1;
                state = data["to"].as_str().map(str::to_owned);
            }
            _ => {}
        }
    }
    if state.as_deref() != Some(anchor.state.as_str()) {
        return Err("the contract's state was changed without an audit event");
    }
    if versions != anchor.versions || latest_version != anchor.body_version {
        return Err("the body versions and the audit trail disagree");
    }
    if transitions != anchor.transitions {
        return Err("the workflow history and the audit trail disagree");
    }
    Ok(())
}

/// Every chain's head at a moment, sealed with an HMAC-SHA256 under the operator's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub taken_at: DateTime<Utc>,
    pub heads: Vec<ChainHead>,
    /// Hex HMAC-SHA256 over the time and the heads.
    pub seal: String,
}

impl Checkpoint {
    /// Seals `heads` as they stand at `taken_at`.
    pub fn seal(taken_at: DateTime<Utc>, mut heads: Vec<ChainHead>, key: &[u8]) -> Self {
        heads.sort_by(|a, b| (&a.subject_kind, a.subject_id).cmp(&(&b.subject_kind, b.subject_id)));
        let seal = hex::encode(mac(taken_at, &heads, key).finalize().into_bytes());
        Self {
            taken_at,
            heads,
            seal,
        }
    }

    /// Whether the checkpoint is as it was sealed under `key`.
    pub fn is_authentic(&self, key: &[u8]) -> bool {
        let Ok(seal) = hex::decode(&self.seal) else {
            return false;
        };
        mac(self.taken_at, &self.heads, key)
            .verify_slice(&seal)
            .is_ok()
    }
}

fn mac(taken_at: DateTime<Utc>, heads: &[ChainHead], key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length (the caller insists on a long one).
    #[allow(clippy::expect_used)]
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(
        taken_at
            .to_rfc3339_opts(SecondsFormat::Micros, true)
            .as_bytes(),
    );
    for head in heads {
        let line = format!(
            "\n{}/{}/{}/{}",
            head.subject_kind, head.subject_id, head.seq, head.hash
        );
        mac.update(line.as_bytes());
    }
    mac
}

/// Why a chain no longer holds what a checkpoint recorded of it: it lost its recorded head
/// (events removed, or the whole chain), or holds another event in its place.
pub fn check_head(head: &ChainHead, chain: &[AuditRecord]) -> Result<(), &'static str> {
    match chain.iter().find(|r| r.seq == head.seq) {
        None if chain.is_empty() => Err("the chain recorded in the checkpoint is gone"),
        None => Err("the chain is shorter than the checkpoint recorded: events were removed"),
        Some(record) if record.hash != head.hash => {
            Err("the event the checkpoint recorded was replaced")
        }
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;
    use crate::domain::audit::{AuditEntry, SubjectKind};

    fn chain(events: &[(&'static str, serde_json::Value)]) -> Vec<AuditRecord> {
        let subject = Uuid::nil();
        let mut records: Vec<AuditRecord> = Vec::new();
        for (action, data) in events {
            let entry = AuditEntry {
                subject_kind: SubjectKind::Contract,
                subject_id: subject,
                actor_id: None,
                action,
                at: Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap(),
                data: data.clone(),
            };
            let prev = records.last().map(|r| (r.seq, r.hash.as_str()));
            records.push(entry.chain(Uuid::now_v7(), prev));
        }
        records
    }

    fn submitted() -> Vec<AuditRecord> {
        chain(&[
            (
                "contract.created",
                json!({ "state": "draft", "body_version": 1 }),
            ),
            ("contract.transition", json!({ "to": "legal_review" })),
        ])
    }

    fn anchor(records: &[AuditRecord]) -> ContractAnchor {
        let last = records.last().unwrap();
        ContractAnchor {
            id: Uuid::nil(),
            state: ContractState::LegalReview,
            body_version: 1,
            head_seq: last.seq,
            head_hash: last.hash.clone(),
            versions: 1,
            transitions: 1,
        }
    }

    #[test]
    fn a_contract_that_agrees_with_its_chain_passes() {
        let records = submitted();
        assert_eq!(cross_check(&anchor(&records), &records), Ok(()));
    }

    #[test]
    fn a_removed_last_event_a_state_set_by_hand_and_a_lost_chain_are_found() {
        let records = submitted();
        let full = anchor(&records);
        assert!(
            cross_check(&full, &records[..1]).is_err(),
            "last event removed"
        );
        assert!(cross_check(&full, &[]).is_err(), "whole chain removed");
        let by_hand = ContractAnchor {
            state: ContractState::Approved,
            ..full.clone()
        };
        assert!(
            cross_check(&by_hand, &records).is_err(),
            "state without an event"
        );
        let extra_version = ContractAnchor {
            versions: 2,
            ..full
        };
        assert!(cross_check(&extra_version, &records).is_err());
    }

    #[test]
    fn a_checkpoint_is_sealed_and_finds_what_went_missing() {
        let records = submitted();
        let last = records.last().unwrap();
        let head = ChainHead {
            subject_kind: "contract".into(),
            subject_id: Uuid::nil(),
            seq: last.seq,
            hash: last.hash.clone(),
        };
        let taken = Utc.with_ymd_and_hms(2026, 12, 1, 1, 0, 0).unwrap();
        let checkpoint = Checkpoint::seal(
            taken,
            vec![head.clone()],
            b"operator key, 32 bytes or more!!",
        );
        assert!(checkpoint.is_authentic(b"operator key, 32 bytes or more!!"));
        assert!(!checkpoint.is_authentic(b"another key"));
        let mut forged = checkpoint.clone();
        forged.heads[0].seq = 1;
        assert!(!forged.is_authentic(b"operator key, 32 bytes or more!!"));

        assert_eq!(check_head(&head, &records), Ok(()));
        assert!(check_head(&head, &records[..1]).is_err());
        assert!(check_head(&head, &[]).is_err());
    }
}
