//! A PDF draft with a text layer as Markdown. A PDF keeps no paragraphs, only text placed on
//! pages: the text is read with its position, pieces on one baseline make a line, and lines
//! make paragraphs again where the layout or the wording says so — a gap, an indented first
//! line, a short last line, a new clause (第X条, （一）, 1.1) or a sentence that ended. Pages
//! keep their order; bare page numbers are dropped, and a page with no readable text leaves a
//! note in its place, so nothing disappears silently.

use std::collections::{BTreeMap, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};

use lopdf::content::{Content, Operation};
use lopdf::{
    DecompressError, Dictionary, Document, Encoding, LoadOptions, Object, ObjectId, Stream,
};

use super::{
    ConversionError, MAX_CONTENT_BYTES, MAX_MARKDOWN_BYTES, escape_inline, escape_line_start, sniff,
};

/// Largest single stream decoded while loading (object and cross-reference streams).
const MAX_STREAM_BYTES: usize = 16 << 20;
/// Codes mapped by all the ToUnicode maps of one file, at most (see [`cmap_codes`]).
const MAX_CMAP_CODES: u64 = 1 << 18;
/// Largest ToUnicode map read; a full Chinese font's is a few hundred KB.
const MAX_CMAP_BYTES: usize = 1 << 20;
/// Nesting of saved graphics states honoured.
const MAX_SAVED_STATES: usize = 64;
/// Forms drawn within forms, at most: a form may draw itself.
const MAX_FORM_DEPTH: usize = 8;

/// # Errors
/// An encrypted, damaged or oversized PDF, or one without text (a scan).
pub(super) fn to_markdown(bytes: &[u8]) -> Result<String, ConversionError> {
    let bytes = bytes
        .get(sniff::pdf_start(bytes).unwrap_or(0)..)
        .unwrap_or(bytes);
    // lopdf is young on hostile input: should it panic, the upload is damaged, not the worker.
    catch_unwind(AssertUnwindSafe(|| read(bytes))).unwrap_or(Err(ConversionError::Corrupt))
}

fn read(bytes: &[u8]) -> Result<String, ConversionError> {
    let options = LoadOptions::with_max_decompressed_size(MAX_STREAM_BYTES);
    let doc = Document::load_mem_with_options(bytes, options).map_err(|e| load_error(&e, bytes))?;
    // Loading opens files whose user password is empty; a remaining /Encrypt needs a password.
    if doc.is_encrypted() {
        return Err(ConversionError::Encrypted);
    }
    let pages = doc.get_pages();
    if pages.is_empty() {
        return Err(ConversionError::Corrupt);
    }
    let mut reader = Reader::new(&doc);
    let mut paragraphs = Paragraphs::default();
    let mut any_text = false;
    for (number, page) in pages {
        let text = reader.page(page)?;
        if text.lines.iter().all(|line| line.text.trim().is_empty()) {
            if !text.drew {
                continue; // a blank page
            }
            paragraphs.note(format!(
                "〔第 {number} 页未能读出文字，可能是扫描页 / no text could be read from page {number}; it may be scanned〕"
            ));
            continue;
        }
        any_text = true;
        paragraphs.page(&text.lines);
        if text.unreadable {
            paragraphs.note(format!(
                "〔第 {number} 页有部分文字无法识别 / some text on page {number} could not be read〕"
            ));
        }
    }
    if !any_text {
        return Err(ConversionError::NoTextLayer);
    }
    paragraphs.markdown()
}

fn load_error(error: &lopdf::Error, bytes: &[u8]) -> ConversionError {
    match error {
        lopdf::Error::Decompress(DecompressError::MemoryLimitExceeded { .. }) => {
            ConversionError::TooLarge
        }
        _ if bytes.windows(8).any(|w| w == b"/Encrypt") => ConversionError::Encrypted,
        _ => ConversionError::Corrupt,
    }
}

/// Reads the pages of one file: font encodings worked out once, and what may still be inflated.
struct Reader<'a> {
    doc: &'a Document,
    /// By the font dictionary's address: the document is not changed while it is read.
    encodings: HashMap<usize, Option<Encoding<'a>>>,
    cmap_budget: u64,
    content_budget: usize,
}

impl<'a> Reader<'a> {
    fn new(doc: &'a Document) -> Self {
        Self {
            doc,
            encodings: HashMap::new(),
            cmap_budget: MAX_CMAP_CODES,
            content_budget: usize::try_from(MAX_CONTENT_BYTES).unwrap_or(usize::MAX),
        }
    }

    /// The text of one page, in content order.
    fn page(&mut self, page: ObjectId) -> Result<PageText<'a>, ConversionError> {
        let fonts = self.doc.get_page_fonts(page).unwrap_or_default();
        let (resources, inherited) = self.doc.get_page_resources(page).unwrap_or_default();
        let inherited = inherited
            .iter()
            .filter_map(|id| self.doc.get_dictionary(*id).ok());
        let forms = resources
            .into_iter()
            .chain(inherited)
            .flat_map(|r| forms(self.doc, r));
        let mut text = PageText::new(fonts, forms.collect(), Matrix::IDENTITY, 0);
        let content = match self
            .doc
            .get_page_content_with_limit(page, self.content_budget)
        {
            Ok(content) => content,
            Err(lopdf::Error::Decompress(DecompressError::MemoryLimitExceeded { .. })) => {
                return Err(ConversionError::TooLarge);
            }
            Err(_) => return Ok(text),
        };
        self.content_budget = self.content_budget.saturating_sub(content.len());
        text.run(&content, self);
        Ok(text)
    }

    /// A form's content, if it may still be inflated.
    fn form_content(&mut self, form: &Stream) -> Option<Vec<u8>> {
        let content = form
            .get_plain_content_with_limit(self.content_budget)
            .ok()?;
        self.content_budget = self.content_budget.saturating_sub(content.len());
        Some(content)
    }

    fn encoding(&mut self, font: &'a Dictionary) -> Option<&Encoding<'a>> {
        let key = std::ptr::from_ref(font).addr();
        if !self.encodings.contains_key(&key) {
            let encoding = self.read_encoding(font);
            self.encodings.insert(key, encoding);
        }
        self.encodings.get(&key)?.as_ref()
    }

    /// `None` for a font whose text cannot be told: a two-byte font without a map to Unicode,
    /// or a map too large to expand.
    fn read_encoding(&mut self, font: &'a Dictionary) -> Option<Encoding<'a>> {
        match font
            .get_deref(b"ToUnicode", self.doc)
            .and_then(Object::as_stream)
        {
            Ok(stream) => {
                let cmap = stream.get_plain_content_with_limit(MAX_CMAP_BYTES).ok()?;
                let codes = cmap_codes(&String::from_utf8_lossy(&cmap))?;
                self.cmap_budget = self.cmap_budget.checked_sub(codes)?;
            }
            // Without one, lopdf reads a two-byte font only in the Unicode CMaps; for the others
            // it would guess one-byte Latin and produce gibberish.
            Err(_) if subtype(font) == Some(b"Type0") => {
                let encoding = font.get(b"Encoding").and_then(Object::as_name);
                if !matches!(encoding, Ok(b"UniGB-UCS2-H" | b"UniGB-UTF16-H")) {
                    return None;
                }
            }
            Err(_) => {}
        }
        font.get_font_encoding_with_limit(self.doc, MAX_STREAM_BYTES)
            .ok()
    }
}

fn subtype(dict: &Dictionary) -> Option<&[u8]> {
    dict.get(b"Subtype").and_then(Object::as_name).ok()
}

/// The named entries of a resource dictionary's `key` (`Font`, `XObject`), dereferenced.
fn resources<'a>(
    doc: &'a Document,
    resources: &'a Dictionary,
    key: &[u8],
) -> impl Iterator<Item = (&'a Vec<u8>, &'a Object)> {
    let entries = resources.get_deref(key, doc).and_then(Object::as_dict).ok();
    entries
        .into_iter()
        .flat_map(|entries| entries.iter())
        .filter_map(|(name, object)| Some((name, doc.dereference(object).ok()?.1)))
}

/// The form XObjects a resource dictionary names: content drawn with `Do`, text included.
fn forms<'a>(doc: &'a Document, dict: &'a Dictionary) -> BTreeMap<Vec<u8>, &'a Stream> {
    resources(doc, dict, b"XObject")
        .filter_map(|(name, object)| Some((name, object.as_stream().ok()?)))
        .filter(|(_, stream)| subtype(&stream.dict) == Some(b"Form"))
        .map(|(name, stream)| (name.clone(), stream))
        .collect()
}

fn fonts<'a>(doc: &'a Document, dict: &'a Dictionary) -> BTreeMap<Vec<u8>, &'a Dictionary> {
    resources(doc, dict, b"Font")
        .filter_map(|(name, object)| Some((name.clone(), object.as_dict().ok()?)))
        .collect()
}

/// How many codes a ToUnicode map maps; `None` when its ranges cannot be read. lopdf expands
/// every `bfrange` code by code, so a hostile `<00000000> <FFFFFFFF>` must be refused before it
/// is handed over.
fn cmap_codes(cmap: &str) -> Option<u64> {
    let mut total = 0_u64;
    for section in cmap.split("beginbfchar").skip(1) {
        let body = section.split("endbfchar").next().unwrap_or_default();
        let codes = u64::try_from(body.matches('<').count() / 2).unwrap_or(u64::MAX);
        total = total.saturating_add(codes);
    }
    for section in cmap.split("beginbfrange").skip(1) {
        let body = section.split("endbfrange").next().unwrap_or_default();
        let mut range: Vec<u64> = Vec::with_capacity(2);
        let mut rest = body.trim_start();
        while !rest.is_empty() {
            let (token, tail) = match rest.strip_prefix('<') {
                Some(after) => after.split_once('>')?,
                None => rest.strip_prefix('[')?.split_once(']')?,
            };
            if range.len() == 2 {
                // The destination: one code or an array of them.
                let codes = range[1].checked_sub(range[0])?.saturating_add(1);
                total = total.saturating_add(codes);
                range.clear();
            } else if rest.starts_with('<') && token.trim().len() <= 8 {
                range.push(u64::from_str_radix(token.trim(), 16).ok()?);
            } else {
                return None;
            }
            rest = tail.trim_start();
        }
        if !range.is_empty() {
            return None;
        }
    }
    Some(total)
}

// ---- text on a page -------------------------------------------------------------------------

/// An affine transform `[a b c d e f]`, as PDF writes them.
#[derive(Clone, Copy)]
struct Matrix([f32; 6]);

impl Matrix {
    const IDENTITY: Self = Self([1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);

    /// `self` first, then `next`.
    fn then(self, next: Self) -> Self {
        let [a, b, c, d, e, f] = self.0;
        let [a2, b2, c2, d2, e2, f2] = next.0;
        Self([
            a * a2 + b * c2,
            a * b2 + b * d2,
            c * a2 + d * c2,
            c * b2 + d * d2,
            e * a2 + f * c2 + e2,
            e * b2 + f * d2 + f2,
        ])
    }
}

/// One line of text as laid out: where it starts, where it is estimated to end, its size.
#[derive(Debug, Clone)]
struct Line {
    x: f32,
    y: f32,
    end: f32,
    size: f32,
    text: String,
}

/// The text state of a page's content stream, as far as finding lines needs it.
struct PageText<'a> {
    fonts: BTreeMap<Vec<u8>, &'a Dictionary>,
    forms: BTreeMap<Vec<u8>, &'a Stream>,
    /// How many forms deep the content being read is.
    depth: usize,
    font: Option<&'a Dictionary>,
    font_size: f32,
    ctm: Matrix,
    saved: Vec<Matrix>,
    text_matrix: Matrix,
    line_matrix: Matrix,
    leading: f32,
    lines: Vec<Line>,
    /// Whether some shown text could not be decoded.
    unreadable: bool,
    /// Whether anything was drawn that could hold text: text, an image, a filled shape.
    drew: bool,
}

impl<'a> PageText<'a> {
    fn new(
        fonts: BTreeMap<Vec<u8>, &'a Dictionary>,
        forms: BTreeMap<Vec<u8>, &'a Stream>,
        ctm: Matrix,
        depth: usize,
    ) -> Self {
        Self {
            fonts,
            forms,
            depth,
            font: None,
            font_size: 0.0,
            ctm,
            saved: Vec::new(),
            text_matrix: Matrix::IDENTITY,
            line_matrix: Matrix::IDENTITY,
            leading: 0.0,
            lines: Vec::new(),
            unreadable: false,
            drew: false,
        }
    }

    /// Reads a content stream, as far as it parses.
    fn run(&mut self, content: &[u8], reader: &mut Reader<'a>) {
        for operation in Content::decode_iter(content) {
            let Ok(operation) = operation else { break };
            self.apply(&operation, reader);
        }
    }

    fn apply(&mut self, operation: &Operation, reader: &mut Reader<'a>) {
        let operands = operation.operands.as_slice();
        let operator = operation.operator.as_str();
        if matches!(
            operator,
            "Tj" | "TJ" | "'" | "\"" | "Do" | "BI" | "f" | "F" | "f*" | "B" | "B*" | "b" | "b*"
        ) {
            self.drew = true;
        }
        match operator {
            "q" if self.saved.len() < MAX_SAVED_STATES => self.saved.push(self.ctm),
            "Q" => self.ctm = self.saved.pop().unwrap_or(self.ctm),
            "cm" => {
                if let Some(m) = numbers(operands) {
                    self.ctm = Matrix(m).then(self.ctm);
                }
            }
            "BT" => {
                self.text_matrix = Matrix::IDENTITY;
                self.line_matrix = Matrix::IDENTITY;
            }
            "Tf" => {
                if let [Object::Name(name), size] = operands {
                    self.font = self.fonts.get(name).copied();
                    self.font_size = size.as_float().unwrap_or(0.0);
                }
            }
            "TL" => {
                if let Some([leading]) = numbers(operands) {
                    self.leading = leading;
                }
            }
            "Td" | "TD" => {
                if let Some([x, y]) = numbers(operands) {
                    if operator == "TD" {
                        self.leading = -y;
                    }
                    self.move_line(x, y);
                }
            }
            "Tm" => {
                if let Some(m) = numbers(operands) {
                    self.line_matrix = Matrix(m);
                    self.text_matrix = Matrix(m);
                }
            }
            "T*" => self.move_line(0.0, -self.leading),
            "Tj" => self.show(operands.first(), reader),
            "'" => {
                self.move_line(0.0, -self.leading);
                self.show(operands.first(), reader);
            }
            "\"" => {
                self.move_line(0.0, -self.leading);
                self.show(operands.get(2), reader);
            }
            "TJ" => {
                let items = operands.first().and_then(|o| o.as_array().ok());
                for item in items.into_iter().flatten() {
                    match item.as_float() {
                        // A shift of a fifth of an em or more is a space between words.
                        Ok(shift) if shift < -200.0 => self.space(),
                        Ok(_) => {}
                        Err(_) => self.show(Some(item), reader),
                    }
                }
            }
            "Do" => {
                if let [Object::Name(name)] = operands {
                    self.draw_form(name, reader);
                }
            }
            _ => {}
        }
    }

    /// Reads a form XObject where it is drawn, with its own resources and matrix. Its lines join
    /// the page's in drawing order.
    fn draw_form(&mut self, name: &[u8], reader: &mut Reader<'a>) {
        let Some(form) = self.forms.get(name).copied() else {
            return;
        };
        let content = (self.depth < MAX_FORM_DEPTH)
            .then(|| reader.form_content(form))
            .flatten();
        let Some(content) = content else {
            self.unreadable = true;
            return;
        };
        let matrix = form.dict.get(b"Matrix").and_then(Object::as_array);
        let matrix = matrix
            .ok()
            .and_then(|m| numbers(m))
            .map_or(Matrix::IDENTITY, Matrix);
        let own = form
            .dict
            .get_deref(b"Resources", reader.doc)
            .and_then(Object::as_dict);
        let (fonts, forms) = match own {
            Ok(own) => (fonts(reader.doc, own), forms(reader.doc, own)),
            Err(_) => (self.fonts.clone(), self.forms.clone()),
        };
        let mut inner = PageText::new(fonts, forms, matrix.then(self.ctm), self.depth + 1);
        inner.lines = std::mem::take(&mut self.lines);
        inner.run(&content, reader);
        self.lines = inner.lines;
        self.unreadable |= inner.unreadable;
        self.drew |= inner.drew;
    }

    fn move_line(&mut self, x: f32, y: f32) {
        self.line_matrix = Matrix([1.0, 0.0, 0.0, 1.0, x, y]).then(self.line_matrix);
        self.text_matrix = self.line_matrix;
    }

    fn space(&mut self) {
        if let Some(line) = self.lines.last_mut()
            && !line.text.ends_with(' ')
        {
            line.text.push(' ');
        }
    }

    /// Places a shown string: on the current line when it sits on the same baseline.
    fn show(&mut self, operand: Option<&Object>, reader: &mut Reader<'a>) {
        let Some(Ok(bytes)) = operand.map(Object::as_str) else {
            return;
        };
        let encoding = self.font.and_then(|font| reader.encoding(font));
        let Some(Ok(decoded)) = encoding.map(|encoding| Document::decode_text(encoding, bytes))
        else {
            self.unreadable = true;
            return;
        };
        // U+FFFD stands for codes the font's map does not know.
        self.unreadable |= decoded.contains('\u{FFFD}');
        let text: String = decoded
            .chars()
            .filter(|c| !c.is_control() && *c != '\u{FFFD}')
            .collect();
        if text.is_empty() {
            return;
        }
        let m = self.text_matrix.then(self.ctm).0;
        let size = (self.font_size * m[2].hypot(m[3])).abs();
        let size = if size.is_finite() && size >= 1.0 {
            size
        } else {
            1.0
        };
        let (x, y) = (m[4], m[5]);
        let width = estimated_width(&text, size);
        match self.lines.last_mut() {
            Some(line) if (line.y - y).abs() <= line.size.max(size) * 0.4 => {
                let gap = x - line.end;
                let words = line.text.ends_with(|c: char| c.is_ascii_alphanumeric())
                    && text.starts_with(|c: char| c.is_ascii_alphanumeric());
                if gap > size || (words && gap > size * 0.2) {
                    line.text.push(' ');
                }
                line.text.push_str(&text);
                line.end = line.end.max(x) + width;
            }
            _ => self.lines.push(Line {
                x,
                y,
                end: x + width,
                size,
                text,
            }),
        }
    }
}

/// The operands as `N` numbers, when they are.
fn numbers<const N: usize>(operands: &[Object]) -> Option<[f32; N]> {
    let mut out = [0.0; N];
    if operands.len() < N {
        return None;
    }
    for (slot, operand) in out.iter_mut().zip(operands) {
        *slot = operand.as_float().ok()?;
    }
    Some(out)
}

/// Without glyph widths: Latin letters are about half an em, Chinese characters a full one.
fn estimated_width(text: &str, size: f32) -> f32 {
    text.chars()
        .map(|c| if c.is_ascii() { 0.5 } else { 1.0 })
        .sum::<f32>()
        * size
}

// ---- lines into paragraphs ------------------------------------------------------------------

#[derive(Default)]
struct Paragraphs {
    done: Vec<String>,
    current: String,
    last: Option<Line>,
    /// The distance between the lines of the current paragraph, once it has two.
    pitch: Option<f32>,
}

impl Paragraphs {
    fn page(&mut self, lines: &[Line]) {
        let right = lines.iter().map(|l| l.end).fold(f32::MIN, f32::max);
        let mut same_page = false;
        for line in lines {
            let text = line.text.trim();
            if text.is_empty() || is_page_number(text) {
                continue;
            }
            let layout = Layout {
                pitch: self.pitch,
                right,
                same_page,
            };
            match &self.last {
                Some(previous) if !layout.starts_paragraph(previous, line) => {
                    if same_page {
                        self.pitch.get_or_insert(previous.y - line.y);
                    }
                }
                _ => self.end(),
            }
            join(&mut self.current, text);
            self.last = Some(line.clone());
            same_page = true;
        }
    }

    /// A note of ours between paragraphs, e.g. that a page could not be read.
    fn note(&mut self, note: String) {
        self.end();
        self.last = None;
        self.done.push(note);
    }

    fn end(&mut self) {
        if !self.current.is_empty() {
            let mut escaped = String::new();
            escape_inline(&std::mem::take(&mut self.current), &mut escaped);
            self.done.push(escape_line_start(&escaped));
        }
        self.pitch = None;
    }

    fn markdown(mut self) -> Result<String, ConversionError> {
        self.end();
        let mut markdown = self.done.join("\n\n");
        markdown.push('\n');
        if markdown.len() > MAX_MARKDOWN_BYTES {
            return Err(ConversionError::TooLarge);
        }
        Ok(markdown)
    }
}

/// What is known of the page around two lines.
struct Layout {
    pitch: Option<f32>,
    /// The right end of the page's longest line.
    right: f32,
    same_page: bool,
}

impl Layout {
    /// Whether `line` starts a new paragraph after `previous`.
    fn starts_paragraph(&self, previous: &Line, line: &Line) -> bool {
        if ends_sentence(previous.text.trim()) || opens_clause(line.text.trim()) {
            return true;
        }
        if !self.same_page {
            return false;
        }
        let size = previous.size.max(line.size);
        let drop = previous.y - line.y;
        let gap = match self.pitch {
            Some(pitch) => drop > pitch * 1.3 + 1.0,
            None => drop > size * 2.5,
        };
        let moved_up = drop.is_nan() || drop <= 0.0;
        let indented = line.x > previous.x + size;
        let short = previous.end < self.right - size * 4.0;
        moved_up || gap || indented || short
    }
}

/// Continues a paragraph with its next line: Chinese runs on, English words get a space.
fn join(paragraph: &mut String, line: &str) {
    let needs_space = paragraph
        .chars()
        .last()
        .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, ',' | ';' | ':' | '.' | ')'))
        && line.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '(');
    if needs_space {
        paragraph.push(' ');
    }
    paragraph.push_str(line);
}

fn ends_sentence(text: &str) -> bool {
    text.ends_with(['。', '；', '：', '！', '？', ':', ';'])
}

/// Whether a line opens a clause or an item the way contracts number them: 第五条, 三、,
/// （二）, (2), 1.1, 1、, Article 5, Section 5.2.
fn opens_clause(line: &str) -> bool {
    let numeral = |c: char| "一二三四五六七八九十百零〇两".contains(c) || c.is_ascii_digit();
    if let Some(rest) = line.strip_prefix('第') {
        let after = rest.trim_start_matches(numeral);
        return after.len() < rest.len() && after.starts_with(['条', '章', '节', '部', '款']);
    }
    if let Some(rest) = line.strip_prefix(['（', '(']) {
        return rest.starts_with(numeral);
    }
    let lower = line.to_ascii_lowercase();
    if let Some(rest) = lower
        .strip_prefix("article ")
        .or_else(|| lower.strip_prefix("section "))
    {
        return rest.starts_with(|c: char| c.is_ascii_digit());
    }
    let rest = line.trim_start_matches(numeral);
    if rest.len() == line.len() {
        return false;
    }
    let number = &line[..line.len() - rest.len()];
    rest.starts_with(['、', '．'])
        || (number.bytes().all(|b| b.is_ascii_digit())
            && rest.starts_with('.')
            && rest[1..].starts_with(|c: char| c.is_ascii_digit() || c == ' '))
}

/// A page number standing alone: 3, - 3 -, 第3页, 第 3 页 共 10 页, 3/10, Page 3 of 10.
fn is_page_number(line: &str) -> bool {
    let compact: String = line
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    let bare = compact.trim_matches(['-', '—', '–', '－']);
    let bare = bare
        .strip_prefix("page")
        .or_else(|| bare.strip_prefix('第'))
        .unwrap_or(bare);
    let (number, rest) = split_number(bare);
    if !(1..=3).contains(&number.len()) {
        return false;
    }
    let rest = rest.strip_prefix('页').unwrap_or(rest);
    let total = rest
        .strip_prefix("of")
        .or_else(|| rest.strip_prefix('/'))
        .or_else(|| rest.strip_prefix('共'));
    match total {
        None => rest.is_empty(),
        Some(total) => {
            let (number, rest) = split_number(total);
            (1..=4).contains(&number.len()) && matches!(rest, "" | "页")
        }
    }
}

/// The leading ASCII digits of `text`, and the rest.
fn split_number(text: &str) -> (&str, &str) {
    let rest = text.trim_start_matches(|c: char| c.is_ascii_digit());
    text.split_at(text.len() - rest.len())
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::*;

    fn line(x: f32, y: f32, text: &str) -> Line {
        Line {
            x,
            y,
            end: x + estimated_width(text, 12.0),
            size: 12.0,
            text: text.to_owned(),
        }
    }

    fn markdown(lines: &[Line]) -> String {
        let mut paragraphs = Paragraphs::default();
        paragraphs.page(lines);
        paragraphs.markdown().expect("small text")
    }

    #[test]
    fn indented_first_lines_and_gaps_start_paragraphs() {
        let lines = [
            line(
                96.0,
                800.0,
                "甲方应当按照本合同约定的期限和方式支付合同价款，不得",
            ),
            line(72.0, 780.0, "拖欠"),
            line(
                96.0,
                760.0,
                "乙方应当按期交付合同约定的标的物，并保证其质量符合国家",
            ),
            line(72.0, 740.0, "标准"),
            line(72.0, 700.0, "附件"),
        ];

        assert_eq!(
            markdown(&lines),
            "甲方应当按照本合同约定的期限和方式支付合同价款，不得拖欠\n\n乙方应当按期交付合同约定的标的物，并保证其质量符合国家标准\n\n附件\n"
        );
    }

    #[test]
    fn clause_openers() {
        for opener in [
            "第十二条 违约责任",
            "（三）付款方式",
            "(2) 验收",
            "三、付款方式",
            "1.1 工程范围",
            "1、总则",
            "Article 5 Payment",
        ] {
            assert!(opens_clause(opener), "{opener}");
        }
        for text in [
            "第三方检测费用由乙方承担",
            "三方共同确认",
            "2026年12月1日",
            "十分重要",
        ] {
            assert!(!opens_clause(text), "{text}");
        }
    }

    #[test]
    fn page_numbers() {
        for number in [
            "3",
            "- 3 -",
            "第3页",
            "第 3 页 共 10 页",
            "3/10",
            "Page 3 of 10",
        ] {
            assert!(is_page_number(number), "{number}");
        }
        for text in ["2026", "3.5", "第三条", "1. 范围"] {
            assert!(!is_page_number(text), "{text}");
        }
    }

    #[test]
    fn to_unicode_ranges_are_counted_before_lopdf_expands_them() {
        let cmap =
            "2 beginbfrange\n<0000> <00FF> <0020>\n<0100> <0101> [<4E00> <4E01>]\nendbfrange";
        assert_eq!(cmap_codes(cmap), Some(258));
        let hostile = "1 beginbfrange\n<00000000> <FFFFFFFF> <0041>\nendbfrange";
        assert_eq!(cmap_codes(hostile), Some(1 << 32));
        assert_eq!(cmap_codes("1 beginbfrange\n<0000> junk\nendbfrange"), None);
        let chars = "2 beginbfchar\n<0001> <4E00>\n<0002> <4E01>\nendbfchar";
        assert_eq!(cmap_codes(chars), Some(2));
    }

    #[test]
    fn blank_pages_leave_no_note() {
        let pdf = fixtures::pdf(&[&["第一条 甲方。"], &[], &["第二条 乙方。"]]);

        assert_eq!(
            to_markdown(&pdf),
            Ok("第一条 甲方。\n\n第二条 乙方。\n".to_owned())
        );
    }

    #[test]
    fn text_inside_a_form_xobject_is_read() {
        let mut doc = Document::load_mem(&fixtures::text_pdf(&["第一条 表单中的文字。"]))
            .expect("the fixture loads");
        let page = *doc.get_pages().values().next().expect("one page");
        let page_dict = doc.get_dictionary(page).expect("a page");
        let resources = page_dict.get(b"Resources").expect("resources").clone();
        let contents = page_dict
            .get(b"Contents")
            .and_then(Object::as_reference)
            .expect("contents");
        let mut form = doc
            .get_object(contents)
            .and_then(Object::as_stream)
            .expect("a stream")
            .clone();
        form.dict.set("Type", "XObject");
        form.dict.set("Subtype", "Form");
        form.dict.set("Resources", resources);
        let form = doc.add_object(form);
        let drawing = doc.add_object(Stream::new(lopdf::dictionary! {}, b"q /Fm1 Do Q".to_vec()));
        let page_dict = doc
            .get_object_mut(page)
            .and_then(Object::as_dict_mut)
            .expect("a page");
        page_dict.set("Contents", drawing);
        page_dict.set(
            "Resources",
            lopdf::dictionary! { "XObject" => lopdf::dictionary! { "Fm1" => form } },
        );
        let mut bytes = Vec::new();
        doc.save_to(&mut bytes).expect("saving to memory");

        assert_eq!(
            to_markdown(&bytes),
            Ok("第一条 表单中的文字。\n".to_owned())
        );
    }
}
