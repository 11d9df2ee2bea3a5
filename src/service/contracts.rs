//! Contract intake: create, read, revise the body, browse versions.

use uuid::Uuid;

use super::documents::ConvertedDraft;
use super::idempotency::{Idempotent, Retry};
use super::transitions::refusal_error;
use super::views::VersionView;
use super::{Service, now};
use crate::domain::{
    Body, Contract, ContractDetail, ContractDraft, ContractVersion, NewContract, Principal, Role,
};
use crate::error::{Error, Result};
use crate::store::BodyChange;
use crate::workflow::engine;

const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

fn require_submitter(principal: &Principal) -> Result<()> {
    if principal.has(Role::Submitter) {
        Ok(())
    } else {
        Err(Error::forbidden(
            "需要经办人角色 / the submitter role is required",
        ))
    }
}

fn contract_not_found() -> Error {
    Error::not_found("合同不存在 / contract not found")
}

/// Checks an `Idempotency-Key` header value.
///
/// # Errors
/// 400 when it is empty, too long or not printable ASCII.
pub fn parse_idempotency_key(raw: &str) -> Result<String> {
    let valid = !raw.is_empty()
        && raw.len() <= MAX_IDEMPOTENCY_KEY_LEN
        && raw.bytes().all(|b| b.is_ascii_graphic());
    if valid {
        Ok(raw.to_owned())
    } else {
        Err(Error::BadRequest {
            detail: format!(
                "Idempotency-Key 须为 1 到 {MAX_IDEMPOTENCY_KEY_LEN} 个可见 ASCII 字符 / Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} printable ASCII characters"
            ),
            field: Some("Idempotency-Key".into()),
        })
    }
}

impl Service {
    /// Creates a draft for the submitter's agency. With an idempotency key, a retry returns the
    /// first response instead of creating a second contract.
    ///
    /// # Errors
    /// 403 without the submitter role; 422 naming every invalid field, or a key reused for a
    /// different request.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id))]
    pub async fn create_contract(
        &self,
        principal: &Principal,
        draft: ContractDraft,
        idempotency_key: Option<String>,
    ) -> Result<Idempotent<ContractDetail>> {
        require_submitter(principal)?;
        let retry = Retry::new(principal.user_id, idempotency_key, &draft)?;
        if let Some(earlier) = retry.earlier(&self.store).await? {
            return Ok(earlier);
        }
        self.create_with(principal, draft, None, retry).await
    }

    /// Creates the contract `draft` describes, keeping the file its body came from.
    pub(super) async fn create_with(
        &self,
        principal: &Principal,
        draft: ContractDraft,
        original: Option<&ConvertedDraft>,
        retry: Retry,
    ) -> Result<Idempotent<ContractDetail>> {
        require_submitter(principal)?;
        let signers = self.require_signers(principal.agency_id, &draft).await;
        // Who may sign is asked of addresses that are addresses: intake errors come first.
        let contract =
            NewContract::parse(draft).map_err(|errors| Error::Invalid(errors.into_vec()))?;
        signers?;
        let detail = self.new_contract_detail(principal, contract);
        let original = original.and_then(|o| o.original(detail.contract.id, 1, principal.user_id));
        let saved = retry.save(&detail, detail.contract.created_at)?;
        let committed = self
            .store
            .create_contract(&detail, original.as_ref(), saved.as_ref())
            .await;
        retry.settle(&self.store, committed, detail).await
    }

    /// The contract a checked draft becomes, as it will read back once stored.
    fn new_contract_detail(&self, principal: &Principal, contract: NewContract) -> ContractDetail {
        let workflow = self.current_workflow();
        let at = now();
        ContractDetail {
            contract: Contract {
                id: Uuid::now_v7(),
                agency_id: principal.agency_id,
                title: contract.title,
                contract_type: contract.contract_type,
                counterparty: contract.counterparty,
                amount_fen: contract.amount.fen(),
                funding_source: contract.funding_source,
                agency_party: contract.agency_party,
                state: workflow.initial,
                version: 1,
                body_version: 1,
                body_sha256: contract.body.sha256().to_owned(),
                approved_sha256: None,
                approved_manifest_sha256: None,
                due_at: None,
                clock_paused_days: None,
                opinion_number: None,
                workflow_id: workflow.id.clone(),
                workflow_version: workflow.version,
                created_by: principal.user_id,
                created_at: at,
                updated_at: at,
            },
            body_markdown: contract.body.markdown().to_owned(),
            signatories: contract
                .signatories
                .iter()
                .map(ToString::to_string)
                .collect(),
        }
    }

    /// # Errors
    /// 404 when the contract does not exist or is outside the reader's view.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id, id = %id))]
    pub async fn get_contract(&self, principal: &Principal, id: Uuid) -> Result<ContractDetail> {
        let detail = self.store.contract(id, principal.visibility()).await?;
        detail.ok_or_else(contract_not_found)
    }

    /// Stores a new immutable body version.
    ///
    /// # Errors
    /// 404 outside the reader's view; 403 for anyone but a submitter of the contract's agency;
    /// 409 for a stale `expected_version` or a contract no longer in draft or revision;
    /// 422 for an invalid body.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id, id = %id))]
    pub async fn replace_body(
        &self,
        principal: &Principal,
        id: Uuid,
        body_markdown: String,
        expected_version: i64,
    ) -> Result<ContractDetail> {
        self.replace_body_with(principal, id, body_markdown, None, expected_version)
            .await
    }

    /// Stores a new body version, with the file it was converted from when there is one.
    pub(super) async fn replace_body_with(
        &self,
        principal: &Principal,
        id: Uuid,
        body_markdown: String,
        original: Option<&ConvertedDraft>,
        expected_version: i64,
    ) -> Result<ContractDetail> {
        let situation = self.editable(principal, id, expected_version).await?;
        let contract = &situation.detail.contract;
        // Editable states take the new text as it is; an approved contract goes back to review.
        let plan = engine::on_body_change(
            &situation.definition,
            &situation.facts(),
            &situation.actor(),
        )
        .map_err(refusal_error)?;
        let body = Body::parse(body_markdown)
            .map_err(|message| Error::invalid("body_markdown", message))?;
        let version = ContractVersion {
            number: contract.body_version + 1,
            sha256: body.sha256().to_owned(),
            created_by: principal.user_id,
            created_at: now(),
        };
        let transition = match plan {
            Some(plan) => Some(
                self.transition_record(
                    &situation,
                    &plan,
                    expected_version + 1,
                    (version.number, &version.sha256, body.markdown()),
                    version.created_at,
                )
                .await?,
            ),
            None => None,
        };
        let change = BodyChange {
            contract_id: id,
            expected_version,
            original: original.and_then(|o| o.original(id, version.number, principal.user_id)),
            version,
            body_markdown: body.markdown().to_owned(),
        };
        self.store
            .replace_body(&change, transition.as_ref())
            .await?;
        self.get_contract(principal, id).await
    }

    /// # Errors
    /// 404 outside the reader's view.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id, id = %id))]
    pub async fn contract_versions(
        &self,
        principal: &Principal,
        id: Uuid,
    ) -> Result<Vec<VersionView>> {
        self.get_contract(principal, id).await?;
        self.version_list(id).await
    }

    /// The body versions, without their text, for a contract already checked to be in view.
    pub(super) async fn version_list(&self, id: Uuid) -> Result<Vec<VersionView>> {
        let versions = self.store.contract_versions(id).await?;
        Ok(versions
            .into_iter()
            .map(|version| VersionView {
                version,
                body_markdown: None,
            })
            .collect())
    }

    /// # Errors
    /// 404 outside the reader's view or for an unknown version number.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id, id = %id))]
    pub async fn contract_version(
        &self,
        principal: &Principal,
        id: Uuid,
        number: i64,
    ) -> Result<VersionView> {
        self.get_contract(principal, id).await?;
        let (version, body) = self
            .store
            .contract_version(id, number)
            .await?
            .ok_or_else(|| Error::not_found("版本不存在 / version not found"))?;
        Ok(VersionView {
            version,
            body_markdown: Some(body),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_are_printable_ascii() {
        assert!(parse_idempotency_key("retry-7f3a").is_ok());
        assert!(parse_idempotency_key("").is_err());
        assert!(parse_idempotency_key("有空格 key").is_err());
        assert!(parse_idempotency_key(&"k".repeat(256)).is_err());
    }
}
