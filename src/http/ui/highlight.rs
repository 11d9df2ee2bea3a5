//! A contract body as HTML with every finding marked where it stands: Markdown rendered with
//! pulldown-cmark, `<mark>` elements wrapped around the findings' byte ranges, and the whole
//! sanitised with ammonia. The body is the submitter's text: raw HTML in it never becomes markup
//! (its tags are dropped and the words between them shown, so a reviewer reads everything that
//! was submitted and nobody can forge our marks), and nesting deeper than a contract needs is
//! flattened, so that no body makes the page expensive.

use std::collections::BTreeSet;
use std::ops::Range;
use std::sync::LazyLock;

use pulldown_cmark::{CowStr, Event, Options, Parser, html};

/// A stretch of the Markdown to mark.
#[derive(Debug, Clone)]
pub struct Mark {
    pub range: Range<usize>,
    /// The element id the findings list links to.
    pub anchor: String,
    /// `block` or `warn`; waived findings are drawn apart.
    pub severity: String,
    pub waived: bool,
}

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder
        .add_tags(["mark"])
        .add_tag_attributes("mark", ["id"])
        .add_allowed_classes("mark", ["finding", "sev-block", "sev-warn", "waived"]);
    builder
});

/// Block and inline elements nested deeper than this are flattened: contracts need a few levels
/// (a list in a list in a quote), while thousands of levels make sanitising quadratic.
const MAX_NESTING: usize = 16;

/// The sanitised HTML of `markdown` with `marks` highlighted.
pub fn body_html(markdown: &str, marks: &[Mark]) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut marks: Vec<&Mark> = marks.iter().filter(|m| !m.range.is_empty()).collect();
    marks.sort_by_key(|m| m.range.start);
    let mut events: Vec<Event> = Vec::new();
    let mut anchored = BTreeSet::new();
    let mut depth = Depth::default();
    // Marks are sorted by start; `first` is the first that may still reach the text at hand.
    let mut first = 0;
    for (event, range) in Parser::new_ext(markdown, options).into_offset_iter() {
        let Some(event) = depth.keep(event) else {
            continue;
        };
        match event {
            Event::Text(text) => {
                while marks.get(first).is_some_and(|m| m.range.end <= range.start) {
                    first += 1;
                }
                let near: Vec<&Mark> = marks[first..]
                    .iter()
                    .take_while(|m| m.range.start < range.end)
                    .filter(|m| overlaps(&m.range, &range))
                    .copied()
                    .collect();
                if near.is_empty() {
                    events.push(Event::Text(text));
                } else {
                    mark_text(markdown, text, range, &near, &mut anchored, &mut events);
                }
            }
            // The submitter's own HTML is words to read, never markup.
            Event::Html(raw) | Event::InlineHtml(raw) => {
                events.push(Event::Text(words_of_html(&raw).into()));
            }
            other => events.push(other),
        }
    }
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events.into_iter());
    SANITIZER.clean(&out).to_string()
}

/// How deep the elements open at the current event are, and which of them were flattened.
#[derive(Default)]
struct Depth {
    /// For each open element: whether it was kept.
    open: Vec<bool>,
    kept: usize,
}

impl Depth {
    /// The event, or `None` for the start or end of an element nested too deep.
    fn keep<'a>(&mut self, event: Event<'a>) -> Option<Event<'a>> {
        match event {
            Event::Start(tag) => {
                let keep = self.kept < MAX_NESTING;
                self.open.push(keep);
                if keep {
                    self.kept += 1;
                    Some(Event::Start(tag))
                } else {
                    None
                }
            }
            Event::End(tag) => {
                let kept = self.open.pop().unwrap_or(true);
                if kept {
                    self.kept = self.kept.saturating_sub(1);
                    Some(Event::End(tag))
                } else {
                    None
                }
            }
            other => Some(other),
        }
    }
}

/// The text of raw HTML without its tags, comments and declarations: `<div>甲方</div>` reads
/// `甲方`, `<img src=x onerror=…>` reads nothing.
fn words_of_html(raw: &str) -> String {
    let mut words = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(open) = rest.find('<') {
        words.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let starts_tag = after
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '/' | '!' | '?'));
        if !starts_tag {
            words.push('<');
            rest = after;
            continue;
        }
        match after.find('>') {
            Some(close) => rest = &after[close + 1..],
            None => return words,
        }
    }
    words.push_str(rest);
    words
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

/// Splits a text event at the marks' edges. Text that is not a verbatim slice of the source
/// (an escape, an entity) cannot be split by offsets; it is marked whole.
fn mark_text<'a>(
    markdown: &str,
    text: CowStr<'a>,
    range: Range<usize>,
    marks: &[&Mark],
    anchored: &mut BTreeSet<String>,
    events: &mut Vec<Event<'a>>,
) {
    let verbatim = markdown.get(range.clone()) == Some(&*text);
    let mut cuts = BTreeSet::from([range.start, range.end]);
    if verbatim {
        for mark in marks {
            for edge in [mark.range.start, mark.range.end] {
                if range.contains(&edge) && markdown.is_char_boundary(edge) {
                    cuts.insert(edge);
                }
            }
        }
    }
    let cuts: Vec<usize> = cuts.into_iter().collect();
    for piece in cuts.windows(2) {
        let piece = piece[0]..piece[1];
        let content: CowStr<'a> = if verbatim {
            CowStr::from(markdown[piece.clone()].to_owned())
        } else {
            text.clone()
        };
        match marks.iter().find(|m| overlaps(&m.range, &piece)) {
            Some(mark) => {
                events.push(Event::InlineHtml(open_tag(mark, anchored).into()));
                events.push(Event::Text(content));
                events.push(Event::InlineHtml("</mark>".into()));
            }
            None => events.push(Event::Text(content)),
        }
    }
}

fn open_tag(mark: &Mark, anchored: &mut BTreeSet<String>) -> String {
    let severity = if mark.severity == "block" {
        "sev-block"
    } else {
        "sev-warn"
    };
    let waived = if mark.waived { " waived" } else { "" };
    // The id goes on the first piece only: ids are unique in a page.
    let id = if anchored.insert(mark.anchor.clone()) {
        format!(" id=\"{}\"", mark.anchor)
    } else {
        String::new()
    };
    format!("<mark class=\"finding {severity}{waived}\"{id}>")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(markdown: &str, needle: &str, severity: &str) -> Mark {
        let start = markdown.find(needle).unwrap();
        Mark {
            range: start..start + needle.len(),
            anchor: "f-1".into(),
            severity: severity.into(),
            waived: false,
        }
    }

    #[test]
    fn marks_the_finding_inside_its_paragraph() {
        let md = "# 第一条\n\n甲方为乙方的借款提供连带责任担保。其余条款不变。\n";
        let html = body_html(
            md,
            &[mark(md, "甲方为乙方的借款提供连带责任担保。", "block")],
        );
        assert!(
            html.contains(
                "<mark class=\"finding sev-block\" id=\"f-1\">甲方为乙方的借款提供连带责任担保。</mark>其余条款不变。"
            ),
            "{html}"
        );
        assert!(html.contains("<h1>第一条</h1>"), "{html}");
    }

    #[test]
    fn a_finding_across_formatting_is_marked_piece_by_piece_with_one_id() {
        let md = "乙方**垫资**施工。";
        let html = body_html(md, &[mark(md, "乙方**垫资**施工。", "warn")]);
        assert_eq!(html.matches("<mark").count(), 3, "{html}");
        assert_eq!(html.matches("id=\"f-1\"").count(), 1, "{html}");
    }

    #[test]
    fn raw_html_and_scripts_are_sanitised() {
        let md = "<script>alert(1)</script>\n\n<a href=\"javascript:alert(1)\" onclick=\"x()\">点</a> <mark class=\"evil\" style=\"x\">m</mark>";
        let html = body_html(md, &[]);
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<a "), "no link is made of raw HTML: {html}");
        assert!(
            !html.contains("<mark") && !html.contains("onclick"),
            "{html}"
        );
        assert!(
            html.contains("点") && html.contains("alert(1)"),
            "the words stay: {html}"
        );
        let link = body_html("[点我](javascript:alert(1))", &[]);
        assert!(!link.contains("javascript:"), "{link}");
    }

    #[test]
    fn nobody_forges_a_finding_mark() {
        let md = "正文<mark id=\"finding-1\" class=\"finding sev-block\">假的</mark>。";
        let html = body_html(md, &[]);
        assert!(
            !html.contains("<mark") && !html.contains("finding-1"),
            "{html}"
        );
        assert!(html.contains("正文假的。"), "{html}");
    }

    #[test]
    fn deep_nesting_is_flattened_and_the_text_kept() {
        let md = ">".repeat(30_000) + " 深处的条款";
        let html = body_html(&md, &[]);
        assert_eq!(
            html.matches("<blockquote>").count(),
            MAX_NESTING,
            "{}",
            &html[..200]
        );
        assert!(html.contains("深处的条款"));
        let lists: String = (0..100)
            .map(|i| format!("{}- 第{i}项\n", "  ".repeat(i)))
            .collect();
        let html = body_html(&lists, &[]);
        assert!(html.matches("<ul>").count() <= MAX_NESTING, "{html}");
        assert!(html.contains("第99项"));
    }

    #[test]
    fn many_marks_each_land_once() {
        let clause = "甲方为乙方提供连带责任担保。";
        let md = clause.repeat(2_000);
        let marks: Vec<Mark> = (0..2_000)
            .map(|i| Mark {
                range: i * clause.len()..(i + 1) * clause.len(),
                anchor: format!("finding-{i}"),
                severity: "block".into(),
                waived: false,
            })
            .collect();
        let html = body_html(&md, &marks);
        assert_eq!(html.matches("<mark").count(), 2_000);
        assert!(html.contains("id=\"finding-1999\""));
    }
}
