//! A list of terms from the rule book: literal words, or regular expressions written as
//! `re:…`, both matched against normalised text (simplified, half-width, lower-case, digits).
//! Literals are normalised like the text when the book is loaded, so a rule may be written
//! in traditional characters or full-width forms and still match.

use regex::Regex;

use super::normalize;

#[derive(Debug, Clone, Default)]
pub struct Terms {
    pub literals: Vec<String>,
    pub patterns: Vec<Regex>,
}

/// The longest a pattern may match before it stops being a sign of one obligation.
const SIZE_LIMIT: usize = 1 << 20;

impl Terms {
    /// Compiles `raw` (literals and `re:` patterns).
    ///
    /// # Errors
    /// The first pattern that does not compile.
    pub fn compile(raw: &[String]) -> Result<Self, String> {
        let mut terms = Self::default();
        for item in raw {
            if let Some(pattern) = item.strip_prefix("re:") {
                let regex = regex::RegexBuilder::new(pattern)
                    .size_limit(SIZE_LIMIT)
                    .build()
                    .map_err(|e| format!("pattern `{pattern}`: {e}"))?;
                terms.patterns.push(regex);
            } else {
                let literal = normalize::term(item);
                if !literal.is_empty() {
                    terms.literals.push(literal);
                }
            }
        }
        Ok(terms)
    }

    pub fn is_empty(&self) -> bool {
        self.literals.is_empty() && self.patterns.is_empty()
    }

    /// Whether any term occurs in `text` (normalised).
    pub fn any_in(&self, text: &str) -> bool {
        self.literals.iter().any(|l| text.contains(l.as_str()))
            || self.patterns.iter().any(|p| p.is_match(text))
    }

    /// Where the first term occurs in `text`, as a byte range.
    pub fn find(&self, text: &str) -> Option<(usize, usize)> {
        let literal = self
            .literals
            .iter()
            .filter_map(|l| text.find(l.as_str()).map(|at| (at, at + l.len())));
        let pattern = self
            .patterns
            .iter()
            .filter_map(|p| p.find(text).map(|m| (m.start(), m.end())));
        literal.chain(pattern).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_normalised_and_patterns_compile() {
        let terms = Terms::compile(&["連帶責任".into(), r"re:net\s*(\d+)".into()]).unwrap();
        assert!(terms.any_in("提供连带责任保证"));
        assert!(terms.any_in("payment net 45"));
        assert_eq!(terms.find("x net 45"), Some((2, 8)));
        assert!(Terms::compile(&["re:(".into()]).is_err());
    }
}
