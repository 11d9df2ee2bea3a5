//! Parse + normalise + screen arbitrary text: no panic, no blow-up, and every finding and every
//! span of it points inside the document at character boundaries.
#![no_main]

use std::sync::LazyLock;

use contract_review::domain::ContractType;
use contract_review::screening::{Facts, RuleBook, screen};
use libfuzzer_sys::fuzz_target;

static BOOK: LazyLock<RuleBook> = LazyLock::new(|| {
    let source = include_str!("../../workflows/screening-rules.toml");
    RuleBook::parse("screening-rules.toml", source).unwrap_or_else(|errors| panic!("{errors:?}"))
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let facts = Facts {
        contract_type: Some(ContractType::Construction),
        agency_party: Some("甲方".into()),
        counterparty: Some("乙方".into()),
        ..Facts::default()
    };
    let report = screen(&BOOK, text, &facts);
    for finding in &report.findings {
        assert!(finding.start <= finding.end && finding.end <= text.len());
        assert!(text.is_char_boundary(finding.start) && text.is_char_boundary(finding.end));
        for span in &finding.spans {
            assert!(span.start <= span.end && span.end <= text.len());
            assert!(text.is_char_boundary(span.start) && text.is_char_boundary(span.end));
        }
    }
    assert_eq!(report.checklist.len(), BOOK.categories.len());
});
