//! What an approval covers, whole: the body, the facts and the hash of every material. The
//! reviewer approves it, the signatory signs it, and any change to any part of it after
//! approval sends the contract back to review.

use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::{Attachment, ContractDetail, Facts, MaterialKind};

/// One material as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
pub struct ManifestItem {
    pub kind: MaterialKind,
    pub file_name: String,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Manifest {
    pub body_sha256: String,
    pub facts: Facts,
    /// Sorted, so that the order of upload does not change the hash.
    pub attachments: Vec<ManifestItem>,
    /// The SHA-256 of the three above, as canonical JSON.
    pub sha256: String,
}

impl Manifest {
    pub fn of(detail: &ContractDetail, attachments: &[Attachment]) -> Self {
        let mut items: Vec<ManifestItem> = attachments
            .iter()
            .map(|a| ManifestItem {
                kind: a.kind,
                file_name: a.file.file_name.clone(),
                sha256: a.file.sha256.clone(),
            })
            .collect();
        items.sort();
        let body_sha256 = detail.contract.body_sha256.clone();
        let facts = Facts::of(detail);
        // A JSON object's keys are written sorted: the same manifest always hashes the same.
        let canonical = serde_json::json!({
            "body_sha256": body_sha256,
            "facts": facts,
            "attachments": items,
        });
        let sha256 = hex::encode(Sha256::digest(canonical.to_string().as_bytes()));
        Self {
            body_sha256,
            facts,
            attachments: items,
            sha256,
        }
    }
}
