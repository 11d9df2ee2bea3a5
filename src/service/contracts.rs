//! Contract intake: create, list, read, revise the body, browse versions.

use uuid::Uuid;

use super::idempotency::{Outcome, Retry};
use super::transitions::refusal_error;
use super::views::{ContractPage, VersionView};
use super::{Service, now};
use crate::domain::access::may_edit_contract;
use crate::domain::{Body, ContractDraft};
use crate::domain::{Contract, ContractDetail, ContractVersion};
use crate::domain::{ContractState, NewContract, Principal, Role};
use crate::error::{Error, Result, stale};
use crate::store::{BodyChange, ContractFilter};
use crate::workflow::engine;

pub const DEFAULT_PAGE_SIZE: i64 = 50;
pub const MAX_PAGE_SIZE: i64 = 200;
const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// List parameters as the client sent them.
#[derive(Debug, Clone, Default)]
pub struct ListParams {
    pub state: Option<String>,
    pub q: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
    /// Only contracts whose current review stage is past its deadline.
    pub overdue: Option<bool>,
    /// Only contracts this address is named to sign.
    pub signatory: Option<String>,
}

fn contract_not_found() -> Error {
    Error::not_found("合同不存在 / contract not found")
}

fn parse_list_params(params: ListParams) -> Result<ContractFilter> {
    let mut errors = crate::domain::FieldErrors::default();
    let state = params
        .state
        .filter(|s| !s.is_empty())
        .and_then(|s| errors.check("state", ContractState::parse(&s)));
    let before = params.cursor.filter(|c| !c.is_empty()).and_then(|c| {
        errors.check(
            "cursor",
            Uuid::parse_str(&c).map_err(|_| "游标无效 / invalid cursor".to_owned()),
        )
    });
    let limit = params.limit.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&limit) {
        errors.add(
            "limit",
            format!("每页条数须在 1 到 {MAX_PAGE_SIZE} 之间 / limit must be between 1 and {MAX_PAGE_SIZE}"),
        );
    }
    let text = params
        .q
        .map(|q| q.trim().to_owned())
        .filter(|q| !q.is_empty());
    if text.as_ref().is_some_and(|q| q.chars().count() > 200) {
        errors.add("q", "搜索词过长 / the search text is too long");
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors.into_vec()));
    }
    Ok(ContractFilter {
        state,
        text,
        before,
        limit,
        overdue_at: params.overdue.unwrap_or(false).then(now),
        signatory: params.signatory,
    })
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
    pub async fn create_contract(
        &self,
        principal: &Principal,
        draft: ContractDraft,
        idempotency_key: Option<String>,
    ) -> Result<Outcome<ContractDetail>> {
        if !principal.has(Role::Submitter) {
            return Err(Error::forbidden(
                "需要经办人角色 / the submitter role is required",
            ));
        }
        let retry = Retry::new(principal.user_id, idempotency_key, &draft)?;
        if let Some(earlier) = retry.earlier(&self.store).await? {
            return Ok(earlier);
        }

        let contract =
            NewContract::parse(draft).map_err(|errors| Error::Invalid(errors.into_vec()))?;
        let detail = self.new_contract_detail(principal, contract);
        let saved = retry.save(201, &detail, detail.contract.created_at)?;
        let committed = self.store.create_contract(&detail, saved.as_ref()).await;
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
                due_at: None,
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
    /// 422 for an unknown state, a bad cursor or limit.
    pub async fn list_contracts(
        &self,
        principal: &Principal,
        params: ListParams,
    ) -> Result<ContractPage> {
        let mut filter = parse_list_params(params)?;
        let page_size = filter.limit;
        filter.limit += 1; // one extra row tells whether there is a next page
        let mut rows = self
            .store
            .list_contracts(principal.visibility(), &filter)
            .await?;
        let has_more = rows.len() as i64 > page_size;
        rows.truncate(usize::try_from(page_size).unwrap_or(0));
        let next_cursor = if has_more {
            rows.last().map(|c| c.id.to_string())
        } else {
            None
        };
        Ok(ContractPage {
            items: rows,
            next_cursor,
        })
    }

    /// # Errors
    /// 404 when the contract does not exist or is outside the reader's view.
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
    pub async fn replace_body(
        &self,
        principal: &Principal,
        id: Uuid,
        body_markdown: String,
        expected_version: i64,
    ) -> Result<ContractDetail> {
        let situation = self.situation(principal, id, None).await?;
        let contract = &situation.detail.contract;
        if !may_edit_contract(&principal.roles, principal.agency_id, contract.agency_id) {
            return Err(Error::forbidden(
                "只有本机构的经办人可以修改合同正文 / only a submitter of the contract's agency may change its body",
            ));
        }
        if contract.version != expected_version {
            return Err(stale());
        }
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
    fn list_params_name_every_bad_field() {
        let params = ListParams {
            state: Some("pending".into()),
            q: None,
            cursor: Some("not-a-uuid".into()),
            limit: Some(0),
            overdue: None,
            signatory: None,
        };
        let Err(Error::Invalid(errors)) = parse_list_params(params) else {
            panic!("expected invalid input");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["state", "cursor", "limit"]);
    }

    #[test]
    fn idempotency_keys_are_printable_ascii() {
        assert!(parse_idempotency_key("retry-7f3a").is_ok());
        assert!(parse_idempotency_key("").is_err());
        assert!(parse_idempotency_key("有空格 key").is_err());
        assert!(parse_idempotency_key(&"k".repeat(256)).is_err());
    }
}
