//! Which pattern triggers could match a sentence, found with one literal scan.
//!
//! Every `re:` trigger begins or ends with one of a few literals (`(设立|组建)…(公司|企业)` begins
//! with 设立 or 组建 and ends with 公司 or 企业). Those literals, read off each pattern's syntax
//! tree, go into one Aho-Corasick automaton; a sentence is scanned once, and only the patterns
//! whose literal occurs in it are run. Running every pattern (or a set of them) on every
//! sentence cost more than the rest of the screen together. A pattern without a usable literal
//! (one that may begin and end with anything) is run on every sentence, as before.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex_syntax::hir::literal::{ExtractKind, Extractor, Seq};

/// The shortest literal worth scanning for, in bytes: one Chinese character, or three letters.
const SHORTEST_ANCHOR: usize = 3;

/// A literal of two Chinese characters or six letters: rare enough to be a good filter.
const WORD_ANCHOR: usize = 6;

#[derive(Debug, Clone)]
pub struct Anchors {
    automaton: AhoCorasick,
    /// For each literal of the automaton, the (pattern, end) pairs it stands for.
    owners: Vec<Vec<(usize, End)>>,
    /// For each pattern, which of its ends have literals to look for.
    ends: Vec<[bool; 2]>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Start = 0,
    Finish = 1,
}

impl Anchors {
    /// Reads the anchors of `patterns` (regular expressions as the `regex` crate takes them).
    ///
    /// # Errors
    /// A pattern that does not parse, or literals the automaton cannot hold.
    pub fn new(patterns: &[&str]) -> Result<Self, String> {
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut owners: Vec<Vec<(usize, End)>> = Vec::new();
        let mut ends = Vec::with_capacity(patterns.len());
        for (index, pattern) in patterns.iter().enumerate() {
            let hir =
                regex_syntax::parse(pattern).map_err(|e| format!("pattern `{pattern}`: {e}"))?;
            let mut has = [false; 2];
            for (end, anchors) in chosen_ends(&hir) {
                has[end as usize] = true;
                for anchor in anchors {
                    match literals.iter().position(|l| *l == anchor) {
                        Some(at) => owners[at].push((index, end)),
                        None => {
                            literals.push(anchor);
                            owners.push(vec![(index, end)]);
                        }
                    }
                }
            }
            ends.push(has);
        }
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&literals)
            .map_err(|e| format!("pattern anchors: {e}"))?;
        Ok(Self {
            automaton,
            owners,
            ends,
        })
    }

    /// The patterns that may match somewhere in `text`, in ascending order: those whose
    /// literals at both ends (where they have any) occur in it.
    pub fn candidates(&self, text: &str) -> Vec<usize> {
        let mut seen: Vec<[bool; 2]> = self.ends.iter().map(|[s, f]| [!s, !f]).collect();
        for found in self.automaton.find_overlapping_iter(text) {
            for &(index, end) in &self.owners[found.pattern().as_usize()] {
                seen[index][end as usize] = true;
            }
        }
        seen.iter()
            .enumerate()
            .filter_map(|(index, &[start, finish])| (start && finish).then_some(index))
            .collect()
    }
}

/// The ends of a pattern worth scanning for: both where both have words of two characters or
/// more; else the one end with the longer literals. Single characters (由, 让) match nearly every
/// sentence and cost more to scan for than they save.
fn chosen_ends(hir: &regex_syntax::hir::Hir) -> Vec<(End, Vec<Vec<u8>>)> {
    let shortest = |literals: &[Vec<u8>]| literals.iter().map(Vec::len).min().unwrap_or(0);
    let mut ends: Vec<(End, Vec<Vec<u8>>)> = [
        (End::Start, ExtractKind::Prefix),
        (End::Finish, ExtractKind::Suffix),
    ]
    .into_iter()
    .filter_map(|(end, kind)| anchors_of(hir, kind).map(|a| (end, a)))
    .collect();
    if ends.iter().any(|(_, a)| shortest(a) >= WORD_ANCHOR) {
        ends.retain(|(_, a)| shortest(a) >= WORD_ANCHOR);
    } else if let Some(best) = ends.iter().map(|(_, a)| shortest(a)).max() {
        ends.retain(|(_, a)| shortest(a) == best);
        ends.truncate(1);
    }
    ends
}

/// The literals one of which every match of `hir` begins (or ends) with; `None` when that end
/// has no literals long enough to be worth a scan.
fn anchors_of(hir: &regex_syntax::hir::Hir, kind: ExtractKind) -> Option<Vec<Vec<u8>>> {
    let seq: Seq = Extractor::new().kind(kind).extract(hir);
    let literals = seq.literals()?;
    let shortest = literals.iter().map(|l| l.as_bytes().len()).min()?;
    (shortest >= SHORTEST_ANCHOR).then(|| literals.iter().map(|l| l.as_bytes().to_vec()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_is_a_candidate_only_where_its_literal_occurs() {
        let anchors = Anchors::new(&[
            "(设立|组建)[^,;。]{0,30}(公司|企业)",
            r"\d+\s*[:比]\s*\d+[^,;。]{0,6}分成",
            r"\d+",
            r"(?-u:\b)net\s*\d+",
        ])
        .unwrap();
        assert_eq!(anchors.candidates("双方共同组建项目公司"), [0, 2]);
        assert_eq!(anchors.candidates("按7:3比例分成"), [1, 2]);
        assert_eq!(anchors.candidates("payment net 45"), [2, 3]);
        assert_eq!(anchors.candidates("无关的句子"), [2]);
    }

    #[test]
    fn both_ends_must_be_there() {
        let anchors = Anchors::new(&["(设立|组建)[^,;。]{0,30}(公司|企业)"]).unwrap();
        assert!(anchors.candidates("设立公司").len() == 1);
        assert!(anchors.candidates("设立合作社").is_empty());
        assert!(anchors.candidates("组建").is_empty());
    }
}
