//! Money as an integer number of fen (分, 1/100 yuan). Never floating point.

use std::fmt;

/// The largest amount accepted: one trillion yuan. Anything above is a typo, not a contract.
pub const MAX_FEN: i64 = 1_000_000_000_000 * 100;

/// A non-negative amount of money in fen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Money(i64);

impl Money {
    /// # Errors
    /// A bilingual message for a negative or absurdly large amount.
    pub fn from_fen(fen: i64) -> Result<Self, String> {
        if fen < 0 {
            return Err("金额不能为负数 / amount must not be negative".into());
        }
        if fen > MAX_FEN {
            return Err(format!(
                "金额超出上限（{MAX_FEN} 分） / amount exceeds the maximum of {MAX_FEN} fen"
            ));
        }
        Ok(Self(fen))
    }

    /// Parses an amount in yuan as people type it: `1234567.89`, `1,234,567.8`, `¥100`, `100元`.
    ///
    /// # Errors
    /// A bilingual message for anything but a non-negative amount with at most two decimals.
    pub fn parse_yuan(text: &str) -> Result<Self, String> {
        let invalid = || {
            format!(
                "金额格式不正确：{text:?}，请填写元，最多两位小数 / {text:?} is not an amount in yuan with at most two decimals"
            )
        };
        let cleaned: String = text
            .trim()
            .trim_start_matches(['¥', '￥'])
            .trim_end_matches('元')
            .chars()
            .filter(|c| *c != ',' && *c != '，' && !c.is_whitespace())
            .collect();
        let (whole, decimals) = cleaned.split_once('.').unwrap_or((&cleaned, ""));
        let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !digits_only(whole) || decimals.len() > 2 || !digits_only(decimals) {
            return Err(invalid());
        }
        let yuan: i64 = whole.parse().map_err(|_| invalid())?;
        let fen: i64 = format!("{decimals:0<2}").parse().map_err(|_| invalid())?;
        let total = yuan
            .checked_mul(100)
            .and_then(|f| f.checked_add(fen))
            .ok_or_else(invalid)?;
        Self::from_fen(total)
    }

    pub fn fen(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Money {
    /// `¥1,234,567.89`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let yuan = (self.0 / 100).to_string();
        let mut grouped = String::with_capacity(yuan.len() + yuan.len() / 3);
        for (i, digit) in yuan.chars().enumerate() {
            if i > 0 && (yuan.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(digit);
        }
        write!(f, "¥{grouped}.{:02}", self.0 % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_negative_and_absurd_amounts() {
        assert!(Money::from_fen(-1).is_err());
        assert!(Money::from_fen(MAX_FEN + 1).is_err());
        assert_eq!(Money::from_fen(0).map(Money::fen), Ok(0));
    }

    #[test]
    fn parses_yuan_as_typed() {
        let fen = |text| Money::parse_yuan(text).map(Money::fen);
        assert_eq!(fen("1,234,567.89"), Ok(123_456_789));
        assert_eq!(fen("¥100"), Ok(10_000));
        assert_eq!(fen(" 100.5元 "), Ok(10_050));
        assert_eq!(fen("0"), Ok(0));
        for bad in [
            "",
            "-1",
            "1.234",
            "abc",
            "1e5",
            ".5",
            "99999999999999999999",
        ] {
            assert!(fen(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn displays_yuan_with_grouping() {
        assert_eq!(
            Money::from_fen(123_456_789).unwrap().to_string(),
            "¥1,234,567.89"
        );
        assert_eq!(Money::from_fen(5).unwrap().to_string(), "¥0.05");
        assert_eq!(Money::from_fen(100_000).unwrap().to_string(), "¥1,000.00");
    }
}
