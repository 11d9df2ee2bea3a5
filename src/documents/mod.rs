//! Drafts and materials as offices have them. A Word `.docx`, a PDF with a text layer or UTF-8
//! Markdown/plain text becomes the contract body as Markdown; anything else is refused with what
//! the clerk should do instead. What an upload is comes from its bytes, never its name.
//! Pure: bytes in, Markdown or a refusal out, in bounded time and memory whatever the bytes are.

mod docx;
#[cfg(test)]
mod fixtures;
mod numbering;
mod pdf;
mod sniff;

use serde::Serialize;
use utoipa::ToSchema;

pub use sniff::{FileKind, sniff};

/// Uncompressed content read from one upload, at most (zip and PDF bomb protection).
const MAX_CONTENT_BYTES: u64 = 64 << 20;
/// Markdown produced from one upload, at most (a small file must not expand without limit).
const MAX_MARKDOWN_BYTES: usize = 32 << 20;

/// What a draft was converted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum DraftFormat {
    Docx,
    Pdf,
    Markdown,
}

/// A draft as the Markdown body it became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converted {
    pub format: DraftFormat,
    pub markdown: String,
}

/// Why an upload cannot become a contract body; each message says what the clerk should do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum ConversionError {
    #[error(
        "文件已加密或设有打开密码：请取消密码后重新上传 / the file is encrypted or password-protected: remove the password and upload it again"
    )]
    Encrypted,
    #[error(
        "这是旧版 Word 文件（.doc）：请在 Word 中另存为 .docx 后上传 / this is an old Word file (.doc): save it as .docx in Word and upload that"
    )]
    LegacyWord,
    #[error(
        "这是启用宏的 Word 文件（.docm）：请另存为不含宏的 .docx 后上传 / this is a macro-enabled Word file (.docm): save it as a plain .docx and upload that"
    )]
    MacroEnabled,
    #[error(
        "文件已损坏或不完整，无法读取：请重新导出后上传 / the file is damaged or incomplete: export it again and upload that"
    )]
    Corrupt,
    #[error(
        "该 PDF 没有可提取的文字，看起来是扫描件：请上传 Word 原稿或带文字层的 PDF / this PDF has no extractable text and looks scanned: upload the Word original or a PDF with a text layer"
    )]
    NoTextLayer,
    #[error(
        "文件中没有正文文字：请确认上传的是合同草案 / the file holds no text: check that it is the draft contract"
    )]
    Empty,
    #[error(
        "文件内容过大（解压后超过 {limit} MB）：请删去图片等附件内容或拆分后上传 / the content is too large (over {limit} MB uncompressed): remove images and attachments or split it, then upload",
        limit = MAX_CONTENT_BYTES >> 20
    )]
    TooLarge,
    #[error(
        "不能作为合同草案（该文件是 {found}）：请上传 Word（.docx）、带文字层的 PDF 或 UTF-8 编码的 Markdown/文本 / this file cannot be a draft: upload a Word .docx, a PDF with a text layer, or UTF-8 Markdown/text"
    )]
    Unsupported { found: String },
}

/// Converts an uploaded draft to Markdown, by what its bytes are.
///
/// # Errors
/// A refusal naming what is wrong with the file and what to upload instead.
pub fn convert(bytes: &[u8]) -> Result<Converted, ConversionError> {
    let (format, markdown) = match sniff(bytes) {
        // A damaged zip sniffs as some zip; reading it as Word says it is damaged.
        FileKind::Docx | FileKind::OtherZip => (DraftFormat::Docx, docx::to_markdown(bytes)?),
        FileKind::Pdf => (DraftFormat::Pdf, pdf::to_markdown(bytes)?),
        FileKind::Ole => return Err(sniff::ole_refusal(bytes)),
        FileKind::Text => (DraftFormat::Markdown, plain_text(bytes)),
        kind => {
            return Err(ConversionError::Unsupported {
                found: sniff::describe(bytes, kind),
            });
        }
    };
    if markdown.trim().is_empty() {
        return Err(ConversionError::Empty);
    }
    Ok(Converted { format, markdown })
}

/// UTF-8 text as it is, with Windows and old Mac line ends made `\n`.
fn plain_text(bytes: &[u8]) -> String {
    sniff::utf8_text(bytes)
        .unwrap_or_default()
        .replace("\r\n", "\n")
        .replace('\r', "\n")
}

/// Appends `text` with the characters Markdown would read as inline markup escaped.
fn escape_inline(text: &str, out: &mut String) {
    for c in text.chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '~' | '<' | '[' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
}

/// A line of text (already inline-escaped) that would open a Markdown heading, quote, list or
/// rule keeps its meaning as text: `1. 范围` stays the words "1. 范围", not a list.
fn escape_line_start(line: &str) -> String {
    let line = line.trim_start();
    let opens_block = |rest: &str| rest.is_empty() || rest.starts_with([' ', '\t']);
    let digits = line.len() - line.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let escape_at = match line.chars().next() {
        Some('>') => Some(0),
        Some('#') if opens_block(line.trim_start_matches('#')) => Some(0),
        Some('-' | '+') if opens_block(&line[1..]) => Some(0),
        Some('-' | '=') if line.chars().all(|c| matches!(c, '-' | '=' | ' ' | '\t')) => Some(0),
        Some('0'..='9') if (1..=9).contains(&digits) => {
            let rest = &line[digits..];
            (rest.starts_with(['.', ')']) && opens_block(&rest[1..])).then_some(digits)
        }
        _ => None,
    };
    match escape_at {
        Some(at) => format!("{}\\{}", &line[..at], &line[at..]),
        None => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{self, ARTICLES, ARTICLES_FROM_FIVE, BULLETS, ITEMS, OUTLINE};
    use super::*;

    fn markdown(bytes: &[u8]) -> String {
        match convert(bytes) {
            Ok(converted) => converted.markdown,
            Err(error) => panic!("expected a conversion, got {error:?}"),
        }
    }

    fn docx_markdown(body: &str) -> String {
        markdown(&fixtures::docx(body))
    }

    fn paragraphs(markdown: &str) -> Vec<&str> {
        markdown.trim_end().split("\n\n").collect()
    }

    #[test]
    fn articles_are_numbered_in_chinese_as_word_shows_them() {
        let body: String = (1..=12)
            .map(|n| fixtures::numbered(ARTICLES, 0, &format!("条款{n}。")))
            .collect();

        let converted = convert(&fixtures::docx(&body)).expect("a plain docx converts");

        assert_eq!(converted.format, DraftFormat::Docx);
        let found = paragraphs(&converted.markdown);
        assert_eq!(
            found[0], "第一条 条款1。",
            "an article is a paragraph, not a heading"
        );
        assert_eq!(found[9], "第十条 条款10。");
        assert_eq!(found[10], "第十一条 条款11。");
        assert_eq!(found[11], "第十二条 条款12。");
    }

    #[test]
    fn nested_items_start_again_under_each_article() {
        let body = [
            fixtures::numbered(ARTICLES, 0, "付款方式"),
            fixtures::numbered(ARTICLES, 1, "预付款"),
            fixtures::numbered(ARTICLES, 1, "进度款"),
            fixtures::numbered(ARTICLES, 0, "验收"),
            fixtures::numbered(ARTICLES, 1, "初验"),
            fixtures::numbered(ARTICLES_FROM_FIVE, 0, "另起编号"),
        ]
        .concat();

        let found = docx_markdown(&body);

        assert_eq!(
            paragraphs(&found),
            [
                "第一条 付款方式",
                "1\\. 预付款",
                "2\\. 进度款",
                "第二条 验收",
                "1\\. 初验",
                "第五条 另起编号"
            ]
        );
    }

    #[test]
    fn items_outlines_bullets_and_numbering_from_a_style() {
        let body = [
            fixtures::numbered(ITEMS, 0, "甲方义务"),
            fixtures::numbered(ITEMS, 0, "乙方义务"),
            fixtures::numbered(OUTLINE, 0, "总则"),
            fixtures::numbered(OUTLINE, 1, "定义"),
            fixtures::numbered(OUTLINE, 2, "工作日"),
            fixtures::numbered(BULLETS, 0, "附件一"),
            fixtures::styled("20", "合同标的"),
        ]
        .concat();

        let found = docx_markdown(&body);

        assert_eq!(
            paragraphs(&found),
            [
                "（一）甲方义务",
                "（二）乙方义务",
                "1 总则",
                "1.1 定义",
                "1.1.1 工作日",
                "- 附件一",
                "第一条 合同标的"
            ]
        );
    }

    #[test]
    fn headings_come_from_style_names_not_ids() {
        let numbered_heading = format!(
            r#"<w:p><w:pPr><w:pStyle w:val="1"/><w:numPr><w:ilvl w:val="0"/><w:numId w:val="{ARTICLES}"/></w:numPr></w:pPr>{}</w:p>"#,
            fixtures::run("总则")
        );
        let body = [
            fixtures::styled("1", "施工合同"),
            fixtures::styled("3", "缩进正文"),
            fixtures::styled("10", "付款"),
            fixtures::styled("a3", "细则"),
            numbered_heading,
            format!(
                r#"<w:p><w:pPr><w:outlineLvl w:val="1"/></w:pPr>{}</w:p>"#,
                fixtures::run("大纲级别")
            ),
        ]
        .concat();

        let found = docx_markdown(&body);

        assert_eq!(
            paragraphs(&found),
            [
                "# 施工合同",
                "缩进正文",
                "## 付款",
                "### 细则",
                "# 第一条 总则",
                "## 大纲级别"
            ]
        );
    }

    #[test]
    fn tables_become_pipe_tables() {
        let spanned = format!(
            r#"<w:tbl><w:tr><w:tc><w:tcPr><w:gridSpan w:val="2"/></w:tcPr>{}</w:tc></w:tr><w:tr><w:tc>{}</w:tc><w:tc><w:p><w:r><w:t>第一行</w:t><w:br/><w:t>第二行</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"#,
            fixtures::p("合计"),
            fixtures::p("说明")
        );
        let body = [
            fixtures::table(&[&["项目", "金额"], &["设计费", "10|20"]]),
            spanned,
        ]
        .concat();

        let found = docx_markdown(&body);

        assert_eq!(
            paragraphs(&found),
            [
                "| 项目 | 金额 |\n| --- | --- |\n| 设计费 | 10\\|20 |",
                "| 合计 |  |\n| --- | --- |\n| 说明 | 第一行 第二行 |"
            ]
        );
    }

    #[test]
    fn bold_runs_unless_switched_off() {
        let run = |props: &str, text: &str| {
            format!("<w:r><w:rPr>{props}</w:rPr><w:t xml:space=\"preserve\">{text}</w:t></w:r>")
        };
        let body = [
            format!(
                "<w:p>{}{}</w:p>",
                run("<w:b/>", "甲方 "),
                run("", "应当付款")
            ),
            format!(
                "<w:p>{}{}</w:p>",
                run("<w:b/>", "“甲方：”"),
                run("", "应当")
            ),
            format!("<w:p>{}</w:p>", run(r#"<w:b w:val="0"/>"#, "不加粗")),
            format!("<w:p>{}</w:p>", run(r#"<w:b w:val="false"/>"#, "也不加粗")),
            // The paragraph mark's bold is not the text's.
            format!(
                "<w:p><w:pPr><w:rPr><w:b/></w:rPr></w:pPr>{}</w:p>",
                run("", "正文")
            ),
        ]
        .concat();

        let found = docx_markdown(&body);

        assert_eq!(
            paragraphs(&found),
            [
                "**甲方** 应当付款",
                "“**甲方**：”应当",
                "不加粗",
                "也不加粗",
                "正文"
            ]
        );
    }

    #[test]
    fn footnotes_are_cited_in_the_text_and_follow_the_body() {
        let body = [
            format!(
                r#"<w:p>{}<w:r><w:footnoteReference w:id="1"/></w:r>{}</w:p>"#,
                fixtures::run("期限按工作日计算"),
                fixtures::run("。")
            ),
            fixtures::p("第二段。"),
        ]
        .concat();

        let found = docx_markdown(&body);

        assert_eq!(
            found,
            "期限按工作日计算〔注1〕。\n\n第二段。\n\n---\n\n注1：工作日不含法定节假日。\n"
        );
    }

    #[test]
    fn text_boxes_once_and_no_deleted_text_or_field_codes() {
        let text_box =
            |content: &str| format!("<w:txbxContent>{}</w:txbxContent>", fixtures::p(content));
        let body = format!(
            concat!(
                "<w:p>",
                r#"<w:hyperlink r:id="rId9"><w:r><w:t>链接文字</w:t></w:r></w:hyperlink>"#,
                r#"<w:del w:id="1" w:author="a"><w:r><w:delText>删除的字</w:delText></w:r></w:del>"#,
                r#"<w:ins w:id="2" w:author="a"><w:r><w:t>新增的字</w:t></w:r></w:ins>"#,
                r#"<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE </w:instrText></w:r>"#,
                r#"<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>3</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>"#,
                r#"<w:r><w:tab/><w:t>制表符后</w:t><w:br/><w:t>换行后</w:t></w:r>"#,
                r#"<w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wps:txbx>{}</wps:txbx></w:drawing></mc:Choice>"#,
                r#"<mc:Fallback><w:pict><v:textbox>{}</v:textbox></w:pict></mc:Fallback></mc:AlternateContent></w:r>"#,
                "</w:p>"
            ),
            text_box("文本框内容"),
            text_box("文本框内容")
        );

        let found = docx_markdown(&body);

        assert_eq!(found, "链接文字新增的字3 制表符后  \n换行后 文本框内容\n");
    }

    #[test]
    fn text_that_looks_like_markdown_stays_text() {
        let body: String = [
            "1. 不是列表",
            "# 不是标题",
            "> 不是引用",
            "- 不是列表",
            "*星号*",
            "-1000元",
            "1.1 条款",
        ]
        .into_iter()
        .map(fixtures::p)
        .collect();

        let found = docx_markdown(&body);

        assert_eq!(
            paragraphs(&found),
            [
                "1\\. 不是列表",
                "\\# 不是标题",
                "\\> 不是引用",
                "\\- 不是列表",
                "\\*星号\\*",
                "-1000元",
                "1.1 条款"
            ]
        );
    }

    #[test]
    fn the_flagged_clause_reads_as_article_three() {
        let found = markdown(&fixtures::flagged_docx());

        let clause = paragraphs(&found)
            .into_iter()
            .find(|p| p.contains("垫资"))
            .expect("the clause is there");
        assert!(
            clause.starts_with("第三条 工程款支付：本工程由乙方垫资施工"),
            "{clause}"
        );
    }

    #[test]
    fn word_files_that_cannot_be_read_say_why() {
        assert_eq!(
            convert(&fixtures::docm(&fixtures::p("宏"))),
            Err(ConversionError::MacroEnabled)
        );
        assert_eq!(
            convert(&fixtures::ole("EncryptedPackage")),
            Err(ConversionError::Encrypted)
        );
        assert_eq!(
            convert(&fixtures::ole("WordDocument")),
            Err(ConversionError::LegacyWord)
        );
        assert_eq!(convert(b"PK\x03\x04garbage"), Err(ConversionError::Corrupt));
        let docx = fixtures::docx(&fixtures::p("合同"));
        assert_eq!(
            convert(&docx[..docx.len() / 2]),
            Err(ConversionError::Corrupt)
        );
        assert_eq!(convert(&fixtures::docx("")), Err(ConversionError::Empty));
    }

    #[test]
    fn a_zip_bomb_is_refused_by_its_declared_size() {
        let bomb = fixtures::zip_bomb(fixtures::ZIP_BOMB_BYTES);

        let started = std::time::Instant::now();
        let refused = convert(&bomb);

        assert_eq!(refused, Err(ConversionError::TooLarge));
        assert!(started.elapsed().as_secs() < 2, "refused before inflating");
    }

    #[test]
    fn a_zip_bomb_lying_about_its_size_is_stopped_while_read() {
        let liar = fixtures::zip_bomb(1000);

        let refused = convert(&liar);

        assert!(
            matches!(
                refused,
                Err(ConversionError::Corrupt | ConversionError::TooLarge)
            ),
            "{refused:?}"
        );
    }

    #[test]
    fn other_files_are_refused_by_what_they_are() {
        let Err(ConversionError::Unsupported { found }) = convert(&fixtures::xlsx()) else {
            panic!("a spreadsheet is not a draft");
        };
        assert!(found.contains("Excel"), "{found}");
        let Err(ConversionError::Unsupported { found }) = convert(&fixtures::png()) else {
            panic!("an image is not a draft");
        };
        assert!(found.contains("PNG"), "{found}");
        // "第一条 标的" in GB18030.
        let gbk = [
            0xB5, 0xDA, 0xD2, 0xBB, 0xCC, 0xF5, b' ', 0xB1, 0xEA, 0xB5, 0xC4,
        ];
        let Err(error @ ConversionError::Unsupported { .. }) = convert(&gbk) else {
            panic!("text in GB18030 is refused");
        };
        assert!(error.to_string().contains("UTF-8"), "{error}");
    }

    #[test]
    fn utf8_text_is_markdown_with_unix_line_ends() {
        let converted =
            convert("\u{FEFF}# 合同\r\n\r\n第一条 标的\r".as_bytes()).expect("text converts");

        assert_eq!(converted.format, DraftFormat::Markdown);
        assert_eq!(converted.markdown, "# 合同\n\n第一条 标的\n");
        assert_eq!(convert(b" \n\t"), Err(ConversionError::Empty));
        assert_eq!(convert(b""), Err(ConversionError::Empty));
    }

    #[test]
    fn a_text_pdf_reads_in_order_as_paragraphs() {
        let pdf = fixtures::pdf(&[
            &[
                "第一条 甲方委托乙方承建办公楼，",
                "工期为十二个月。",
                "第二条 合同价款",
                "The Supplier shall deliver",
                "the goods within 30 days.",
                "- 1 -",
            ],
            &["第三条 本页在后。"],
        ]);

        let converted = convert(&pdf).expect("a PDF with text converts");

        assert_eq!(converted.format, DraftFormat::Pdf);
        assert_eq!(
            paragraphs(&converted.markdown),
            [
                "第一条 甲方委托乙方承建办公楼，工期为十二个月。",
                "第二条 合同价款",
                "The Supplier shall deliver the goods within 30 days.",
                "第三条 本页在后。"
            ]
        );
    }

    #[test]
    fn pdfs_without_text_or_with_a_password_are_refused() {
        assert_eq!(
            convert(&fixtures::image_pdf()),
            Err(ConversionError::NoTextLayer)
        );
        assert_eq!(
            convert(&fixtures::encrypted_pdf()),
            Err(ConversionError::Encrypted)
        );
        let pdf = fixtures::text_pdf(&["第一条 标的。"]);
        let truncated = convert(&pdf[..pdf.len() / 2]);
        assert!(
            matches!(
                truncated,
                Err(ConversionError::Corrupt | ConversionError::NoTextLayer) | Ok(_)
            ),
            "{truncated:?}"
        );
    }

    #[test]
    fn mutated_files_never_panic_or_hang() {
        let body = [
            fixtures::numbered(ARTICLES, 0, "付款"),
            fixtures::numbered(ARTICLES, 1, "预付款"),
            fixtures::table(&[&["项目", "金额"], &["设计费", "10"]]),
            r#"<w:p><w:r><w:rPr><w:b/></w:rPr><w:t>加粗</w:t></w:r><w:r><w:footnoteReference w:id="1"/></w:r></w:p>"#.to_owned(),
        ]
        .concat();
        let docx = fixtures::docx(&body);
        let pdf = fixtures::pdf(&[&["第一条 甲方。", "The Supplier"], &["第二条 乙方。"]]);

        for copy in fixtures::mutations(&docx, 300) {
            let _ = convert(&copy);
        }
        for xml in fixtures::mutations(body.as_bytes(), 300) {
            let _ = convert(&fixtures::docx(&String::from_utf8_lossy(&xml)));
        }
        for copy in fixtures::mutations(&pdf, 300) {
            let _ = convert(&copy);
        }
    }
}
