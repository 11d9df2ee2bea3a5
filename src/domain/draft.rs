//! A contract as an agency submits it: its facts and its Markdown body, checked field by field.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::field::{FieldErrors, bounded_text};
use super::{ContractDetail, ContractType, Email, Money};

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_PARTY_CHARS: usize = 200;
pub const MAX_FUNDING_CHARS: usize = 500;
pub const MAX_SIGNATORIES: usize = 20;
/// The body is bounded by the request size limit too; this keeps one contract within reason.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The intake fields as a client sends them: the body of `POST /api/v1/contracts`. Typed loosely
/// on purpose (`contract_type` as text) so that [`NewContract::parse`] can name every bad field.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractDraft {
    pub title: String,
    #[schema(value_type = ContractType)]
    pub contract_type: String,
    pub counterparty: String,
    /// The amount in fen (1/100 yuan), 0 or more.
    pub amount_fen: i64,
    /// Where the money comes from; in substance required for construction contracts.
    #[serde(default)]
    pub funding_source: Option<String>,
    /// How the contract names the agency: 甲方, 采购人, 发包人, "the County"…
    pub agency_party: String,
    /// E-mail addresses of the people who will sign.
    pub signatories: Vec<String>,
    pub body_markdown: String,
}

/// The facts of a contract without its body: the `facts` part of a multipart intake and the
/// body of `PUT /api/v1/contracts/{id}/facts`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FactsDraft {
    pub title: String,
    #[schema(value_type = ContractType)]
    pub contract_type: String,
    pub counterparty: String,
    /// The amount in fen (1/100 yuan), 0 or more.
    pub amount_fen: i64,
    #[serde(default)]
    pub funding_source: Option<String>,
    pub agency_party: String,
    /// E-mail addresses of the people who will sign.
    pub signatories: Vec<String>,
}

impl FactsDraft {
    pub fn with_body(self, body_markdown: String) -> ContractDraft {
        ContractDraft {
            title: self.title,
            contract_type: self.contract_type,
            counterparty: self.counterparty,
            amount_fen: self.amount_fen,
            funding_source: self.funding_source,
            agency_party: self.agency_party,
            signatories: self.signatories,
            body_markdown,
        }
    }
}

impl ContractDraft {
    /// The facts, without the body.
    pub fn facts(&self) -> FactsDraft {
        FactsDraft {
            title: self.title.clone(),
            contract_type: self.contract_type.clone(),
            counterparty: self.counterparty.clone(),
            amount_fen: self.amount_fen,
            funding_source: self.funding_source.clone(),
            agency_party: self.agency_party.clone(),
            signatories: self.signatories.clone(),
        }
    }
}

/// A contract's facts after every field was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFacts {
    pub title: String,
    pub contract_type: ContractType,
    pub counterparty: String,
    pub amount: Money,
    pub funding_source: Option<String>,
    pub agency_party: String,
    pub signatories: Vec<Email>,
}

impl NewFacts {
    /// Checks every field and reports all problems at once.
    ///
    /// # Errors
    /// Every invalid field with a bilingual message.
    pub fn parse(draft: FactsDraft) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        match Self::check(draft, &mut errors) {
            Some(facts) if errors.is_empty() => Ok(facts),
            _ => Err(errors),
        }
    }

    fn check(draft: FactsDraft, errors: &mut FieldErrors) -> Option<Self> {
        let title = errors.check("title", bounded_text(&draft.title, MAX_TITLE_CHARS));
        let contract_type =
            errors.check("contract_type", ContractType::parse(&draft.contract_type));
        let counterparty = errors.check(
            "counterparty",
            bounded_text(&draft.counterparty, MAX_PARTY_CHARS),
        );
        let amount = errors.check("amount_fen", Money::from_fen(draft.amount_fen));
        let funding_source = match draft.funding_source.as_deref().map(str::trim) {
            None | Some("") => Some(None),
            Some(text) => errors
                .check("funding_source", bounded_text(text, MAX_FUNDING_CHARS))
                .map(Some),
        };
        let agency_party = errors.check(
            "agency_party",
            bounded_text(&draft.agency_party, MAX_PARTY_CHARS),
        );
        let signatories = parse_signatories(&draft.signatories, errors);
        Some(Self {
            title: title?,
            contract_type: contract_type?,
            counterparty: counterparty?,
            amount: amount?,
            funding_source: funding_source?,
            agency_party: agency_party?,
            signatories,
        })
    }

    /// The facts as they are recorded and compared.
    pub fn record(&self) -> Facts {
        Facts {
            title: self.title.clone(),
            contract_type: self.contract_type,
            counterparty: self.counterparty.clone(),
            amount_fen: self.amount.fen(),
            funding_source: self.funding_source.clone(),
            agency_party: self.agency_party.clone(),
            signatories: self.signatories.iter().map(ToString::to_string).collect(),
        }
    }
}

/// A contract's facts as recorded: in a revision's history and in the approval manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Facts {
    pub title: String,
    pub contract_type: ContractType,
    pub counterparty: String,
    pub amount_fen: i64,
    pub funding_source: Option<String>,
    pub agency_party: String,
    pub signatories: Vec<String>,
}

impl Facts {
    pub fn of(detail: &ContractDetail) -> Self {
        let c = &detail.contract;
        let mut signatories = detail.signatories.clone();
        signatories.sort();
        Self {
            title: c.title.clone(),
            contract_type: c.contract_type,
            counterparty: c.counterparty.clone(),
            amount_fen: c.amount_fen,
            funding_source: c.funding_source.clone(),
            agency_party: c.agency_party.clone(),
            signatories,
        }
    }
}

/// A contract's facts and body after every field was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContract {
    pub title: String,
    pub contract_type: ContractType,
    pub counterparty: String,
    pub amount: Money,
    pub funding_source: Option<String>,
    pub agency_party: String,
    pub signatories: Vec<Email>,
    pub body: Body,
}

impl NewContract {
    /// Checks every field and reports all problems at once.
    ///
    /// # Errors
    /// Every invalid field with a bilingual message.
    pub fn parse(draft: ContractDraft) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let facts = NewFacts::check(draft.facts(), &mut errors);
        let body = errors.check("body_markdown", Body::parse(draft.body_markdown));
        match (facts, body) {
            (Some(facts), Some(body)) if errors.is_empty() => Ok(Self {
                title: facts.title,
                contract_type: facts.contract_type,
                counterparty: facts.counterparty,
                amount: facts.amount,
                funding_source: facts.funding_source,
                agency_party: facts.agency_party,
                signatories: facts.signatories,
                body,
            }),
            _ => Err(errors),
        }
    }
}

fn parse_signatories(raw: &[String], errors: &mut FieldErrors) -> Vec<Email> {
    if raw.is_empty() {
        errors.add(
            "signatories",
            "至少需要一名签署人 / at least one signatory is required",
        );
    }
    if raw.len() > MAX_SIGNATORIES {
        errors.add(
            "signatories",
            format!("签署人不能超过 {MAX_SIGNATORIES} 名 / at most {MAX_SIGNATORIES} signatories"),
        );
    }
    let mut emails: Vec<Email> = raw
        .iter()
        .enumerate()
        .filter_map(|(i, address)| {
            errors.check(&format!("signatories[{i}]"), Email::parse(address))
        })
        .collect();
    emails.sort();
    emails.dedup();
    emails
}

/// A contract body: Markdown text with its SHA-256, the identity signing is pinned to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    markdown: String,
    sha256: String,
}

impl Body {
    /// # Errors
    /// A bilingual message for an empty or oversized body.
    pub fn parse(markdown: String) -> Result<Self, String> {
        if markdown.trim().is_empty() {
            return Err("合同正文不能为空 / the contract body must not be empty".into());
        }
        if markdown.len() > MAX_BODY_BYTES {
            return Err(format!(
                "合同正文不能超过 {MAX_BODY_BYTES} 字节 / the contract body must be at most {MAX_BODY_BYTES} bytes"
            ));
        }
        if markdown.contains('\0') {
            return Err(
                "合同正文不能包含空字符 / the contract body must not contain NUL characters".into(),
            );
        }
        let sha256 = hex::encode(Sha256::digest(markdown.as_bytes()));
        Ok(Self { markdown, sha256 })
    }

    pub fn markdown(&self) -> &str {
        &self.markdown
    }

    pub fn sha256(&self) -> &str {
        &self.sha256
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid_draft() -> ContractDraft {
        ContractDraft {
            title: "办公用品采购合同".into(),
            contract_type: "procurement".into(),
            counterparty: "某某文具有限公司".into(),
            amount_fen: 1_250_000,
            funding_source: Some("2026年度部门预算".into()),
            agency_party: "甲方".into(),
            signatories: vec!["Sign@Example.gov.cn".into()],
            body_markdown: "# 采购合同\n\n第一条 ……".into(),
        }
    }

    #[test]
    fn parses_a_valid_draft() {
        let contract = NewContract::parse(valid_draft()).unwrap();
        assert_eq!(contract.contract_type, ContractType::Procurement);
        assert_eq!(contract.signatories[0].as_str(), "sign@example.gov.cn");
        assert_eq!(contract.body.sha256().len(), 64);
    }

    #[test]
    fn names_every_invalid_field() {
        let draft = ContractDraft {
            title: " ".into(),
            contract_type: "loan".into(),
            amount_fen: -5,
            signatories: vec!["ok@example.cn".into(), "not-an-address".into()],
            body_markdown: String::new(),
            ..valid_draft()
        };
        let fields: Vec<_> = NewContract::parse(draft)
            .unwrap_err()
            .into_vec()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "title",
                "contract_type",
                "amount_fen",
                "signatories[1]",
                "body_markdown"
            ]
        );
    }

    #[test]
    fn blank_funding_source_means_none() {
        let draft = ContractDraft {
            funding_source: Some("  ".into()),
            ..valid_draft()
        };
        assert_eq!(NewContract::parse(draft).unwrap().funding_source, None);
    }
}
