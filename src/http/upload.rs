//! `multipart/form-data` bodies, read part by part with a size limit, so that an oversized upload
//! is refused (413) as soon as it passes the limit, without being held in memory whole. Text
//! parts come back as text, file parts as bytes with the name the sender's computer gave them.
//! Routes that take uploads lift the service-wide body limit and rely on this one.

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;

use crate::domain::Upload;
use crate::error::Error;

/// The parts of a multipart body.
#[derive(Debug, Default)]
pub struct Parts {
    pub texts: Vec<(String, String)>,
    pub files: Vec<(String, Upload)>,
}

impl Parts {
    pub fn text(&self, name: &str) -> Option<&str> {
        self.texts
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Takes the file sent as `name`, if one was chosen.
    pub fn take_file(&mut self, name: &str) -> Option<Upload> {
        let at = self.files.iter().position(|(n, _)| n == name)?;
        Some(self.files.remove(at).1)
    }
}

/// Whether the request carries a multipart body.
pub fn is_multipart<B>(request: &axum::http::Request<B>) -> bool {
    request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"))
}

fn malformed(detail: impl std::fmt::Display) -> Error {
    Error::BadRequest {
        detail: format!("表单无法读取 / the multipart body could not be read: {detail}"),
        field: None,
    }
}

/// Reads every part; a file over `file_limit` bytes or a text part over `text_limit` bytes is
/// refused with 413, naming the part.
///
/// # Errors
/// 400 for a body that is not multipart or does not parse, 413 over a limit, 422 for a text
/// part that is not UTF-8.
pub async fn read(request: Request, file_limit: usize, text_limit: usize) -> Result<Parts, Error> {
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(malformed)?;
    let mut parts = Parts::default();
    while let Some(mut field) = multipart.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let limit = if file_name.is_some() {
            file_limit
        } else {
            text_limit
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(malformed)? {
            if bytes.len() + chunk.len() > limit {
                return Err(Error::FileTooLarge(format!(
                    "{name}：超过 {} MiB 的上限，未保存任何内容 / over the {} MiB limit; nothing was stored",
                    limit.div_ceil(1024 * 1024),
                    limit.div_ceil(1024 * 1024)
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        match file_name {
            // A file input left empty sends an empty part without a name.
            Some(file_name) if bytes.is_empty() && file_name.is_empty() => {}
            Some(file_name) => parts.files.push((name, Upload { file_name, bytes })),
            None => {
                let text = String::from_utf8(bytes).map_err(|_| {
                    Error::invalid(name.clone(), "须为 UTF-8 编码的文本 / must be UTF-8 text")
                })?;
                parts.texts.push((name, text));
            }
        }
    }
    Ok(parts)
}
