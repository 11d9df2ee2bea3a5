//! The workflow definition: parsed from TOML, then validated as a whole. Every problem is reported
//! with the file and line it comes from, so a broken file is refused with a precise message.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::condition::{Condition, sample_space};
pub use crate::domain::Outcome;
use crate::domain::{ContractState, ContractType, MaterialKind, Role, Roles};

/// Something a transition checks beyond the actor's role.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::EnumString, strum::IntoStaticStr, strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum Guard {
    /// The actor belongs to the contract's own agency.
    OwnAgency,
    /// The contract's agency lies within the actor's agency subtree.
    Jurisdiction,
    /// Separation of duties: nobody who drafted or submitted the contract may decide on it.
    NotSubmitter,
    /// No `block` finding on the current version is left open.
    NoOpenBlockingFindings,
    /// The current body is exactly the version that was approved.
    VersionApproved,
    /// The actor's e-mail is among the contract's signatories.
    ListedSignatory,
    /// Every material `[materials]` requires for the contract's type is attached.
    MaterialsComplete,
}

/// Input a transition requires from the actor.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::EnumString, strum::IntoStaticStr, strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum Input {
    /// The written review opinion (审查意见).
    Opinion,
    /// The SHA-256 of the version the actor read, to sign exactly that version.
    BodySha256,
    /// What must be supplied or changed, point by point (补正事项).
    Points,
    /// An answer to each point of an open 补正 request; nothing when none is open.
    Answers,
}

/// Who a notification goes to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::EnumString, strum::IntoStaticStr, strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum Audience {
    Submitter,
    Signatories,
    Reviewers,
    LeadReviewers,
    /// The reviewers who approved the contract.
    Approvers,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Run the legality screen on the current version.
    Screen,
    /// Queue the e-mail `templates/email/<event>.md` for the audiences.
    Notify { event: String, to: Vec<Audience> },
}

/// What fires a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::EnumString, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Trigger {
    /// A user asks for it by name.
    Manual,
    /// Replacing the body in the `from` state fires it.
    BodyChanged,
}

#[derive(Debug, Clone)]
pub struct StateDef {
    pub state: ContractState,
    pub label: String,
    pub sla_days: Option<u32>,
    pub terminal: bool,
    /// The body may be replaced freely in this state.
    pub editable: bool,
    /// Entering this state records the current body's hash as the approved one.
    pub pins_version: bool,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct TransitionDef {
    pub name: String,
    pub label: String,
    pub from: Vec<ContractState>,
    pub to: ContractState,
    pub trigger: Trigger,
    pub when: Option<Condition>,
    pub roles: Vec<Role>,
    pub guards: Vec<Guard>,
    pub requires: Vec<Input>,
    pub effects: Vec<Effect>,
    pub outcome: Option<Outcome>,
    /// Stops the review clock: the working days left are kept until the contract is
    /// resubmitted (退回补正).
    pub pauses_clock: bool,
    pub line: usize,
}

/// A validated workflow.
#[derive(Debug, Clone)]
pub struct Definition {
    pub id: String,
    pub version: i64,
    pub initial: ContractState,
    pub params: Vec<(String, i64)>,
    pub states: BTreeMap<&'static str, StateDef>,
    pub transitions: Vec<TransitionDef>,
    /// The materials each contract type must carry before it is submitted.
    pub materials: BTreeMap<ContractType, Vec<MaterialKind>>,
}

impl Definition {
    /// `id@version`, as contracts record it.
    pub fn key(&self) -> String {
        format!("{}@{}", self.id, self.version)
    }

    /// The materials a contract of `contract_type` must carry before it is submitted.
    pub fn required_materials(&self, contract_type: ContractType) -> &[MaterialKind] {
        self.materials
            .get(&contract_type)
            .map_or(&[], Vec::as_slice)
    }

    pub fn state(&self, state: ContractState) -> Option<&StateDef> {
        self.states.get(state.as_str())
    }

    /// A step of the history in words: "送审 Submit for review：草稿 Draft → 法制审查 Legal
    /// review", with the labels of the workflow it ran under.
    pub fn step_in_words(&self, name: &str, from: ContractState, to: ContractState) -> String {
        let action = self
            .transitions
            .iter()
            .find(|t| t.name == name && t.from.contains(&from) && t.to == to)
            .map_or(name, |t| t.label.as_str());
        let state = |s: ContractState| self.state(s).map_or(s.as_str(), |d| d.label.as_str());
        format!("{action}：{} → {}", state(from), state(to))
    }

    /// The review stages where someone holding `roles` decides: a reviewer's queue.
    pub fn stages_decided_by(&self, roles: &Roles) -> Vec<ContractState> {
        self.states
            .values()
            .map(|s| s.state)
            .filter(|stage| self.deciders(*stage).iter().any(|role| roles.has(*role)))
            .collect()
    }

    /// The roles that decide in `state`: those of its transitions that require an opinion.
    pub fn deciders(&self, state: ContractState) -> Vec<Role> {
        let mut roles: Vec<Role> = self
            .transitions
            .iter()
            .filter(|t| {
                t.trigger == Trigger::Manual
                    && t.from.contains(&state)
                    && t.requires.contains(&Input::Opinion)
            })
            .flat_map(|t| t.roles.iter().copied())
            .collect();
        roles.sort();
        roles.dedup();
        roles
    }
}

/// One problem in a workflow file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// Every problem found, one per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionErrors(pub Vec<DefinitionError>);

impl fmt::Display for DefinitionErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

impl std::error::Error for DefinitionErrors {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefinition {
    id: Spanned<String>,
    version: Spanned<i64>,
    initial: Spanned<String>,
    #[serde(default)]
    params: BTreeMap<String, Spanned<i64>>,
    states: BTreeMap<String, Spanned<RawState>>,
    #[serde(default)]
    transitions: Vec<Spanned<RawTransition>>,
    #[serde(default)]
    materials: BTreeMap<Spanned<String>, Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawState {
    label: String,
    sla_days: Option<Spanned<i64>>,
    #[serde(default)]
    terminal: bool,
    #[serde(default)]
    editable: bool,
    #[serde(default)]
    pins_version: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTransition {
    name: Spanned<String>,
    label: Option<String>,
    from: Vec<Spanned<String>>,
    to: Spanned<String>,
    trigger: Option<Spanned<String>>,
    when: Option<Spanned<String>>,
    #[serde(default)]
    roles: Vec<Spanned<String>>,
    #[serde(default)]
    guards: Vec<Spanned<String>>,
    #[serde(default)]
    requires: Vec<Spanned<String>>,
    #[serde(default)]
    effects: Vec<Spanned<RawEffect>>,
    outcome: Option<Spanned<String>>,
    #[serde(default)]
    pauses_clock: bool,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawEffect {
    Named(String),
    Notify { notify: String, to: Vec<String> },
}

/// Collects problems with their lines while a file is checked.
struct Problems<'a> {
    file: &'a str,
    source: &'a str,
    found: Vec<DefinitionError>,
}

impl Problems<'_> {
    fn line_of(&self, span: &Range<usize>) -> usize {
        let end = span.start.min(self.source.len());
        self.source.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    fn at(&mut self, span: &Range<usize>, message: impl Into<String>) {
        let line = self.line_of(span);
        self.at_line(line, message);
    }

    fn at_line(&mut self, line: usize, message: impl Into<String>) {
        self.found.push(DefinitionError {
            file: self.file.to_owned(),
            line,
            message: message.into(),
        });
    }

    /// Parses a vocabulary word, or records why not.
    fn word<T: std::str::FromStr + strum::IntoEnumIterator + Into<&'static str>>(
        &mut self,
        raw: &Spanned<String>,
        what: &str,
    ) -> Option<T> {
        match raw.get_ref().parse() {
            Ok(value) => Some(value),
            Err(_) => {
                let known: Vec<&'static str> = T::iter().map(Into::into).collect();
                self.at(
                    &raw.span(),
                    format!(
                        "unknown {what} `{}` (known: {})",
                        raw.get_ref(),
                        known.join(", ")
                    ),
                );
                None
            }
        }
    }
}

/// Parses and validates a workflow file. `template_exists(event)` tells whether
/// `templates/email/<event>.md` is there (the caller looks; this stays free of I/O).
///
/// # Errors
/// Every problem found, each with its file and line.
pub fn parse(
    file: &str,
    source: &str,
    template_exists: &dyn Fn(&str) -> bool,
) -> Result<Definition, DefinitionErrors> {
    let mut problems = Problems {
        file,
        source,
        found: Vec::new(),
    };
    let raw: RawDefinition = match toml::from_str(source) {
        Ok(raw) => raw,
        Err(error) => {
            let line = error.span().map_or(1, |span| problems.line_of(&span));
            problems.at_line(line, error.message().to_owned());
            return Err(DefinitionErrors(problems.found));
        }
    };
    let definition = check(&raw, &mut problems, template_exists);
    match definition {
        Some(definition) if problems.found.is_empty() => Ok(definition),
        _ => Err(DefinitionErrors(problems.found)),
    }
}

fn check(
    raw: &RawDefinition,
    problems: &mut Problems<'_>,
    template_exists: &dyn Fn(&str) -> bool,
) -> Option<Definition> {
    if raw.id.get_ref().trim().is_empty() {
        problems.at(&raw.id.span(), "`id` must not be empty");
    }
    if *raw.version.get_ref() < 1 {
        problems.at(&raw.version.span(), "`version` must be 1 or more");
    }
    let params: Vec<(String, i64)> = raw
        .params
        .iter()
        .map(|(k, v)| (k.clone(), *v.get_ref()))
        .collect();
    let states = check_states(raw, problems);
    let initial = problems.word::<ContractState>(&raw.initial, "state");
    if let Some(initial) = initial
        && !states.contains_key(initial.as_str())
    {
        problems.at(
            &raw.initial.span(),
            format!("initial state `{initial}` is not declared in [states]"),
        );
    }
    let transitions: Vec<TransitionDef> = raw
        .transitions
        .iter()
        .filter_map(|t| check_transition(t, &states, &params, problems, template_exists))
        .collect();
    check_branches(&transitions, &params, problems);
    let materials = check_materials(&raw.materials, problems);
    let initial = initial?;
    check_graph(initial, &states, &transitions, problems);
    Some(Definition {
        id: raw.id.get_ref().trim().to_owned(),
        version: *raw.version.get_ref(),
        initial,
        params,
        states,
        transitions,
        materials,
    })
}

/// `[materials]`: contract types to the material kinds they require, each named once.
fn check_materials(
    raw: &BTreeMap<Spanned<String>, Vec<Spanned<String>>>,
    problems: &mut Problems<'_>,
) -> BTreeMap<ContractType, Vec<MaterialKind>> {
    let mut materials = BTreeMap::new();
    for (contract_type, kinds) in raw {
        let Some(contract_type) = problems.word::<ContractType>(contract_type, "contract type")
        else {
            continue;
        };
        let mut required: Vec<MaterialKind> = Vec::new();
        for word in kinds {
            let Some(kind) = problems.word::<MaterialKind>(word, "material kind") else {
                continue;
            };
            if required.contains(&kind) {
                problems.at(&word.span(), format!("material `{kind}` is named twice"));
            } else {
                required.push(kind);
            }
        }
        materials.insert(contract_type, required);
    }
    materials
}

fn check_states(
    raw: &RawDefinition,
    problems: &mut Problems<'_>,
) -> BTreeMap<&'static str, StateDef> {
    let mut states = BTreeMap::new();
    for (name, spanned) in &raw.states {
        let state = spanned.get_ref();
        let span = spanned.span();
        let Ok(known) = ContractState::parse(name) else {
            problems.at(
                &span,
                format!(
                    "unknown state `{name}`: the database knows only the states of ContractState"
                ),
            );
            continue;
        };
        let sla_days = match &state.sla_days {
            Some(days) if !(1..=60).contains(days.get_ref()) => {
                problems.at(
                    &days.span(),
                    "`sla_days` must be between 1 and 60 working days",
                );
                None
            }
            Some(days) => u32::try_from(*days.get_ref()).ok(),
            None => None,
        };
        if state.terminal && (state.editable || sla_days.is_some()) {
            problems.at(
                &span,
                format!("terminal state `{name}` cannot be editable or have a deadline"),
            );
        }
        states.insert(
            known.as_str(),
            StateDef {
                state: known,
                label: state.label.clone(),
                sla_days,
                terminal: state.terminal,
                editable: state.editable,
                pins_version: state.pins_version,
                line: problems.line_of(&span),
            },
        );
    }
    states
}

fn check_transition(
    spanned: &Spanned<RawTransition>,
    states: &BTreeMap<&'static str, StateDef>,
    params: &[(String, i64)],
    problems: &mut Problems<'_>,
    template_exists: &dyn Fn(&str) -> bool,
) -> Option<TransitionDef> {
    let raw = spanned.get_ref();
    let line = problems.line_of(&spanned.span());
    let name = raw.name.get_ref();
    let from: Vec<ContractState> = raw
        .from
        .iter()
        .filter_map(|w| declared_state(w, states, problems))
        .collect();
    let to = declared_state(&raw.to, states, problems);
    if raw.from.is_empty() {
        problems.at_line(line, format!("transition `{name}` has no `from` state"));
    }
    if raw.roles.is_empty() {
        problems.at_line(
            line,
            format!("transition `{name}` names no role that may fire it"),
        );
    }
    let effects = raw
        .effects
        .iter()
        .filter_map(|effect| check_effect(effect, problems, template_exists))
        .collect();
    Some(TransitionDef {
        name: name.clone(),
        label: raw.label.clone().unwrap_or_else(|| name.clone()),
        from,
        to: to?,
        trigger: trigger(raw.trigger.as_ref(), problems),
        when: condition(raw.when.as_ref(), params, problems),
        roles: words(&raw.roles, "role", problems),
        guards: words(&raw.guards, "guard", problems),
        requires: words(&raw.requires, "input", problems),
        effects,
        outcome: raw
            .outcome
            .as_ref()
            .and_then(|w| problems.word::<Outcome>(w, "outcome")),
        pauses_clock: raw.pauses_clock,
        line,
    })
}

/// A state word that names a state declared in `[states]`.
fn declared_state(
    word: &Spanned<String>,
    states: &BTreeMap<&'static str, StateDef>,
    problems: &mut Problems<'_>,
) -> Option<ContractState> {
    let state = problems.word::<ContractState>(word, "state")?;
    if !states.contains_key(state.as_str()) {
        problems.at(
            &word.span(),
            format!("state `{state}` is not declared in [states]"),
        );
        return None;
    }
    Some(state)
}

/// Every word of a list that parses as a `T`; the others are reported.
fn words<T: std::str::FromStr + strum::IntoEnumIterator + Into<&'static str>>(
    raw: &[Spanned<String>],
    what: &str,
    problems: &mut Problems<'_>,
) -> Vec<T> {
    raw.iter()
        .filter_map(|w| problems.word::<T>(w, what))
        .collect()
}

/// `manual` unless the transition says otherwise.
fn trigger(raw: Option<&Spanned<String>>, problems: &mut Problems<'_>) -> Trigger {
    let Some(word) = raw else {
        return Trigger::Manual;
    };
    word.get_ref().parse::<Trigger>().unwrap_or_else(|_| {
        problems.at(
            &word.span(),
            format!(
                "unknown trigger `{}` (known: manual, body_changed)",
                word.get_ref()
            ),
        );
        Trigger::Manual
    })
}

fn condition(
    raw: Option<&Spanned<String>>,
    params: &[(String, i64)],
    problems: &mut Problems<'_>,
) -> Option<Condition> {
    let source = raw?;
    match Condition::parse(source.get_ref(), params) {
        Ok(condition) => Some(condition),
        Err(message) => {
            problems.at(&source.span(), message);
            None
        }
    }
}

fn check_effect(
    spanned: &Spanned<RawEffect>,
    problems: &mut Problems<'_>,
    template_exists: &dyn Fn(&str) -> bool,
) -> Option<Effect> {
    let span = spanned.span();
    match spanned.get_ref() {
        RawEffect::Named(name) if name == "screen" => Some(Effect::Screen),
        RawEffect::Named(name) => {
            problems.at(
                &span,
                format!(
                    "unknown effect `{name}` (known: \"screen\", {{ notify = EVENT, to = [...] }})"
                ),
            );
            None
        }
        RawEffect::Notify { notify, to } => {
            if !template_exists(notify) {
                problems.at(
                    &span,
                    format!("missing template templates/email/{notify}.md for notify `{notify}`"),
                );
            }
            let mut audiences = Vec::new();
            for name in to {
                match name.parse::<Audience>() {
                    Ok(audience) => audiences.push(audience),
                    Err(_) => {
                        let known: Vec<&'static str> =
                            <Audience as strum::IntoEnumIterator>::iter()
                                .map(Into::into)
                                .collect();
                        problems.at(
                            &span,
                            format!("unknown audience `{name}` (known: {})", known.join(", ")),
                        );
                    }
                }
            }
            if to.is_empty() {
                problems.at(&span, format!("notify `{notify}` has no audience (`to`)"));
            }
            Some(Effect::Notify {
                event: notify.clone(),
                to: audiences,
            })
        }
    }
}

/// Transitions sharing a name and a `from` state are branches: exactly one must apply to every
/// contract, so each needs a `when`, and the `when`s may neither overlap nor leave a gap.
fn check_branches(
    transitions: &[TransitionDef],
    params: &[(String, i64)],
    problems: &mut Problems<'_>,
) {
    let mut groups: BTreeMap<(&str, &str, &str), Vec<&TransitionDef>> = BTreeMap::new();
    for transition in transitions {
        let trigger: &'static str = transition.trigger.into();
        for from in &transition.from {
            groups
                .entry((trigger, transition.name.as_str(), from.as_str()))
                .or_default()
                .push(transition);
        }
    }
    for ((_, name, from), branches) in groups {
        if branches.len() < 2 {
            continue;
        }
        let lines: Vec<String> = branches.iter().map(|t| t.line.to_string()).collect();
        let conditions: Option<Vec<&Condition>> =
            branches.iter().map(|t| t.when.as_ref()).collect();
        let Some(conditions) = conditions else {
            let line = branches
                .iter()
                .find(|t| t.when.is_none())
                .map_or(0, |t| t.line);
            problems.at_line(
                line,
                format!(
                    "`{name}` from `{from}` has {} branches (lines {}); each needs a `when`",
                    branches.len(),
                    lines.join(", ")
                ),
            );
            continue;
        };
        for facts in sample_space(&conditions, params) {
            let applying: Vec<&TransitionDef> = branches
                .iter()
                .zip(&conditions)
                .filter(|(_, condition)| condition.evaluate(&facts, params).unwrap_or(false))
                .map(|(transition, _)| *transition)
                .collect();
            let case = format!(
                "amount_fen = {}, contract_type = {}, has_funding_source = {}",
                facts.amount_fen, facts.contract_type, facts.has_funding_source
            );
            if applying.len() > 1 {
                let at: Vec<String> = applying.iter().map(|t| t.line.to_string()).collect();
                problems.at_line(
                    applying[1].line,
                    format!("overlapping `when`: branches of `{name}` from `{from}` at lines {} all apply when {case}", at.join(" and ")),
                );
                break;
            }
            if applying.is_empty() {
                problems.at_line(
                    branches[0].line,
                    format!(
                        "no branch of `{name}` from `{from}` (lines {}) applies when {case}",
                        lines.join(", ")
                    ),
                );
                break;
            }
        }
    }
}

/// Every state must be reachable from the initial one, and every non-terminal state must have a
/// way out (a dead end would strand contracts); terminal states have none.
fn check_graph(
    initial: ContractState,
    states: &BTreeMap<&'static str, StateDef>,
    transitions: &[TransitionDef],
    problems: &mut Problems<'_>,
) {
    let mut reached: BTreeSet<&str> = BTreeSet::from([initial.as_str()]);
    let mut queue = VecDeque::from([initial.as_str()]);
    while let Some(state) = queue.pop_front() {
        for transition in transitions
            .iter()
            .filter(|t| t.from.iter().any(|f| f.as_str() == state))
        {
            if reached.insert(transition.to.as_str()) {
                queue.push_back(transition.to.as_str());
            }
        }
    }
    for (name, state) in states {
        let outgoing = transitions
            .iter()
            .filter(|t| t.from.contains(&state.state))
            .count();
        if !reached.contains(name) {
            problems.at_line(
                state.line,
                format!("state `{name}` is unreachable from `{initial}`"),
            );
        }
        if state.terminal && outgoing > 0 {
            problems.at_line(
                state.line,
                format!("terminal state `{name}` has outgoing transitions"),
            );
        }
        if !state.terminal && outgoing == 0 {
            problems.at_line(
                state.line,
                format!("dead end: state `{name}` is not terminal but has no transition out"),
            );
        }
    }
}
