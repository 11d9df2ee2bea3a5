//! The files on the contract page: review materials uploaded, downloaded and removed, and the
//! original Word or PDF draft downloaded. Downloads go out as attachments, never rendered.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use uuid::Uuid;

use super::contracts::contract_page;
use super::form::SessionForm;
use super::session::Session;
use super::{PageResult, form_problem, see_other};
use crate::domain::FileContent;
use crate::domain::attachment::content_disposition;
use crate::error::Error;
use crate::http::AppState;
use crate::http::extract::ApiPath;

fn download<T>(file: FileContent<T>, name: &str, media_type: &str) -> Response {
    let mut response = file.bytes.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(media_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    if let Ok(value) = HeaderValue::from_str(&content_disposition(name)) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

pub async fn attach(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    form: SessionForm,
) -> PageResult {
    let SessionForm { session, fields } = form;
    let attached = async {
        let file = fields.file("file").cloned().ok_or_else(|| {
            Error::invalid("file", "请选择要上传的文件 / choose a file to upload")
        })?;
        state
            .service
            .attach(&session.principal, id, fields.get("kind"), file)
            .await
    }
    .await;
    match attached {
        Ok(_) => see_other(&format!("/contracts/{id}?done=attached#materials")),
        Err(error) => refused(&state, &session, id, error).await,
    }
}

pub async fn remove(
    State(state): State<AppState>,
    ApiPath((id, attachment)): ApiPath<(Uuid, Uuid)>,
    form: SessionForm,
) -> PageResult {
    let SessionForm { session, .. } = form;
    match state
        .service
        .remove_attachment(&session.principal, id, attachment)
        .await
    {
        Ok(()) => see_other(&format!("/contracts/{id}?done=removed#materials")),
        Err(error) => refused(&state, &session, id, error).await,
    }
}

/// The contract page again, saying why the upload or removal was refused.
async fn refused(state: &AppState, session: &Session, id: Uuid, error: Error) -> PageResult {
    let (status, message, errors) = form_problem(error)?;
    let material_error = errors.into_values().next().unwrap_or(message);
    contract_page(
        state,
        session,
        id,
        status,
        context! { material_error },
        None,
    )
    .await
}

pub async fn download_attachment(
    State(state): State<AppState>,
    session: Session,
    ApiPath((id, attachment)): ApiPath<(Uuid, Uuid)>,
) -> PageResult {
    let file = state
        .service
        .attachment_file(&session.principal, id, attachment)
        .await?;
    let (name, media_type) = (
        file.meta.file.file_name.clone(),
        file.meta.file.media_type.clone(),
    );
    Ok(download(file, &name, &media_type))
}

pub async fn download_draft(
    State(state): State<AppState>,
    session: Session,
    ApiPath(id): ApiPath<Uuid>,
) -> PageResult {
    let file = state.service.draft_file(&session.principal, id).await?;
    let (name, media_type) = (
        file.meta.file.file_name.clone(),
        file.meta.file.media_type.clone(),
    );
    Ok(download(file, &name, &media_type))
}
