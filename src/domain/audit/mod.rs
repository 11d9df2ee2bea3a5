//! The audit trail: append-only events, hash-chained per subject (a contract, a user, an agency)
//! so that an edited or deleted row is detectable. Pure: what each event records
//! ([`events`]), hashing and verification.

pub mod anchor;
mod events;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The hash a chain starts from.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who caused a change and when, for its audit event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditMeta {
    /// `None` for changes made from the command line by the operator.
    pub actor_id: Option<Uuid>,
    pub at: DateTime<Utc>,
}

/// What an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectKind {
    Contract,
    User,
    Agency,
}

impl SubjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Contract => "contract",
            SubjectKind::User => "user",
            SubjectKind::Agency => "agency",
        }
    }
}

/// An event before it is placed in its chain.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub subject_kind: SubjectKind,
    pub subject_id: Uuid,
    pub actor_id: Option<Uuid>,
    pub action: &'static str,
    pub at: DateTime<Utc>,
    pub data: serde_json::Value,
}

/// An event as stored: its place in the chain and the hash that seals it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: Uuid,
    pub subject_kind: String,
    pub subject_id: Uuid,
    pub seq: i64,
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub at: DateTime<Utc>,
    /// The event's details as JSON text, hashed exactly as stored.
    pub data: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEntry {
    /// Places the entry after `prev` (the subject's last record), or first in a new chain.
    pub fn chain(self, id: Uuid, prev: Option<(i64, &str)>) -> AuditRecord {
        let (seq, prev_hash) = match prev {
            Some((seq, hash)) => (seq + 1, hash.to_owned()),
            None => (1, GENESIS_HASH.to_owned()),
        };
        let mut record = AuditRecord {
            id,
            subject_kind: self.subject_kind.as_str().to_owned(),
            subject_id: self.subject_id,
            seq,
            actor_id: self.actor_id,
            action: self.action.to_owned(),
            at: self.at,
            data: self.data.to_string(),
            prev_hash,
            hash: String::new(),
        };
        record.hash = record.compute_hash();
        record
    }
}

impl AuditRecord {
    /// SHA-256 over the previous hash and the event's canonical JSON.
    pub fn compute_hash(&self) -> String {
        #[derive(Serialize)]
        struct Canonical<'a>(
            &'a Uuid,
            &'a str,
            &'a Uuid,
            i64,
            Option<&'a Uuid>,
            &'a str,
            String,
            &'a str,
        );
        let canonical = Canonical(
            &self.id,
            &self.subject_kind,
            &self.subject_id,
            self.seq,
            self.actor_id.as_ref(),
            &self.action,
            self.at.to_rfc3339_opts(SecondsFormat::Micros, true),
            &self.data,
        );
        let json = serde_json::to_string(&canonical).unwrap_or_default();
        let mut hasher = Sha256::new();
        hasher.update(self.prev_hash.as_bytes());
        hasher.update(json.as_bytes());
        hex::encode(hasher.finalize())
    }
}

/// Where a chain stops being consistent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    pub event_id: Uuid,
    pub seq: i64,
    pub reason: &'static str,
}

/// Checks one subject's records, given in `seq` order.
///
/// # Errors
/// The first record whose sequence, link or hash does not hold.
pub fn verify_chain(records: &[AuditRecord]) -> Result<(), ChainBreak> {
    let mut expected_prev = GENESIS_HASH;
    for (index, record) in records.iter().enumerate() {
        let broken = |reason| ChainBreak {
            event_id: record.id,
            seq: record.seq,
            reason,
        };
        if record.seq != index as i64 + 1 {
            return Err(broken("sequence gap: an event is missing"));
        }
        if record.prev_hash != expected_prev {
            return Err(broken("prev_hash does not match the previous event"));
        }
        if record.hash != record.compute_hash() {
            return Err(broken("hash does not match the event's content"));
        }
        expected_prev = &record.hash;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chain_of(n: usize) -> Vec<AuditRecord> {
        let subject = Uuid::now_v7();
        let mut records: Vec<AuditRecord> = Vec::new();
        for i in 0..n {
            let entry = AuditEntry {
                subject_kind: SubjectKind::Contract,
                subject_id: subject,
                actor_id: Some(Uuid::now_v7()),
                action: "contract.body_replaced",
                at: Utc::now(),
                data: json!({ "version": i }),
            };
            let prev = records.last().map(|r| (r.seq, r.hash.as_str()));
            let record = entry.chain(Uuid::now_v7(), prev);
            records.push(record);
        }
        records
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify_chain(&chain_of(4)), Ok(()));
    }

    #[test]
    fn edited_data_is_found() {
        let mut records = chain_of(3);
        records[1].data = r#"{"version":99}"#.into();
        let broken = verify_chain(&records).unwrap_err();
        assert_eq!(broken.seq, 2);
    }

    #[test]
    fn a_deleted_event_is_found() {
        let mut records = chain_of(3);
        records.remove(1);
        assert_eq!(verify_chain(&records).unwrap_err().seq, 3);
    }
}
