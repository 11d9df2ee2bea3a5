//! Payment terms in a sentence, in calendar days: "验收合格后60个工作日内支付" (84), "货到1个月
//! 以后付款" (31: later than a month), "收到图书后2个月内" (60), "net 45", "within 45 days of
//! receipt of invoice", "the balance in 12 months". Reads normalised text (digits, lower case).

use std::sync::LazyLock;

use regex::Regex;

static PAYMENT: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"付款|支付|付清|结清|结算|给付|汇往|汇付|电汇|拨付|付至|付给|偿还|\bpa(y|ys|id|ying|yment|yments|yable)\b|\bremit|\binvoice",
    )
});

/// A number and its unit: 30日, 60个工作日, 2个月, 1年, 3周; then what follows (内, 后…).
static CHINESE: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(\d+)\s*(个工作日|工作日|自然日|日历天|日历日|日|天|个月|个自然月|周|年)(内|以内|之内|以后|之后|后|届满|期满)?",
    )
});

/// "net 45", "45 (calendar|business) days", "12 months", "2 years" — with a word that ties it
/// to the payment ("within", "after", "in", "net", "over").
static ENGLISH: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"\bnet\s*(\d+)\b|\b(?:within|after|in|over|of|following|than)\s+(?:a\s+period\s+of\s+)?(\d+)\s+(calendar\s+|business\s+|working\s+)?(days?|months?|years?|weeks?)\b",
    )
});

fn compile(pattern: &str) -> Regex {
    Regex::new(&super::terms::ascii_boundaries(pattern))
        .unwrap_or_else(|e| unreachable!("a valid literal pattern: {e}"))
}

/// The longest payment term of `lower` in calendar days, with where it stands, if the
/// sentence is about paying.
pub fn longest(lower: &str) -> Option<(u32, (usize, usize))> {
    if !PAYMENT.is_match(lower) {
        return None;
    }
    let chinese = CHINESE.captures_iter(lower).filter_map(|c| {
        let whole = c.get(0)?;
        let n: u32 = c.get(1)?.as_str().parse().ok()?;
        let unit = c.get(2)?.as_str();
        let tail = c.get(3).map_or("", |m| m.as_str());
        // "8月30日", "201881日" are dates: a term follows no 年/月 and is not that long.
        let before = lower[..whole.start()].chars().next_back();
        if matches!(before, Some('年' | '月' | '/' | '-' | '.')) || n > 3650 {
            return None;
        }
        // "2019年" is a date, not a term: a year counts only as a period (内, 后…).
        if unit == "年" && tail.is_empty() {
            return None;
        }
        let mut days = match unit {
            "个工作日" | "工作日" => n.saturating_mul(7) / 5,
            "个月" | "个自然月" => n.saturating_mul(30),
            "周" => n.saturating_mul(7),
            "年" => n.saturating_mul(365),
            _ => n,
        };
        if matches!(tail, "以后" | "之后" | "后" | "届满" | "期满") && unit != "日" {
            // "一个月以后" is later than a month.
            days = days.saturating_add(1);
        }
        Some((days, (whole.start(), whole.end())))
    });
    let english = ENGLISH.captures_iter(lower).filter_map(|c| {
        let whole = c.get(0)?;
        if let Some(net) = c.get(1) {
            return Some((net.as_str().parse().ok()?, (whole.start(), whole.end())));
        }
        let n: u32 = c.get(2)?.as_str().parse().ok()?;
        let working = c
            .get(3)
            .is_some_and(|w| !w.as_str().starts_with("calendar"));
        let days = match c.get(4)?.as_str() {
            unit if unit.starts_with("month") => n.saturating_mul(30),
            unit if unit.starts_with("year") => n.saturating_mul(365),
            unit if unit.starts_with("week") => n.saturating_mul(7),
            _ if working => n.saturating_mul(7) / 5,
            _ => n,
        };
        Some((days, (whole.start(), whole.end())))
    });
    chinese.chain(english).max_by_key(|(days, _)| *days)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(text: &str) -> Option<u32> {
        longest(text).map(|(d, _)| d)
    }

    #[test]
    fn terms_in_days() {
        assert_eq!(days("验收合格后,60个工作日内,一次性支付全部货款"), Some(84));
        assert_eq!(days("付款方式为货到1个月以后"), Some(31));
        assert_eq!(days("乙方应在收到图书后2个月内将书款汇往甲方"), Some(60));
        assert_eq!(
            days("payments will be made within 45 days of receipt of invoice"),
            Some(45)
        );
        assert_eq!(days("payment terms are net 30 days"), Some(30));
        assert_eq!(
            days("paying one half on delivery and the balance in 12 months"),
            Some(360)
        );
        assert_eq!(days("2019年9月支付完毕"), None, "a date is not a term");
        assert_eq!(days("验收合格后5个工作日内"), None, "no payment, no term");
    }
}
