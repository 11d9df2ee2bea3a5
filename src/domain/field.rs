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

/// Trims `raw` and checks it is one line of visible text, at most `max_chars` characters long.
///
/// # Errors
/// A bilingual message when the text is blank (or only invisible characters), too long, or
/// holds a control character.
pub fn bounded_text(raw: &str, max_chars: usize) -> Result<String, String> {
    checked(raw, max_chars, |c| c.is_control())
}

/// Like [`bounded_text`] for text of several lines or paragraphs (an opinion, a reason): line
/// breaks and tabs are kept, every other control character (NUL among them) is refused.
///
/// # Errors
/// As [`bounded_text`].
pub fn text_block(raw: &str, max_chars: usize) -> Result<String, String> {
    checked(raw, max_chars, |c| {
        c.is_control() && !matches!(c, '\n' | '\r' | '\t')
    })
}

/// Whether `text` holds a control character other than line breaks and tabs: what no text field
/// stores (PostgreSQL refuses NUL outright).
pub fn has_control(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

fn checked(raw: &str, max_chars: usize, refused: impl Fn(char) -> bool) -> Result<String, String> {
    let text = raw.trim();
    if text.chars().all(invisible) {
        return Err("不能为空 / must not be empty".into());
    }
    let chars = text.chars().count();
    if chars > max_chars {
        return Err(format!(
            "不能超过 {max_chars} 个字符（现有 {chars} 个） / must be at most {max_chars} characters (got {chars})"
        ));
    }
    if text.chars().any(refused) {
        return Err("不能包含控制字符 / must not contain control characters".into());
    }
    Ok(text.to_owned())
}

/// White space and the characters that take no room: zero-width spaces and joiners, the byte
/// order mark, soft hyphens. A title made only of these looks empty.
fn invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}'
        )
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
        assert!(
            bounded_text("\u{200B}\u{200B}\u{FEFF}", 10).is_err(),
            "zero-width only is empty"
        );
        assert!(bounded_text("a\nb", 10).is_err(), "one line");
    }

    #[test]
    fn text_blocks_keep_lines_and_refuse_nul() {
        assert_eq!(
            text_block(" 一、同意。\n二、修改第三条。 ", 50),
            Ok("一、同意。\n二、修改第三条。".to_owned())
        );
        assert!(text_block("同意\u{0}", 50).is_err());
        assert!(text_block("同意\u{7}", 50).is_err());
        assert!(text_block("\n\t ", 50).is_err());
        assert!(has_control("x\u{0}") && !has_control("一\n二\t三"));
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
