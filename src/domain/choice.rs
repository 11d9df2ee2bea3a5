//! Closed vocabularies (roles, contract types, workflow states) travel as snake_case text in JSON,
//! in the database and on the command line. strum derives the mapping; this adds the bilingual
//! message that lists the valid choices.

use std::str::FromStr;

use strum::IntoEnumIterator;

/// Parses `raw` as one of `T`'s variants.
///
/// # Errors
/// A bilingual message naming the bad value and every valid one.
pub fn parse_choice<T>(raw: &str, what_zh: &str, what_en: &str) -> Result<T, String>
where
    T: IntoEnumIterator + FromStr + Into<&'static str>,
{
    raw.trim().parse().map_err(|_| {
        let known: Vec<&'static str> = T::iter().map(Into::into).collect();
        format!(
            "未知{what_zh} {raw:?}，可选：{0} / unknown {what_en} {raw:?}; expected one of: {0}",
            known.join(", ")
        )
    })
}
