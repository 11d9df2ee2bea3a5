//! A contract body as HTML with every finding marked where it stands: Markdown rendered with
//! pulldown-cmark, `<mark>` elements wrapped around the findings' byte ranges, and the whole
//! sanitised with ammonia (the body is the submitter's text and may hold raw HTML).

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

/// The sanitised HTML of `markdown` with `marks` highlighted.
pub fn body_html(markdown: &str, marks: &[Mark]) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut events: Vec<Event> = Vec::new();
    let mut anchored = BTreeSet::new();
    for (event, range) in Parser::new_ext(markdown, options).into_offset_iter() {
        match event {
            Event::Text(text) if marks.iter().any(|m| overlaps(&m.range, &range)) => {
                mark_text(markdown, text, range, marks, &mut anchored, &mut events);
            }
            other => events.push(other),
        }
    }
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events.into_iter());
    SANITIZER.clean(&out).to_string()
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
    marks: &[Mark],
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
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("onclick"), "{html}");
        assert!(!html.contains("evil") && !html.contains("style"), "{html}");
    }
}
