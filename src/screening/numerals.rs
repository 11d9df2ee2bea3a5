//! Numbers as contracts spell them: "九十", "一百二十", "二〇二五", "壹拾伍", "forty-five".
//! The normaliser turns them into digits before a time unit, so one pattern reads
//! "90日", "九十日" and "ninety (90) days" alike.

/// The value of a Chinese numeral (`九十`, `一百二十`, `两`, `二〇二五`, `壹拾伍`, `3`).
/// `None` for anything that is not a numeral or overflows.
pub fn chinese(text: &str) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    if let Ok(n) = text.parse() {
        return Some(n);
    }
    let has_multiplier = text.chars().any(|c| multiplier(c).is_some());
    if !has_multiplier {
        // Digit by digit: 二〇二五 → 2025.
        return text.chars().try_fold(0u64, |acc, c| {
            acc.checked_mul(10)?.checked_add(u64::from(digit(c)?))
        });
    }
    let (mut total, mut section, mut current) = (0u64, 0u64, 0u64);
    for c in text.chars() {
        if let Some(d) = digit(c) {
            current = u64::from(d);
        } else if let Some(m) = multiplier(c) {
            if m == 10_000 {
                total = total.checked_add(section.checked_add(current)?.checked_mul(m)?)?;
                section = 0;
            } else {
                section = section.checked_add(current.max(1).checked_mul(m)?)?;
            }
            current = 0;
        } else {
            return None;
        }
    }
    total.checked_add(section)?.checked_add(current)
}

/// A single Chinese digit, ordinary or financial (大写).
pub fn digit(c: char) -> Option<u32> {
    Some(match c {
        '零' | '〇' => 0,
        '一' | '壹' => 1,
        '二' | '两' | '贰' | '貳' | '兩' => 2,
        '三' | '叁' | '參' => 3,
        '四' | '肆' => 4,
        '五' | '伍' => 5,
        '六' | '陆' | '陸' => 6,
        '七' | '柒' => 7,
        '八' | '捌' => 8,
        '九' | '玖' => 9,
        _ => return None,
    })
}

fn multiplier(c: char) -> Option<u64> {
    Some(match c {
        '十' | '拾' => 10,
        '百' | '佰' => 100,
        '千' | '仟' => 1_000,
        '万' | '萬' => 10_000,
        _ => return None,
    })
}

/// Whether `c` can be part of a Chinese numeral.
pub fn is_chinese_numeral(c: char) -> bool {
    digit(c).is_some() || multiplier(c).is_some()
}

const UNITS: [(&str, u64); 19] = [
    ("zero", 0),
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("eleven", 11),
    ("twelve", 12),
    ("thirteen", 13),
    ("fourteen", 14),
    ("fifteen", 15),
    ("sixteen", 16),
    ("seventeen", 17),
    ("eighteen", 18),
];

const TENS: [(&str, u64); 8] = [
    ("twenty", 20),
    ("thirty", 30),
    ("forty", 40),
    ("fifty", 50),
    ("sixty", 60),
    ("seventy", 70),
    ("eighty", 80),
    ("ninety", 90),
];

fn word_at<'a>(text: &'a str, table: &[(&str, u64)]) -> Option<(&'a str, u64)> {
    table
        .iter()
        .filter(|(word, _)| text.starts_with(word))
        .max_by_key(|(word, _)| word.len())
        .map(|(word, value)| (&text[..word.len()], *value))
}

/// An English number spelled out at the start of `lower` (lower-case ASCII): "forty-five",
/// "thirty", "nineteen", "one hundred twenty". Returns its value and byte length; the word
/// must end at a word boundary.
pub fn english(lower: &str) -> Option<(u64, usize)> {
    let boundary = |at: usize| {
        lower[at..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_ascii_alphanumeric())
    };
    let mut value = 0u64;
    let mut at = 0usize;
    // "one hundred (and) …"
    if let Some((word, n)) = word_at(lower, &UNITS).filter(|(_, n)| (1..10).contains(n))
        && lower[word.len()..].starts_with(" hundred")
    {
        value = n * 100;
        at = word.len() + " hundred".len();
        let rest = &lower[at..];
        let skip = if rest.starts_with(" and ") {
            5
        } else if rest.starts_with(' ') {
            1
        } else {
            0
        };
        if skip > 0
            && (word_at(&rest[skip..], &TENS).is_some() || word_at(&rest[skip..], &UNITS).is_some())
        {
            at += skip;
        } else {
            return boundary(at).then_some((value, at));
        }
    }
    let rest = &lower[at..];
    if let Some((word, tens)) = word_at(rest, &TENS) {
        let mut end = at + word.len();
        let mut total = tens;
        let after = &lower[end..];
        for sep in ["-", " "] {
            if let Some(unit_text) = after.strip_prefix(sep)
                && let Some((unit, n)) =
                    word_at(unit_text, &UNITS).filter(|(_, n)| (1..10).contains(n))
                && boundary(end + sep.len() + unit.len())
            {
                total += n;
                end += sep.len() + unit.len();
                break;
            }
        }
        return boundary(end).then_some((value + total, end));
    }
    if let Some((word, n)) = word_at(rest, &UNITS) {
        let end = at + word.len();
        return boundary(end).then_some((value + n, end));
    }
    (value > 0 && boundary(at)).then_some((value, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_numerals() {
        for (text, n) in [
            ("九十", 90),
            ("十五", 15),
            ("三十", 30),
            ("一百二十", 120),
            ("两", 2),
            ("45", 45),
            ("二〇二五", 2025),
            ("壹拾伍", 15),
            ("三万五千", 35_000),
            ("十", 10),
        ] {
            assert_eq!(chinese(text), Some(n), "{text}");
        }
        assert_eq!(chinese("统一"), None);
        assert_eq!(chinese(&"九".repeat(40)), None, "overflow is refused");
    }

    #[test]
    fn english_numbers() {
        assert_eq!(english("forty-five (45) days"), Some((45, 10)));
        assert_eq!(english("thirty days"), Some((30, 6)));
        assert_eq!(english("twelve months"), Some((12, 6)));
        assert_eq!(english("one hundred twenty days"), Some((120, 18)));
        assert_eq!(english("ninety"), Some((90, 6)));
        assert_eq!(english("tent"), None);
        assert_eq!(english("someone"), None);
    }
}
