//! A list of terms from the rule book: literal words, or regular expressions written as
//! `re:…`, both matched against normalised text (simplified, half-width, lower-case, digits).
//! Literals are normalised like the text when the book is loaded, so a rule may be written
//! in traditional characters or full-width forms and still match.

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use regex::Regex;

use super::normalize;

#[derive(Debug, Clone, Default)]
pub struct Terms {
    pub literals: Vec<String>,
    pub patterns: Vec<Regex>,
    /// The literals as one automaton, so a list is checked in one pass.
    automaton: Option<AhoCorasick>,
}

/// A pattern as compiled: `\b` is the ASCII word boundary, which the fast engines can run on
/// Chinese text (the Unicode one makes them fall back to the slowest engine).
pub fn ascii_boundaries(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut escaped = false;
    for c in pattern.chars() {
        if escaped {
            if c == 'b' {
                out.push_str("(?-u:\\b)");
            } else if c == 'B' {
                out.push_str("(?-u:\\B)");
            } else {
                out.push('\\');
                out.push(c);
            }
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else {
            out.push(c);
        }
    }
    if escaped {
        out.push('\\');
    }
    out
}

/// Whether a literal found at `at` stands at the start of a word: an English term must not
/// match inside another word ("rent" in "current", "suv" in "survey"); a Chinese one may
/// match anywhere, Chinese having no spaces.
pub fn starts_a_word(text: &str, at: usize, literal: &str) -> bool {
    let first = literal.as_bytes().first().copied().unwrap_or(b' ');
    !first.is_ascii_alphanumeric()
        || !text.as_bytes()[..at]
            .last()
            .is_some_and(|b| b.is_ascii_alphanumeric())
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
                let regex = regex::RegexBuilder::new(&ascii_boundaries(pattern))
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
        if !terms.literals.is_empty() {
            // A DFA: term lists are short, and they are asked about every trigger.
            let automaton = AhoCorasick::builder()
                .kind(Some(AhoCorasickKind::DFA))
                .match_kind(aho_corasick::MatchKind::Standard)
                .build(&terms.literals)
                .map_err(|e| format!("terms: {e}"))?;
            terms.automaton = Some(automaton);
        }
        Ok(terms)
    }

    pub fn is_empty(&self) -> bool {
        self.literals.is_empty() && self.patterns.is_empty()
    }

    /// Whether any term occurs in `text` (normalised).
    pub fn any_in(&self, text: &str) -> bool {
        self.automaton.as_ref().is_some_and(|a| {
            a.find_overlapping_iter(text)
                .any(|m| starts_a_word(text, m.start(), &self.literals[m.pattern().as_usize()]))
        }) || self.patterns.iter().any(|p| p.is_match(text))
    }

    /// Where the first term occurs in `text`, as a byte range.
    pub fn find(&self, text: &str) -> Option<(usize, usize)> {
        let literal = self.literals.iter().filter_map(|l| {
            text.match_indices(l.as_str())
                .find(|(at, _)| starts_a_word(text, *at, l))
                .map(|(at, _)| (at, at + l.len()))
        });
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
        assert_eq!(ascii_boundaries(r"\bnet\s*\d"), r"(?-u:\b)net\s*\d");
        let rent = Terms::compile(&["rent".into(), "租金".into()]).unwrap();
        assert!(!rent.any_in("the current city hall"));
        assert!(rent.any_in("monthly rent"));
        assert!(
            rent.any_in("rental income"),
            "a term is the start of a word"
        );
        assert!(rent.any_in("月租金"));
        assert_eq!(rent.find("current rent"), Some((8, 12)));
    }
}
