//! Drafts and materials as offices have them. A Word or PDF draft becomes the contract body and
//! its original is kept beside the version it produced; review materials are attached, hashed
//! and stored in the database; the facts are revised with the body while the contract is
//! editable. Whatever changes after approval — body, facts or a material — sends the contract
//! back to review, because the approval covers them together (the manifest).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::idempotency::{Idempotent, Retry};
use super::transitions::{Situation, refusal_error};
use super::{Service, now};
use crate::documents::{self, ConversionError, Converted};
use crate::domain::access::may_edit_contract;
use crate::domain::{
    Attachment, ContractDetail, DraftFile, Facts, FactsDraft, FileContent, Manifest, MaterialKind,
    NewFacts, Principal, StoredFile, SupplementPoint, Upload,
};
use crate::error::{Error, Result, stale};
use crate::store::{FactRevision, FactsChange, MaterialChange, StoreError, TransitionRecord};
use crate::workflow::engine;

/// The field a draft file is sent in, for error messages.
const DRAFT_FIELD: &str = "draft";
const FILE_FIELD: &str = "file";

/// A draft read from an upload: the body it gives and the file it came from.
pub struct ConvertedDraft {
    pub converted: Converted,
    pub upload: Upload,
}

impl ConvertedDraft {
    /// The original, kept beside the body version it produced — unless it was Markdown already.
    pub(super) fn original(
        &self,
        contract_id: Uuid,
        body_version: i64,
        by: Uuid,
    ) -> Option<FileContent<DraftFile>> {
        if self.converted.format == documents::DraftFormat::Markdown {
            return None;
        }
        let kind = documents::sniff(&self.upload.bytes);
        Some(FileContent {
            meta: DraftFile {
                contract_id,
                body_version,
                file: StoredFile::describe(
                    &self.upload.file_name,
                    kind.media_type(),
                    &self.upload.bytes,
                ),
                uploaded_by: by,
                uploaded_at: now(),
            },
            bytes: self.upload.bytes.clone(),
        })
    }
}

/// What identifies a multipart intake for retries: the facts and the file's hash.
#[derive(Serialize)]
struct FileRequest<'a> {
    facts: &'a FactsDraft,
    file_sha256: String,
}

impl Service {
    /// Reads an uploaded draft (Word, PDF with text, Markdown) into a body.
    ///
    /// # Errors
    /// 413 over the upload limit; 422 naming what is wrong with the file (encrypted, an old
    /// `.doc`, scanned without text, damaged, not a draft at all).
    pub fn convert_draft(&self, upload: Upload) -> Result<ConvertedDraft> {
        self.check_upload_size(&upload, DRAFT_FIELD)?;
        let converted = documents::convert(&upload.bytes).map_err(|error| match error {
            ConversionError::TooLarge => Error::FileTooLarge(error.to_string()),
            other => Error::invalid(DRAFT_FIELD, other.to_string()),
        })?;
        Ok(ConvertedDraft { converted, upload })
    }

    fn check_upload_size(&self, upload: &Upload, field: &str) -> Result<()> {
        let limit = self.uploads.file_bytes;
        if upload.bytes.len() > limit {
            return Err(Error::FileTooLarge(format!(
                "{field}：文件超过 {} MiB 的上限 / the file is over the {} MiB limit",
                limit / (1024 * 1024),
                limit / (1024 * 1024)
            )));
        }
        if upload.bytes.is_empty() {
            return Err(Error::invalid(field, "文件为空 / the file is empty"));
        }
        Ok(())
    }

    /// Creates a draft from its facts and an uploaded draft file; the original is kept.
    ///
    /// # Errors
    /// As [`Service::create_contract`], and the file's own refusals.
    pub async fn create_contract_from_file(
        &self,
        principal: &Principal,
        facts: FactsDraft,
        draft: Upload,
        idempotency_key: Option<String>,
    ) -> Result<Idempotent<ContractDetail>> {
        let file_sha256 = hex::encode(Sha256::digest(&draft.bytes));
        let retry = Retry::new(
            principal.user_id,
            idempotency_key,
            &FileRequest {
                facts: &facts,
                file_sha256,
            },
        )?;
        if let Some(earlier) = retry.earlier(&self.store).await? {
            return Ok(earlier);
        }
        let converted = self.convert_draft(draft)?;
        let body = converted.converted.markdown.clone();
        self.create_with(principal, facts.with_body(body), Some(&converted), retry)
            .await
    }

    /// Stores a new body version read from an uploaded file, keeping the original.
    ///
    /// # Errors
    /// As [`Service::replace_body`], and the file's own refusals.
    pub async fn replace_body_from_file(
        &self,
        principal: &Principal,
        id: Uuid,
        draft: Upload,
        expected_version: i64,
    ) -> Result<ContractDetail> {
        let converted = self.convert_draft(draft)?;
        let body = converted.converted.markdown.clone();
        self.replace_body_with(principal, id, body, Some(&converted), expected_version)
            .await
    }

    /// The original Word or PDF file the current body came from, if it came from one.
    ///
    /// # Errors
    /// 404 outside the reader's view or when the body was typed.
    pub async fn draft_file(
        &self,
        principal: &Principal,
        id: Uuid,
    ) -> Result<FileContent<DraftFile>> {
        self.get_contract(principal, id).await?;
        self.store
            .draft_file(id)
            .await?
            .ok_or_else(|| Error::not_found("该合同正文不是由上传的文件转换的 / the body was not converted from an uploaded file"))
    }

    /// The draft file's description without its bytes, for the contract page.
    pub(super) async fn draft_file_info(&self, id: Uuid) -> Result<Option<DraftFile>> {
        Ok(self.store.draft_file(id).await?.map(|file| file.meta))
    }

    /// Revises the contract's facts (while it is editable, or after approval, which sends it
    /// back to review); every change is kept in the history.
    ///
    /// # Errors
    /// 404 outside the view; 403 for anyone but a submitter of the agency; 409 stale or not
    /// editable; 422 naming every invalid field.
    pub async fn revise_facts(
        &self,
        principal: &Principal,
        id: Uuid,
        draft: FactsDraft,
        expected_version: i64,
    ) -> Result<ContractDetail> {
        let situation = self.editable(principal, id, expected_version).await?;
        let signers = self
            .require_signers(principal.agency_id, &draft.clone().with_body(String::new()))
            .await;
        let facts = NewFacts::parse(draft).map_err(|errors| Error::Invalid(errors.into_vec()))?;
        signers?;
        let before = Facts::of(&situation.detail);
        let mut after = facts.record();
        after.signatories.sort();
        if before == after {
            return Ok(situation.detail);
        }
        let at = now();
        // The facts are written first, raising the version the transition then expects.
        let transition = self
            .change_plan(&situation, expected_version + 1, at)
            .await?;
        let change = FactsChange {
            id: Uuid::now_v7(),
            contract_id: id,
            expected_version,
            before,
            after,
            changed_by: principal.user_id,
            changed_at: at,
        };
        self.store
            .revise_facts(&change, transition.as_ref())
            .await?;
        self.get_contract(principal, id).await
    }

    /// Every revision of the facts, oldest first.
    ///
    /// # Errors
    /// 404 outside the reader's view.
    pub async fn fact_revisions(
        &self,
        principal: &Principal,
        id: Uuid,
    ) -> Result<Vec<FactRevision>> {
        self.get_contract(principal, id).await?;
        Ok(self.store.fact_revisions(id).await?)
    }

    /// Attaches a review material. Its type is read from its bytes.
    ///
    /// # Errors
    /// 404 outside the view; 403 not a submitter of the agency; 409 not editable; 413 over the
    /// file or the contract's limit; 422 an unknown kind or an empty file.
    pub async fn attach(
        &self,
        principal: &Principal,
        id: Uuid,
        kind: &str,
        upload: Upload,
    ) -> Result<Attachment> {
        let situation = self.editable(principal, id, None).await?;
        let kind = MaterialKind::parse(kind).map_err(|message| Error::invalid("kind", message))?;
        self.check_upload_size(&upload, FILE_FIELD)?;
        let at = now();
        let sniffed = documents::sniff(&upload.bytes);
        let attachment = Attachment {
            id: Uuid::now_v7(),
            contract_id: id,
            kind,
            file: StoredFile::describe(&upload.file_name, sniffed.media_type(), &upload.bytes),
            uploaded_by: principal.user_id,
            uploaded_at: at,
        };
        let version = situation.detail.contract.version;
        let transition = self.change_plan(&situation, version, at).await?;
        let change = MaterialChange::Add(FileContent {
            meta: attachment.clone(),
            bytes: upload.bytes,
        });
        let limit = i64::try_from(self.uploads.materials_bytes).unwrap_or(i64::MAX);
        match self
            .store
            .change_material(&change, limit, transition.as_ref())
            .await
        {
            Ok(_) => Ok(attachment),
            Err(StoreError::TooLarge) => Err(Error::FileTooLarge(format!(
                "本合同的审查材料合计不能超过 {} MiB / a contract's materials may not exceed {} MiB together",
                self.uploads.materials_bytes / (1024 * 1024),
                self.uploads.materials_bytes / (1024 * 1024)
            ))),
            Err(StoreError::Stale) => Err(stale()),
            Err(other) => Err(other.into()),
        }
    }

    /// Removes a material (it stays in the history).
    ///
    /// # Errors
    /// 404 outside the view or no such material; 403, 409 as [`Service::attach`].
    pub async fn remove_attachment(
        &self,
        principal: &Principal,
        id: Uuid,
        attachment_id: Uuid,
    ) -> Result<()> {
        let situation = self.editable(principal, id, None).await?;
        let at = now();
        let version = situation.detail.contract.version;
        let transition = self.change_plan(&situation, version, at).await?;
        let change = MaterialChange::Remove {
            contract_id: id,
            id: attachment_id,
            by: principal.user_id,
            at,
        };
        let removed = self
            .store
            .change_material(&change, i64::MAX, transition.as_ref())
            .await
            .map_err(|error| match error {
                StoreError::Stale => stale(),
                other => other.into(),
            })?;
        if removed {
            Ok(())
        } else {
            Err(material_not_found())
        }
    }

    /// The materials attached now.
    ///
    /// # Errors
    /// 404 outside the reader's view.
    pub async fn attachments(&self, principal: &Principal, id: Uuid) -> Result<Vec<Attachment>> {
        self.get_contract(principal, id).await?;
        Ok(self.store.attachments(id).await?)
    }

    /// One material with its bytes (also one removed since, for the history).
    ///
    /// # Errors
    /// 404 outside the reader's view or no such material.
    pub async fn attachment_file(
        &self,
        principal: &Principal,
        id: Uuid,
        attachment_id: Uuid,
    ) -> Result<FileContent<Attachment>> {
        self.get_contract(principal, id).await?;
        self.store
            .attachment(id, attachment_id)
            .await?
            .ok_or_else(material_not_found)
    }

    /// What an approval covers now: the body, the facts and every material's hash.
    ///
    /// # Errors
    /// 404 outside the reader's view.
    pub async fn manifest(&self, principal: &Principal, id: Uuid) -> Result<Manifest> {
        let detail = self.get_contract(principal, id).await?;
        let attachments = self.store.attachments(id).await?;
        Ok(Manifest::of(&detail, &attachments))
    }

    /// Every 补正 point asked of the contract, with its answer once given.
    ///
    /// # Errors
    /// 404 outside the reader's view.
    pub async fn supplement_points(
        &self,
        principal: &Principal,
        id: Uuid,
    ) -> Result<Vec<SupplementPoint>> {
        self.get_contract(principal, id).await?;
        Ok(self.store.supplement_points(id).await?)
    }

    /// The contract as a clerk of its agency may change it now, at `expected_version` when given.
    pub(super) async fn editable(
        &self,
        principal: &Principal,
        id: Uuid,
        expected_version: impl Into<Option<i64>>,
    ) -> Result<Situation> {
        let situation = self.situation(principal, id, None).await?;
        let contract = &situation.detail.contract;
        if !may_edit_contract(&principal.roles, principal.agency_id, contract.agency_id) {
            return Err(Error::forbidden(
                "只有本机构的经办人可以修改合同及其材料 / only a submitter of the contract's agency may change it or its materials",
            ));
        }
        if expected_version
            .into()
            .is_some_and(|v| v != contract.version)
        {
            return Err(stale());
        }
        Ok(situation)
    }

    /// The transition a change to an approved contract fires (back to review), or `None` where
    /// the contract is editable as it is.
    ///
    /// # Errors
    /// 409 where the contract takes no change now (under review, signed, closed).
    pub(super) async fn change_plan(
        &self,
        situation: &Situation,
        expected_version: i64,
        at: DateTime<Utc>,
    ) -> Result<Option<TransitionRecord>> {
        let plan = engine::on_body_change(
            &situation.definition,
            &situation.facts(),
            &situation.actor(),
        )
        .map_err(refusal_error)?;
        let Some(plan) = plan else {
            return Ok(None);
        };
        let contract = &situation.detail.contract;
        let record = self
            .transition_record(
                situation,
                &plan,
                expected_version,
                (
                    contract.body_version,
                    &contract.body_sha256,
                    &situation.detail.body_markdown,
                ),
                at,
            )
            .await?;
        Ok(Some(record))
    }
}

fn material_not_found() -> Error {
    Error::not_found("审查材料不存在 / no such material")
}
