//! Firing a transition: (definition, contract facts, actor, transition name, inputs) → a plan of
//! what changes, or a typed refusal saying why not. Pure: the service gathers the facts and
//! commits the plan.

use uuid::Uuid;

use super::condition::ConditionFacts;
use super::definition::{Definition, Effect, Guard, Input, Outcome, TransitionDef, Trigger};
use crate::domain::field::has_control;
use crate::domain::supplement::{parse_answers, parse_points};
use crate::domain::{
    Answer, AnswerInput, ContractState, ContractType, MaterialKind, Role, Roles, SupplementPoint,
};

/// What the engine knows about the contract.
#[derive(Debug, Clone)]
pub struct ContractFacts<'a> {
    pub state: ContractState,
    pub contract_type: ContractType,
    pub amount_fen: i64,
    pub has_funding_source: bool,
    /// Everyone who drafted, revised or submitted the contract.
    pub authors: &'a [Uuid],
    pub signatories: &'a [String],
    pub open_blocking_findings: u32,
    pub body_sha256: &'a str,
    pub approved_sha256: Option<&'a str>,
    /// The SHA-256 of what an approval covers now (body, facts, materials), and of what the
    /// approval covered, once approved.
    pub manifest_sha256: &'a str,
    pub approved_manifest_sha256: Option<&'a str>,
    /// The kinds of material attached now.
    pub materials: &'a [MaterialKind],
    /// The points of a 补正 request not yet answered.
    pub open_points: &'a [SupplementPoint],
}

/// One person's standing towards the contract.
#[derive(Debug, Clone)]
pub struct Standing<'a> {
    pub user_id: Uuid,
    pub email: &'a str,
    pub roles: &'a Roles,
    /// Belongs to the contract's own agency.
    pub own_agency: bool,
    /// The contract's agency lies within this person's agency subtree.
    pub in_jurisdiction: bool,
}

/// Who fires the transition: a user, possibly as the deputy of a reviewer (whose role and
/// jurisdiction they then borrow).
#[derive(Debug, Clone)]
pub struct Actor<'a> {
    pub me: Standing<'a>,
    pub on_behalf_of: Option<Standing<'a>>,
}

impl Actor<'_> {
    fn acting(&self) -> &Standing<'_> {
        self.on_behalf_of.as_ref().unwrap_or(&self.me)
    }

    fn is_author(&self, authors: &[Uuid]) -> bool {
        authors.contains(&self.me.user_id)
            || self
                .on_behalf_of
                .as_ref()
                .is_some_and(|o| authors.contains(&o.user_id))
    }
}

/// What the actor supplies with the request.
#[derive(Debug, Clone, Default)]
pub struct Inputs<'a> {
    pub opinion: Option<&'a str>,
    pub body_sha256: Option<&'a str>,
    pub points: Option<&'a [String]>,
    pub answers: Option<&'a [AnswerInput]>,
}

pub const MAX_OPINION_CHARS: usize = 20_000;

/// What firing the transition changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub transition: String,
    pub from: ContractState,
    pub to: ContractState,
    pub outcome: Option<Outcome>,
    pub effects: Vec<Effect>,
    /// Entering `to` records the current body as the approved one.
    pub pins_version: bool,
    /// Working days until the new state is due, if it has a deadline.
    pub sla_days: Option<u32>,
    /// Stop the review clock, keeping the working days left (退回补正).
    pub pauses_clock: bool,
    pub opinion: Option<String>,
    /// The points of a 补正 request this transition makes.
    pub points: Vec<String>,
    /// The answers to the open 补正 points this transition gives.
    pub answers: Vec<Answer>,
    /// 修改后同意: the conditions an approval sets (checked and added by the caller).
    pub conditions: Vec<String>,
}

/// Why a transition cannot be fired; each maps to one HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No transition of that name exists (404).
    UnknownTransition { name: String },
    /// The transition exists but not from the current state (409).
    WrongState { name: String, state: ContractState },
    /// The actor holds none of the roles the transition needs (403).
    Role { name: String, required: Vec<Role> },
    /// The actor is outside the contract's agency or jurisdiction (403).
    Outside { guard: Guard, reason: String },
    /// A guard failed (422).
    Guard { guard: Guard, reason: String },
    /// A required input is missing or invalid (422).
    Input { input: Input, reason: String },
    /// Materials the contract's type requires are not attached (422).
    MissingMaterials { missing: Vec<MaterialKind> },
}

fn condition_facts(facts: &ContractFacts<'_>) -> ConditionFacts {
    ConditionFacts {
        amount_fen: facts.amount_fen,
        contract_type: facts.contract_type,
        has_funding_source: facts.has_funding_source,
    }
}

/// The one transition of `name` and `trigger` that applies to the contract now.
fn select<'d>(
    definition: &'d Definition,
    facts: &ContractFacts<'_>,
    name: &str,
    trigger: Trigger,
) -> Result<&'d TransitionDef, Refusal> {
    let named: Vec<&TransitionDef> = definition
        .transitions
        .iter()
        .filter(|t| t.name == name && t.trigger == trigger)
        .collect();
    if named.is_empty() {
        return Err(Refusal::UnknownTransition {
            name: name.to_owned(),
        });
    }
    let wrong_state = || Refusal::WrongState {
        name: name.to_owned(),
        state: facts.state,
    };
    let condition = condition_facts(facts);
    named
        .into_iter()
        .filter(|t| t.from.contains(&facts.state))
        .find(|t| {
            t.when.as_ref().is_none_or(|when| {
                when.evaluate(&condition, &definition.params)
                    .unwrap_or(false)
            })
        })
        .ok_or_else(wrong_state)
}

fn check_role(transition: &TransitionDef, actor: &Actor<'_>) -> Result<(), Refusal> {
    if transition
        .roles
        .iter()
        .any(|role| actor.acting().roles.has(*role))
    {
        Ok(())
    } else {
        Err(Refusal::Role {
            name: transition.name.clone(),
            required: transition.roles.clone(),
        })
    }
}

/// The materials `[materials]` requires for the contract's type that are not attached.
pub fn missing_materials(definition: &Definition, facts: &ContractFacts<'_>) -> Vec<MaterialKind> {
    definition
        .required_materials(facts.contract_type)
        .iter()
        .filter(|kind| !facts.materials.contains(kind))
        .copied()
        .collect()
}

fn check_guard(
    guard: Guard,
    definition: &Definition,
    facts: &ContractFacts<'_>,
    actor: &Actor<'_>,
) -> Result<(), Refusal> {
    if guard == Guard::MaterialsComplete {
        let missing = missing_materials(definition, facts);
        return if missing.is_empty() {
            Ok(())
        } else {
            Err(Refusal::MissingMaterials { missing })
        };
    }
    let acting = actor.acting();
    let (passed, outside, reason) = match guard {
        Guard::OwnAgency => (
            acting.own_agency,
            true,
            "只有合同所属机构的人员可以执行此操作 / only staff of the contract's own agency may do this",
        ),
        Guard::Jurisdiction => (
            acting.in_jurisdiction,
            true,
            "该合同不在您的审查管辖范围内 / the contract is outside your review jurisdiction",
        ),
        Guard::NotSubmitter => (
            !actor.is_author(facts.authors),
            false,
            "起草或提交合同的人不能审查该合同 / whoever drafted or submitted a contract may not review it",
        ),
        Guard::NoOpenBlockingFindings => (
            facts.open_blocking_findings == 0,
            false,
            "仍有未处理的阻断性审查发现 / blocking findings on this version are still open",
        ),
        Guard::VersionApproved => (
            facts.approved_sha256 == Some(facts.body_sha256)
                && facts
                    .approved_manifest_sha256
                    .is_none_or(|approved| approved == facts.manifest_sha256),
            false,
            "当前版本（正文、合同信息或审查材料）不是审查通过的版本 / the current version (text, facts or materials) is not the approved one",
        ),
        Guard::ListedSignatory => (
            facts
                .signatories
                .iter()
                .any(|s| s.eq_ignore_ascii_case(acting.email)),
            false,
            "您不是该合同的签署人 / you are not a signatory of this contract",
        ),
        Guard::MaterialsComplete => (true, false, ""),
    };
    match (passed, outside) {
        (true, _) => Ok(()),
        (false, true) => Err(Refusal::Outside {
            guard,
            reason: reason.to_owned(),
        }),
        (false, false) => Err(Refusal::Guard {
            guard,
            reason: reason.to_owned(),
        }),
    }
}

fn check_input(
    input: Input,
    facts: &ContractFacts<'_>,
    inputs: &Inputs<'_>,
) -> Result<(), Refusal> {
    let refuse = |reason: &str| {
        Err(Refusal::Input {
            input,
            reason: reason.to_owned(),
        })
    };
    match input {
        Input::Opinion => match inputs.opinion.map(str::trim) {
            None | Some("") => refuse("须填写审查意见 / a written review opinion is required"),
            Some(text) if text.chars().count() > MAX_OPINION_CHARS => {
                refuse("审查意见过长 / the opinion is too long (at most 20,000 characters)")
            }
            Some(text) if has_control(text) => {
                refuse("审查意见不能包含控制字符 / the opinion must not contain control characters")
            }
            Some(_) => Ok(()),
        },
        Input::BodySha256 => match inputs.body_sha256 {
            None => refuse(
                "须提供所签版本的 SHA-256 / the SHA-256 of the version being signed is required",
            ),
            Some(sha) if Some(sha) != facts.approved_sha256 => refuse(
                "所签版本不是审查通过的版本 / the version presented is not the approved version",
            ),
            Some(_) => Ok(()),
        },
        Input::Points => match inputs.points.map(parse_points) {
            None => refuse(
                "须逐项列明需补正的事项 / name, point by point, what must be supplied or changed",
            ),
            Some(Err(reason)) => refuse(&reason),
            Some(Ok(_)) => Ok(()),
        },
        Input::Answers if facts.open_points.is_empty() => Ok(()),
        Input::Answers => {
            match parse_answers(facts.open_points, inputs.answers.unwrap_or_default()) {
                Err(reason) => refuse(&reason),
                Ok(_) => Ok(()),
            }
        }
    }
}

fn plan(
    definition: &Definition,
    transition: &TransitionDef,
    facts: &ContractFacts<'_>,
    inputs: &Inputs<'_>,
) -> Plan {
    let target = definition.state(transition.to);
    Plan {
        transition: transition.name.clone(),
        from: facts.state,
        to: transition.to,
        outcome: transition.outcome,
        effects: transition.effects.clone(),
        pins_version: target.is_some_and(|s| s.pins_version),
        sla_days: target.and_then(|s| s.sla_days),
        pauses_clock: transition.pauses_clock,
        points: if transition.requires.contains(&Input::Points) {
            inputs
                .points
                .map(parse_points)
                .and_then(Result::ok)
                .unwrap_or_default()
        } else {
            Vec::new()
        },
        answers: if transition.requires.contains(&Input::Answers) {
            parse_answers(facts.open_points, inputs.answers.unwrap_or_default()).unwrap_or_default()
        } else {
            Vec::new()
        },
        conditions: Vec::new(),
        opinion: inputs
            .opinion
            .map(|o| o.trim().to_owned())
            .filter(|o| !o.is_empty()),
    }
}

/// Fires the manual transition `name`.
///
/// # Errors
/// The first reason the transition may not happen, checked in this order: it exists, it applies
/// in the current state, the actor's role, the guards, the inputs.
pub fn fire(
    definition: &Definition,
    facts: &ContractFacts<'_>,
    actor: &Actor<'_>,
    name: &str,
    inputs: &Inputs<'_>,
) -> Result<Plan, Refusal> {
    let transition = select(definition, facts, name, Trigger::Manual)?;
    check_role(transition, actor)?;
    for guard in &transition.guards {
        check_guard(*guard, definition, facts, actor)?;
    }
    for input in &transition.requires {
        check_input(*input, facts, inputs)?;
    }
    if inputs.opinion.is_some_and(has_control) {
        // An opinion given where none is required is kept too: it must be text as well.
        check_input(Input::Opinion, facts, inputs)?;
    }
    Ok(plan(definition, transition, facts, inputs))
}

/// What replacing the body does in the current state: nothing to the workflow (`Ok(None)`, the
/// state is editable), fire the state's `body_changed` transition, or refuse.
///
/// # Errors
/// [`Refusal::WrongState`] when the body is frozen in this state; a role or guard refusal of the
/// `body_changed` transition.
pub fn on_body_change(
    definition: &Definition,
    facts: &ContractFacts<'_>,
    actor: &Actor<'_>,
) -> Result<Option<Plan>, Refusal> {
    if definition.state(facts.state).is_some_and(|s| s.editable) {
        return Ok(None);
    }
    let transition = definition
        .transitions
        .iter()
        .find(|t| t.trigger == Trigger::BodyChanged && t.from.contains(&facts.state))
        .ok_or(Refusal::WrongState {
            name: "body_changed".to_owned(),
            state: facts.state,
        })?;
    check_role(transition, actor)?;
    for guard in &transition.guards {
        check_guard(*guard, definition, facts, actor)?;
    }
    Ok(Some(plan(
        definition,
        transition,
        facts,
        &Inputs::default(),
    )))
}

/// A transition the actor may fire now, with the inputs it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Available {
    pub name: String,
    pub label: String,
    pub to: ContractState,
    pub requires: Vec<Input>,
}

/// Every manual transition the actor could fire now, given the right inputs.
pub fn available(
    definition: &Definition,
    facts: &ContractFacts<'_>,
    actor: &Actor<'_>,
) -> Vec<Available> {
    let mut names: Vec<&str> = definition
        .transitions
        .iter()
        .filter(|t| t.trigger == Trigger::Manual)
        .map(|t| t.name.as_str())
        .collect();
    names.dedup();
    let mut seen = std::collections::BTreeSet::new();
    names
        .into_iter()
        .filter(|name| seen.insert(*name))
        .filter_map(|name| {
            let transition = select(definition, facts, name, Trigger::Manual).ok()?;
            check_role(transition, actor).ok()?;
            for guard in &transition.guards {
                check_guard(*guard, definition, facts, actor).ok()?;
            }
            Some(Available {
                name: transition.name.clone(),
                label: transition.label.clone(),
                to: transition.to,
                requires: transition.requires.clone(),
            })
        })
        .collect()
}
