//! Field-level validation errors, collected so that a client learns about every invalid field at
//! once instead of fixing them one round-trip at a time.

use serde::Serialize;
use utoipa::ToSchema;

/// One invalid input field, with a bilingual message (Chinese first, English beside).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field's name as the client sent it, e.g. `amount_fen` or `signatories[1]`.
    pub field: String,
    pub message: String,
}

/// An accumulator of [`FieldError`]s.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// Keeps the parsed value, or records the error under `field` and yields `None`.
    pub fn check<T>(&mut self, field: &str, parsed: Result<T, String>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_vec(self) -> Vec<FieldError> {
        self.0
    }
}

/// Trims `raw` and checks it is non-empty and at most `max_chars` characters long.
///
/// # Errors
/// A bilingual message when the text is blank or too long.
pub fn bounded_text(raw: &str, max_chars: usize) -> Result<String, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err("不能为空 / must not be empty".into());
    }
    let chars = text.chars().count();
    if chars > max_chars {
        return Err(format!(
            "不能超过 {max_chars} 个字符（现有 {chars} 个） / must be at most {max_chars} characters (got {chars})"
        ));
    }
    if text.chars().any(|c| c.is_control()) {
        return Err("不能包含控制字符 / must not contain control characters".into());
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_text_trims_and_limits() {
        assert_eq!(bounded_text("  采购合同 ", 10), Ok("采购合同".to_owned()));
        assert!(bounded_text("   ", 10).is_err());
        assert!(bounded_text("一二三", 2).is_err());
        assert!(bounded_text("a\u{0}b", 10).is_err());
    }

    #[test]
    fn check_collects_every_error() {
        let mut errors = FieldErrors::default();
        assert_eq!(errors.check("a", Ok::<_, String>(1)), Some(1));
        assert_eq!(errors.check::<i32>("b", Err("bad".into())), None);
        assert_eq!(errors.check::<i32>("c", Err("worse".into())), None);
        let fields: Vec<_> = errors.into_vec().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["b", "c"]);
    }
}
