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
    fn displays_yuan_with_grouping() {
        assert_eq!(
            Money::from_fen(123_456_789).unwrap().to_string(),
            "¥1,234,567.89"
        );
        assert_eq!(Money::from_fen(5).unwrap().to_string(), "¥0.05");
        assert_eq!(Money::from_fen(100_000).unwrap().to_string(), "¥1,000.00");
    }
}
