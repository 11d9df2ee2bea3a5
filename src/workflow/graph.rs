//! A Mermaid state diagram of a workflow, for `workflow graph` and the contract page.

use std::fmt::Write;

use super::definition::{Definition, Trigger};

/// `stateDiagram-v2` text; `current` is highlighted when given.
pub fn mermaid(definition: &Definition, current: Option<&str>) -> String {
    let mut out = String::from("stateDiagram-v2\n");
    let _ = writeln!(out, "    [*] --> {}", definition.initial);
    for (name, state) in &definition.states {
        let _ = writeln!(out, "    {name} : {}", state.label.replace(':', "："));
        if state.terminal {
            let _ = writeln!(out, "    {name} --> [*]");
        }
    }
    for transition in &definition.transitions {
        let mut label = transition.name.clone();
        if transition.trigger == Trigger::BodyChanged {
            label = format!("{label} (body changed)");
        }
        if let Some(when) = &transition.when {
            label = format!("{label} [{}]", when.source().replace(':', "："));
        }
        for from in &transition.from {
            let _ = writeln!(out, "    {from} --> {} : {label}", transition.to);
        }
    }
    if let Some(current) = current {
        let _ = writeln!(
            out,
            "    classDef current fill:#fde68a,stroke:#b45309,stroke-width:2px"
        );
        let _ = writeln!(out, "    class {current} current");
    }
    out
}
