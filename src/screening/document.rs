//! The contract as clauses: pulldown-cmark (with source offsets) finds the blocks — headings,
//! paragraphs, list items, table rows — and each block gets a readable path built from the
//! headings above it, the article it falls under (`第五条`, `Article 5`, `Section 5.2`, also when
//! the contract uses plain paragraphs instead of headings) and its list item number:
//! "第五条 付款方式 › 2". A table row is one clause and each of its cells a sentence (so a
//! label and its value are read together); rows pasted as plain lines (`| a | b |` without a
//! delimiter row) split at their pipes the same way. Spans are byte offsets into the original
//! Markdown.

use std::ops::Range;
use std::sync::LazyLock;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use regex::Regex;

/// One block of text with where it stands in the contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// "第五条 付款方式 › 2"; empty for text under no heading or article.
    pub path: String,
    /// The block's bytes in the source.
    pub span: Range<usize>,
    /// Whether the block is a heading (the document's title when it is the first one).
    pub heading: bool,
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
    Row,
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
                    Tag::TableRow | Tag::TableHead => Some(BlockKind::Row),
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
                    TagEnd::Heading(_)
                    | TagEnd::Paragraph
                    | TagEnd::Item
                    | TagEnd::TableRow
                    | TagEnd::TableHead => true,
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
        span,
        heading: matches!(block.kind, BlockKind::Heading(_)),
    });
}

/// Splits `text` into sentences: after 。！？；, after . ! ? ; followed by a space or the end,
/// at line breaks and at table pipes. Ranges are trimmed byte offsets into `text`.
pub fn sentences(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let (boundary, width) = match b {
            b'\n' | b'|' => (true, 1),
            b'.' | b'!' | b'?' | b';' => (
                bytes.get(i + 1).is_none_or(|n| n.is_ascii_whitespace()) || b == b';',
                1,
            ),
            // 。！？； are E3 80 82, EF BC 81, EF BC 9F, EF BC 9B.
            0xE3 if bytes.get(i + 1) == Some(&0x80) && bytes.get(i + 2) == Some(&0x82) => (true, 3),
            0xEF if bytes.get(i + 1) == Some(&0xBC)
                && matches!(bytes.get(i + 2), Some(0x81 | 0x9F | 0x9B)) =>
            {
                (true, 3)
            }
            _ => (false, 1),
        };
        if boundary {
            push_trimmed(text, start..i + width, 0, &mut out);
            start = i + width;
        }
        i += width;
    }
    push_trimmed(text, start..text.len(), 0, &mut out);
    out
}

fn push_trimmed(text: &str, range: Range<usize>, offset: usize, out: &mut Vec<Range<usize>>) {
    let piece = &text[range.clone()];
    let trimmed = piece.trim_matches(|c: char| c.is_whitespace() || c == '|');
    if trimmed.is_empty() {
        return;
    }
    let leading = piece.len()
        - piece
            .trim_start_matches(|c: char| c.is_whitespace() || c == '|')
            .len();
    let trailing = piece.len()
        - piece
            .trim_end_matches(|c: char| c.is_whitespace() || c == '|')
            .len();
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
        let parts: Vec<&str> = sentences(source).into_iter().map(|r| &source[r]).collect();
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
    fn a_table_row_is_a_clause_and_its_cells_are_sentences() {
        let source = "| 项目 | 内容 |\n|---|---|\n| 付款 | 货到后九十日付款 |\n";
        let clauses = parse(source).clauses;
        let row = clauses
            .iter()
            .find(|c| source[c.span.clone()].contains("九十日"))
            .unwrap();
        let text = &source[row.span.clone()];
        let cells: Vec<&str> = sentences(text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(cells, ["付款", "货到后九十日付款"]);
        let pasted = "| 序号 | 名称 | | 1 | 公务用车 |";
        let cells: Vec<&str> = sentences(pasted).into_iter().map(|r| &pasted[r]).collect();
        assert_eq!(cells, ["序号", "名称", "1", "公务用车"]);
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
