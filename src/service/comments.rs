//! 批注: a reviewer comments on one clause and may suggest its wording; while revising, the clerk
//! accepts or rejects each, a rejection with the reason. Both are audited, and the letter lists
//! them with how they were dealt with.

use uuid::Uuid;

use super::screening::may_rule_on_findings;
use super::{Service, now};
use crate::domain::audit::AuditMeta;
use crate::domain::comment::{MAX_CLAUSE_CHARS, MAX_COMMENT_CHARS};
use crate::domain::field::{bounded_text, text_block};
use crate::domain::{ClauseComment, FieldErrors, Principal, Resolution, Role};
use crate::error::{Error, Result};

/// What a reviewer writes on a clause.
#[derive(Debug, Clone, Default)]
pub struct CommentInput {
    pub clause: String,
    pub comment: String,
    pub suggestion: Option<String>,
}

impl Service {
    /// Adds a 批注 to the clause of the current version, during review.
    ///
    /// # Errors
    /// As for excluding a finding (404, 403, 409, 422 for an author); 422 naming each empty or
    /// overlong field.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id, id = %id))]
    pub async fn add_comment(
        &self,
        principal: &Principal,
        id: Uuid,
        input: CommentInput,
    ) -> Result<ClauseComment> {
        let situation = self.situation(principal, id, None).await?;
        may_rule_on_findings(principal, &situation)?;
        let mut errors = FieldErrors::default();
        let clause = errors.check("clause", bounded_text(&input.clause, MAX_CLAUSE_CHARS));
        let comment = errors.check("comment", text_block(&input.comment, MAX_COMMENT_CHARS));
        let suggestion = match input.suggestion.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() => errors
                .check("suggestion", text_block(s, MAX_COMMENT_CHARS))
                .map(Some),
            _ => Some(None),
        };
        let (Some(clause), Some(comment), Some(suggestion)) = (clause, comment, suggestion) else {
            return Err(Error::Invalid(errors.into_vec()));
        };
        let added = ClauseComment {
            id: Uuid::now_v7(),
            contract_id: id,
            body_version: situation.detail.contract.body_version,
            clause,
            comment,
            suggestion,
            author_id: principal.user_id,
            created_at: now(),
            resolution: None,
            resolution_note: None,
            resolved_by: None,
            resolved_at: None,
        };
        self.store.add_comment(&added).await?;
        Ok(added)
    }

    /// Every 批注 on a contract in view, oldest first.
    ///
    /// # Errors
    /// 404 outside the view.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id, id = %id))]
    pub async fn comments(&self, principal: &Principal, id: Uuid) -> Result<Vec<ClauseComment>> {
        self.get_contract(principal, id).await?;
        Ok(self.store.comments(id).await?)
    }

    /// The clerk accepts or rejects an open 批注 while the contract is being revised; a
    /// rejection needs its reason.
    ///
    /// # Errors
    /// 404 outside the view or for no such open comment; 403 for anyone but a submitter of the
    /// contract's agency; 409 when the contract is not being revised; 422 for a rejection
    /// without a reason.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %principal.user_id, id = %id))]
    pub async fn resolve_comment(
        &self,
        principal: &Principal,
        id: Uuid,
        comment_id: Uuid,
        resolution: Resolution,
        note: Option<&str>,
    ) -> Result<ClauseComment> {
        let detail = self.get_contract(principal, id).await?;
        let contract = &detail.contract;
        if !principal.has(Role::Submitter) || principal.agency_id != contract.agency_id {
            return Err(Error::forbidden(
                "只有送审单位的经办人可以处理批注 / only a submitter of the contract's agency deals with comments",
            ));
        }
        if !contract.state.body_editable() {
            return Err(Error::Conflict {
                kind: "/problems/invalid-state",
                detail: "合同不在修改阶段，不能处理批注 / the contract is not being revised".into(),
            });
        }
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        let note = match (resolution, note) {
            (Resolution::Rejected, None) => {
                return Err(Error::invalid(
                    "note",
                    "不采纳的须写明理由 / say why the comment is not followed",
                ));
            }
            (_, Some(note)) => {
                Some(text_block(note, MAX_COMMENT_CHARS).map_err(|m| Error::invalid("note", m))?)
            }
            (_, None) => None,
        };
        let open = self
            .store
            .comments(id)
            .await?
            .into_iter()
            .find(|c| c.id == comment_id && c.resolution.is_none())
            .ok_or_else(|| Error::not_found("没有该待处理的批注 / no such open comment"))?;
        let at = now();
        let resolved = ClauseComment {
            resolution: Some(resolution),
            resolution_note: note,
            resolved_by: Some(principal.user_id),
            resolved_at: Some(at),
            ..open
        };
        let meta = AuditMeta {
            actor_id: Some(principal.user_id),
            at,
        };
        if !self.store.resolve_comment(&resolved, meta).await? {
            return Err(Error::not_found(
                "没有该待处理的批注 / no such open comment",
            ));
        }
        Ok(resolved)
    }
}
