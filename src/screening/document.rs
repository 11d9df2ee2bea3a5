//! The contract as clauses: pulldown-cmark (with source offsets) finds the blocks — headings,
//! paragraphs, list items, table cells — and each block gets a readable path built from the
//! headings above it, the article it falls under (`第五条`, `Article 5`, `Section 5.2`, also when
//! the contract uses plain paragraphs instead of headings) and its list item number:
//! "第五条 付款方式 › 2". Spans are byte offsets into the original Markdown.

use std::ops::Range;
use std::sync::LazyLock;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use regex::Regex;

/// One block of text with where it stands in the contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// "第五条 付款方式 › 2".
    pub path: String,
    /// The block's bytes in the source.
    pub span: Range<usize>,
    /// The sentences inside `span`, split on Chinese and English punctuation.
    pub sentences: Vec<Range<usize>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub clauses: Vec<Clause>,
}

/// What the current block is, while parsing.
struct Block {
    kind: BlockKind,
    text: Vec<Range<usize>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    Heading(usize),
    Paragraph,
    Item,
    Cell,
}

/// Where the parser is in the outline.
#[derive(Default)]
struct Outline {
    headings: Vec<(usize, String)>,
    /// An article marker from a plain paragraph, valid until the next heading or article.
    article: Option<String>,
    /// Item numbers of the open lists.
    items: Vec<usize>,
}

impl Outline {
    fn path(&self, within_item: bool) -> String {
        let mut parts: Vec<String> = self
            .headings
            .iter()
            .map(|(_, title)| title.clone())
            .collect();
        if let Some(article) = &self.article {
            parts.push(article.clone());
        }
        if within_item {
            parts.extend(self.items.iter().map(usize::to_string));
        }
        parts.join(" › ")
    }
}

/// 第五条 / 第十二条 / 第3条, Article 5, Section 5.2.
static ARTICLE_MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(第[0-9一二三四五六七八九十百零〇两]+[条章节款]|(?i:article|section|clause)\s+[0-9]+(?:\.[0-9]+)*)")
        .expect("the article marker pattern is a valid literal")
});

/// Parses `source` into clauses.
pub fn parse(source: &str) -> Document {
    let marker = &*ARTICLE_MARKER;
    let mut outline = Outline::default();
    let mut stack: Vec<Block> = Vec::new();
    let mut clauses = Vec::new();
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    for (event, range) in Parser::new_ext(source, options).into_offset_iter() {
        match event {
            Event::Start(tag) => {
                let kind = match tag {
                    Tag::Heading { level, .. } => Some(BlockKind::Heading(level as usize)),
                    Tag::Paragraph => Some(BlockKind::Paragraph),
                    Tag::Item => {
                        if let Some(count) = outline.items.last_mut() {
                            *count += 1;
                        }
                        Some(BlockKind::Item)
                    }
                    Tag::TableCell => Some(BlockKind::Cell),
                    Tag::List(_) => {
                        outline.items.push(0);
                        None
                    }
                    _ => None,
                };
                if let Some(kind) = kind {
                    stack.push(Block {
                        kind,
                        text: Vec::new(),
                    });
                }
            }
            Event::End(end) => {
                let closes = match end {
                    TagEnd::Heading(_) | TagEnd::Paragraph | TagEnd::Item | TagEnd::TableCell => {
                        true
                    }
                    TagEnd::List(_) => {
                        outline.items.pop();
                        false
                    }
                    _ => false,
                };
                if closes && let Some(block) = stack.pop() {
                    finish(block, source, marker, &mut outline, &mut clauses);
                }
            }
            Event::Text(_) | Event::Code(_) => {
                if let Some(block) = stack.last_mut() {
                    block.text.push(range);
                }
            }
            _ => {}
        }
    }
    Document { clauses }
}

fn finish(
    block: Block,
    source: &str,
    marker: &Regex,
    outline: &mut Outline,
    clauses: &mut Vec<Clause>,
) {
    let (Some(first), Some(last)) = (block.text.first(), block.text.last()) else {
        return;
    };
    let span = first.start..last.end;
    let text = &source[span.clone()];
    if let BlockKind::Heading(level) = block.kind {
        outline.headings.retain(|(l, _)| *l < level);
        outline.headings.push((level, text.trim().to_owned()));
        outline.article = None;
    } else if let Some(found) = marker.find(text) {
        outline.article = Some(found.as_str().trim().to_owned());
    }
    clauses.push(Clause {
        path: outline.path(block.kind == BlockKind::Item),
        sentences: sentences(source, span.clone()),
        span,
    });
}

/// Splits `span` of `source` into sentences: after 。！？；, after . ! ? ; followed by a space or
/// the end, and at line breaks.
pub fn sentences(source: &str, span: Range<usize>) -> Vec<Range<usize>> {
    let text = &source[span.clone()];
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let end = i + c.len_utf8();
        let next_is_space = chars.peek().is_none_or(|(_, n)| n.is_whitespace());
        let boundary = matches!(c, '。' | '！' | '？' | '；' | '\n')
            || (matches!(c, '.' | '!' | '?' | ';') && next_is_space);
        if boundary {
            push_trimmed(text, start..end, span.start, &mut out);
            start = end;
        }
    }
    push_trimmed(text, start..text.len(), span.start, &mut out);
    out
}

fn push_trimmed(text: &str, range: Range<usize>, offset: usize, out: &mut Vec<Range<usize>>) {
    let piece = &text[range.clone()];
    let leading = piece.len() - piece.trim_start().len();
    let trailing = piece.len() - piece.trim_end().len();
    if piece.trim().is_empty() {
        return;
    }
    out.push(offset + range.start + leading..offset + range.end - trailing);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(source: &str) -> Vec<(String, String)> {
        parse(source)
            .clauses
            .into_iter()
            .map(|c| (c.path, source[c.span].to_owned()))
            .collect()
    }

    #[test]
    fn headings_articles_and_items_make_the_path() {
        let source = "# 采购合同\n\n## 第五条 付款方式\n\n1. 验收合格后付款。\n2. 甲方于三十日内支付。\n\n## 第六条 违约\n\n违约方赔偿。\n";
        let found = paths(source);
        assert_eq!(
            found[2],
            (
                "采购合同 › 第五条 付款方式 › 1".to_owned(),
                "验收合格后付款。".to_owned()
            )
        );
        assert_eq!(found[3].0, "采购合同 › 第五条 付款方式 › 2");
        assert_eq!(found[5].0, "采购合同 › 第六条 违约");
    }

    #[test]
    fn plain_paragraph_contracts_are_structured_by_their_article_markers() {
        let source = "第一条 标的。乙方供货。\n\n第二条 付款。甲方付款。\n\n另行约定的除外。\n\nArticle 7 Payment. The County pays.\n";
        let found = paths(source);
        assert_eq!(found[0].0, "第一条");
        assert_eq!(found[1].0, "第二条");
        assert_eq!(
            found[2].0, "第二条",
            "a following paragraph stays under its article"
        );
        assert_eq!(found[3].0, "Article 7");
    }

    #[test]
    fn sentences_split_on_chinese_and_english_punctuation() {
        let source = "甲方付款。乙方供货；双方签字! The County pays. Net 30 days";
        let parts: Vec<&str> = sentences(source, 0..source.len())
            .into_iter()
            .map(|r| &source[r])
            .collect();
        assert_eq!(
            parts,
            [
                "甲方付款。",
                "乙方供货；",
                "双方签字!",
                "The County pays.",
                "Net 30 days"
            ]
        );
    }

    #[test]
    fn spans_point_into_the_source() {
        let source = "| 项目 | 内容 |\n|---|---|\n| 付款 | 货到后九十日付款 |\n";
        let clauses = parse(source).clauses;
        let cell = clauses
            .iter()
            .find(|c| source[c.span.clone()].contains("九十日"))
            .unwrap();
        assert_eq!(&source[cell.span.clone()], "货到后九十日付款");
    }

    #[test]
    fn hostile_shapes_do_not_panic() {
        let nested: String = (0..2_000)
            .map(|depth| format!("{}- item\n", "  ".repeat(depth)))
            .collect();
        for source in [
            "",
            "。。。；；；",
            "\u{0}\u{1}",
            &"长".repeat(100_000),
            &nested,
            "# \n\n##\n",
        ] {
            let _ = parse(source);
        }
    }
}
