//! A Word `.docx` draft as Markdown, keeping what a legal reviewer reads by: headings (by the
//! style's name or outline level, never its id, which Chinese Word numbers "1", "2"…), Word's
//! automatic numbering as text (第一条, （一）, 1.1.1), bold, tables as pipe tables, and the text
//! of hyperlinks and text boxes. Footnotes and endnotes are cited in the text as 〔注1〕 and
//! follow the body, after a rule, as paragraphs "注1：…". Deleted text, field codes, the
//! fallback copy in `mc:AlternateContent`, revision history and images are left out.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::str::FromStr;

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use zip::result::ZipError;

use super::numbering::{Counter, Label, Numbering};
use super::sniff::{self, FileKind};
use super::{
    ConversionError, MAX_CONTENT_BYTES, MAX_MARKDOWN_BYTES, escape_inline, escape_line_start,
};

/// Cells in one table, at most: a few bytes of XML must not become a huge grid.
const MAX_TABLE_CELLS: usize = 200_000;

/// # Errors
/// Not a Word document, an encrypted, macro-enabled, damaged or oversized one.
pub(super) fn to_markdown(bytes: &[u8]) -> Result<String, ConversionError> {
    let mut package = Package::open(bytes)?;
    let types = package.part("[Content_Types].xml")?.unwrap_or_default();
    if types.contains("macroEnabled") {
        return Err(ConversionError::MacroEnabled);
    }
    let document = package
        .part("word/document.xml")?
        .ok_or(ConversionError::Corrupt)?;
    let styles = Styles::parse(&package.part("word/styles.xml")?.unwrap_or_default())?;
    let numbering = Numbering::parse(&package.part("word/numbering.xml")?.unwrap_or_default())?;
    let mut notes = read_notes(&package.part("word/footnotes.xml")?.unwrap_or_default())?;
    notes.extend(read_notes(
        &package.part("word/endnotes.xml")?.unwrap_or_default(),
    )?);
    let mut body = Body::new(&styles, &numbering, &notes);
    walk(&document, |node| body.visit(node))?;
    body.finish()
}

/// The zip package, and how much more uncompressed content may still be read from it.
struct Package<'a> {
    archive: zip::ZipArchive<Cursor<&'a [u8]>>,
    budget: u64,
}

impl<'a> Package<'a> {
    fn open(bytes: &'a [u8]) -> Result<Self, ConversionError> {
        let archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(zip_error)?;
        match sniff::zip_kind(&archive) {
            FileKind::Docx => Ok(Self {
                archive,
                budget: MAX_CONTENT_BYTES,
            }),
            // Word's body without the package's table of contents: a damaged Word file.
            _ if archive.index_for_name("word/document.xml").is_some() => {
                Err(ConversionError::Corrupt)
            }
            kind => Err(ConversionError::Unsupported {
                found: kind.label().to_owned(),
            }),
        }
    }

    /// A part's text, `None` when the package has no such part. The declared size is checked
    /// before anything is inflated, and the inflated bytes again as they are read.
    fn part(&mut self, name: &str) -> Result<Option<String>, ConversionError> {
        let file = match self.archive.by_name(name) {
            Ok(file) => file,
            Err(ZipError::FileNotFound) => return Ok(None),
            Err(error) => return Err(zip_error(error)),
        };
        if file.size() > self.budget {
            return Err(ConversionError::TooLarge);
        }
        let mut data = Vec::new();
        file.take(self.budget + 1)
            .read_to_end(&mut data)
            .map_err(|_| ConversionError::Corrupt)?;
        let read = u64::try_from(data.len()).unwrap_or(u64::MAX);
        self.budget = self
            .budget
            .checked_sub(read)
            .ok_or(ConversionError::TooLarge)?;
        let text = String::from_utf8(data).map_err(|_| ConversionError::Corrupt)?;
        Ok(Some(match text.strip_prefix('\u{FEFF}') {
            Some(rest) => rest.to_owned(),
            None => text,
        }))
    }
}

fn zip_error(error: ZipError) -> ConversionError {
    match error {
        ZipError::UnsupportedArchive(message) if message == ZipError::PASSWORD_REQUIRED => {
            ConversionError::Encrypted
        }
        ZipError::InvalidPassword => ConversionError::Encrypted,
        _ => ConversionError::Corrupt,
    }
}

// ---- reading XML ----------------------------------------------------------------------------

/// One step through a part: an element opens or closes, or text. Empty elements open and close.
pub(super) enum Node<'a> {
    Open(&'a BytesStart<'a>),
    Close(&'a str),
    Text(&'a str),
}

/// Walks a part's XML, leaving out [`skipped`] subtrees and resolving entities.
pub(super) fn walk(
    xml: &str,
    mut visit: impl FnMut(Node<'_>) -> Result<(), ConversionError>,
) -> Result<(), ConversionError> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().expand_empty_elements = true;
    let mut skipping = 0_usize;
    loop {
        match reader.read_event().map_err(|_| ConversionError::Corrupt)? {
            Event::Start(e) if skipping > 0 || skipped(local(&e)) => skipping += 1,
            Event::Start(e) => visit(Node::Open(&e))?,
            Event::End(_) if skipping > 0 => skipping -= 1,
            Event::End(e) => visit(Node::Close(e.local_name().into_inner()))?,
            _ if skipping > 0 => {}
            Event::Text(t) => visit(Node::Text(&t.xml10_content()))?,
            Event::CData(t) => visit(Node::Text(&t.xml10_content()))?,
            Event::GeneralRef(r) => {
                if let Some(text) = reference(&r) {
                    visit(Node::Text(&text))?;
                }
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

/// Subtrees whose text is not the document's current text: deletions, field codes, the fallback
/// copy of alternate content, and revision history (`w:pPrChange` holds the old numbering).
fn skipped(name: &str) -> bool {
    matches!(
        name,
        "Fallback" | "del" | "moveFrom" | "delText" | "instrText" | "delInstrText"
    ) || name.ends_with("PrChange")
        || name.ends_with("GridChange")
        || name == "numberingChange"
}

/// `&#x7B2C;` or `&amp;` as text; unknown entities are dropped.
fn reference(r: &BytesRef<'_>) -> Option<Cow<'static, str>> {
    match r.resolve_char_ref() {
        Ok(Some(c)) => Some(Cow::Owned(c.to_string())),
        Ok(None) => quick_xml::escape::resolve_predefined_entity(r).map(Cow::Borrowed),
        Err(_) => None,
    }
}

pub(super) fn local<'a>(e: &'a BytesStart<'_>) -> &'a str {
    e.local_name().into_inner()
}

/// The value of the attribute with local name `name` (`w:val` → `val`).
pub(super) fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .with_checks(false)
        .flatten()
        .find(|a| a.key.local_name().into_inner() == name)
        .and_then(|a| a.normalized_value(XmlVersion::Implicit1_0).ok())
        .map(Cow::into_owned)
}

pub(super) fn number<T: FromStr>(e: &BytesStart<'_>, name: &str) -> Option<T> {
    attr(e, name)?.trim().parse().ok()
}

/// Whether a toggle such as `<w:b/>` is on: `w:val` absent, or not `0`/`false`/`off`.
pub(super) fn toggled(e: &BytesStart<'_>) -> bool {
    !matches!(
        attr(e, "val").as_deref(),
        Some("0" | "false" | "off" | "none")
    )
}

// ---- styles ---------------------------------------------------------------------------------

/// What a paragraph style says about headings and numbering.
#[derive(Default)]
struct Style {
    /// From the style's name: "heading 2" or "标题 2" is 2.
    named_level: Option<u8>,
    /// `w:outlineLvl`, 0-based; 9 is body text.
    outline: Option<u8>,
    num_id: Option<String>,
    ilvl: Option<u8>,
    based_on: Option<String>,
}

#[derive(Default)]
struct Styles {
    by_id: HashMap<String, Style>,
    /// The paragraph style of paragraphs that name none.
    default: Option<String>,
}

impl Styles {
    fn parse(xml: &str) -> Result<Self, ConversionError> {
        let mut styles = Self::default();
        let mut current: Option<(String, Style)> = None;
        walk(xml, |node| {
            match node {
                Node::Open(e) if local(e) == "style" => {
                    let id = attr(e, "styleId").unwrap_or_default();
                    if attr(e, "type").as_deref() == Some("paragraph") && toggled_attr(e, "default")
                    {
                        styles.default = Some(id.clone());
                    }
                    current = Some((id, Style::default()));
                }
                Node::Open(e) => {
                    if let Some((_, style)) = &mut current {
                        style.read(e);
                    }
                }
                Node::Close("style") => {
                    if let Some((id, style)) = current.take() {
                        styles.by_id.insert(id, style);
                    }
                }
                _ => {}
            }
            Ok(())
        })?;
        Ok(styles)
    }

    /// The first answer along the style's `basedOn` chain; chains are short, and may loop.
    fn inherited<T>(&self, id: &str, pick: impl Fn(&Style) -> Option<T>) -> Option<T> {
        let mut style = self.by_id.get(id)?;
        for _ in 0..16 {
            if let Some(found) = pick(style) {
                return Some(found);
            }
            style = self.by_id.get(style.based_on.as_deref()?)?;
        }
        None
    }

    fn heading(&self, id: &str) -> Option<u8> {
        self.inherited(id, |s| {
            s.named_level.map(Some).or(s.outline.map(outline_heading))
        })
        .flatten()
    }

    fn numbering(&self, id: &str) -> Option<(String, Option<u8>)> {
        self.inherited(id, |s| s.num_id.clone().map(|num| (num, s.ilvl)))
    }
}

impl Style {
    fn read(&mut self, e: &BytesStart<'_>) {
        match local(e) {
            "name" => self.named_level = attr(e, "val").as_deref().and_then(named_heading),
            "basedOn" => self.based_on = attr(e, "val"),
            "outlineLvl" => self.outline = number(e, "val"),
            "numId" => self.num_id = attr(e, "val"),
            "ilvl" => self.ilvl = number(e, "val"),
            _ => {}
        }
    }
}

fn toggled_attr(e: &BytesStart<'_>, name: &str) -> bool {
    matches!(attr(e, name).as_deref(), Some("1" | "true" | "on"))
}

/// "heading 2", "Heading 2", "标题 2" → 2; "Title" and "标题" → 1.
fn named_heading(name: &str) -> Option<u8> {
    let name = name.trim().to_lowercase();
    if name == "title" || name == "标题" {
        return Some(1);
    }
    let level = name
        .strip_prefix("heading")
        .or_else(|| name.strip_prefix("标题"))?;
    let level: u8 = level.trim().parse().ok()?;
    (1..=9).contains(&level).then(|| level.min(6))
}

/// An outline level as a Markdown heading level; 9 and above are body text.
fn outline_heading(level: u8) -> Option<u8> {
    (level < 9).then(|| (level + 1).min(6))
}

// ---- notes ----------------------------------------------------------------------------------

/// The text of each footnote and endnote, by "footnote:1" / "endnote:1".
fn read_notes(xml: &str) -> Result<HashMap<String, String>, ConversionError> {
    let mut notes = HashMap::new();
    let mut current: Option<(String, String)> = None;
    let mut in_text = false;
    walk(xml, |node| {
        match node {
            Node::Open(e) => match local(e) {
                kind @ ("footnote" | "endnote") => {
                    let id = attr(e, "id").unwrap_or_default();
                    current = Some((format!("{kind}:{id}"), String::new()));
                }
                "t" => in_text = true,
                "tab" | "br" | "cr" => push_note_text(&mut current, " "),
                _ => {}
            },
            Node::Text(text) if in_text => push_note_text(&mut current, text),
            Node::Close("t") => in_text = false,
            Node::Close("p") => push_note_text(&mut current, " "),
            Node::Close("footnote" | "endnote") => {
                if let Some((key, text)) = current.take() {
                    notes.insert(key, text.trim().to_owned());
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(notes)
}

fn push_note_text(current: &mut Option<(String, String)>, text: &str) {
    if let Some((_, note)) = current {
        note.push_str(text);
    }
}

// ---- the body -------------------------------------------------------------------------------

/// What is open while the body is read. Paragraphs nest in text boxes, tables in cells.
enum Frame {
    Paragraph(Paragraph),
    Table(Vec<Vec<String>>),
    Cell { text: String, span: usize },
}

#[derive(Default)]
struct Paragraph {
    style: Option<String>,
    num_id: Option<String>,
    ilvl: Option<u8>,
    outline: Option<u8>,
    spans: Vec<Span>,
    run: Option<Run>,
}

/// The formatting of the run being read.
#[derive(Default)]
struct Run {
    bold: bool,
    in_properties: bool,
}

enum Span {
    Text {
        bold: bool,
        text: String,
    },
    /// Already Markdown: a text box or a nested table run into the paragraph.
    Markdown(String),
    Break,
}

/// A finished paragraph or table, before it is known where it goes.
enum Block {
    Paragraph {
        heading: Option<u8>,
        label: Option<Label>,
        ilvl: u8,
        lines: Vec<String>,
    },
    Table(Vec<Vec<String>>),
}

struct Body<'a> {
    styles: &'a Styles,
    numbering: &'a Numbering,
    notes: &'a HashMap<String, String>,
    counter: Counter,
    /// Notes in the order the text cites them, and the number each got.
    cited: Vec<String>,
    note_numbers: HashMap<String, usize>,
    frames: Vec<Frame>,
    in_text: bool,
    out: String,
}

impl<'a> Body<'a> {
    fn new(
        styles: &'a Styles,
        numbering: &'a Numbering,
        notes: &'a HashMap<String, String>,
    ) -> Self {
        Self {
            styles,
            numbering,
            notes,
            counter: Counter::default(),
            cited: Vec::new(),
            note_numbers: HashMap::new(),
            frames: Vec::new(),
            in_text: false,
            out: String::new(),
        }
    }

    fn visit(&mut self, node: Node<'_>) -> Result<(), ConversionError> {
        match node {
            Node::Open(e) => self.open(e),
            Node::Close(name) => return self.close(name),
            Node::Text(text) => {
                if self.in_text
                    && let Some(paragraph) = self.paragraph()
                {
                    paragraph.text(text);
                }
            }
        }
        Ok(())
    }

    fn paragraph(&mut self) -> Option<&mut Paragraph> {
        match self.frames.last_mut() {
            Some(Frame::Paragraph(paragraph)) => Some(paragraph),
            _ => None,
        }
    }

    fn open(&mut self, e: &BytesStart<'_>) {
        match local(e) {
            "p" => self.frames.push(Frame::Paragraph(Paragraph::default())),
            "tbl" => self.frames.push(Frame::Table(Vec::new())),
            "tr" => {
                if let Some(Frame::Table(rows)) = self.frames.last_mut() {
                    rows.push(Vec::new());
                }
            }
            "tc" => self.frames.push(Frame::Cell {
                text: String::new(),
                span: 1,
            }),
            "gridSpan" => {
                if let Some(Frame::Cell { span, .. }) = self.frames.last_mut() {
                    *span = number(e, "val").unwrap_or(1).clamp(1, 64);
                }
            }
            "t" => self.in_text = true,
            kind @ ("footnoteReference" | "endnoteReference") => {
                let key = format!(
                    "{}:{}",
                    kind.trim_end_matches("Reference"),
                    attr(e, "id").unwrap_or_default()
                );
                let mark = format!("〔注{}〕", self.cite(key));
                if let Some(paragraph) = self.paragraph() {
                    paragraph.text(&mark);
                }
            }
            _ => {
                if let Some(paragraph) = self.paragraph() {
                    paragraph.open(e);
                }
            }
        }
    }

    fn close(&mut self, name: &str) -> Result<(), ConversionError> {
        let is_frame: fn(&Frame) -> bool = match name {
            "p" => |f| matches!(f, Frame::Paragraph(_)),
            "tc" => |f| matches!(f, Frame::Cell { .. }),
            "tbl" => |f| matches!(f, Frame::Table(_)),
            "t" => {
                self.in_text = false;
                return Ok(());
            }
            _ => {
                if let Some(paragraph) = self.paragraph() {
                    paragraph.close(name);
                }
                return Ok(());
            }
        };
        if self.frames.last().is_some_and(is_frame)
            && let Some(frame) = self.frames.pop()
        {
            self.end(frame)?;
        }
        Ok(())
    }

    /// Hands a closed frame to whatever encloses it: a cell takes its text into its row.
    fn end(&mut self, frame: Frame) -> Result<(), ConversionError> {
        let block = match frame {
            Frame::Paragraph(paragraph) => self.block(paragraph),
            Frame::Table(rows) => Some(Block::Table(rows)),
            Frame::Cell { text, span } => {
                if let Some(Frame::Table(rows)) = self.frames.last_mut()
                    && let Some(row) = rows.last_mut()
                {
                    row.push(text);
                    row.extend(std::iter::repeat_n(String::new(), span - 1));
                    return Ok(());
                }
                Some(Block::Table(vec![vec![text]]))
            }
        };
        let Some(block) = block else {
            return Ok(());
        };
        match self.frames.last_mut() {
            Some(Frame::Paragraph(paragraph)) => {
                paragraph
                    .spans
                    .push(Span::Markdown(format!(" {} ", inline(&block))));
            }
            Some(Frame::Cell { text, .. }) => {
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(&inline(&block));
            }
            _ => self.write(&top_level(block)?)?,
        }
        Ok(())
    }

    /// A paragraph with its heading level and numbering resolved; `None` when it shows nothing.
    fn block(&mut self, paragraph: Paragraph) -> Option<Block> {
        let style = paragraph
            .style
            .as_deref()
            .or(self.styles.default.as_deref());
        let heading = match paragraph.outline {
            Some(level) => outline_heading(level),
            None => style.and_then(|id| self.styles.heading(id)),
        };
        let from_style = style.and_then(|id| self.styles.numbering(id));
        let num_id = paragraph
            .num_id
            .clone()
            .or_else(|| from_style.as_ref().map(|(num, _)| num.clone()));
        let ilvl = paragraph
            .ilvl
            .or(from_style.and_then(|(_, ilvl)| ilvl))
            .unwrap_or(0);
        // numId 0 takes a style's numbering away.
        let label = num_id
            .filter(|id| id != "0")
            .and_then(|id| self.counter.next(self.numbering, &id, ilvl));
        let lines = paragraph.lines();
        let shows = match &label {
            Some(Label::Text(_)) => true,
            Some(Label::Bullet) | None => !lines.is_empty(),
        };
        shows.then_some(Block::Paragraph {
            heading,
            label,
            ilvl,
            lines,
        })
    }

    fn cite(&mut self, key: String) -> usize {
        if let Some(number) = self.note_numbers.get(&key) {
            return *number;
        }
        self.cited.push(key.clone());
        let number = self.cited.len();
        self.note_numbers.insert(key, number);
        number
    }

    fn write(&mut self, block: &str) -> Result<(), ConversionError> {
        if block.is_empty() {
            return Ok(());
        }
        if !self.out.is_empty() {
            self.out.push_str("\n\n");
        }
        self.out.push_str(block);
        if self.out.len() > MAX_MARKDOWN_BYTES {
            return Err(ConversionError::TooLarge);
        }
        Ok(())
    }

    fn finish(mut self) -> Result<String, ConversionError> {
        // Only a part cut short leaves frames open; keep what they hold.
        while let Some(frame) = self.frames.pop() {
            self.end(frame)?;
        }
        let mut notes = Vec::new();
        for (i, key) in self.cited.iter().enumerate() {
            let mut note = format!("注{}：", i + 1);
            escape_inline(self.notes.get(key).map_or("", String::as_str), &mut note);
            notes.push(note);
        }
        if !notes.is_empty() {
            self.write("---")?;
            for note in notes {
                self.write(&note)?;
            }
        }
        if !self.out.is_empty() {
            self.out.push('\n');
        }
        Ok(self.out)
    }
}

impl Paragraph {
    /// Paragraph and run properties, and what runs hold besides text.
    fn open(&mut self, e: &BytesStart<'_>) {
        match (local(e), &mut self.run) {
            ("pStyle", _) => self.style = attr(e, "val"),
            ("numId", _) => self.num_id = attr(e, "val"),
            ("ilvl", _) => self.ilvl = number(e, "val"),
            ("outlineLvl", _) => self.outline = number(e, "val"),
            ("r", _) => self.run = Some(Run::default()),
            ("rPr", Some(run)) => run.in_properties = true,
            ("b", Some(run)) if run.in_properties => run.bold = toggled(e),
            ("tab" | "ptab", Some(_)) => self.text(" "),
            ("br" | "cr", Some(_)) => self.spans.push(Span::Break),
            ("noBreakHyphen", Some(_)) => self.text("-"),
            _ => {}
        }
    }

    fn close(&mut self, name: &str) {
        match (name, &mut self.run) {
            ("r", _) => self.run = None,
            ("rPr", Some(run)) => run.in_properties = false,
            _ => {}
        }
    }

    fn text(&mut self, text: &str) {
        let bold = self.run.as_ref().is_some_and(|run| run.bold);
        match self.spans.last_mut() {
            Some(Span::Text {
                bold: last,
                text: so_far,
            }) if *last == bold => {
                so_far.push_str(text);
            }
            _ => self.spans.push(Span::Text {
                bold,
                text: text.to_owned(),
            }),
        }
    }

    /// The paragraph as Markdown lines, one per line break, empty ones left out.
    fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for span in &self.spans {
            match span {
                Span::Break => lines.push(std::mem::take(&mut line)),
                Span::Markdown(markdown) => line.push_str(markdown),
                Span::Text { bold, text } => push_text(&mut line, text, *bold),
            }
        }
        lines.push(line);
        lines
            .iter()
            .map(|line| line.trim())
            .filter(|line| !line.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// Escaped text; bold as `**…**` around letters only, spaces and punctuation outside, since
/// CommonMark leaves `** 甲方**` and `**甲方：**应当` unemphasised.
fn push_text(out: &mut String, text: &str, bold: bool) {
    let outside = |c: char| !c.is_alphanumeric();
    let core = text.trim_matches(outside);
    if !bold || core.is_empty() {
        escape_inline(text, out);
        return;
    }
    let before = text.len() - text.trim_start_matches(outside).len();
    let after = before + core.len();
    escape_inline(&text[..before], out);
    out.push_str("**");
    escape_inline(core, out);
    out.push_str("**");
    escape_inline(&text[after..], out);
}

/// A block at the top of the body: a heading, a bullet, a paragraph or a pipe table.
fn top_level(block: Block) -> Result<String, ConversionError> {
    let (heading, label, ilvl, mut lines) = match block {
        Block::Table(rows) => return table(&rows),
        Block::Paragraph {
            heading,
            label,
            ilvl,
            lines,
        } => (heading, label, ilvl, lines),
    };
    if let Some(Label::Text(label)) = &label {
        let mut text = String::new();
        escape_inline(label, &mut text);
        match lines.first_mut() {
            Some(first) => *first = format!("{text}{}{first}", label_gap(label)),
            None => lines.push(text),
        }
    }
    Ok(match (heading, label) {
        (Some(level), _) => format!("{} {}", "#".repeat(usize::from(level)), lines.join(" ")),
        (None, Some(Label::Bullet)) => {
            let indent = "  ".repeat(usize::from(ilvl.min(8)));
            let lines: Vec<String> = lines.iter().map(|line| escape_line_start(line)).collect();
            format!("{indent}- {}", lines.join("  \n"))
        }
        _ => {
            let lines: Vec<String> = lines.iter().map(|line| escape_line_start(line)).collect();
            lines.join("  \n")
        }
    })
}

/// What goes between a number and the text: nothing after a closing bracket or 、, as
/// "（一）甲方" is written; a space otherwise, where Word shows a tab.
fn label_gap(label: &str) -> &'static str {
    if label.ends_with(['）', '、', '．', '】', '〕']) {
        ""
    } else {
        " "
    }
}

/// A block run into a cell or an enclosing paragraph: one line of text.
fn inline(block: &Block) -> String {
    match block {
        Block::Paragraph { label, lines, .. } => {
            let mut text = String::new();
            let gap = match label {
                Some(Label::Text(label)) => {
                    escape_inline(label, &mut text);
                    label_gap(label)
                }
                Some(Label::Bullet) => {
                    text.push('•');
                    " "
                }
                None => "",
            };
            text.push_str(gap);
            text.push_str(&lines.join(" "));
            text.trim_end().to_owned()
        }
        Block::Table(rows) => rows
            .iter()
            .map(|row| row.join(" / "))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// A pipe table whose header is the first row; merged cells stay empty. A table with no text is
/// layout, not content, and is left out.
fn table(rows: &[Vec<String>]) -> Result<String, ConversionError> {
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    if rows.iter().flatten().all(String::is_empty) {
        return Ok(String::new());
    }
    if rows.len().saturating_mul(width) > MAX_TABLE_CELLS {
        return Err(ConversionError::TooLarge);
    }
    let line = |cells: &[String]| {
        let mut line = String::from("|");
        for i in 0..width {
            line.push(' ');
            line.push_str(
                &cells
                    .get(i)
                    .map_or(String::new(), |c| c.replace('|', "\\|")),
            );
            line.push_str(" |");
        }
        line
    };
    let mut lines = Vec::with_capacity(rows.len() + 1);
    let mut rows = rows.iter();
    lines.push(line(rows.next().map_or(&[][..], Vec::as_slice)));
    lines.push(format!("|{}", " --- |".repeat(width)));
    lines.extend(rows.map(|cells| line(cells)));
    Ok(lines.join("\n"))
}
