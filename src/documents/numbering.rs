//! Word's automatic numbering, materialised as text. A reviewer cites "第三条", so the numbers
//! Word draws must become words: each level's pattern (`第%1条`, `（%1）`, `%1.%2.%3`) with every
//! `%n` replaced by level n's counter in its format (一二三, 1 2 3, a b c, i ii iii, 甲乙丙, ①②③),
//! counted as Word counts: per abstract list, deeper levels starting again when a higher one
//! advances, and a list instance with a start override restarting where it is first used.

use std::collections::{HashMap, HashSet};

use quick_xml::events::BytesStart;

use super::ConversionError;
use super::docx::{Node, attr, local, number, toggled, walk};

/// Longest level pattern honoured: Word's are a few characters, a longer one is hostile.
const MAX_PATTERN_BYTES: usize = 256;

/// One level of an abstract list (`w:lvl`).
#[derive(Default)]
struct Level {
    /// `w:start`; 0 when absent, as the standard says.
    start: u32,
    /// `w:numFmt`: decimal, chineseCounting, upperRoman, bullet…
    format: String,
    /// `w:lvlText`, e.g. `第%1条`.
    pattern: String,
    /// `w:isLgl`: every number of the pattern in decimal.
    legal: bool,
}

/// A list instance (`w:num`): the abstract list it counts in, and its start overrides.
#[derive(Default)]
struct List {
    abstract_id: String,
    starts: HashMap<u8, u32>,
}

/// The list definitions of a document (`word/numbering.xml`).
#[derive(Default)]
pub(super) struct Numbering {
    abstracts: HashMap<String, HashMap<u8, Level>>,
    lists: HashMap<String, List>,
}

impl Numbering {
    /// # Errors
    /// `Corrupt` when the part is not well-formed XML.
    pub(super) fn parse(xml: &str) -> Result<Self, ConversionError> {
        let mut parser = Parser::default();
        walk(xml, |node| {
            match node {
                Node::Open(e) => parser.open(e),
                Node::Close(name) => parser.close(name),
                Node::Text(_) => {}
            }
            Ok(())
        })?;
        Ok(parser.numbering)
    }
}

/// Where the numbering part's reader is.
#[derive(Default)]
struct Parser {
    numbering: Numbering,
    abstract_id: Option<String>,
    level: Option<(u8, Level)>,
    list: Option<(String, List)>,
    override_level: Option<u8>,
}

impl Parser {
    fn open(&mut self, e: &BytesStart<'_>) {
        let level = self.level.as_mut().map(|(_, level)| level);
        match (local(e), level) {
            ("abstractNum", _) => self.abstract_id = attr(e, "abstractNumId"),
            ("lvl", _) => {
                let ilvl = number(e, "ilvl").filter(|ilvl: &u8| *ilvl <= 8);
                self.level = ilvl.map(|ilvl| (ilvl, Level::default()));
            }
            ("start", Some(level)) => level.start = number(e, "val").unwrap_or(0),
            ("numFmt", Some(level)) => level.format = attr(e, "val").unwrap_or_default(),
            ("lvlText", Some(level)) => level.pattern = attr(e, "val").unwrap_or_default(),
            ("isLgl", Some(level)) => level.legal = toggled(e),
            ("num", _) => self.list = attr(e, "numId").map(|id| (id, List::default())),
            ("abstractNumId", _) => {
                if let Some((_, list)) = &mut self.list {
                    list.abstract_id = attr(e, "val").unwrap_or_default();
                }
            }
            ("lvlOverride", _) => self.override_level = number(e, "ilvl"),
            ("startOverride", _) => {
                if let (Some((_, list)), Some(ilvl), Some(start)) =
                    (&mut self.list, self.override_level, number(e, "val"))
                {
                    list.starts.insert(ilvl, start);
                }
            }
            _ => {}
        }
    }

    fn close(&mut self, name: &str) {
        match name {
            // A `w:lvl` inside a `w:num`'s override has no abstract list and is not kept.
            "lvl" => {
                if let (Some(id), Some((ilvl, level))) = (&self.abstract_id, self.level.take()) {
                    let levels = self.numbering.abstracts.entry(id.clone()).or_default();
                    levels.insert(ilvl, level);
                }
            }
            "abstractNum" => self.abstract_id = None,
            "num" => {
                if let Some((id, list)) = self.list.take() {
                    self.numbering.lists.insert(id, list);
                }
            }
            "lvlOverride" => self.override_level = None,
            _ => {}
        }
    }
}

/// What a numbered paragraph begins with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Label {
    Text(String),
    Bullet,
}

/// The counters of a document's lists, as its paragraphs are read in order.
#[derive(Default)]
pub(super) struct Counter {
    /// Per abstract list: the current count of each level.
    counts: HashMap<String, [Option<u32>; 9]>,
    /// List instances already used.
    started: HashSet<String>,
}

impl Counter {
    /// The label of the next paragraph in list `num_id` at level `ilvl`; `None` for an unknown
    /// list or a level that shows no number.
    pub(super) fn next(&mut self, numbering: &Numbering, num_id: &str, ilvl: u8) -> Option<Label> {
        let list = numbering.lists.get(num_id)?;
        let levels = numbering.abstracts.get(&list.abstract_id)?;
        let ilvl = ilvl.min(8);
        let level = levels.get(&ilvl)?;
        let counts = self.counts.entry(list.abstract_id.clone()).or_default();
        if self.started.insert(num_id.to_owned()) && !list.starts.is_empty() {
            *counts = [None; 9];
        }
        let start = |l: u8| {
            (list.starts.get(&l).copied())
                .or_else(|| levels.get(&l).map(|level| level.start))
                .unwrap_or(0)
        };
        let i = usize::from(ilvl);
        counts[i] = Some(counts[i].map_or_else(|| start(ilvl), |n| n.saturating_add(1)));
        counts[i + 1..].fill(None);
        if level.format == "bullet" {
            return Some(Label::Bullet);
        }
        if level.pattern.len() > MAX_PATTERN_BYTES {
            return None;
        }
        let counts = *counts;
        let text = render(&level.pattern, |l| {
            let count = counts[usize::from(l)].unwrap_or_else(|| start(l));
            let format = match levels.get(&l) {
                Some(other) if !level.legal => other.format.as_str(),
                _ => "decimal",
            };
            format_number(count, format)
        });
        let text = text.trim();
        (!text.is_empty()).then(|| Label::Text(text.to_owned()))
    }
}

/// `pattern` with each `%1`…`%9` replaced by `number(level)`, levels counted from 0.
fn render(pattern: &str, number: impl Fn(u8) -> String) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        let level = chars
            .peek()
            .and_then(|d| d.to_digit(10))
            .and_then(|d| u8::try_from(d).ok());
        match (c, level) {
            ('%', Some(level @ 1..=9)) => {
                chars.next();
                out.push_str(&number(level - 1));
            }
            _ => out.push(c),
        }
    }
    out
}

/// `n` in one of Word's number formats; unknown formats are decimal.
pub(super) fn format_number(n: u32, format: &str) -> String {
    match format {
        "chineseCounting"
        | "chineseCountingThousand"
        | "taiwaneseCounting"
        | "taiwaneseCountingThousand"
        | "japaneseCounting" => chinese(n, &CHINESE),
        "chineseLegalSimplified" => chinese(n, &CHINESE_LEGAL),
        "ideographDigital" | "taiwaneseDigital" => digit_by_digit(n),
        "ideographTraditional" => cycle(n, "甲乙丙丁戊己庚辛壬癸"),
        "ideographZodiac" => cycle(n, "子丑寅卯辰巳午未申酉戌亥"),
        "upperRoman" => roman(n),
        "lowerRoman" => roman(n).to_lowercase(),
        "upperLetter" => letters(n),
        "lowerLetter" => letters(n).to_lowercase(),
        "decimalEnclosedCircle" | "decimalEnclosedCircleChinese" => enclosed(n),
        "decimalZero" => format!("{n:02}"),
        "none" => String::new(),
        _ => n.to_string(),
    }
}

/// The characters of a Chinese numeral system.
struct Numerals {
    digits: [char; 10],
    /// 十, 百, 千 (or 拾, 佰, 仟).
    units: [char; 3],
    /// Whether 10–19 open with a bare 十 (十一, not 一十一).
    bare_ten: bool,
}

const CHINESE: Numerals = Numerals {
    digits: ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'],
    units: ['十', '百', '千'],
    bare_ten: true,
};

const CHINESE_LEGAL: Numerals = Numerals {
    digits: ['零', '壹', '贰', '叁', '肆', '伍', '陆', '柒', '捌', '玖'],
    units: ['拾', '佰', '仟'],
    bare_ten: false,
};

/// 一, 十, 十一, 二十一, 一百零一, 一百一十, 一千零二十, 一万零一十, 一亿.
fn chinese(n: u32, numerals: &Numerals) -> String {
    if n == 0 {
        return numerals.digits[0].to_string();
    }
    let groups = [
        (n / 100_000_000, "亿"),
        (n / 10_000 % 10_000, "万"),
        (n % 10_000, ""),
    ];
    let mut out = String::new();
    let mut zero_owed = false;
    for (group, unit) in groups {
        if group == 0 {
            zero_owed = !out.is_empty();
            continue;
        }
        if zero_owed || (!out.is_empty() && group < 1000) {
            out.push(numerals.digits[0]);
        }
        zero_owed = false;
        let leading = out.is_empty();
        push_group(&mut out, group, numerals, leading);
        out.push_str(unit);
    }
    out
}

/// A group of up to four digits, 1–9999, with 零 where a zero is skipped inside it.
fn push_group(out: &mut String, group: u32, numerals: &Numerals, leading: bool) {
    let mut zero_owed = false;
    let mut started = false;
    for (position, unit) in [(3, Some(2)), (2, Some(1)), (1, Some(0)), (0, None)] {
        let digit = group / 10_u32.pow(position) % 10;
        if digit == 0 {
            zero_owed = started;
            continue;
        }
        if zero_owed {
            out.push(numerals.digits[0]);
            zero_owed = false;
        }
        let bare_ten = numerals.bare_ten && leading && !started && position == 1 && digit == 1;
        if !bare_ten {
            out.push(numerals.digits[digit as usize]);
        }
        if let Some(unit) = unit {
            out.push(numerals.units[unit]);
        }
        started = true;
    }
}

/// 一〇, 二〇二六: each digit on its own.
fn digit_by_digit(n: u32) -> String {
    n.to_string()
        .chars()
        .map(|d| match d {
            '0' => '〇',
            d => d.to_digit(10).map_or(d, |d| CHINESE.digits[d as usize]),
        })
        .collect()
}

fn roman(mut n: u32) -> String {
    const NUMERALS: [(u32, &str); 13] = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    if n == 0 || n > 3999 {
        return n.to_string();
    }
    let mut out = String::new();
    for (value, numeral) in NUMERALS {
        while n >= value {
            out.push_str(numeral);
            n -= value;
        }
    }
    out
}

/// A … Z, AA … ZZ, AAA …, as Word counts letters; far beyond that, decimal.
fn letters(n: u32) -> String {
    if n == 0 || n > 26 * 10 {
        return n.to_string();
    }
    let letter = char::from(b'A' + u8::try_from((n - 1) % 26).unwrap_or(0));
    std::iter::repeat_n(letter, ((n - 1) / 26 + 1) as usize).collect()
}

/// The n-th of a repeating series such as 甲乙丙.
fn cycle(n: u32, symbols: &str) -> String {
    let symbols: Vec<char> = symbols.chars().collect();
    let index = (n as usize).checked_sub(1).map(|i| i % symbols.len());
    index
        .and_then(|i| symbols.get(i))
        .map_or_else(String::new, char::to_string)
}

/// ① … ⑳, ㉑ … ㊿; beyond, decimal.
fn enclosed(n: u32) -> String {
    let code = match n {
        1..=20 => 0x2460 + n - 1,
        21..=35 => 0x3251 + n - 21,
        36..=50 => 0x32B1 + n - 36,
        _ => return n.to_string(),
    };
    char::from_u32(code).map_or_else(|| n.to_string(), String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbering() -> Numbering {
        Numbering::parse(super::super::fixtures::NUMBERING).expect("the fixture is well-formed")
    }

    fn label(counter: &mut Counter, numbering: &Numbering, num_id: &str, ilvl: u8) -> String {
        match counter.next(numbering, num_id, ilvl) {
            Some(Label::Text(text)) => text,
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn articles_count_in_chinese_through_the_tens() {
        let numbering = numbering();
        let mut counter = Counter::default();
        let labels: Vec<String> = (0..25)
            .map(|_| label(&mut counter, &numbering, "1", 0))
            .collect();
        assert_eq!(labels[0], "第一条");
        assert_eq!(labels[9], "第十条");
        assert_eq!(labels[10], "第十一条");
        assert_eq!(labels[11], "第十二条");
        assert_eq!(labels[19], "第二十条");
        assert_eq!(labels[20], "第二十一条");
    }

    #[test]
    fn deeper_levels_start_again_under_a_new_article() {
        let numbering = numbering();
        let mut counter = Counter::default();
        assert_eq!(label(&mut counter, &numbering, "1", 0), "第一条");
        assert_eq!(label(&mut counter, &numbering, "1", 1), "1.");
        assert_eq!(label(&mut counter, &numbering, "1", 1), "2.");
        assert_eq!(label(&mut counter, &numbering, "1", 0), "第二条");
        assert_eq!(label(&mut counter, &numbering, "1", 1), "1.");
    }

    #[test]
    fn multi_level_numbers_carry_their_parents() {
        let numbering = numbering();
        let mut counter = Counter::default();
        assert_eq!(label(&mut counter, &numbering, "3", 0), "1");
        assert_eq!(label(&mut counter, &numbering, "3", 1), "1.1");
        assert_eq!(label(&mut counter, &numbering, "3", 2), "1.1.1");
        assert_eq!(label(&mut counter, &numbering, "3", 2), "1.1.2");
        assert_eq!(label(&mut counter, &numbering, "3", 1), "1.2");
        assert_eq!(label(&mut counter, &numbering, "3", 0), "2");
        assert_eq!(
            label(&mut counter, &numbering, "3", 2),
            "2.1.1",
            "an unused level counts from its start"
        );
        assert_eq!(counter.next(&numbering, "99", 0), None, "an unknown list");
    }

    #[test]
    fn a_start_override_restarts_where_its_list_is_first_used() {
        let numbering = numbering();
        let mut counter = Counter::default();
        assert_eq!(label(&mut counter, &numbering, "1", 0), "第一条");
        assert_eq!(label(&mut counter, &numbering, "5", 0), "第五条");
        assert_eq!(label(&mut counter, &numbering, "5", 0), "第六条");
        assert_eq!(
            label(&mut counter, &numbering, "1", 0),
            "第七条",
            "one abstract list, one count"
        );
        assert_eq!(counter.next(&numbering, "4", 0), Some(Label::Bullet));
    }

    #[test]
    fn chinese_numerals() {
        let cases = [
            (1, "一"),
            (10, "十"),
            (15, "十五"),
            (20, "二十"),
            (99, "九十九"),
            (100, "一百"),
            (101, "一百零一"),
            (110, "一百一十"),
            (1020, "一千零二十"),
            (1001, "一千零一"),
            (10_010, "一万零一十"),
            (100_000, "十万"),
            (100_000_005, "一亿零五"),
        ];
        for (n, expected) in cases {
            assert_eq!(chinese(n, &CHINESE), expected, "{n}");
        }
        assert_eq!(format_number(12, "chineseLegalSimplified"), "壹拾贰");
        assert_eq!(format_number(10, "ideographDigital"), "一〇");
    }

    #[test]
    fn other_formats() {
        assert_eq!(format_number(4, "upperRoman"), "IV");
        assert_eq!(format_number(14, "lowerRoman"), "xiv");
        assert_eq!(format_number(3, "upperLetter"), "C");
        assert_eq!(format_number(28, "lowerLetter"), "bb");
        assert_eq!(format_number(u32::MAX, "lowerLetter"), u32::MAX.to_string());
        assert_eq!(format_number(3, "ideographTraditional"), "丙");
        assert_eq!(format_number(11, "ideographTraditional"), "甲");
        assert_eq!(format_number(2, "decimalEnclosedCircle"), "②");
        assert_eq!(format_number(21, "decimalEnclosedCircle"), "㉑");
        assert_eq!(format_number(7, "none"), "");
        assert_eq!(format_number(7, "somethingNew"), "7");
    }
}
