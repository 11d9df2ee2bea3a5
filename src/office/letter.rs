//! The review opinion letter (审查意见书) as a Word `.docx`, laid out in the spirit of GB/T 9704:
//! A4, 仿宋_GB2312 三号 body on a 22-line page, 方正小标宋简体 二号 title, 黑体 headings, and
//! "— 1 —" page numbers in the footer.
//!
//! The WordprocessingML is written by hand: Word refuses a file whose elements break the order
//! the OOXML schema prescribes, and a docx crate that gets it wrong cannot be fixed from outside.
//! Every piece of text passes through [`escape`], which also drops what XML 1.0 cannot carry.

use std::io::{Cursor, Write};

use zip::ZipWriter;
use zip::result::ZipResult;
use zip::write::SimpleFileOptions;

use super::Error;

/// A letter as the office signs it. Empty fields are left out of the document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Letter {
    /// 发文机关, the first line of the title block: 示范市司法局.
    pub issuer: String,
    /// 发文字号, right-aligned under the title: 示司审〔2026〕12号.
    pub number: String,
    pub title: String,
    /// 主送机关 with its colon: 示范市教育局：
    pub addressee: String,
    pub blocks: Vec<Block>,
    /// Role and name, one line each: ("承办人", "张三") prints as 承办人：张三.
    pub signatures: Vec<(String, String)>,
    /// 发文机关署名, above the date.
    pub issuer_signature: String,
    /// 成文日期 as printed: 2026年12月7日.
    pub date: String,
    /// 附注 or 抄送, printed last.
    pub note: Option<String>,
}

/// One piece of the letter's body, in reading order.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// 一、审查意见: 黑体, shown in Word's navigation pane.
    Heading(String),
    /// Body text, first line indented two characters.
    Paragraph(Vec<Run>),
    /// A paragraph opening with a label kept exactly as typed (一、 （一） 1.), so the numbering
    /// reads the same in print, in a copy-paste and in the audit log.
    Numbered { label: String, text: Vec<Run> },
    /// A bordered table in 仿宋 四号; the header row repeats on every page.
    Table {
        header: Vec<String>,
        rows: Vec<Vec<String>>,
    },
}

/// Text with one look. Line breaks and tabs in `text` are kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub text: String,
    pub bold: bool,
}

impl Run {
    pub fn plain(text: impl Into<String>) -> Self {
        Run {
            text: text.into(),
            bold: false,
        }
    }

    pub fn bold(text: impl Into<String>) -> Self {
        Run {
            text: text.into(),
            bold: true,
        }
    }
}

/// Writes the letter as a `.docx` file.
///
/// # Errors
///
/// [`Error::Zip`] only if a part outgrows the zip format (4 GiB): the package is built in memory.
pub fn write(letter: &Letter) -> Result<Vec<u8>, Error> {
    let parts = [
        Part::new(RELATIONSHIPS, "_rels/.rels", PACKAGE_RELS.into()),
        Part::new(DOCUMENT, "word/document.xml", document(letter)),
        Part::new(
            RELATIONSHIPS,
            "word/_rels/document.xml.rels",
            DOCUMENT_RELS.into(),
        ),
        Part::new(STYLES, "word/styles.xml", STYLES_XML.into()),
        Part::new(SETTINGS, "word/settings.xml", SETTINGS_XML.into()),
        Part::new(FONT_TABLE, "word/fontTable.xml", FONT_TABLE_XML.into()),
        Part::new(FOOTER, "word/footer1.xml", FOOTER_XML.into()),
        Part::new(CORE, "docProps/core.xml", core_properties(letter)),
        Part::new(APP, "docProps/app.xml", APP_XML.into()),
    ];
    package(&parts).map_err(Error::Zip)
}

/// One file inside the package, with the content type `[Content_Types].xml` declares for it.
struct Part {
    content_type: &'static str,
    name: &'static str,
    xml: String,
}

impl Part {
    fn new(content_type: &'static str, name: &'static str, xml: String) -> Self {
        Part {
            content_type,
            name,
            xml,
        }
    }
}

fn package(parts: &[Part]) -> ZipResult<Vec<u8>> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default();
    zip.start_file("[Content_Types].xml", options)?;
    zip.write_all(content_types(parts).as_bytes())?;
    for part in parts {
        zip.start_file(part.name, options)?;
        zip.write_all(part.xml.as_bytes())?;
    }
    Ok(zip.finish()?.into_inner())
}

/// Relationship parts are covered by the `rels` default; every other part gets an override.
fn content_types(parts: &[Part]) -> String {
    let mut xml = format!(
        r#"{DECLARATION}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="{RELATIONSHIPS}"/><Default Extension="xml" ContentType="application/xml"/>"#
    );
    for part in parts
        .iter()
        .filter(|part| part.content_type != RELATIONSHIPS)
    {
        xml += &format!(
            r#"<Override PartName="/{}" ContentType="{}"/>"#,
            part.name, part.content_type
        );
    }
    xml + "</Types>"
}

fn document(letter: &Letter) -> String {
    let body: String = [
        title_block(letter),
        letter.blocks.iter().map(block).collect(),
        closing(letter),
    ]
    .concat();
    format!(
        r#"{DECLARATION}<w:document {NAMESPACES}><w:body>{body}{SECTION}</w:body></w:document>"#
    )
}

/// 发文机关 and title centred, 文号 under them, then a blank line and the 主送机关.
fn title_block(letter: &Letter) -> String {
    [
        line("Title", &letter.issuer),
        line("Title", &letter.title),
        line("DocumentNumber", &letter.number),
        BLANK_LINE.to_owned(),
        line("Normal", &letter.addressee),
    ]
    .concat()
}

fn block(block: &Block) -> String {
    match block {
        Block::Heading(text) => line("Heading1", text),
        Block::Paragraph(text) => paragraph("BodyText", "", &runs(text)),
        Block::Numbered { label, text } => {
            paragraph("BodyText", "", &(run(label, false) + &runs(text)))
        }
        Block::Table { header, rows } => table(header, rows),
    }
}

/// Signature lines, 署名 and date right-aligned four characters from the margin, then the note.
fn closing(letter: &Letter) -> String {
    let mut xml = BLANK_LINE.to_owned();
    for (role, name) in &letter.signatures {
        let role = role.trim_end_matches([':', '：']);
        xml += &line("Closing", &format!("{role}：{name}"));
    }
    if !letter.signatures.is_empty() {
        xml += BLANK_LINE;
    }
    xml += &line("Closing", &letter.issuer_signature);
    xml += &line("Closing", &letter.date);
    if let Some(note) = letter
        .note
        .as_deref()
        .filter(|note| !note.trim().is_empty())
    {
        xml += BLANK_LINE;
        xml += &line("BodyText", note);
    }
    xml
}

/// A paragraph of one plain run, or nothing when the text is blank.
fn line(style: &str, text: &str) -> String {
    if text.trim().is_empty() {
        return String::new();
    }
    paragraph(style, "", &run(text, false))
}

/// `properties` are further `w:pPr` children, which the schema places after `w:pStyle`.
fn paragraph(style: &str, properties: &str, runs: &str) -> String {
    format!(r#"<w:p><w:pPr><w:pStyle w:val="{style}"/>{properties}</w:pPr>{runs}</w:p>"#)
}

fn runs(runs: &[Run]) -> String {
    runs.iter().map(|r| run(&r.text, r.bold)).collect()
}

fn run(text: &str, bold: bool) -> String {
    let content = run_content(text);
    if content.is_empty() {
        return String::new();
    }
    let properties = if bold {
        "<w:rPr><w:b/><w:bCs/></w:rPr>"
    } else {
        ""
    };
    format!("<w:r>{properties}{content}</w:r>")
}

/// A `w:t` cannot hold line breaks or tabs: they become `w:br` and `w:tab` between the texts.
fn run_content(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut xml = String::with_capacity(text.len() + 64);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            xml += "<w:br/>";
        }
        for (j, piece) in line.split('\t').enumerate() {
            if j > 0 {
                xml += "<w:tab/>";
            }
            let piece = escape(piece);
            if !piece.is_empty() {
                xml += &format!(r#"<w:t xml:space="preserve">{piece}</w:t>"#);
            }
        }
    }
    xml
}

fn table(header: &[String], rows: &[Vec<String>]) -> String {
    let columns = rows
        .iter()
        .map(Vec::len)
        .chain([header.len()])
        .max()
        .unwrap_or(0);
    if columns == 0 {
        return String::new();
    }
    let width = TEXT_WIDTH / u32::try_from(columns).unwrap_or(u32::MAX);
    let grid: String = (0..columns)
        .map(|_| format!(r#"<w:gridCol w:w="{width}"/>"#))
        .collect();
    let mut xml = format!("<w:tbl>{TABLE_PROPERTIES}<w:tblGrid>{grid}</w:tblGrid>");
    if !header.is_empty() {
        xml += &table_row(header, columns, true);
    }
    for row in rows {
        xml += &table_row(row, columns, false);
    }
    xml + "</w:tbl>"
}

/// Short rows are padded with empty cells so every row spans the grid.
fn table_row(cells: &[String], columns: usize, header: bool) -> String {
    let properties = if header {
        "<w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>"
    } else {
        ""
    };
    let cells: String = (0..columns)
        .map(|i| table_cell(cells.get(i).map_or("", String::as_str), header))
        .collect();
    format!("<w:tr>{properties}{cells}</w:tr>")
}

fn table_cell(text: &str, header: bool) -> String {
    let content = if header {
        paragraph("TableText", r#"<w:jc w:val="center"/>"#, &run(text, true))
    } else {
        paragraph("TableText", "", &run(text, false))
    };
    format!(r#"<w:tc><w:tcPr><w:vAlign w:val="center"/></w:tcPr>{content}</w:tc>"#)
}

fn core_properties(letter: &Letter) -> String {
    let title = escape(&letter.title);
    let creator = escape(&letter.issuer);
    format!(
        r#"{DECLARATION}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>{title}</dc:title><dc:creator>{creator}</dc:creator></cp:coreProperties>"#
    )
}

/// Escapes markup and drops what XML 1.0 forbids (control characters other than tab and line
/// breaks, U+FFFE, U+FFFF) along with DEL and the C1 controls, which print as nothing.
fn escape(text: &str) -> String {
    let mut xml = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => xml += "&amp;",
            '<' => xml += "&lt;",
            '>' => xml += "&gt;",
            '"' => xml += "&quot;",
            '\'' => xml += "&apos;",
            '\t' | '\n' | '\r' => xml.push(c),
            '\u{fffe}' | '\u{ffff}' => {}
            c if c.is_control() => {}
            c => xml.push(c),
        }
    }
    xml
}

const DECLARATION: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#;

const NAMESPACES: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships""#;

const RELATIONSHIPS: &str = "application/vnd.openxmlformats-package.relationships+xml";
const DOCUMENT: &str =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml";
const STYLES: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml";
const SETTINGS: &str =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml";
const FONT_TABLE: &str =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.fontTable+xml";
const FOOTER: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml";
const CORE: &str = "application/vnd.openxmlformats-package.core-properties+xml";
const APP: &str = "application/vnd.openxmlformats-officedocument.extended-properties+xml";

/// A4 is 11906 twips wide; the margins take 28 mm (1587) on the left and 26 mm (1474) on the right.
const TEXT_WIDTH: u32 = 11906 - 1587 - 1474;

const BLANK_LINE: &str = r#"<w:p><w:pPr><w:pStyle w:val="Normal"/></w:pPr></w:p>"#;

/// A4; margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm; 22 lines of 28.95 pt fill the
/// 225 mm between the margins as GB/T 9704 asks.
const SECTION: &str = r#"<w:sectPr><w:footerReference w:type="default" r:id="rId4"/><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="2098" w:right="1474" w:bottom="1984" w:left="1587" w:header="851" w:footer="1418" w:gutter="0"/><w:pgNumType w:fmt="decimal"/><w:cols w:space="425"/><w:docGrid w:type="lines" w:linePitch="579"/></w:sectPr>"#;

const TABLE_PROPERTIES: &str = r#"<w:tblPr><w:tblW w:w="5000" w:type="pct"/><w:jc w:val="center"/><w:tblBorders><w:top w:val="single" w:sz="4" w:space="0" w:color="000000"/><w:left w:val="single" w:sz="4" w:space="0" w:color="000000"/><w:bottom w:val="single" w:sz="4" w:space="0" w:color="000000"/><w:right w:val="single" w:sz="4" w:space="0" w:color="000000"/><w:insideH w:val="single" w:sz="4" w:space="0" w:color="000000"/><w:insideV w:val="single" w:sz="4" w:space="0" w:color="000000"/></w:tblBorders><w:tblCellMar><w:left w:w="108" w:type="dxa"/><w:right w:w="108" w:type="dxa"/></w:tblCellMar></w:tblPr>"#;

const PACKAGE_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>
<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/>
</Relationships>"#;

/// `rId4` is the footer that [`SECTION`] refers to.
const DOCUMENT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/settings" Target="settings.xml"/>
<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/fontTable" Target="fontTable.xml"/>
<Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer" Target="footer1.xml"/>
</Relationships>"#;

/// Body 仿宋_GB2312 三号 (w:sz is in half-points) with Times New Roman for Latin text, lines
/// exactly 28.95 pt. Indents are given in hundredths of a character, with the twips equivalent
/// for readers that ignore them.
const STYLES_XML: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:docDefaults>
<w:rPrDefault><w:rPr><w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" w:eastAsia="仿宋_GB2312" w:cs="Times New Roman" w:hint="eastAsia"/><w:kern w:val="2"/><w:sz w:val="32"/><w:szCs w:val="32"/><w:lang w:val="en-US" w:eastAsia="zh-CN" w:bidi="ar-SA"/></w:rPr></w:rPrDefault>
<w:pPrDefault><w:pPr><w:spacing w:before="0" w:after="0" w:line="579" w:lineRule="exact"/></w:pPr></w:pPrDefault>
</w:docDefaults>
<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/><w:pPr><w:widowControl w:val="0"/><w:jc w:val="both"/></w:pPr></w:style>
<w:style w:type="character" w:default="1" w:styleId="DefaultParagraphFont"><w:name w:val="Default Paragraph Font"/><w:uiPriority w:val="1"/><w:semiHidden/><w:unhideWhenUsed/></w:style>
<w:style w:type="table" w:default="1" w:styleId="TableNormal"><w:name w:val="Normal Table"/><w:uiPriority w:val="99"/><w:semiHidden/><w:unhideWhenUsed/><w:tblPr><w:tblInd w:w="0" w:type="dxa"/><w:tblCellMar><w:top w:w="0" w:type="dxa"/><w:left w:w="108" w:type="dxa"/><w:bottom w:w="0" w:type="dxa"/><w:right w:w="108" w:type="dxa"/></w:tblCellMar></w:tblPr></w:style>
<w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/><w:pPr><w:jc w:val="center"/></w:pPr><w:rPr><w:rFonts w:ascii="方正小标宋简体" w:hAnsi="方正小标宋简体" w:eastAsia="方正小标宋简体" w:cs="Times New Roman"/><w:sz w:val="44"/><w:szCs w:val="44"/></w:rPr></w:style>
<w:style w:type="paragraph" w:customStyle="1" w:styleId="DocumentNumber"><w:name w:val="Document Number"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/><w:pPr><w:jc w:val="right"/></w:pPr></w:style>
<w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/><w:basedOn w:val="Normal"/><w:next w:val="BodyText"/><w:qFormat/><w:pPr><w:keepNext/><w:ind w:firstLineChars="200" w:firstLine="640"/><w:outlineLvl w:val="0"/></w:pPr><w:rPr><w:rFonts w:ascii="黑体" w:hAnsi="黑体" w:eastAsia="黑体" w:cs="Times New Roman"/></w:rPr></w:style>
<w:style w:type="paragraph" w:styleId="BodyText"><w:name w:val="Body Text"/><w:basedOn w:val="Normal"/><w:qFormat/><w:pPr><w:ind w:firstLineChars="200" w:firstLine="640"/></w:pPr></w:style>
<w:style w:type="paragraph" w:styleId="Closing"><w:name w:val="Closing"/><w:basedOn w:val="Normal"/><w:qFormat/><w:pPr><w:keepNext/><w:ind w:right="1280" w:rightChars="400"/><w:jc w:val="right"/></w:pPr></w:style>
<w:style w:type="paragraph" w:customStyle="1" w:styleId="TableText"><w:name w:val="Table Text"/><w:basedOn w:val="Normal"/><w:qFormat/><w:pPr><w:snapToGrid w:val="0"/><w:spacing w:line="400" w:lineRule="exact"/><w:jc w:val="left"/></w:pPr><w:rPr><w:sz w:val="28"/><w:szCs w:val="28"/></w:rPr></w:style>
<w:style w:type="paragraph" w:styleId="Footer"><w:name w:val="footer"/><w:basedOn w:val="Normal"/><w:uiPriority w:val="99"/><w:unhideWhenUsed/><w:pPr><w:snapToGrid w:val="0"/><w:spacing w:line="240" w:lineRule="auto"/><w:jc w:val="center"/></w:pPr><w:rPr><w:rFonts w:ascii="宋体" w:hAnsi="宋体" w:eastAsia="宋体"/><w:sz w:val="28"/><w:szCs w:val="28"/></w:rPr></w:style>
</w:styles>"#;

const SETTINGS_XML: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:settings xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:zoom w:percent="100"/>
<w:defaultTabStop w:val="420"/>
<w:characterSpacingControl w:val="compressPunctuation"/>
<w:compat><w:compatSetting w:name="compatibilityMode" w:uri="http://schemas.microsoft.com/office/word" w:val="15"/></w:compat>
</w:settings>"#;

/// The GB/T 9704 fonts are not on every machine: `w:altName` names the usual stand-in.
const FONT_TABLE_XML: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:fonts xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:font w:name="Times New Roman"><w:panose1 w:val="02020603050405020304"/><w:charset w:val="00"/><w:family w:val="roman"/><w:pitch w:val="variable"/></w:font>
<w:font w:name="仿宋_GB2312"><w:altName w:val="仿宋"/><w:charset w:val="86"/><w:family w:val="modern"/><w:pitch w:val="fixed"/></w:font>
<w:font w:name="方正小标宋简体"><w:altName w:val="宋体"/><w:charset w:val="86"/><w:family w:val="script"/><w:pitch w:val="variable"/></w:font>
<w:font w:name="黑体"><w:altName w:val="SimHei"/><w:charset w:val="86"/><w:family w:val="modern"/><w:pitch w:val="fixed"/></w:font>
<w:font w:name="宋体"><w:altName w:val="SimSun"/><w:charset w:val="86"/><w:family w:val="auto"/><w:pitch w:val="variable"/></w:font>
</w:fonts>"#;

/// "— 1 —": a PAGE field between two em dashes.
const FOOTER_XML: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:ftr xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:p><w:pPr><w:pStyle w:val="Footer"/></w:pPr><w:r><w:t xml:space="preserve">— </w:t></w:r><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>1</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r><w:r><w:t xml:space="preserve"> —</w:t></w:r></w:p></w:ftr>"#;

const APP_XML: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>contract-review</Application></Properties>"#;

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::io::Read;

    use quick_xml::Reader;
    use quick_xml::escape::resolve_predefined_entity;
    use quick_xml::events::Event;

    use super::*;

    fn sample() -> Letter {
        Letter {
            issuer: "示范市司法局".into(),
            number: "示司审〔2026〕12号".into(),
            title: "关于《示范市第一中学食堂承包合同》的合法性审查意见书".into(),
            addressee: "示范市教育局：".into(),
            blocks: vec![
                Block::Heading("一、审查意见".into()),
                Block::Paragraph(vec![
                    Run::plain("经审查，该合同"),
                    Run::bold("第十二条"),
                    Run::plain("约定的违约金过高。"),
                ]),
                Block::Numbered {
                    label: "（一）".into(),
                    text: vec![Run::plain("建议删除自动续期条款。")],
                },
                Block::Table {
                    header: vec!["条款".into(), "问题".into(), "建议".into()],
                    rows: vec![vec![
                        "第十二条".into(),
                        "违约金过高".into(),
                        "调整为合同价款的20%".into(),
                    ]],
                },
            ],
            signatures: vec![
                ("承办人".into(), "张三".into()),
                ("复核人：".into(), "李四".into()),
            ],
            issuer_signature: "示范市司法局".into(),
            date: "2026年12月7日".into(),
            note: Some("（此件公开发布）".into()),
        }
    }

    fn unzip(bytes: &[u8]) -> BTreeMap<String, String> {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip archive");
        let mut parts = BTreeMap::new();
        for i in 0..archive.len() {
            let mut file = archive.by_index(i).expect("a readable entry");
            let mut xml = String::new();
            file.read_to_string(&mut xml).expect("UTF-8 content");
            parts.insert(file.name().expect("a UTF-8 name").into_owned(), xml);
        }
        parts
    }

    fn parts_of(letter: &Letter) -> BTreeMap<String, String> {
        unzip(&write(letter).expect("the letter is written"))
    }

    /// The text a reader sees: `w:t` contents with breaks and tabs, one line per paragraph.
    fn text_of(xml: &str) -> String {
        let mut reader = Reader::from_str(xml);
        let (mut text, mut in_text) = (String::new(), false);
        loop {
            match reader.read_event().expect("well-formed XML") {
                Event::Start(e) if e.local_name().as_ref() == "t" => in_text = true,
                Event::End(e) if e.local_name().as_ref() == "t" => in_text = false,
                Event::End(e) if e.local_name().as_ref() == "p" => text.push('\n'),
                Event::Empty(e) if e.local_name().as_ref() == "br" => text.push('\n'),
                Event::Empty(e) if e.local_name().as_ref() == "tab" => text.push('\t'),
                Event::Text(e) if in_text => text += &e.xml10_content(),
                Event::GeneralRef(e) if in_text => match e.resolve_char_ref().expect("a character")
                {
                    Some(c) => text.push(c),
                    None => text += resolve_predefined_entity(&e).expect("a predefined entity"),
                },
                Event::Eof => return text,
                _ => {}
            }
        }
    }

    /// Parses the whole part, checking that tags match and every character is allowed.
    fn assert_well_formed(name: &str, xml: &str) {
        let mut reader = Reader::from_str(xml);
        let mut depth = 0_i32;
        loop {
            match reader.read_event() {
                Ok(Event::Start(_)) => depth += 1,
                Ok(Event::End(_)) => depth -= 1,
                Ok(Event::Eof) => break,
                Ok(_) => {}
                Err(e) => panic!("{name} is not well-formed: {e}"),
            }
        }
        assert_eq!(depth, 0, "{name} leaves elements open");
        let bad = xml.chars().find(|&c| {
            matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
        });
        assert_eq!(bad, None, "{name} holds a character XML 1.0 forbids");
    }

    /// Children that the OOXML schema puts in a sequence, for the parents this module writes.
    /// Names sharing a slot are joined by `|`; an element missing from its parent's list fails.
    const SCHEMA_ORDER: &[(&str, &str)] = &[
        ("document", "body"),
        ("body", "p|tbl sectPr"),
        ("ftr", "p|tbl"),
        ("p", "pPr r"),
        ("r", "rPr t|br|tab|fldChar|instrText"),
        (
            "pPr",
            "pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr suppressLineNumbers \
             pBdr shd tabs suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE \
             autoSpaceDN bidi adjustRightInd snapToGrid spacing ind contextualSpacing mirrorIndents \
             suppressOverlap jc textDirection textAlignment textboxTightWrap outlineLvl divId cnfStyle \
             rPr sectPr pPrChange",
        ),
        (
            "rPr",
            "rStyle rFonts b bCs i iCs caps smallCaps strike dstrike outline shadow emboss imprint \
             noProof snapToGrid vanish webHidden color spacing w kern position sz szCs highlight u \
             effect bdr shd fitText vertAlign rtl cs em lang eastAsianLayout specVanish oMath",
        ),
        ("tbl", "tblPr tblGrid tr"),
        (
            "tblPr",
            "tblStyle tblpPr tblOverlap bidiVisual tblStyleRowBandSize tblStyleColBandSize tblW jc \
             tblCellSpacing tblInd tblBorders shd tblLayout tblCellMar tblLook",
        ),
        (
            "tblBorders",
            "top left|start bottom right|end insideH insideV",
        ),
        ("tblCellMar", "top left|start bottom right|end"),
        ("tblGrid", "gridCol"),
        ("tr", "tblPrEx trPr tc"),
        ("trPr", "cantSplit|tblHeader"),
        ("tc", "tcPr p|tbl"),
        (
            "tcPr",
            "cnfStyle tcW gridSpan hMerge vMerge tcBorders shd noWrap tcMar textDirection tcFitText \
             vAlign hideMark",
        ),
        (
            "sectPr",
            "headerReference|footerReference footnotePr endnotePr type pgSz pgMar paperSrc pgBorders \
             lnNumType pgNumType cols formProt vAlign noEndnote titlePg textDirection bidi rtlGutter \
             docGrid printerSettings sectPrChange",
        ),
        ("styles", "docDefaults latentStyles style"),
        ("docDefaults", "rPrDefault pPrDefault"),
        ("rPrDefault", "rPr"),
        ("pPrDefault", "pPr"),
        (
            "style",
            "name aliases basedOn next link autoRedefine hidden uiPriority semiHidden unhideWhenUsed \
             qFormat locked personal personalCompose personalReply rsid pPr rPr tblPr trPr tcPr \
             tblStylePr",
        ),
        (
            "settings",
            "writeProtection view zoom removePersonalInformation removeDateAndTime \
             doNotDisplayPageBoundaries displayBackgroundShape printPostScriptOverText \
             printFractionalCharacterWidth printFormsData embedTrueTypeFonts embedSystemFonts \
             saveSubsetFonts saveFormsData mirrorMargins alignBordersAndEdges \
             bordersDoNotSurroundHeader bordersDoNotSurroundFooter gutterAtTop hideSpellingErrors \
             hideGrammaticalErrors activeWritingStyle proofState formsDesign attachedTemplate \
             linkStyles stylePaneFormatFilter stylePaneSortMethod documentType mailMerge revisionView \
             trackRevisions doNotTrackMoves doNotTrackFormatting documentProtection \
             autoFormatOverride styleLockTheme styleLockQFSet defaultTabStop autoHyphenation \
             consecutiveHyphenLimit hyphenationZone doNotHyphenateCaps showEnvelope summaryLength \
             clickAndTypeStyle defaultTableStyle evenAndOddHeaders bookFoldRevPrinting \
             bookFoldPrinting bookFoldPrintingSheets drawingGridHorizontalSpacing \
             drawingGridVerticalSpacing displayHorizontalDrawingGridEvery \
             displayVerticalDrawingGridEvery doNotUseMarginsForDrawingGridOrigin \
             drawingGridHorizontalOrigin drawingGridVerticalOrigin doNotShadeFormData \
             noPunctuationKerning characterSpacingControl printTwoOnOne strictFirstAndLastChars \
             noLineBreaksAfter noLineBreaksBefore savePreviewPicture doNotValidateAgainstSchema \
             saveInvalidXml ignoreMixedContent alwaysShowPlaceholderText doNotDemarcateInvalidXml \
             saveXmlDataOnly useXSLTWhenSaving saveThroughXslt showXMLTags \
             alwaysMergeEmptyNamespace updateFields hdrShapeDefaults footnotePr endnotePr compat \
             docVars rsids mathPr attachedSchema themeFontLang clrSchemeMapping",
        ),
        ("compat", "compatSetting"),
        ("fonts", "font"),
        (
            "font",
            "altName panose1 charset family notTrueType pitch sig",
        ),
    ];

    fn slot(parent: &str, child: &str) -> Option<Option<usize>> {
        let (_, order) = SCHEMA_ORDER.iter().find(|(name, _)| *name == parent)?;
        Some(
            order
                .split_whitespace()
                .position(|names| names.split('|').any(|n| n == child)),
        )
    }

    /// Fails when a child of a known parent is unknown or comes before an earlier sibling's slot.
    fn assert_schema_order(name: &str, xml: &str) {
        let mut reader = Reader::from_str(xml);
        // Each open element: its local name and the slot of its last child so far.
        let mut open: Vec<(String, usize)> = Vec::new();
        loop {
            let (element, is_start) = match reader.read_event().expect("well-formed XML") {
                Event::Start(e) => (e.local_name().as_ref().to_owned(), true),
                Event::Empty(e) => (e.local_name().as_ref().to_owned(), false),
                Event::End(_) => {
                    open.pop();
                    continue;
                }
                Event::Eof => return,
                _ => continue,
            };
            if let Some((parent, last)) = open.last_mut()
                && let Some(position) = slot(parent, &element)
            {
                let position =
                    position.unwrap_or_else(|| panic!("{name}: <{element}> unknown in <{parent}>"));
                assert!(
                    position >= *last,
                    "{name}: <{element}> too late in <{parent}>"
                );
                *last = position;
            }
            if is_start {
                open.push((element, 0));
            }
        }
    }

    #[test]
    fn document_reads_in_order() {
        // Arrange
        let letter = sample();

        // Act
        let text = text_of(&parts_of(&letter)["word/document.xml"]);

        // Assert
        let expected = [
            "示范市司法局",
            "合法性审查意见书",
            "示司审〔2026〕12号",
            "示范市教育局：",
            "一、审查意见",
            "经审查，该合同第十二条约定的违约金过高。",
            "（一）建议删除自动续期条款。",
            "条款",
            "调整为合同价款的20%",
            "承办人：张三",
            "复核人：李四",
            "示范市司法局\n2026年12月7日",
            "（此件公开发布）",
        ];
        let mut from = 0;
        for piece in expected {
            let found = text[from..]
                .find(piece)
                .unwrap_or_else(|| panic!("{piece:?} missing or out of order in {text}"));
            from += found + piece.len();
        }
    }

    #[test]
    fn every_part_is_well_formed_and_in_schema_order() {
        for (name, xml) in parts_of(&sample()) {
            assert_well_formed(&name, &xml);
            assert_schema_order(&name, &xml);
        }
    }

    #[test]
    fn hostile_text_stays_text() {
        // Arrange
        let hostile =
            "<script>&\"' \u{0}\u{1}\u{8}\u{b}\u{c}\u{1f}\u{7f}\u{85}\u{fffe}\u{ffff}\r\n\t😀";
        let long = "长".repeat(100 * 1024 / 3) + hostile;
        let letter = Letter {
            issuer: hostile.into(),
            number: hostile.into(),
            title: hostile.into(),
            addressee: hostile.into(),
            blocks: vec![
                Block::Heading(hostile.into()),
                Block::Paragraph(vec![Run::plain(long.clone()), Run::bold(hostile)]),
                Block::Numbered {
                    label: hostile.into(),
                    text: vec![Run::plain(hostile)],
                },
                Block::Table {
                    header: vec![hostile.into()],
                    rows: vec![vec![hostile.into(); 3]],
                },
            ],
            signatures: vec![(hostile.into(), hostile.into())],
            issuer_signature: hostile.into(),
            date: hostile.into(),
            note: Some(hostile.into()),
        };

        // Act
        let parts = parts_of(&letter);

        // Assert
        for (name, xml) in &parts {
            assert_well_formed(name, xml);
            assert_schema_order(name, xml);
        }
        let text = text_of(&parts["word/document.xml"]);
        assert!(
            text.contains("<script>&\"' \n\t😀"),
            "the visible characters survive"
        );
        assert!(
            text.contains(&long[..long.len() - hostile.len()]),
            "the long paragraph is whole"
        );
        assert!(parts["docProps/core.xml"].contains("&lt;script&gt;&amp;"));
    }

    #[test]
    fn empty_letter_is_still_a_valid_package() {
        let parts = parts_of(&Letter {
            blocks: vec![
                Block::Table {
                    header: vec![],
                    rows: vec![vec![]],
                },
                Block::Paragraph(vec![]),
            ],
            ..Letter::default()
        });

        for (name, xml) in &parts {
            assert_well_formed(name, xml);
            assert_schema_order(name, xml);
        }
        assert!(
            !parts["word/document.xml"].contains("<w:tbl>"),
            "a table without columns is left out"
        );
    }

    #[test]
    fn ragged_table_rows_span_the_grid() {
        let letter = Letter {
            blocks: vec![Block::Table {
                header: vec!["甲".into(), "乙".into()],
                rows: vec![
                    vec!["1".into()],
                    vec!["1".into(), "2".into(), "3".into()],
                    vec![],
                ],
            }],
            ..Letter::default()
        };

        let xml = &parts_of(&letter)["word/document.xml"];

        assert_eq!(xml.matches("<w:gridCol ").count(), 3);
        assert_eq!(xml.matches("<w:tr>").count(), 4);
        assert_eq!(xml.matches("<w:tc>").count(), 12);
        assert_eq!(xml.matches("<w:tblHeader/>").count(), 1);
    }

    #[test]
    fn package_has_every_part_typed_and_linked() {
        // Arrange
        let parts = parts_of(&sample());

        // Act
        let types = content_types_of(&parts["[Content_Types].xml"]);

        // Assert
        for (name, expected) in [
            ("_rels/.rels", RELATIONSHIPS),
            ("word/_rels/document.xml.rels", RELATIONSHIPS),
            ("word/document.xml", DOCUMENT),
            ("word/styles.xml", STYLES),
            ("word/settings.xml", SETTINGS),
            ("word/fontTable.xml", FONT_TABLE),
            ("word/footer1.xml", FOOTER),
            ("docProps/core.xml", CORE),
            ("docProps/app.xml", APP),
        ] {
            assert!(parts.contains_key(name), "{name} is missing");
            assert_eq!(types.of(name), Some(expected), "content type of {name}");
        }
        assert_eq!(
            parts.len(),
            10,
            "no part beyond the ones typed above and [Content_Types].xml"
        );
        for part in types.overrides.keys() {
            assert!(
                parts.contains_key(&part[1..]),
                "override for missing {part}"
            );
        }
        for (rels, base) in [
            ("_rels/.rels", ""),
            ("word/_rels/document.xml.rels", "word/"),
        ] {
            for relationship in elements(&parts[rels], "Relationship") {
                let target = &relationship["Target"];
                assert!(
                    parts.contains_key(&format!("{base}{target}")),
                    "{rels} points to missing {target}"
                );
            }
        }
        assert!(
            parts["word/document.xml"]
                .contains(r#"<w:footerReference w:type="default" r:id="rId4"/>"#)
        );
        assert!(parts["word/_rels/document.xml.rels"].contains(
            r#"Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer" Target="footer1.xml""#
        ));
    }

    struct ContentTypes {
        defaults: BTreeMap<String, String>,
        overrides: BTreeMap<String, String>,
    }

    impl ContentTypes {
        /// What a reader resolves: the part's override, else the default for its extension.
        fn of(&self, name: &str) -> Option<&str> {
            let extension = name.rsplit('.').next().unwrap_or_default();
            self.overrides
                .get(&format!("/{name}"))
                .or_else(|| self.defaults.get(extension))
                .map(String::as_str)
        }
    }

    fn content_types_of(xml: &str) -> ContentTypes {
        let by = |tag, key| {
            elements(xml, tag)
                .into_iter()
                .map(|mut attributes| {
                    let name = attributes.remove(key).unwrap_or_default();
                    (name, attributes.remove("ContentType").unwrap_or_default())
                })
                .collect()
        };
        ContentTypes {
            defaults: by("Default", "Extension"),
            overrides: by("Override", "PartName"),
        }
    }

    /// The attributes of every `tag` element, in document order.
    fn elements(xml: &str, tag: &str) -> Vec<BTreeMap<String, String>> {
        let mut reader = Reader::from_str(xml);
        let mut found = Vec::new();
        loop {
            match reader.read_event().expect("well-formed XML") {
                Event::Empty(e) | Event::Start(e) if e.local_name().as_ref() == tag => {
                    let attributes = e.attributes().map(|a| a.expect("a well-formed attribute"));
                    found.push(
                        attributes
                            .map(|a| (a.key.as_ref().to_owned(), a.value.into_owned()))
                            .collect(),
                    );
                }
                Event::Eof => return found,
                _ => {}
            }
        }
    }
}
