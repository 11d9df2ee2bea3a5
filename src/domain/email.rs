//! E-mail addresses, checked once at intake and stored lower-cased.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

impl Email {
    /// # Errors
    /// A bilingual message when `raw` is not a plain `local@domain` address.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        // Display-name forms ("Name <a@b>") are valid RFC 5322 but not an address we store.
        let plain = !trimmed.contains(['<', '>', ' ']) && trimmed.len() <= 254;
        match email_address::EmailAddress::from_str(trimmed) {
            Ok(_) if plain && trimmed.contains('.') => Ok(Self(trimmed.to_lowercase())),
            _ => Err(format!(
                "不是有效的电子邮件地址：{trimmed:?} / not a valid e-mail address: {trimmed:?}"
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalises_addresses() {
        assert_eq!(
            Email::parse(" Li.Wei@Finance.gov.cn ").unwrap().as_str(),
            "li.wei@finance.gov.cn"
        );
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in [
            "",
            "no-at-sign",
            "a@",
            "@b.cn",
            "Li <li@b.cn>",
            "a b@c.cn",
            "a@localhost",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} should be rejected");
        }
    }
}
