//! Unit tests of the workflow core against the real default file and small broken variants.

use uuid::Uuid;

use super::definition::{DefinitionError, Guard, Input, parse};
use super::engine::{
    Actor, ContractFacts, Inputs, Refusal, Standing, available, fire, on_body_change,
};
use super::{Definition, Outcome};
use strum::IntoEnumIterator;

use crate::domain::{ContractState, ContractType, MaterialKind, Role, Roles};

const DEFAULT: &str = include_str!("../../workflows/contract-review.toml");
const EVENTS: [&str; 7] = [
    "review_requested",
    "lead_review_requested",
    "approved",
    "returned",
    "supplement_requested",
    "rejected",
    "signed",
];

fn template_exists(event: &str) -> bool {
    EVENTS.contains(&event)
}

fn default_definition() -> Definition {
    parse("contract-review.toml", DEFAULT, &template_exists).unwrap()
}

/// The errors of a variant of the default file, with `from` replaced by `to`.
fn errors_after(from: &str, to: &str) -> Vec<DefinitionError> {
    assert!(
        DEFAULT.contains(from),
        "the default file no longer contains {from:?}"
    );
    let source = DEFAULT.replacen(from, to, 1);
    parse("broken.toml", &source, &template_exists)
        .unwrap_err()
        .0
}

fn line_of(needle: &str, source: &str) -> usize {
    source.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn the_default_workflow_is_valid() {
    let definition = default_definition();
    assert_eq!(definition.key(), "contract-review@2");
    assert_eq!(
        definition.required_materials(ContractType::Construction),
        [MaterialKind::ProjectApproval, MaterialKind::FundingProof]
    );
    assert!(
        definition
            .required_materials(ContractType::Service)
            .is_empty()
    );
    assert_eq!(definition.initial, ContractState::Draft);
    assert_eq!(
        definition.params,
        [("lead_review_threshold_fen".to_owned(), 500_000_000)]
    );
}

#[test]
fn each_kind_of_broken_file_is_refused_with_its_line() {
    let cases = [
        (
            r#"guards = ["own_agency"]"#,
            r#"guards = ["own_agency", "full_moon"]"#,
            "unknown guard `full_moon`",
        ),
        (
            r#"effects = ["screen","#,
            r#"effects = ["shred","#,
            "unknown effect `shred`",
        ),
        (
            r#"notify = "returned""#,
            r#"notify = "ghosted""#,
            "missing template templates/email/ghosted.md",
        ),
        (
            r#"roles = ["signatory"]"#,
            r#"roles = ["mayor"]"#,
            "unknown role `mayor`",
        ),
        (
            r#"to = "withdrawn""#,
            r#"to = "limbo""#,
            "unknown state `limbo`",
        ),
        (
            r#"requires = ["body_sha256"]"#,
            r#"requires = ["signature_image"]"#,
            "unknown input `signature_image`",
        ),
        (
            "amount_fen < lead_review_threshold_fen &&",
            "amount_fen <= lead_review_threshold_fen &&",
            "overlapping `when`",
        ),
        (
            "amount_fen >= lead_review_threshold_fen ||",
            "amount_fen > lead_review_threshold_fen ||",
            "no branch of `approve`",
        ),
        (
            "amount_fen < lead_review_threshold_fen &&",
            "amount < lead_review_threshold_fen &&",
            "unknown variable `amount`",
        ),
    ];
    for (from, to, expected) in cases {
        let source = DEFAULT.replacen(from, to, 1);
        let errors = errors_after(from, to);
        let error = errors
            .iter()
            .find(|e| e.message.contains(expected))
            .unwrap_or_else(|| {
                panic!("expected {expected:?}, got {errors:?}");
            });
        assert_eq!(error.file, "broken.toml");
        let expected_line = source
            .lines()
            .position(|l| l.contains(to.lines().next().unwrap()))
            .unwrap()
            + 1;
        // A gap between branches belongs to no single line: it is reported at the first branch
        // and names every branch's line.
        let near = error.line.abs_diff(expected_line) <= 12
            || (expected_line.saturating_sub(12)..=expected_line)
                .any(|l| error.message.contains(&format!(", {l}")));
        assert!(
            near,
            "{expected}: reported line {} but the change is on line {expected_line}: {error}",
            error.line
        );
    }
}

#[test]
fn unreachable_states_and_dead_ends_are_refused() {
    // Nothing leads to `withdrawn` once withdraw is renamed into a transition from nowhere useful.
    let source = DEFAULT.replacen(
        r#"from = ["draft", "legal_review", "lead_review", "revision_requested"]
to = "withdrawn""#,
        r#"from = ["withdrawn"]
to = "draft""#,
        1,
    );
    let errors = parse("x.toml", &source, &template_exists).unwrap_err().0;
    let unreachable = errors
        .iter()
        .find(|e| e.message.contains("`withdrawn` is unreachable"))
        .expect("unreachable");
    assert_eq!(unreachable.line, line_of("[states.withdrawn]", &source));
    assert!(errors.iter().any(|e| {
        e.message
            .contains("terminal state `withdrawn` has outgoing")
    }));

    let dead_end = DEFAULT.replacen(
        "[states.rejected]\nlabel = \"不予通过 Rejected\"\nterminal = true",
        "[states.rejected]\nlabel = \"不予通过 Rejected\"",
        1,
    );
    let errors = parse("x.toml", &dead_end, &template_exists).unwrap_err().0;
    let error = errors
        .iter()
        .find(|e| e.message.contains("dead end"))
        .expect("dead end");
    assert_eq!(error.line, line_of("[states.rejected]", &dead_end));
}

#[test]
fn syntax_errors_carry_their_line() {
    let source = DEFAULT.replacen("version = 2", "version = ", 1);
    let errors = parse("x.toml", &source, &template_exists).unwrap_err().0;
    assert_eq!(errors[0].line, line_of("version = ", &source));
    assert!(errors[0].to_string().starts_with("x.toml:"));
}

struct Case {
    roles: Roles,
    authors: Vec<Uuid>,
    signatories: Vec<String>,
    state: ContractState,
    amount_fen: i64,
    contract_type: ContractType,
    blocking: u32,
    body: String,
    approved: Option<String>,
    user: Uuid,
    own_agency: bool,
    in_jurisdiction: bool,
    /// Every kind attached, unless a story takes some away.
    materials: Vec<MaterialKind>,
}

impl Case {
    fn new(role: &str, state: ContractState) -> Self {
        Self {
            roles: Roles::parse_list(role).unwrap(),
            authors: vec![Uuid::now_v7()],
            signatories: vec!["signer@a.gov.cn".into()],
            state,
            amount_fen: 1_000_000,
            contract_type: ContractType::Procurement,
            blocking: 0,
            body: "sha-2".into(),
            approved: Some("sha-2".into()),
            user: Uuid::now_v7(),
            own_agency: false,
            in_jurisdiction: true,
            materials: MaterialKind::iter().collect(),
        }
    }

    fn facts(&self) -> ContractFacts<'_> {
        ContractFacts {
            state: self.state,
            contract_type: self.contract_type,
            amount_fen: self.amount_fen,
            has_funding_source: true,
            authors: &self.authors,
            signatories: &self.signatories,
            open_blocking_findings: self.blocking,
            body_sha256: &self.body,
            approved_sha256: self.approved.as_deref(),
            manifest_sha256: "manifest",
            approved_manifest_sha256: None,
            materials: &self.materials,
            open_points: &[],
        }
    }

    fn actor(&self) -> Actor<'_> {
        Actor {
            me: Standing {
                user_id: self.user,
                email: "signer@a.gov.cn",
                roles: &self.roles,
                own_agency: self.own_agency,
                in_jurisdiction: self.in_jurisdiction,
            },
            on_behalf_of: None,
        }
    }

    fn fire(&self, name: &str, opinion: Option<&str>) -> Result<super::Plan, Refusal> {
        let inputs = Inputs {
            opinion,
            body_sha256: Some("sha-2"),
            ..Inputs::default()
        };
        fire(
            &default_definition(),
            &self.facts(),
            &self.actor(),
            name,
            &inputs,
        )
    }
}

#[test]
fn a_reviewer_approves_ordinary_contracts_outright() {
    let case = Case::new("reviewer", ContractState::LegalReview);
    let plan = case.fire("approve", Some("合法合规，同意签订。")).unwrap();
    assert_eq!(plan.to, ContractState::Approved);
    assert!(plan.pins_version);
    assert_eq!(plan.outcome, Some(Outcome::Approved));
}

#[test]
fn large_guarantee_and_investment_contracts_go_to_lead_review() {
    let mut case = Case::new("reviewer", ContractState::LegalReview);
    case.amount_fen = 500_000_000;
    let plan = case.fire("approve", Some("同意")).unwrap();
    assert_eq!(
        (plan.to, plan.sla_days, plan.outcome),
        (ContractState::LeadReview, Some(3), None)
    );
    case.amount_fen = 499_999_999;
    assert_eq!(
        case.fire("approve", Some("同意")).unwrap().to,
        ContractState::Approved
    );
    for kind in [ContractType::Guarantee, ContractType::Investment] {
        case.contract_type = kind;
        assert_eq!(
            case.fire("approve", Some("同意")).unwrap().to,
            ContractState::LeadReview
        );
    }
    let lead = Case::new("lead_reviewer", ContractState::LeadReview);
    assert_eq!(
        lead.fire("approve", Some("复核同意")).unwrap().to,
        ContractState::Approved
    );
    let reviewer_at_lead_stage = Case::new("reviewer", ContractState::LeadReview);
    assert!(matches!(
        reviewer_at_lead_stage.fire("approve", Some("x")),
        Err(Refusal::Role { .. })
    ));
}

#[test]
fn every_refusal_has_its_reason() {
    let mut case = Case::new("reviewer", ContractState::LegalReview);
    assert!(matches!(
        case.fire("teleport", None),
        Err(Refusal::UnknownTransition { .. })
    ));
    assert!(matches!(
        case.fire("sign", None),
        Err(Refusal::WrongState { .. })
    ));
    assert!(matches!(
        case.fire("approve", None),
        Err(Refusal::Input {
            input: Input::Opinion,
            ..
        })
    ));
    assert!(matches!(
        case.fire("approve", Some("  ")),
        Err(Refusal::Input {
            input: Input::Opinion,
            ..
        })
    ));

    case.authors.push(case.user);
    let refused = case.fire("approve", Some("自己审自己"));
    assert!(
        matches!(
            refused,
            Err(Refusal::Guard {
                guard: Guard::NotSubmitter,
                ..
            })
        ),
        "{refused:?}"
    );
    case.authors.pop();

    case.blocking = 1;
    assert!(matches!(
        case.fire("approve", Some("x")),
        Err(Refusal::Guard {
            guard: Guard::NoOpenBlockingFindings,
            ..
        })
    ));
    assert!(
        case.fire("return", Some("请修改第三条")).is_ok(),
        "returning needs no clean screen"
    );
    case.blocking = 0;

    case.in_jurisdiction = false;
    assert!(matches!(
        case.fire("approve", Some("x")),
        Err(Refusal::Outside {
            guard: Guard::Jurisdiction,
            ..
        })
    ));

    let submitter = Case::new("submitter", ContractState::LegalReview);
    assert!(matches!(
        submitter.fire("approve", Some("x")),
        Err(Refusal::Role { .. })
    ));
}

#[test]
fn only_the_approved_version_is_signed_by_a_listed_signatory() {
    let mut case = Case::new("signatory", ContractState::Approved);
    case.own_agency = true;
    assert_eq!(case.fire("sign", None).unwrap().to, ContractState::Signed);

    case.body = "sha-3".into();
    assert!(matches!(
        case.fire("sign", None),
        Err(Refusal::Guard {
            guard: Guard::VersionApproved,
            ..
        })
    ));
    case.body = "sha-2".into();

    let wrong_presented = Inputs {
        opinion: None,
        body_sha256: Some("sha-1"),
        ..Inputs::default()
    };
    let refused = fire(
        &default_definition(),
        &case.facts(),
        &case.actor(),
        "sign",
        &wrong_presented,
    );
    assert!(matches!(
        refused,
        Err(Refusal::Input {
            input: Input::BodySha256,
            ..
        })
    ));

    case.signatories = vec!["someone-else@a.gov.cn".into()];
    assert!(matches!(
        case.fire("sign", None),
        Err(Refusal::Guard {
            guard: Guard::ListedSignatory,
            ..
        })
    ));
}

#[test]
fn a_deputy_borrows_the_reviewers_role_and_jurisdiction_but_not_their_innocence() {
    let case = Case::new("submitter", ContractState::LegalReview);
    let reviewer_roles = Roles::parse_list("reviewer").unwrap();
    let reviewer = Standing {
        user_id: Uuid::now_v7(),
        email: "reviewer@city.gov.cn",
        roles: &reviewer_roles,
        own_agency: false,
        in_jurisdiction: true,
    };
    let mut actor = case.actor();
    actor.me.in_jurisdiction = false;
    actor.on_behalf_of = Some(reviewer.clone());
    let inputs = Inputs {
        opinion: Some("代为审查，同意。"),
        body_sha256: None,
        ..Inputs::default()
    };
    let definition = default_definition();
    assert_eq!(
        fire(&definition, &case.facts(), &actor, "approve", &inputs)
            .unwrap()
            .to,
        ContractState::Approved
    );

    let mut facts_case = Case::new("submitter", ContractState::LegalReview);
    facts_case.authors = vec![reviewer.user_id];
    let refused = fire(&definition, &facts_case.facts(), &actor, "approve", &inputs);
    assert!(matches!(
        refused,
        Err(Refusal::Guard {
            guard: Guard::NotSubmitter,
            ..
        })
    ));
}

#[test]
fn changing_an_approved_body_sends_it_back_to_review() {
    let definition = default_definition();
    let mut case = Case::new("submitter", ContractState::Approved);
    case.own_agency = true;
    let plan = on_body_change(&definition, &case.facts(), &case.actor())
        .unwrap()
        .unwrap();
    assert_eq!(plan.to, ContractState::LegalReview);

    case.state = ContractState::Draft;
    assert_eq!(
        on_body_change(&definition, &case.facts(), &case.actor()),
        Ok(None)
    );
    case.state = ContractState::LegalReview;
    assert!(matches!(
        on_body_change(&definition, &case.facts(), &case.actor()),
        Err(Refusal::WrongState { .. })
    ));
}

#[test]
fn submitting_waits_for_the_required_materials() {
    let definition = default_definition();
    let mut clerk = Case::new("submitter", ContractState::Draft);
    clerk.own_agency = true;
    clerk.contract_type = ContractType::Construction;
    clerk.materials = vec![MaterialKind::ProjectApproval];
    let inputs = Inputs::default();
    let refused = fire(
        &definition,
        &clerk.facts(),
        &clerk.actor(),
        "submit",
        &inputs,
    );
    assert_eq!(
        refused,
        Err(Refusal::MissingMaterials {
            missing: vec![MaterialKind::FundingProof]
        })
    );
    clerk.materials.push(MaterialKind::FundingProof);
    assert!(
        fire(
            &definition,
            &clerk.facts(),
            &clerk.actor(),
            "submit",
            &inputs
        )
        .is_ok()
    );
}

#[test]
fn a_materials_list_naming_an_unknown_kind_is_refused_with_its_line() {
    let errors = errors_after(
        r#"construction = ["project_approval", "funding_proof"]"#,
        r#"construction = ["project_approval", "bribe"]"#,
    );
    assert!(errors[0].message.contains("bribe"), "{}", errors[0]);
}

#[test]
fn available_lists_what_the_actor_may_fire_now() {
    let definition = default_definition();
    let reviewer = Case::new("reviewer", ContractState::LegalReview);
    let names: Vec<_> = available(&definition, &reviewer.facts(), &reviewer.actor())
        .into_iter()
        .map(|a| (a.name, a.requires))
        .collect();
    assert_eq!(
        names,
        [
            ("approve".to_owned(), vec![Input::Opinion]),
            ("return".to_owned(), vec![Input::Opinion]),
            ("request_materials".to_owned(), vec![Input::Points]),
            ("reject".to_owned(), vec![Input::Opinion]),
        ]
    );
    let mut clerk = Case::new("submitter", ContractState::Draft);
    clerk.own_agency = true;
    let names: Vec<_> = available(&definition, &clerk.facts(), &clerk.actor())
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, ["submit", "withdraw"]);
    assert!(Role::Submitter.as_str() == "submitter");
}

#[test]
fn the_diagram_places_every_state_once_and_marks_the_current_one() {
    let definition = default_definition();
    let layout = super::graph::layout(&definition, Some("legal_review"));
    assert_eq!(layout.nodes.len(), definition.states.len());
    let current: Vec<_> = layout.nodes.iter().filter(|n| n.current).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].state, "legal_review");
    assert_eq!(current[0].lines, ["法制审查", "Legal review"]);
    // The initial state is in the first column; nothing overlaps.
    let draft = layout.nodes.iter().find(|n| n.state == "draft").unwrap();
    assert_eq!(draft.x, layout.nodes.iter().map(|n| n.x).min().unwrap());
    for (i, a) in layout.nodes.iter().enumerate() {
        for b in &layout.nodes[i + 1..] {
            assert!(
                (a.x, a.y) != (b.x, b.y),
                "{} and {} overlap",
                a.state,
                b.state
            );
        }
        assert!(
            a.x + layout.node_width <= layout.width && a.y + layout.node_height <= layout.height
        );
    }
    // One arrow per pair of states, labelled with every transition between them.
    let submit = layout
        .arrows
        .iter()
        .filter(|a| a.label.split(" / ").any(|name| name == "submit"))
        .count();
    assert_eq!(submit, 2, "draft and revision_requested both submit");
    let approve = layout.arrows.iter().find(|a| a.label == "approve").unwrap();
    assert_ne!((approve.x1, approve.y1), (approve.x2, approve.y2));
}
