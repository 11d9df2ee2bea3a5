//! The files on the contract page: review materials uploaded, downloaded and removed, and the
//! original Word or PDF draft downloaded. Downloads go out as attachments, never rendered.

use axum::extract::State;
use minijinja::context;
use uuid::Uuid;

use super::contracts::contract_page;
use super::form::SessionForm;
use super::session::Session;
use super::{PageResult, form_problem, see_other};
use crate::error::Error;
use crate::http::AppState;
use crate::http::documents::download;
use crate::http::extract::ApiPath;

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
