//! Who is who in the text. The submission names how the contract calls the agency (`甲方`,
//! `采购人`, "the County"); the preamble and definitions add aliases — `甲方（采购人）：某市财政局`,
//! `XYZ County (the "Owner")` — and the counterparty's names likewise. Rules that need the agency
//! to be the actor use this to tell "甲方为乙方贷款提供连带责任保证" from "乙方向甲方提交履约保函".
//! Names are kept normalised (simplified, half-width, lower case), as the sentences they are
//! looked for in.

use std::sync::LazyLock;

use regex::Regex;

use super::normalize;

/// 甲方（采购人）：某市财政局 / 乙方：某某有限公司
static CHINESE_DEFINITION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^[\s>*#-]*([^\s：:（()）]{1,8})\s*(?:[（(]([^）)]{1,12})[）)])?\s*[：:]\s*([^\n，,。；;|]{2,60})")
        .expect("a valid literal pattern")
});

/// XYZ County (the "Owner") / Acme Ltd. (hereinafter "the Contractor")
static ENGLISH_DEFINITION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"([A-Z][\w&.,' -]{1,60}?)\s*\((?:(?:hereinafter|herein)\s+(?:referred\s+to\s+as\s+|called\s+)?)?(?:the\s+)?["“•]([^"”•]{2,30})["”•]\)"#,
    )
    .expect("a valid literal pattern")
});

/// Which side a name belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Agency,
    Counterparty,
    /// Someone else named as the subject: a bank, a village committee, the developer's lender.
    Third,
}

/// Words right before a name that make it an object, not the one who acts: 为乙方 (for),
/// 向乙方 (to), 与乙方 (with), 按乙方要求 (as asked by) …
const OBJECT_MARKERS: [&str; 22] = [
    "为", "向", "给", "替", "对", "与", "和", "同", "跟", "在", "按", "根据", "依据", "经", "收到",
    "接到", "自", "从", "将", "把", "及", "、",
];

/// Words after a name that make it the one who acts: 中标人将组建, 银行应当.
const ACTING: [&str; 10] = [
    "将", "应", "须", "需", "负责", "要", "可", "会", "shall", "will",
];

/// Words joining two subjects of one act: 甲方与乙方共同出资, the City and the Developer.
const COORDINATORS: [&str; 8] = ["与", "和", "及", "同", "会同", "联合", "、", " and "];

/// The same in English: "to the City", "for the County", "of the Developer" …
const ENGLISH_OBJECT_MARKERS: [&str; 10] = [
    "to",
    "for",
    "from",
    "with",
    "of",
    "and",
    "favor of",
    "behalf of",
    "than",
    "between",
];

#[derive(Debug, Clone)]
pub struct Parties {
    /// Every name the agency goes by in this text, longest first.
    agency: Vec<String>,
    counterparty: Vec<String>,
    /// All names (and the third parties') in one automaton, once they are known.
    automaton: Option<(aho_corasick::AhoCorasick, Vec<Side>)>,
}

impl PartialEq for Parties {
    fn eq(&self, other: &Self) -> bool {
        self.agency == other.agency && self.counterparty == other.counterparty
    }
}

impl Eq for Parties {}

/// The conventional label of the other side, when the agency is `label`.
fn other_label(label: &str) -> Option<&'static str> {
    match label {
        "甲方" => Some("乙方"),
        "乙方" => Some("甲方"),
        "发包人" => Some("承包人"),
        "采购人" => Some("供应商"),
        "出租人" => Some("承租人"),
        "承租人" => Some("出租人"),
        "委托人" => Some("受托人"),
        _ => None,
    }
}

impl Parties {
    /// Learns the aliases from `source`, starting from the submission's names.
    pub fn learn(source: &str, agency_party: &str, counterparty: &str) -> Self {
        let mut agency = vec![agency_party.trim().to_owned()];
        let mut other = vec![counterparty.trim().to_owned()];
        if let Some(label) = other_label(agency_party.trim()) {
            other.push(label.to_owned());
        }
        // Line by line: captures on small haystacks take the regex crate's fast engines. Names
        // are defined in the preamble, so only the opening of a long text is read for them.
        let lines = || source.lines().take(PREAMBLE_LINES);
        for caps in lines()
            .filter(|line| line.contains(['：', ':']))
            .filter_map(|line| CHINESE_DEFINITION.captures(line))
        {
            let names: Vec<String> = [caps.get(1), caps.get(2), caps.get(3)]
                .into_iter()
                .flatten()
                .map(|m| m.as_str().trim().trim_matches('*').trim().to_owned())
                .filter(|n| !n.is_empty())
                .collect();
            assign(&names, &mut agency, &mut other);
        }
        for caps in lines()
            .filter(|line| line.contains('(') && line.contains(['"', '“', '•']))
            .flat_map(|line| ENGLISH_DEFINITION.captures_iter(line))
        {
            let names: Vec<String> = [caps.get(1), caps.get(2)]
                .into_iter()
                .flatten()
                .map(|m| m.as_str().trim().trim_start_matches("the ").to_owned())
                .collect();
            assign(&names, &mut agency, &mut other);
        }
        let tidy = |names: Vec<String>| {
            let mut names: Vec<String> = names
                .iter()
                .flat_map(|n| variants(&normal(n)))
                .filter(|n| !n.is_empty())
                .collect();
            names.sort_by_key(|n| std::cmp::Reverse(n.chars().count()));
            names.dedup();
            names
        };
        Self {
            agency: tidy(agency),
            counterparty: tidy(other),
            automaton: None,
        }
    }

    /// Compiles every name, and `third` (other subjects: banks, village committees), into one
    /// automaton, so a sentence is searched for all of them in one pass.
    #[must_use]
    pub fn with_third_parties(mut self, third: &[String]) -> Self {
        let mut names: Vec<&str> = Vec::new();
        let mut sides = Vec::new();
        for (list, side) in [
            (self.agency.as_slice(), Side::Agency),
            (self.counterparty.as_slice(), Side::Counterparty),
            (third, Side::Third),
        ] {
            for name in list {
                if !name.is_empty() && !names.contains(&name.as_str()) {
                    names.push(name);
                    sides.push(side);
                }
            }
        }
        self.automaton = aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(&names)
            .ok()
            .map(|automaton| (automaton, sides));
        self
    }

    pub fn agency_names(&self) -> &[String] {
        &self.agency
    }

    /// Every party mention in `text` (normalised), in order, as (byte offset, end, side);
    /// `third` names other subjects (banks, village committees) that are neither party.
    pub fn mentions(&self, text: &str, third: &[String]) -> Vec<(usize, usize, Side)> {
        if let Some((automaton, sides)) = &self.automaton {
            return automaton
                .find_iter(text)
                .map(|m| (m.start(), m.end(), sides[m.pattern().as_usize()]))
                .collect();
        }
        let mut found: Vec<(usize, usize, Side)> = Vec::new();
        for (names, side) in [
            (self.agency.as_slice(), Side::Agency),
            (self.counterparty.as_slice(), Side::Counterparty),
            (third, Side::Third),
        ] {
            for name in names {
                if !text.contains(name.as_str()) {
                    continue;
                }
                for (start, matched) in text.match_indices(name.as_str()) {
                    let end = start + matched.len();
                    let overlaps = found.iter().any(|(s, e, _)| start < *e && *s < end);
                    if !overlaps {
                        found.push((start, end, side));
                    }
                }
            }
        }
        found.sort_by_key(|(start, _, _)| *start);
        found
    }

    /// Who acts in `text` (a normalised sentence) for an act at byte `at`: within the comma
    /// clause holding the act, the party introduced by 由/by; else the nearest party named
    /// before the act that is not an object (为乙方, 向甲方, to the City); if the clause names
    /// none, the same over the sentence before it. Both look back at most [`LOOK_BACK`]
    /// characters, so a run-on "sentence" costs no more.
    pub fn actor_before(&self, text: &str, at: usize, third: &[String]) -> Option<Side> {
        let at = at.min(text.len());
        let window = look_back(text, at, LOOK_BACK);
        let clause_start = text[window..at]
            .char_indices()
            .rev()
            .find(|(_, c)| matches!(c, '，' | ',' | '：' | ':'))
            .map_or(window, |(i, c)| window + i + c.len_utf8());
        let actor_in = |from: usize| {
            let before = self.mentions(&text[from..at], third);
            let head = |start: usize| text[from..from + start].trim_end();
            // 由 (by) introduces the actor: the first party named after the last 由 before the
            // act (由某某融资担保公司提供担保).
            let by = text[from..at].rfind('由');
            let introduced = before
                .iter()
                .find(|(start, _, _)| by.is_some_and(|by| *start > by))
                .or_else(|| {
                    before.iter().rev().find(|(start, _, _)| {
                        let head = head(*start);
                        head.ends_with(" by") || head == "by"
                    })
                });
            let subject = || {
                before.iter().rev().find(|(start, end, side)| {
                    let head = head(*start);
                    let tail = &text[from + *end..at];
                    let object = OBJECT_MARKERS.iter().any(|m| head.ends_with(m))
                        || loose_object(head)
                        || ENGLISH_OBJECT_MARKERS.iter().any(|m| {
                            let bare = head.strip_suffix(" the").unwrap_or(head);
                            bare.strip_suffix(m)
                                .is_some_and(|rest| rest.is_empty() || rest.ends_with(' '))
                        });
                    // 乙方的贷款 (a possessive) names whose, not who; 乙方的银行贷款 or 银行贷款
                    // names a loan, not a bank that acts.
                    let possessive = tail.starts_with('的') || tail.starts_with("'s");
                    // 本项目的中标人将组建…: a subject that acts is no modifier.
                    let acts = ACTING.iter().any(|w| tail.trim_start().starts_with(w));
                    let modifier = *side == Side::Third
                        && !acts
                        && (head.ends_with('的')
                            || ["贷款", "借款", "融资", "债务", "loan"]
                                .iter()
                                .any(|w| tail.trim_start().starts_with(w)));
                    !object && !possessive && !modifier
                })
            };
            let found = introduced.or_else(subject)?;
            // 县政府与某公司共同出资: the agency among coordinated subjects acts too.
            let coordinated = found.2 != Side::Agency
                && before.iter().any(|(_, end, side)| {
                    *side == Side::Agency && *end <= found.0 && {
                        let between = &text[from + *end..from + found.0];
                        !between.contains([',', ';', '。'])
                            && COORDINATORS.iter().any(|c| between.contains(c))
                    }
                });
            Some(if coordinated { Side::Agency } else { found.2 })
        };
        actor_in(clause_start).or_else(|| actor_in(window))
    }
}

/// 向贷款银行, 为某公司: a preposition that governs a name one or two characters later.
fn loose_object(head: &str) -> bool {
    let tail: Vec<char> = head.chars().rev().take(3).collect();
    tail.iter()
        .skip(1)
        .any(|c| matches!(c, '向' | '为' | '给' | '对' | '替'))
        && !tail
            .iter()
            .any(|c| matches!(c, ',' | '，' | '。' | ';' | ':'))
}

/// How many lines of a text are read for the names its parties go by.
const PREAMBLE_LINES: usize = 400;

/// How far back, in characters, the actor of an act is looked for.
pub const LOOK_BACK: usize = 120;

/// The byte offset `chars` characters before `at` (or 0).
pub fn look_back(text: &str, at: usize, chars: usize) -> usize {
    text[..at]
        .char_indices()
        .rev()
        .nth(chars.saturating_sub(1))
        .map_or(0, |(i, _)| i)
}

/// Normalised, without a leading English article.
fn normal(name: &str) -> String {
    let lower = normalize::term(name);
    lower
        .strip_prefix("the ")
        .unwrap_or(&lower)
        .trim()
        .to_owned()
}

/// The ways a text writes one name: 某镇人民政府 and 某镇政府 are the same government.
fn variants(name: &str) -> Vec<String> {
    let mut out = vec![name.to_owned()];
    if let Some(place) = name.strip_suffix("人民政府") {
        out.push(format!("{place}政府"));
    } else if let Some(place) = name.strip_suffix("政府")
        && !place.is_empty()
    {
        out.push(format!("{place}人民政府"));
    }
    out
}

/// Whether two names refer to the same party: one contains the other ("XYZ County", "the County").
fn same_party(a: &str, b: &str) -> bool {
    let (a, b) = (normal(a), normal(b));
    !a.is_empty() && !b.is_empty() && (a.contains(&b) || b.contains(&a))
}

/// Puts a line's names on the side any of them is already known on; each name once, so a long
/// document with many definition lines keeps the lists short.
fn assign(names: &[String], agency: &mut Vec<String>, other: &mut Vec<String>) {
    let known = |list: &Vec<String>| names.iter().any(|n| list.iter().any(|k| same_party(k, n)));
    let side = if known(agency) {
        agency
    } else if known(other) {
        other
    } else {
        return;
    };
    for name in names {
        if !side.contains(name) {
            side.push(name.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_aliases_from_the_preamble() {
        let source = "甲方（采购人）：某市财政局\n乙方（供应商）：某某文具有限公司\n\n第一条 ……";
        let parties = Parties::learn(source, "甲方", "某某文具有限公司");
        assert!(parties.agency_names().contains(&"某市财政局".to_owned()));
        assert!(parties.agency_names().contains(&"采购人".to_owned()));
        let english = "XYZ County (the \"Owner\") and Acme Builders Ltd. (the \"Contractor\")";
        let parties = Parties::learn(english, "the County", "Acme Builders Ltd.");
        assert_eq!(
            parties.actor_before("the owner shall guarantee the loan", 10, &[]),
            Some(Side::Agency)
        );
    }

    #[test]
    fn the_subject_or_the_by_party_is_the_actor() {
        let parties = Parties::learn("", "甲方", "某公司");
        let guarantee = "甲方为乙方贷款提供连带责任保证";
        assert_eq!(
            parties.actor_before(guarantee, guarantee.find("提供").unwrap(), &[]),
            Some(Side::Agency)
        );
        let bond = "乙方向甲方提交履约保函";
        assert_eq!(
            parties.actor_before(bond, bond.find("提交").unwrap(), &[]),
            Some(Side::Counterparty)
        );
        let passive = "乙方的贷款由甲方提供担保";
        assert_eq!(
            parties.actor_before(passive, passive.find("提供").unwrap(), &[]),
            Some(Side::Agency)
        );
        assert_eq!(parties.actor_before("本合同一式两份", 6, &[]), None);
        let conditional = "乙方为建设基地向银行申请贷款的，甲方为乙方的该笔贷款提供连带责任保证";
        assert_eq!(
            parties.actor_before(conditional, conditional.find("提供").unwrap(), &[]),
            Some(Side::Agency)
        );
        let unnamed = "乙方应按期交付，并提供质量保证";
        assert_eq!(
            parties.actor_before(unnamed, unnamed.find("提供").unwrap(), &[]),
            Some(Side::Counterparty)
        );
        let pivot = "甲方支持乙方在甲方所在地注册成立新的企业";
        assert_eq!(
            parties.actor_before(pivot, pivot.find("注册").unwrap(), &[]),
            Some(Side::Counterparty)
        );
        let third = ["有限公司".to_owned(), "担保公司".to_owned()];
        let companies = "由甲公司与乙有限公司共同出资建设";
        assert_eq!(
            parties.actor_before(companies, companies.find("共同").unwrap(), &third),
            Some(Side::Third)
        );
        let joint = "甲方与某有限公司共同出资设立项目公司";
        assert_eq!(
            parties.actor_before(joint, joint.find("共同").unwrap(), &third),
            Some(Side::Agency)
        );
        let surety = "由某市融资担保公司提供担保";
        assert_eq!(
            parties.actor_before(surety, surety.find("提供").unwrap(), &third),
            Some(Side::Third)
        );
        let third = ["村民委员会".to_owned()];
        let stake = "村民委员会以土地入股";
        assert_eq!(
            parties.actor_before(stake, stake.find("入股").unwrap(), &third),
            Some(Side::Third)
        );
    }
}
