//! The text as the rules read it, with a map back to the bytes the reviewer sees.
//!
//! Real uploads are not clean: traditional characters, full-width Latin letters and digits,
//! OCR spaces and line breaks inside words, pinyin glosses after characters (`權(quán)`),
//! numbers spelled out (`九十日`, `forty-five (45) days`), a half-width `.` used as the Chinese
//! full stop, page footers. [`Normalized::new`] rewrites all of these into one form —
//! simplified, half-width, lower-case, digits — and keeps, for every stretch of the result,
//! where it came from, so a finding found in the normalised text still points at the
//! original bytes.

use std::sync::LazyLock;

use super::numerals;

/// Normalised text and how its offsets map to the original.
#[derive(Debug, Clone, Default)]
pub struct Normalized {
    pub text: String,
    segments: Vec<Segment>,
}

/// From `norm` on (until the next segment), the text is either a byte-for-byte-length copy of
/// the original from `orig` (`linear`), or a replacement for the original up to the next
/// segment's `orig`.
#[derive(Debug, Clone, Copy)]
struct Segment {
    norm: usize,
    orig: usize,
    linear: bool,
}

/// Traditional → simplified for the CJK unified ideographs (and extension A), built once from
/// the `fast2s` table; 0 where a character stays as it is or maps outside the BMP.
static T2S: LazyLock<Vec<u16>> = LazyLock::new(|| {
    (FIRST_CJK..=LAST_CJK)
        .map(|code| {
            let Some(c) = char::from_u32(code) else {
                return 0;
            };
            let mut buffer = [0u8; 4];
            let simplified = fast2s::convert(c.encode_utf8(&mut buffer));
            let mut chars = simplified.chars();
            match (chars.next(), chars.next()) {
                (Some(s), None) if s != c && s.len_utf8() == 3 => {
                    u16::try_from(u32::from(s)).unwrap_or(0)
                }
                _ => 0,
            }
        })
        .collect()
});

const FIRST_CJK: u32 = 0x3400;
const LAST_CJK: u32 = 0x9FFF;

/// The simplified form of `c`, or `c`.
pub fn simplified(c: char) -> char {
    let code = u32::from(c);
    if !(FIRST_CJK..=LAST_CJK).contains(&code) {
        return c;
    }
    let mapped = T2S[(code - FIRST_CJK) as usize];
    if mapped == 0 {
        c
    } else {
        char::from_u32(u32::from(mapped)).unwrap_or(c)
    }
}

/// A Han ideograph.
pub fn is_ideograph(c: char) -> bool {
    matches!(u32::from(c), 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF)
}

/// Chinese punctuation that OCR spaces may surround.
fn is_cjk_punctuation(c: char) -> bool {
    matches!(u32::from(c), 0x3001..=0x303F)
}

/// What a number is counted in, right after it: then it is read as a number.
const NUMBER_UNITS: [&str; 12] = [
    "个工作日",
    "工作日",
    "自然日",
    "日历天",
    "个月",
    "个",
    "日",
    "天",
    "月",
    "年",
    "周",
    "期",
];

const ENGLISH_UNITS: [&str; 11] = [
    "day", "days", "month", "months", "year", "years", "week", "weeks", "business", "calendar",
    "working",
];

struct Builder<'a> {
    source: &'a str,
    text: String,
    segments: Vec<Segment>,
}

impl Builder<'_> {
    /// Appends `piece`, which stands for `source[at..at + piece.len()]` with every character of
    /// the same length.
    fn copy(&mut self, at: usize, piece: &str) {
        let continues = self
            .segments
            .last()
            .is_some_and(|last| last.linear && last.orig + (self.text.len() - last.norm) == at);
        if !continues {
            self.segments.push(Segment {
                norm: self.text.len(),
                orig: at,
                linear: true,
            });
        }
        self.text.push_str(piece);
    }

    fn copy_char(&mut self, at: usize, c: char) {
        let mut buffer = [0u8; 4];
        self.copy(at, c.encode_utf8(&mut buffer));
    }

    /// Appends `piece` for `source[from..to]`.
    fn replace(&mut self, from: usize, to: usize, piece: &str) {
        if piece.len() == to - from && self.source.get(from..to) == Some(piece) {
            return self.copy(from, piece);
        }
        self.segments.push(Segment {
            norm: self.text.len(),
            orig: from,
            linear: false,
        });
        self.text.push_str(piece);
        // The next copy starts a new linear segment at `to`.
        self.segments.push(Segment {
            norm: self.text.len(),
            orig: to,
            linear: true,
        });
    }

    fn last_char(&self) -> Option<char> {
        self.text.chars().next_back()
    }
}

impl Normalized {
    /// Normalises `source`.
    pub fn new(source: &str) -> Self {
        let mut out = Builder {
            source,
            text: String::with_capacity(source.len()),
            segments: Vec::new(),
        };
        let bytes = source.as_bytes();
        let mut i = 0;
        let mut line_start = true;
        while i < source.len() {
            if line_start && let Some(end) = page_debris(source, i) {
                out.replace(i, end, "");
                i = end;
                continue;
            }
            line_start = false;
            let b = bytes[i];
            // ASCII fast path.
            if b.is_ascii() && !b.is_ascii_whitespace() {
                if b.is_ascii_alphabetic()
                    && !out.last_char().is_some_and(|c| c.is_ascii_alphanumeric())
                    && may_spell_a_number(&bytes[i..])
                    && let Some(end) = english_number(&mut out, source, i)
                {
                    i = end;
                    continue;
                }
                if b == b'(' && gloss_end(source, i, out.last_char()).is_some() {
                    let end = gloss_end(source, i, out.last_char()).unwrap_or(i + 1);
                    out.replace(i, end, "");
                    i = end;
                    continue;
                }
                if b == b'-'
                    && let Some(end) = hyphen_wrap_end(source, i, out.last_char())
                {
                    // "reim-\nbursable": a word hyphenated at the end of a line is one word.
                    out.replace(i, end, "");
                    i = end;
                    continue;
                }
                if b == b'.' && chinese_stop(source, i, out.last_char()) {
                    out.replace(i, i + 1, "。");
                    i += 1;
                    continue;
                }
                // A run that needs nothing but lower-casing: one copy.
                let mut j = i + 1;
                while j < bytes.len() && plain(bytes[j], bytes[j - 1]) {
                    j += 1;
                }
                if bytes[i..j].iter().any(u8::is_ascii_uppercase) {
                    out.copy(i, &source[i..j].to_ascii_lowercase());
                } else {
                    out.copy(i, &source[i..j]);
                }
                i = j;
                continue;
            }
            // A run of ideographs that fold to themselves or to a character of the same width.
            if is_plain_ideograph_start(b) {
                let run_end = ideograph_run(source, i);
                if run_end > i {
                    // Every character keeps its width: one linear stretch.
                    out.copy(i, "");
                    out.text.extend(source[i..run_end].chars().map(simplified));
                    i = run_end;
                    continue;
                }
            }
            let Some(c) = source[i..].chars().next() else {
                break;
            };
            if c.is_whitespace() {
                let mut end = whitespace_end(source, i);
                let mut newlines = source[i..end].matches('\n').count();
                // A page footer between two lines goes with the break around it.
                while newlines > 0
                    && end < source.len()
                    && let Some(debris) = page_debris(source, end)
                {
                    end = whitespace_end(source, debris);
                    newlines = 1;
                }
                let next = source[end..].chars().next().map(fold);
                let joins = |a: Option<char>, b: Option<char>| {
                    let (Some(a), Some(b)) = (a, b) else {
                        return false;
                    };
                    let cjk = |c: char| is_ideograph(c) || is_cjk_punctuation(c);
                    let near =
                        |c: char| c.is_ascii_digit() || matches!(c, ',' | ';' | ':' | '(' | ')');
                    (cjk(a) && (cjk(b) || near(b))) || (near(a) && cjk(b))
                };
                if newlines <= 1 && joins(out.last_char(), next) {
                    out.replace(i, end, "");
                } else if newlines == 1 && wraps(out.last_char(), &source[end..]) {
                    // A sentence wrapped onto the next line reads on, as in a Markdown paragraph.
                    out.replace(i, end, " ");
                    line_start = true;
                } else if newlines > 0 {
                    out.replace(i, end, "\n");
                    line_start = true;
                } else {
                    out.replace(i, end, " ");
                }
                i = end;
                continue;
            }
            let width = c.len_utf8();
            let folded = fold(c);
            if folded == '.' && chinese_stop(source, i, out.last_char()) {
                out.replace(i, i + width, "。");
            } else if folded == '(' && gloss_end(source, i, out.last_char()).is_some() {
                let end = gloss_end(source, i, out.last_char()).unwrap_or(i + width);
                out.replace(i, end, "");
                i = end;
                continue;
            } else if numerals::is_chinese_numeral(folded)
                && let Some(end) = chinese_number(&mut out, source, i)
            {
                i = end;
                continue;
            } else if folded.len_utf8() == width {
                out.copy_char(i, folded);
            } else {
                let mut buffer = [0u8; 4];
                out.replace(i, i + width, folded.encode_utf8(&mut buffer));
            }
            i += width;
        }
        let mut segments = out.segments;
        segments.push(Segment {
            norm: out.text.len(),
            orig: source.len(),
            linear: false,
        });
        Self {
            text: out.text,
            segments,
        }
    }

    fn segment(&self, at: usize) -> (Segment, usize) {
        let index = self
            .segments
            .partition_point(|s| s.norm <= at)
            .saturating_sub(1);
        let segment = self.segments.get(index).copied().unwrap_or(Segment {
            norm: 0,
            orig: 0,
            linear: true,
        });
        let next_orig = self
            .segments
            .get(index + 1)
            .map_or(segment.orig, |s| s.orig);
        (segment, next_orig)
    }

    /// The original offset where the normalised text from `at` on begins.
    pub fn start(&self, at: usize) -> usize {
        let (segment, next) = self.segment(at);
        if segment.linear {
            (segment.orig + (at - segment.norm)).min(next.max(segment.orig))
        } else {
            segment.orig
        }
    }

    /// The original offset where the normalised text up to `at` ends.
    pub fn end(&self, at: usize) -> usize {
        if at == 0 {
            return self.start(0);
        }
        let (segment, next) = self.segment(at - 1);
        if segment.linear {
            (segment.orig + (at - segment.norm)).min(next.max(segment.orig))
        } else {
            next
        }
    }
}

/// Whether the word at the start of `bytes` begins like a number word (a cheap test before
/// the real one).
fn may_spell_a_number(bytes: &[u8]) -> bool {
    const STARTS: [&[u8; 3]; 16] = [
        b"zer", b"one", b"two", b"thr", b"fou", b"fiv", b"six", b"sev", b"eig", b"nin", b"ten",
        b"ele", b"twe", b"thi", b"fif", b"for",
    ];
    if bytes.len() < 3 {
        return false;
    }
    let head = [
        bytes[0].to_ascii_lowercase(),
        bytes[1].to_ascii_lowercase(),
        bytes[2].to_ascii_lowercase(),
    ];
    STARTS.iter().any(|s| **s == head)
}

/// An ASCII byte that needs no more than lower-casing, after `before`: not a space, a
/// parenthesis (a pinyin gloss may start), a full stop (it may end a Chinese sentence), or the
/// first letter of a word that may spell a number.
fn plain(b: u8, before: u8) -> bool {
    b.is_ascii()
        && !b.is_ascii_whitespace()
        && b != b'('
        && b != b'.'
        && b != b'-'
        && !(b.is_ascii_alphabetic()
            && !before.is_ascii_alphanumeric()
            && matches!(
                b.to_ascii_lowercase(),
                b'o' | b't' | b'f' | b's' | b'e' | b'n' | b'z'
            ))
}

/// The lead byte of a three-byte character in the CJK ideograph block (U+4E00–U+9FFF).
fn is_plain_ideograph_start(b: u8) -> bool {
    (0xE4..=0xE9).contains(&b)
}

/// Where a run of ideographs ends that need only the character table: no numerals (they may
/// become digits) and nothing else special.
fn ideograph_run(source: &str, from: usize) -> usize {
    source[from..]
        .char_indices()
        .find(|(_, c)| {
            !matches!(u32::from(*c), 0x4E00..=0x9FFF)
                || numerals::is_chinese_numeral(simplified(*c))
                || simplified(*c).len_utf8() != 3
        })
        .map_or(source.len(), |(offset, _)| from + offset)
}

/// One character as the rules read it: full-width forms half-width, simplified, lower-case.
pub fn fold(c: char) -> char {
    let code = u32::from(c);
    let half = match code {
        0xFF01..=0xFF5E => char::from_u32(code - 0xFEE0).unwrap_or(c),
        0x3000 => ' ',
        0x2018 | 0x2019 => '\'',
        _ => c,
    };
    if half.is_ascii_uppercase() {
        half.to_ascii_lowercase()
    } else {
        simplified(half)
    }
}

/// Normalises a term of the rule book or a party name the same way as the text.
pub fn term(text: &str) -> String {
    Normalized::new(text).text
}

/// Where a hyphen at `at` that splits a word over two lines ends, with the line break: after a
/// letter, before a break and a lower-case letter.
fn hyphen_wrap_end(source: &str, at: usize, before: Option<char>) -> Option<usize> {
    if !before.is_some_and(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let rest = &source[at + 1..];
    let spaces = rest.len() - rest.trim_start_matches([' ', '\t', '\r']).len();
    let rest = &rest[spaces..];
    let after_break = rest.strip_prefix('\n')?;
    let indent = after_break.len() - after_break.trim_start_matches([' ', '\t']).len();
    after_break[indent..]
        .starts_with(|c: char| c.is_ascii_lowercase())
        .then_some(at + 1 + spaces + 1 + indent)
}

/// Whether one line break between `before` and `next_line` only wraps a sentence: not a
/// table row's edge, not the start of a listed item (`(a)`, `2.`, `iii)`, `-`, `•`).
fn wraps(before: Option<char>, next_line: &str) -> bool {
    if before.is_none_or(|c| c == '|') || next_line.starts_with(['|', '-', '•', '*', '·']) {
        return false;
    }
    let rest = next_line.strip_prefix('(').unwrap_or(next_line);
    let label = rest.bytes().take_while(u8::is_ascii_alphanumeric).count();
    let enumerated = (1..=4).contains(&label)
        && matches!(rest.as_bytes().get(label), Some(b'.' | b')'))
        && rest
            .as_bytes()
            .get(label + 1)
            .is_none_or(u8::is_ascii_whitespace);
    !enumerated
}

fn whitespace_end(source: &str, from: usize) -> usize {
    source[from..]
        .char_indices()
        .find(|(_, c)| !c.is_whitespace())
        .map_or(source.len(), |(i, _)| from + i)
}

/// `.` as a Chinese full stop: after an ideograph, before an ideograph or the end of a line.
fn chinese_stop(source: &str, at: usize, before: Option<char>) -> bool {
    if !before.is_some_and(is_ideograph) {
        return false;
    }
    let width = source[at..].chars().next().map_or(1, char::len_utf8);
    match source[at + width..].chars().next() {
        None => true,
        Some(next) => is_ideograph(fold(next)) || next == '\n' || next == '\r',
    }
}

fn is_tone_vowel(c: char) -> bool {
    "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü".contains(c)
}

/// A pinyin gloss `(quán)` right after an ideograph: where it ends.
fn gloss_end(source: &str, at: usize, before: Option<char>) -> Option<usize> {
    if !before.is_some_and(is_ideograph) {
        return None;
    }
    let mut chars = source[at..].char_indices().skip(1);
    let mut toned = false;
    for (count, (offset, c)) in chars.by_ref().enumerate() {
        if count > 8 {
            return None;
        }
        match c {
            ')' | '）' if count > 0 => return toned.then_some(at + offset + c.len_utf8()),
            c if c.is_ascii_lowercase() => {}
            c if is_tone_vowel(c) => toned = true,
            _ => return None,
        }
    }
    None
}

/// A page footer or header alone on its line ("第 3 页 共 10 页", "- 3 -", "Page 3 of 10"):
/// where the line (with its break) ends.
fn page_debris(source: &str, at: usize) -> Option<usize> {
    // A footer is short: look no further than that for the end of its line.
    let window = &source.as_bytes()[at..(at + 96).min(source.len())];
    let line_end = match window.iter().position(|&b| b == b'\n') {
        Some(i) => at + i,
        None if at + 96 >= source.len() => source.len(),
        None => return None,
    };
    let line = source[at..line_end].trim();
    if line.is_empty() || line.len() > 40 || !line.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    if !(line.starts_with('第')
        || line.starts_with('-')
        || line.as_bytes()[0].eq_ignore_ascii_case(&b'p'))
    {
        return None;
    }
    let lower = line.to_ascii_lowercase();
    let squeezed: String = lower.chars().filter(|c| !c.is_whitespace()).collect();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let debris = if let Some(rest) = squeezed.strip_prefix('第') {
        // 第3页 / 第3页共10页 / 第3页/共10页
        rest.split_once('页').is_some_and(|(n, tail)| {
            digits(n)
                && (tail.is_empty()
                    || tail
                        .trim_start_matches(['/', ',', '，'])
                        .strip_prefix('共')
                        .and_then(|t| t.strip_suffix('页'))
                        .is_some_and(digits))
        })
    } else if let Some(rest) = lower.strip_prefix("page ") {
        let mut words = rest.split_whitespace();
        words.next().is_some_and(digits)
            && match (words.next(), words.next(), words.next()) {
                (None, _, _) => true,
                (Some("of"), Some(n), None) => digits(n),
                _ => false,
            }
    } else if let Some(inner) = squeezed.strip_prefix('-').and_then(|s| s.strip_suffix('-')) {
        digits(inner)
    } else {
        false
    };
    debris.then(|| (line_end + 1).min(source.len()))
}

/// A Chinese numeral before a unit (`九十日`, `一个月`, `三年`, `百分之三十`): written as digits.
fn chinese_number(out: &mut Builder<'_>, source: &str, at: usize) -> Option<usize> {
    let run_end = source[at..]
        .char_indices()
        .find(|(_, c)| !numerals::is_chinese_numeral(fold(*c)))
        .map_or(source.len(), |(i, _)| at + i);
    // Most numerals are words (一般, 统一): only a unit or 百分之 after the run makes a number.
    let next = source[run_end..].chars().next().map(fold);
    let hundred_percent = source[at..run_end].chars().map(fold).eq(['百']) && next == Some('分');
    if !hundred_percent
        && !matches!(
            next,
            Some('个' | '工' | '自' | '日' | '天' | '月' | '年' | '周' | '期')
        )
    {
        return None;
    }
    let run: String = source[at..run_end].chars().map(fold).collect();
    // 百分之三十 → 30%
    if run == "百" {
        let rest = source.get(run_end..)?;
        let after = rest.strip_prefix("分之")?;
        let inner_start = run_end + "分之".len();
        let inner_end = after
            .char_indices()
            .find(|(_, c)| !numerals::is_chinese_numeral(fold(*c)) && !c.is_ascii_digit())
            .map_or(source.len(), |(i, _)| inner_start + i);
        let inner: String = source[inner_start..inner_end].chars().map(fold).collect();
        let value = numerals::chinese(&inner)?;
        out.replace(at, inner_end, &format!("{value}%"));
        return Some(inner_end);
    }
    let rest: String = source[run_end..].chars().take(4).map(fold).collect();
    if !NUMBER_UNITS.iter().any(|unit| rest.starts_with(unit)) {
        return None;
    }
    let value = numerals::chinese(&run)?;
    out.replace(at, run_end, &value.to_string());
    Some(run_end)
}

/// An English number spelled out before a unit or a parenthesised figure
/// (`forty-five (45) days`, `thirty days`): written as digits, the figure dropped.
fn english_number(out: &mut Builder<'_>, source: &str, at: usize) -> Option<usize> {
    let window_end = (at + 60).min(source.len());
    let window_end = (window_end..=source.len())
        .find(|&e| source.is_char_boundary(e))
        .unwrap_or(source.len());
    let lower = source[at..window_end].to_ascii_lowercase();
    let (value, length) = numerals::english(&lower)?;
    let rest = &lower[length..];
    let trimmed = rest.trim_start();
    let gap = rest.len() - trimmed.len();
    // "(45)" after the words: keep one number.
    if let Some(inner) = trimmed.strip_prefix('(')
        && let Some(close) = inner.find(')')
        && inner[..close].trim().bytes().all(|b| b.is_ascii_digit())
        && !inner[..close].trim().is_empty()
    {
        let end = at + length + gap + 1 + close + 1;
        out.replace(at, end, &value.to_string());
        return Some(end);
    }
    let unit_follows = gap > 0
        && ENGLISH_UNITS.iter().any(|unit| {
            trimmed.starts_with(unit)
                && trimmed[unit.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| !c.is_ascii_alphabetic())
        });
    if !unit_follows {
        return None;
    }
    out.replace(at, at + length, &value.to_string());
    Some(at + length)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn back(source: &str, needle: &str) -> String {
        let n = Normalized::new(source);
        let at = n
            .text
            .find(needle)
            .unwrap_or_else(|| panic!("{needle} in {:?}", n.text));
        source[n.start(at)..n.end(at + needle.len())].to_owned()
    }

    #[test]
    fn traditional_full_width_and_case_are_folded() {
        let n = Normalized::new("甲方為乙方提供連帶責任保證，ＡＢＣ Net 60");
        assert_eq!(n.text, "甲方为乙方提供连带责任保证,abc net 60");
        assert_eq!(back("甲方為乙方提供連帶責任保證", "连带责任"), "連帶責任");
    }

    #[test]
    fn ocr_breaks_and_pinyin_glosses_disappear() {
        let n = Normalized::new("承擔(dān)連帶清\n償責任 ， 付 款");
        assert_eq!(n.text, "承担连带清偿责任,付款");
        assert_eq!(back("承擔(dān)連帶", "担连"), "擔(dān)連");
        let kept = Normalized::new("第一段。\n\n第二段 (a) 条");
        assert!(
            kept.text.contains('\n') && kept.text.contains("(a)"),
            "{}",
            kept.text
        );
    }

    #[test]
    fn numbers_become_digits_before_their_unit() {
        assert_eq!(Normalized::new("验收后九十日内").text, "验收后90日内");
        assert_eq!(Normalized::new("一个月以后").text, "1个月以后");
        assert_eq!(Normalized::new("百分之三十").text, "30%");
        assert_eq!(
            Normalized::new("一次性付清，统一结算").text,
            "一次性付清,统一结算"
        );
        assert_eq!(
            Normalized::new("within Forty-Five (45) days").text,
            "within 45 days"
        );
        assert_eq!(
            Normalized::new("thirty days; no one").text,
            "30 days; no one"
        );
        assert_eq!(back("验收后九十日内", "90日"), "九十日");
    }

    #[test]
    fn a_half_width_stop_between_characters_ends_a_sentence() {
        assert_eq!(
            Normalized::new("退还.设备到货 1.5%").text,
            "退还。设备到货1.5%"
        );
    }

    #[test]
    fn a_wrapped_line_reads_on_but_rows_and_items_stay_apart() {
        assert_eq!(
            Normalized::new("are subject\nto appropriation").text,
            "are subject to appropriation"
        );
        assert_eq!(
            Normalized::new("whereas:\n(a) the city").text,
            "whereas:\n(a) the city"
        );
        assert_eq!(
            Normalized::new("first;\n2. second").text,
            "first;\n2. second"
        );
        assert_eq!(Normalized::new("| a |\n| b |").text, "| a |\n| b |");
        assert_eq!(Normalized::new("one\n\ntwo").text, "one\ntwo");
        assert_eq!(
            Normalized::new("reim-\n bursable costs; well-known").text,
            "reimbursable costs; well-known"
        );
        assert_eq!(back("reim-\nbursable", "reimb"), "reim-\nb");
    }

    #[test]
    fn page_debris_is_dropped() {
        let n = Normalized::new("甲方付\n第 3 页 共 10 页\n款。\n- 4 -\nPage 5 of 9\nthe end");
        assert_eq!(
            n.text, "甲方付款。 the end",
            "a footer inside a sentence joins it again"
        );
    }

    #[test]
    fn offsets_stay_on_character_boundaries() {
        for source in [
            "",
            "a",
            "（）(ā)",
            "長\u{3000}期",
            "二〇二五年",
            "x.y。",
            "百分之",
            "第页",
        ] {
            let n = Normalized::new(source);
            for at in 0..=n.text.len() {
                if n.text.is_char_boundary(at) {
                    assert!(source.is_char_boundary(n.start(at)), "{source:?} {at}");
                    assert!(source.is_char_boundary(n.end(at)), "{source:?} {at}");
                    assert!(n.start(at) <= source.len() && n.end(at) <= source.len());
                }
            }
        }
    }
}
