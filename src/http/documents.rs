//! Drafts and materials over HTTP: a contract created or revised from a Word or PDF file, its
//! original downloaded, review materials attached, listed, downloaded and removed, its facts
//! revised, and what an approval covers (the manifest). Files are served as downloads
//! (`Content-Disposition: attachment`, `nosniff`), typed by their bytes.

use axum::Json;
use axum::extract::{DefaultBodyLimit, FromRef, FromRequest, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::contracts::ReplaceBodyRequest;
use super::extract::{ApiJson, ApiPath, Auth, parse_json};
use super::upload::{self, Parts};
use crate::domain::attachment::content_disposition;
use crate::domain::{
    Attachment, ContractDetail, ContractDraft, FactsDraft, FileContent, Manifest, SupplementPoint,
    Upload,
};
use crate::error::{Error, Problem, Result};
use crate::store::FactRevision;

/// The routes that take uploads: their own size limit replaces the service-wide one.
pub(super) fn upload_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_attachment, list_attachments))
        .layer(DefaultBodyLimit::disable())
}

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_attachment, remove_attachment))
        .routes(routes!(get_draft))
        .routes(routes!(revise_facts))
        .routes(routes!(fact_history))
        .routes(routes!(manifest))
        .routes(routes!(supplements))
}

/// A new contract as sent: JSON with the body as Markdown, or multipart with the facts as JSON
/// and the draft as a file.
pub enum Intake {
    Json(ContractDraft),
    File { facts: FactsDraft, draft: Upload },
}

/// A body revision as sent: JSON with Markdown, or multipart with the file.
pub enum BodyUpload {
    Json {
        body_markdown: String,
        expected_version: i64,
    },
    File {
        draft: Upload,
        expected_version: i64,
    },
}

/// The multipart form of `POST /contracts` (documentation only).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct IntakeForm {
    /// The facts as JSON: the fields of a contract without `body_markdown`.
    #[schema(value_type = FactsDraft)]
    facts: String,
    /// The draft: `.docx`, a `.pdf` with a text layer, or `.md`.
    #[schema(value_type = String, format = Binary)]
    draft: Vec<u8>,
}

/// The multipart form of `POST /contracts/{id}/attachments` (documentation only).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AttachmentForm {
    /// qualification, power_of_attorney, tender_documents, award_notice, project_approval,
    /// funding_proof, risk_assessment, other.
    kind: String,
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Reads a multipart body within the upload limit.
async fn multipart(request: Request, state: &AppState) -> Result<Parts> {
    let limits = state.service.upload_limits();
    upload::read(request, limits.file_bytes, state.http.max_body_bytes).await
}

/// A JSON body within the service-wide limit (on routes whose own limit was lifted).
async fn limited_json<T: serde::de::DeserializeOwned>(
    request: Request,
    state: &AppState,
) -> Result<T> {
    if !super::extract::has_json_content_type(&request) {
        return Err(Error::UnsupportedMediaType);
    }
    let bytes = axum::body::to_bytes(request.into_body(), state.http.max_body_bytes)
        .await
        .map_err(|_| Error::PayloadTooLarge)?;
    parse_json(&bytes)
}

fn missing_part(name: &str) -> Error {
    Error::invalid(
        name,
        format!("缺少 {name} 部分 / the {name} part is missing"),
    )
}

impl<S> FromRequest<S> for Intake
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> std::result::Result<Self, Error> {
        let state = AppState::from_ref(state);
        if !upload::is_multipart(&request) {
            return limited_json(request, &state).await.map(Intake::Json);
        }
        let mut parts = multipart(request, &state).await?;
        let facts = parts.text("facts").ok_or_else(|| missing_part("facts"))?;
        let facts: FactsDraft = parse_json(facts.as_bytes())?;
        let draft = parts
            .take_file("draft")
            .ok_or_else(|| missing_part("draft"))?;
        Ok(Intake::File { facts, draft })
    }
}

impl<S> FromRequest<S> for BodyUpload
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> std::result::Result<Self, Error> {
        let state = AppState::from_ref(state);
        if !upload::is_multipart(&request) {
            let body: ReplaceBodyRequest = limited_json(request, &state).await?;
            return Ok(BodyUpload::Json {
                body_markdown: body.body_markdown,
                expected_version: body.expected_version,
            });
        }
        let mut parts = multipart(request, &state).await?;
        let expected_version = parts
            .text("expected_version")
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| Error::invalid("expected_version", "须为整数 / must be an integer"))?;
        let draft = parts
            .take_file("draft")
            .ok_or_else(|| missing_part("draft"))?;
        Ok(BodyUpload::File {
            draft,
            expected_version,
        })
    }
}

/// A stored file as a download.
pub(crate) fn download<T>(file: FileContent<T>, name: &str, media_type: &str) -> Response {
    file_download(file.bytes, name, media_type)
}

/// Bytes served as a file to save, never rendered in place: `Content-Disposition: attachment`
/// with the name, and `nosniff`.
pub(crate) fn file_download(bytes: Vec<u8>, name: &str, media_type: &str) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(media_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    if let Ok(value) = HeaderValue::from_str(&content_disposition(name)) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// Attach a review material (审查材料). Its type is read from its bytes.
#[utoipa::path(post, path = "/contracts/{id}/attachments", tag = "contracts", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body(content = AttachmentForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Attached", body = Attachment),
        (status = 400, description = "Not a multipart body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a submitter of the contract's agency", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract in the caller's view", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The contract takes no change now (under review, signed)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Over the file or the contract's limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown kind, or no file", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn add_attachment(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    request: Request,
) -> Result<Response> {
    if !upload::is_multipart(&request) {
        return Err(Error::UnsupportedMediaType);
    }
    let mut parts = multipart(request, &state).await?;
    let kind = parts.text("kind").unwrap_or_default().to_owned();
    let file = parts
        .take_file("file")
        .ok_or_else(|| missing_part("file"))?;
    let attachment = state
        .service
        .attach(&auth.principal, id, &kind, file)
        .await?;
    Ok((StatusCode::CREATED, Json(attachment)).into_response())
}

/// The review materials attached now, in the order they were uploaded.
#[utoipa::path(get, path = "/contracts/{id}/attachments", tag = "contracts", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The materials, without their bytes", body = [Attachment]),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract in the caller's view", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_attachments(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<Attachment>>> {
    Ok(Json(state.service.attachments(&auth.principal, id).await?))
}

/// Download one material.
#[utoipa::path(get, path = "/contracts/{id}/attachments/{attachment_id}", tag = "contracts", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("attachment_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The file, as a download, with the type read from its bytes", content(
            (Vec<u8> = "application/pdf"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
            (Vec<u8> = "application/zip"),
            (Vec<u8> = "image/png"),
            (Vec<u8> = "image/jpeg"),
            (Vec<u8> = "image/gif"),
            (Vec<u8> = "image/tiff"),
            (Vec<u8> = "application/x-ole-storage"),
            (Vec<u8> = "text/plain"),
            (Vec<u8> = "application/octet-stream"),
        )),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract or material in the caller's view", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_attachment(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, attachment_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Response> {
    let file = state
        .service
        .attachment_file(&auth.principal, id, attachment_id)
        .await?;
    let (name, media_type) = (
        file.meta.file.file_name.clone(),
        file.meta.file.media_type.clone(),
    );
    Ok(download(file, &name, &media_type))
}

/// Remove a material (it stays in the audit trail).
#[utoipa::path(delete, path = "/contracts/{id}/attachments/{attachment_id}", tag = "contracts", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("attachment_id" = Uuid, Path)),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a submitter of the contract's agency", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract or material in the caller's view", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The contract takes no change now", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn remove_attachment(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, attachment_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<StatusCode> {
    state
        .service
        .remove_attachment(&auth.principal, id, attachment_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Download the Word or PDF file the current body was converted from.
#[utoipa::path(get, path = "/contracts/{id}/draft", tag = "contracts", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The original file, as a download", content(
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            (Vec<u8> = "application/pdf"),
            (Vec<u8> = "text/plain"),
        )),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract in view, or its body was typed", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_draft(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response> {
    let file = state.service.draft_file(&auth.principal, id).await?;
    let (name, media_type) = (
        file.meta.file.file_name.clone(),
        file.meta.file.media_type.clone(),
    );
    Ok(download(file, &name, &media_type))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviseFactsRequest {
    pub title: String,
    #[schema(value_type = crate::domain::ContractType)]
    pub contract_type: String,
    pub counterparty: String,
    /// The amount in fen (1/100 yuan), 0 or more.
    pub amount_fen: i64,
    #[serde(default)]
    pub funding_source: Option<String>,
    pub agency_party: String,
    pub signatories: Vec<String>,
    /// The contract's `version` as last read.
    pub expected_version: i64,
}

impl ReviseFactsRequest {
    fn facts(self) -> (FactsDraft, i64) {
        let facts = FactsDraft {
            title: self.title,
            contract_type: self.contract_type,
            counterparty: self.counterparty,
            amount_fen: self.amount_fen,
            funding_source: self.funding_source,
            agency_party: self.agency_party,
            signatories: self.signatories,
        };
        (facts, self.expected_version)
    }
}

/// Revise the contract's facts (title, type, counterparty, amount, funding source, party,
/// signatories) while it is editable; after approval a change sends it back to review.
#[utoipa::path(put, path = "/contracts/{id}/facts", tag = "contracts", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = ReviseFactsRequest,
    responses(
        (status = 200, description = "The contract with its revised facts", body = ContractDetail),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a submitter of the contract's agency", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract in the caller's view", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale expected_version, or the contract takes no change now", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn revise_facts(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<ReviseFactsRequest>,
) -> Result<Json<ContractDetail>> {
    let (facts, expected_version) = request.facts();
    Ok(Json(
        state
            .service
            .revise_facts(&auth.principal, id, facts, expected_version)
            .await?,
    ))
}

/// Every revision of the contract's facts, oldest first.
#[utoipa::path(get, path = "/contracts/{id}/facts/history", tag = "contracts", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "Revisions, before and after", body = [FactRevision]),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract in the caller's view", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn fact_history(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<FactRevision>>> {
    Ok(Json(
        state.service.fact_revisions(&auth.principal, id).await?,
    ))
}

/// What an approval covers now: the body's hash, the facts and every material's hash.
#[utoipa::path(get, path = "/contracts/{id}/manifest", tag = "contracts", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The manifest and its SHA-256", body = Manifest),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract in the caller's view", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn manifest(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Manifest>> {
    Ok(Json(state.service.manifest(&auth.principal, id).await?))
}

/// Every 补正 point asked of the contract, with its answer once given.
#[utoipa::path(get, path = "/contracts/{id}/supplements", tag = "contracts", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "Points, oldest first", body = [SupplementPoint]),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract in the caller's view", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn supplements(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<SupplementPoint>>> {
    Ok(Json(
        state.service.supplement_points(&auth.principal, id).await?,
    ))
}
