//! Two versions of a contract compared clause by clause: the changed lines with a little context,
//! each group under the clause it falls in (第二条 验收), and within a changed line the characters
//! that changed marked.

use serde::Serialize;
use similar::{ChangeTag, DiffTag, TextDiff};

/// Unchanged lines shown around each change.
const CONTEXT_LINES: usize = 3;

/// The longest a diff may search for the smallest set of changes before it settles for a larger
/// one: two long, wholly different versions must not hold the page.
const DIFF_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// One group of changes and the clause it belongs to.
#[derive(Debug, Serialize)]
pub struct Hunk {
    /// The heading or article the changes fall under, when there is one.
    pub clause: Option<String>,
    pub lines: Vec<Line>,
}

#[derive(Debug, Serialize)]
pub struct Line {
    /// `same`, `removed` or `added`.
    pub kind: &'static str,
    pub old: Option<usize>,
    pub new: Option<usize>,
    pub parts: Vec<Part>,
}

/// A run of a line's text; `changed` marks the characters a changed line gained or lost.
#[derive(Debug, Serialize, PartialEq)]
pub struct Part {
    pub text: String,
    pub changed: bool,
}

/// The changed regions of `old` → `new`.
pub fn hunks(old: &str, new: &str) -> Vec<Hunk> {
    let diff = TextDiff::configure()
        .timeout(DIFF_TIMEOUT)
        .diff_lines(old, new);
    let new_lines: Vec<&str> = new.lines().collect();
    let old_lines: Vec<&str> = old.lines().collect();
    diff.grouped_ops(CONTEXT_LINES)
        .iter()
        .map(|group| {
            let mut lines = Vec::new();
            for op in group {
                let changes: Vec<_> = diff.iter_changes(op).collect();
                let line = |change: &similar::Change<&str>, parts| Line {
                    kind: match change.tag() {
                        ChangeTag::Delete => "removed",
                        ChangeTag::Insert => "added",
                        ChangeTag::Equal => "same",
                    },
                    old: change.old_index().map(|i| i + 1),
                    new: change.new_index().map(|i| i + 1),
                    parts,
                };
                if op.tag() == DiffTag::Replace {
                    let (removed, added): (Vec<_>, Vec<_>) =
                        changes.iter().partition(|c| c.tag() == ChangeTag::Delete);
                    let mut added_lines = Vec::new();
                    for (i, change) in removed.iter().enumerate() {
                        let before = text_of(change);
                        match added.get(i) {
                            Some(after) => {
                                let (lost, gained) = marked(before, text_of(after));
                                lines.push(line(change, lost));
                                added_lines.push(line(after, gained));
                            }
                            None => lines.push(line(change, plain(before))),
                        }
                    }
                    for after in added.iter().skip(removed.len()) {
                        added_lines.push(line(after, plain(text_of(after))));
                    }
                    lines.extend(added_lines);
                } else {
                    lines.extend(changes.iter().map(|c| line(c, plain(text_of(c)))));
                }
            }
            Hunk {
                clause: clause_of(&lines, &old_lines, &new_lines),
                lines,
            }
        })
        .collect()
}

fn text_of<'a>(change: &similar::Change<&'a str>) -> &'a str {
    change.value().trim_end_matches(['\n', '\r'])
}

fn plain(text: &str) -> Vec<Part> {
    vec![Part {
        text: text.to_owned(),
        changed: false,
    }]
}

/// A replaced line and its replacement, each with the characters that differ marked.
fn marked(before: &str, after: &str) -> (Vec<Part>, Vec<Part>) {
    let diff = TextDiff::configure()
        .timeout(DIFF_TIMEOUT)
        .diff_chars(before, after);
    let (mut lost, mut gained) = (Vec::new(), Vec::new());
    for change in diff.iter_all_changes() {
        let text = change.value();
        match change.tag() {
            ChangeTag::Equal => {
                push(&mut lost, text, false);
                push(&mut gained, text, false);
            }
            ChangeTag::Delete => push(&mut lost, text, true),
            ChangeTag::Insert => push(&mut gained, text, true),
        }
    }
    (lost, gained)
}

fn push(parts: &mut Vec<Part>, text: &str, changed: bool) {
    match parts.last_mut() {
        Some(last) if last.changed == changed => last.text.push_str(text),
        _ => parts.push(Part {
            text: text.to_owned(),
            changed,
        }),
    }
}

/// The clause a group of changes falls in: the nearest heading or article at or above its first
/// changed line, in the new version (the old one for a pure deletion).
fn clause_of(lines: &[Line], old: &[&str], new: &[&str]) -> Option<String> {
    let first = lines.iter().find(|l| l.kind != "same")?;
    let (text, at) = match (first.new, first.old) {
        (Some(n), _) => (new, n),
        (None, Some(o)) => (old, o),
        (None, None) => return None,
    };
    text[..at.min(text.len())]
        .iter()
        .rev()
        .find_map(|line| clause_heading(line))
}

/// `## 第二条 验收` and `第二条 验收 到货后…` name a clause; other lines do not.
pub(super) fn clause_heading(line: &str) -> Option<String> {
    let trimmed = line.trim();
    if let Some(heading) = trimmed.strip_prefix('#') {
        let heading = heading.trim_start_matches('#').trim();
        return (!heading.is_empty()).then(|| heading.to_owned());
    }
    let rest = trimmed.strip_prefix('第')?;
    let end = rest.find('条')?;
    let number = &rest[..end];
    let numeral = |c: char| c.is_ascii_digit() || "一二三四五六七八九十百零〇".contains(c);
    (!number.is_empty() && number.chars().all(numeral)).then(|| {
        let label: String = trimmed.chars().take(16).collect();
        label.trim().to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_line_marks_the_characters_that_changed_under_its_clause() {
        let old =
            "## 第一条 标的\n复印纸。\n## 第二条 付款\n乙方垫资施工，竣工后付款。\n第三条 其他\n";
        let new =
            "## 第一条 标的\n复印纸。\n## 第二条 付款\n按进度付款，竣工后付款。\n第三条 其他\n";
        let hunks = hunks(old, new);
        assert_eq!(hunks.len(), 1);
        assert_eq!(hunks[0].clause.as_deref(), Some("第二条 付款"));
        let kinds: Vec<&str> = hunks[0].lines.iter().map(|l| l.kind).collect();
        assert_eq!(kinds, ["same", "same", "same", "removed", "added", "same"]);
        let removed = &hunks[0].lines[3].parts;
        assert_eq!(
            removed
                .iter()
                .filter(|p| p.changed)
                .map(|p| p.text.as_str())
                .collect::<Vec<_>>(),
            ["乙方垫资施工"]
        );
        let added = &hunks[0].lines[4].parts;
        assert_eq!(
            added
                .iter()
                .filter(|p| p.changed)
                .map(|p| p.text.as_str())
                .collect::<Vec<_>>(),
            ["按进度付款"]
        );
        assert!(
            added
                .iter()
                .any(|p| !p.changed && p.text.contains("竣工后付款"))
        );
    }

    #[test]
    fn articles_and_headings_name_clauses() {
        assert_eq!(
            clause_heading("## 第二条 验收").as_deref(),
            Some("第二条 验收")
        );
        assert_eq!(
            clause_heading("第十二条 争议解决方式为仲裁，仲裁机构为示范仲裁委员会").as_deref(),
            Some("第十二条 争议解决方式为仲裁，仲")
        );
        assert_eq!(clause_heading("第三方应当配合"), None);
        assert_eq!(clause_heading("复印纸。"), None);
    }
}
