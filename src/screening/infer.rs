//! What the submission may have got wrong, read from the text: the kind of contract (a
//! 施工合同 or a "Design-Build Agreement" submitted as `other`, a lease-purchase submitted as
//! a lease) and, when the submission names no agency party, how the preamble names it. The
//! findings show these as notes; rules scoped to a contract type also run for the inferred one.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::ContractType;

/// What the text says about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Inferred {
    /// The kind of contract the title and body describe, when it differs from the declared one.
    pub contract_type: Option<ContractType>,
    /// How the text names the agency, when the submission did not say.
    pub agency_party: Option<String>,
    /// Why, in words a reviewer reads (Chinese, then English).
    pub notes: Vec<String>,
}

/// Signs of each kind of contract, in normalised text; a sign in the title counts thrice.
const SIGNS: [(ContractType, &[&str]); 6] = [
    (
        ContractType::Construction,
        &[
            "施工",
            "工程款",
            "建设工程",
            "承建",
            "竣工",
            "发包人",
            "承包人",
            "工程承包",
            "垫资",
            "bt模式",
            "construction",
            "construct",
            "design-build",
            "design/build",
            "design build",
            "contractor",
            "build-transfer",
            "public improvements",
            "infrastructure",
        ],
    ),
    (
        ContractType::Procurement,
        &[
            "采购",
            "购置",
            "购买",
            "供货",
            "货款",
            "买卖",
            "购销",
            "到货",
            "purchase",
            "procure",
            "acquisition of",
            "buy ",
            "vendor",
            "supplier",
            "lease-purchase",
            "lease/purchase",
            "lease purchase",
        ],
    ),
    (
        ContractType::Lease,
        &[
            "租赁", "租金", "出租", "承租", "lease", "rent", "rental", "lessee", "lessor",
        ],
    ),
    (
        ContractType::Service,
        &[
            "服务",
            "物业",
            "劳务",
            "委托",
            "services",
            "maintenance",
            "consulting",
        ],
    ),
    (
        ContractType::Guarantee,
        &[
            "担保",
            "保证人",
            "连带责任保证",
            "承诺函",
            "guarantee",
            "guaranty",
            "guarantor",
        ],
    ),
    (
        ContractType::Investment,
        &[
            "投资",
            "入股",
            "参股",
            "合作公司",
            "股权",
            "invest",
            "llc",
            "partnership",
            "equity",
        ],
    ),
];

/// How much of the body is read for its kind: the opening says what a contract is.
const READ: usize = 16 * 1024;

fn count(text: &str, signs: &[&str]) -> usize {
    let end = (READ.min(text.len())..=text.len())
        .find(|&e| text.is_char_boundary(e))
        .unwrap_or(text.len());
    let text = &text[..end];
    signs.iter().map(|s| text.matches(s).count()).sum()
}

/// The kind of contract `title` and `body` (both normalised) describe, if it is clear and not
/// the declared one.
pub fn contract_type(
    declared: Option<ContractType>,
    title: &str,
    body: &str,
) -> Option<(ContractType, String)> {
    let scores: Vec<(ContractType, usize)> = SIGNS
        .iter()
        .map(|(kind, signs)| (*kind, 3 * count(title, signs) + count(body, signs)))
        .collect();
    let (best, score) = scores.iter().copied().max_by_key(|(_, s)| *s)?;
    let declared_score = scores
        .iter()
        .find(|(k, _)| Some(*k) == declared)
        .map_or(0, |(_, s)| *s);
    let clear = score >= 3 && score >= 2 * declared_score.max(1);
    (clear && Some(best) != declared).then(|| {
        let declared = declared.map_or("未填写 / none", ContractType::label);
        (
            best,
            format!(
                "正文看来是{}合同，送审类型为{declared}；与该类型有关的检查也已进行。/ The text reads as a {} contract; the checks for that type were run too.",
                best.label(),
                best.as_str()
            ),
        )
    })
}

/// Party labels a preamble defines for the side that is a public body.
const LABELS: [&str; 10] = [
    "甲方",
    "发包人",
    "采购人",
    "买方",
    "委托人",
    "出租人",
    "承租人",
    "建设单位",
    "招标人",
    "业主",
];

/// Words that mark a public body.
const PUBLIC: [&str; 16] = [
    "人民政府",
    "政府",
    "委员会",
    "管委会",
    "局",
    "厅",
    "办公室",
    "办事处",
    "中心",
    "学校",
    "医院",
    "city",
    "county",
    "village",
    "authority",
    "district",
];

/// How the preamble names the agency (`甲方：某市财政局` → 甲方;
/// `XYZ County (the "Owner")` → owner), from the normalised text.
pub fn agency_label(normalised: &str) -> Option<String> {
    for line in normalised.lines().take(60).filter(|l| l.len() < 2_000) {
        for label in LABELS {
            let Some(rest) = line.find(label).map(|at| &line[at + label.len()..]) else {
                continue;
            };
            let mut rest = rest.trim_start();
            if let Some(inner) = rest.strip_prefix('(') {
                rest = inner
                    .split_once(')')
                    .map_or("", |(_, after)| after)
                    .trim_start();
            }
            let Some(name) = rest.strip_prefix(':') else {
                continue;
            };
            let name: String = name.chars().take(40).collect();
            if PUBLIC[..11].iter().any(|p| name.contains(p)) {
                return Some(label.to_owned());
            }
        }
        // XYZ County (the "Owner")
        if let Some(open) = line
            .find("(the \"")
            .or_else(|| line.find("(hereinafter \""))
        {
            let before = &line[..open];
            let after = &line[open..];
            let quoted = after.split('"').nth(1).unwrap_or_default();
            if PUBLIC[11..]
                .iter()
                .any(|p| before.ends_with(&format!("{p} ")) || before.ends_with(p))
                && !quoted.is_empty()
            {
                return Some(quoted.to_owned());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_works_contract_submitted_as_other_is_recognised() {
        let (kind, note) = contract_type(
            Some(ContractType::Other),
            "建设工程施工合同",
            "发包人应按进度支付工程款。承包人负责施工。",
        )
        .unwrap();
        assert_eq!(kind, ContractType::Construction);
        assert!(note.contains("工程建设"));
        assert_eq!(
            contract_type(Some(ContractType::Construction), "施工合同", "工程款"),
            None
        );
    }

    #[test]
    fn the_agency_label_comes_from_the_preamble() {
        assert_eq!(
            agency_label("采购合同\n甲方(采购人):某市财政局\n乙方:某公司"),
            Some("甲方".into())
        );
        assert_eq!(
            agency_label("xyz county (the \"owner\") and acme ltd. (the \"contractor\")"),
            Some("owner".into())
        );
        assert_eq!(agency_label("乙方:某某有限公司"), None);
    }
}
