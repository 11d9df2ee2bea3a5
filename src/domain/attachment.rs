//! Files that travel with a contract: the original draft a body was converted from, and the
//! review materials (审查材料) an office asks for. Every file is kept whole with its SHA-256.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use super::choice::parse_choice;

/// The longest file name kept, in characters.
pub const MAX_FILE_NAME_CHARS: usize = 200;

/// What a material is. The workflow file names the kinds each contract type requires.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    ToSchema,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::Display,
    strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum MaterialKind {
    /// The counterparty's business licence or other proof of legal standing.
    Qualification,
    /// The power of attorney of whoever signs for the counterparty.
    PowerOfAttorney,
    /// The tender or procurement documents.
    TenderDocuments,
    /// The notice of award or of the concluded transaction.
    AwardNotice,
    /// The approval of the project (立项批复).
    ProjectApproval,
    /// Proof that the money is there: a budget line, a fund allocation.
    FundingProof,
    /// A feasibility study or a risk assessment.
    RiskAssessment,
    Other,
}

impl MaterialKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// What people read: the office's term, then English.
    pub fn label(self) -> &'static str {
        match self {
            MaterialKind::Qualification => "主体资格证明 Proof of legal standing",
            MaterialKind::PowerOfAttorney => "授权委托书 Power of attorney",
            MaterialKind::TenderDocuments => "招标/采购文件 Tender or procurement documents",
            MaterialKind::AwardNotice => "中标/成交通知书 Notice of award",
            MaterialKind::ProjectApproval => "立项批复 Project approval",
            MaterialKind::FundingProof => "资金来源证明 Proof of funding",
            MaterialKind::RiskAssessment => "可行性/风险评估 Feasibility or risk assessment",
            MaterialKind::Other => "其他 Other",
        }
    }

    /// # Errors
    /// A bilingual message listing the valid values.
    pub fn parse(raw: &str) -> Result<Self, String> {
        parse_choice(raw, "材料类型", "material kind")
    }
}

impl TryFrom<String> for MaterialKind {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        MaterialKind::parse(&raw)
    }
}

/// A file as received: its name as the uploader's computer had it, and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// What is known of a stored file without reading it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StoredFile {
    pub file_name: String,
    /// Read from the file's bytes, not its name.
    pub media_type: String,
    pub size_bytes: i64,
    pub sha256: String,
}

impl StoredFile {
    /// Describes `bytes` received under `file_name`, with the media type its bytes show.
    pub fn describe(file_name: &str, media_type: &str, bytes: &[u8]) -> Self {
        Self {
            file_name: clean_file_name(file_name),
            media_type: media_type.to_owned(),
            size_bytes: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
            sha256: hex::encode(Sha256::digest(bytes)),
        }
    }
}

/// A review material attached to a contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Attachment {
    pub id: Uuid,
    pub contract_id: Uuid,
    pub kind: MaterialKind,
    #[serde(flatten)]
    pub file: StoredFile,
    pub uploaded_by: Uuid,
    pub uploaded_at: DateTime<Utc>,
}

/// The Word or PDF file a body version was converted from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DraftFile {
    pub contract_id: Uuid,
    /// The body version this file produced.
    pub body_version: i64,
    #[serde(flatten)]
    pub file: StoredFile,
    pub uploaded_by: Uuid,
    pub uploaded_at: DateTime<Utc>,
}

/// A new file and its bytes, on the way to the store.
#[derive(Debug, Clone)]
pub struct FileContent<T> {
    pub meta: T,
    pub bytes: Vec<u8>,
}

/// The last path segment of an uploaded name, without control characters, within bounds; a
/// name that is left empty becomes "未命名文件".
pub fn clean_file_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
        .take(MAX_FILE_NAME_CHARS)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_owned();
    if cleaned.is_empty() {
        "未命名文件".to_owned()
    } else {
        cleaned
    }
}

/// A `Content-Disposition` value that makes a browser download the file under its name: an ASCII
/// fallback and the UTF-8 name (RFC 6266, RFC 8187).
pub fn content_disposition(file_name: &str) -> String {
    let fallback: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for byte in file_name.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_paths_controls_and_hidden_dots() {
        assert_eq!(clean_file_name("C:\\Users\\clerk\\合同.docx"), "合同.docx");
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("a\u{0}b\r\n.pdf"), "ab.pdf");
        assert_eq!(clean_file_name("\u{202e}fdp.exe"), "fdp.exe");
        assert_eq!(clean_file_name("...."), "未命名文件");
    }

    #[test]
    fn downloads_carry_an_ascii_fallback_and_the_utf8_name() {
        assert_eq!(
            content_disposition("营业执照.pdf"),
            "attachment; filename=\"____.pdf\"; filename*=UTF-8''%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7.pdf"
        );
    }

    #[test]
    fn stored_files_are_hashed() {
        let file = StoredFile::describe("a.txt", "text/plain", b"abc");
        assert_eq!(file.size_bytes, 3);
        assert_eq!(
            file.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn every_kind_has_a_chinese_label_and_parses_back() {
        use strum::IntoEnumIterator;
        for kind in MaterialKind::iter() {
            assert!(!kind.label().is_ascii());
            assert_eq!(MaterialKind::parse(kind.as_str()), Ok(kind));
        }
        assert!(MaterialKind::parse("licence").is_err());
    }
}
