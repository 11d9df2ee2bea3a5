//! The one error type of the service. Each variant knows its HTTP status and renders as an
//! RFC 9457 `application/problem+json` document with a stable `type`. Server faults are logged
//! once, with their cause chain, and answered with an opaque 500.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{FieldError, MaterialKind};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("authentication required")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the current state (stale version, duplicate, wrong state).
    #[error("{detail}")]
    Conflict { kind: &'static str, detail: String },
    /// A workflow guard refused the transition (separation of duties, open findings…).
    #[error("{reason}")]
    Guard { guard: &'static str, reason: String },
    /// Well-formed input whose fields are invalid; names every one.
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// Malformed input: bad JSON, an unknown field, a wrong type.
    #[error("{detail}")]
    BadRequest {
        detail: String,
        field: Option<String>,
    },
    /// Materials the contract's type requires are not attached.
    #[error("required materials are missing")]
    MissingMaterials(Vec<MaterialKind>),
    #[error("request body too large")]
    PayloadTooLarge,
    /// An uploaded file over its limit; says which limit.
    #[error("{0}")]
    FileTooLarge(String),
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// The address exists but does not take this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The request took longer than the service allows.
    #[error("request timed out")]
    Timeout,
    #[error("too many failed attempts")]
    TooManyRequests { retry_after_secs: u64 },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Error::Forbidden(detail.into())
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Error::NotFound(detail.into())
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::Unauthorized => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Conflict { .. } => StatusCode::CONFLICT,
            Error::Invalid(_) | Error::Guard { .. } | Error::MissingMaterials(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Error::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Error::PayloadTooLarge | Error::FileTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Error::Timeout => StatusCode::REQUEST_TIMEOUT,
            Error::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable problem type, a relative URI under `/problems/`.
    fn problem_type(&self) -> &'static str {
        match self {
            Error::Unauthorized => "/problems/unauthorized",
            Error::Forbidden(_) => "/problems/forbidden",
            Error::NotFound(_) => "/problems/not-found",
            Error::Conflict { kind, .. } => kind,
            Error::Invalid(_) => "/problems/invalid-input",
            Error::Guard { .. } => "/problems/guard-failed",
            Error::MissingMaterials(_) => "/problems/missing-materials",
            Error::FileTooLarge(_) => "/problems/payload-too-large",
            Error::BadRequest { .. } => "/problems/malformed-request",
            Error::PayloadTooLarge => "/problems/payload-too-large",
            Error::UnsupportedMediaType => "/problems/unsupported-media-type",
            Error::MethodNotAllowed => "/problems/method-not-allowed",
            Error::Timeout => "/problems/timeout",
            Error::TooManyRequests { .. } => "/problems/too-many-requests",
            Error::Internal(_) => "/problems/internal",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Error::Unauthorized => "需要登录 / Authentication required",
            Error::Forbidden(_) => "无权操作 / Forbidden",
            Error::NotFound(_) => "未找到 / Not found",
            Error::Conflict { .. } => "状态冲突 / Conflict",
            Error::Invalid(_) => "输入无效 / Invalid input",
            Error::Guard { .. } => "不满足流转条件 / A workflow guard refused",
            Error::MissingMaterials(_) => "审查材料不全 / Required materials are missing",
            Error::FileTooLarge(_) => "文件过大 / File too large",
            Error::BadRequest { .. } => "请求格式错误 / Malformed request",
            Error::PayloadTooLarge => "请求过大 / Payload too large",
            Error::UnsupportedMediaType => "不支持的内容类型 / Unsupported media type",
            Error::MethodNotAllowed => "不支持该请求方法 / Method not allowed",
            Error::Timeout => "请求超时 / Request timed out",
            Error::TooManyRequests { .. } => "尝试次数过多 / Too many attempts",
            Error::Internal(_) => "服务器内部错误 / Internal server error",
        }
    }

    pub fn detail(&self) -> String {
        match self {
            Error::Unauthorized => "请提供有效的访问令牌 / a valid bearer token is required".into(),
            Error::Invalid(errors) => {
                let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
                format!("以下字段无效 / invalid fields: {}", fields.join(", "))
            }
            Error::PayloadTooLarge => {
                "请求体超过大小上限 / the request body exceeds the size limit".into()
            }
            Error::UnsupportedMediaType => {
                "请求体须为 application/json / the request body must be application/json".into()
            }
            Error::MethodNotAllowed => {
                "该地址不接受此请求方法 / this address does not take this method".into()
            }
            Error::Timeout => {
                "请求处理时间过长，已中止 / the request took too long and was stopped".into()
            }
            Error::TooManyRequests { retry_after_secs } => format!(
                "登录失败次数过多，请 {retry_after_secs} 秒后再试 / too many failed sign-ins; retry after {retry_after_secs} s"
            ),
            Error::MissingMaterials(missing) => {
                let labels: Vec<&str> = missing.iter().map(|k| k.label()).collect();
                format!(
                    "送审前须上传以下材料 / upload these materials before submitting: {}",
                    labels.join("；")
                )
            }
            Error::Internal(_) => "请稍后重试 / please retry later".into(),
            other => other.to_string(),
        }
    }
}

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Duplicate(what) => Error::Conflict {
                kind: "/problems/duplicate",
                detail: format!("已存在 / {what} already exists"),
            },
            StoreError::Stale => stale(),
            other => Error::Internal(anyhow::Error::new(other)),
        }
    }
}

/// The optimistic version check failed.
pub fn stale() -> Error {
    Error::Conflict {
        kind: "/problems/stale-version",
        detail: "合同已被他人修改，请刷新后重试 / the contract was changed by someone else; reload and retry".into(),
    }
}

/// An RFC 9457 problem document. Error responses also carry it as an extension, so that the web
/// pages can show the same problem as HTML.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A stable URI reference identifying the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The offending field, when exactly one is to blame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every invalid field, for `invalid-input` problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The workflow guard that refused, for `guard-failed` problems.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard: Option<String>,
    /// The materials still to be attached, for `missing-materials` problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing_materials: Vec<MaterialKind>,
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        if let Error::Internal(cause) = &self {
            tracing::error!(error = ?cause, "request failed");
        }
        let status = self.status();
        let (field, errors) = match &self {
            Error::Invalid(errors) if errors.len() == 1 => {
                (Some(errors[0].field.clone()), errors.clone())
            }
            Error::Invalid(errors) => (None, errors.clone()),
            Error::BadRequest { field, .. } => (field.clone(), Vec::new()),
            _ => (None, Vec::new()),
        };
        let problem = Problem {
            kind: self.problem_type().to_owned(),
            title: self.title().to_owned(),
            status: status.as_u16(),
            detail: self.detail(),
            field,
            errors,
            guard: match &self {
                Error::Guard { guard, .. } => Some((*guard).to_owned()),
                Error::MissingMaterials(_) => Some("materials_complete".to_owned()),
                _ => None,
            },
            missing_materials: match &self {
                Error::MissingMaterials(missing) => missing.clone(),
                _ => Vec::new(),
            },
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        response.extensions_mut().insert(problem);
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        match self {
            Error::Unauthorized => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Error::TooManyRequests { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            }
            _ => {}
        }
        response
    }
}
