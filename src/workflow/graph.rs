//! Diagrams of a workflow: Mermaid text for `workflow graph`, and a laid-out picture (boxes and
//! arrows with coordinates) that the contract page draws as SVG on the server.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write;

use serde::Serialize;

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

pub const NODE_WIDTH: i32 = 170;
pub const NODE_HEIGHT: i32 = 48;
const COLUMN_GAP: i32 = 60;
const ROW_GAP: i32 = 26;
const MARGIN: i32 = 12;

/// A state's box.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Node {
    pub state: String,
    /// The label's Chinese part and English part, one per line.
    pub lines: Vec<String>,
    pub x: i32,
    pub y: i32,
    pub current: bool,
    pub terminal: bool,
}

/// An arrow between two boxes, as a quadratic curve from `(x1, y1)` through `(cx, cy)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Arrow {
    pub x1: i32,
    pub y1: i32,
    pub cx: i32,
    pub cy: i32,
    pub x2: i32,
    pub y2: i32,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Layout {
    pub width: i32,
    pub height: i32,
    pub node_width: i32,
    pub node_height: i32,
    pub nodes: Vec<Node>,
    pub arrows: Vec<Arrow>,
}

/// Columns by distance from the initial state; arrows bow sideways so that a pair of opposite
/// arrows never overlap.
pub fn layout(definition: &Definition, current: Option<&str>) -> Layout {
    let depth = depths(definition);
    let mut columns: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    for name in definition.states.keys() {
        let column = depth.get(name).copied().unwrap_or(depth.len());
        columns.entry(column).or_default().push(name);
    }
    let mut position = BTreeMap::new();
    let mut nodes = Vec::new();
    for (column_index, (_, names)) in columns.iter().enumerate() {
        for (row, name) in names.iter().enumerate() {
            let x = MARGIN + column_index as i32 * (NODE_WIDTH + COLUMN_GAP);
            let y = MARGIN + row as i32 * (NODE_HEIGHT + ROW_GAP);
            position.insert(*name, (x, y));
            let state = &definition.states[name];
            let lines = match state.label.split_once(' ') {
                Some((zh, en)) => vec![zh.to_owned(), en.to_owned()],
                None => vec![state.label.clone()],
            };
            nodes.push(Node {
                state: (*name).to_owned(),
                lines,
                x,
                y,
                current: current == Some(*name),
                terminal: state.terminal,
            });
        }
    }
    let mut labels: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for transition in &definition.transitions {
        for from in &transition.from {
            let names = labels
                .entry((from.as_str(), transition.to.as_str()))
                .or_default();
            if !names.contains(&transition.name.as_str()) {
                names.push(&transition.name);
            }
        }
    }
    let arrows = labels
        .into_iter()
        .filter_map(|((from, to), names)| {
            let (a, b) = (position.get(from)?, position.get(to)?);
            Some(arrow(*a, *b, names.join(" / ")))
        })
        .collect();
    let width = nodes.iter().map(|n| n.x).max().unwrap_or(0) + NODE_WIDTH + MARGIN;
    let height = nodes.iter().map(|n| n.y).max().unwrap_or(0) + NODE_HEIGHT + MARGIN;
    Layout {
        width,
        height,
        node_width: NODE_WIDTH,
        node_height: NODE_HEIGHT,
        nodes,
        arrows,
    }
}

/// Breadth-first distance of every reachable state from the initial one.
fn depths(definition: &Definition) -> BTreeMap<&str, usize> {
    let mut depth = BTreeMap::from([(definition.initial.as_str(), 0)]);
    let mut queue = VecDeque::from([definition.initial.as_str()]);
    while let Some(state) = queue.pop_front() {
        let next = depth[state] + 1;
        for transition in &definition.transitions {
            if transition.from.iter().any(|f| f.as_str() == state)
                && !depth.contains_key(transition.to.as_str())
            {
                depth.insert(transition.to.as_str(), next);
                queue.push_back(transition.to.as_str());
            }
        }
    }
    depth
}

fn arrow((ax, ay): (i32, i32), (bx, by): (i32, i32), label: String) -> Arrow {
    let centre = |x: i32, y: i32| (x + NODE_WIDTH / 2, y + NODE_HEIGHT / 2);
    let ((x1, y1), (x2, y2)) = (centre(ax, ay), centre(bx, by));
    // Bow to the right of the direction of travel, so that a -> b and b -> a part ways.
    let (dx, dy) = (x2 - x1, y2 - y1);
    let length = f64::from(dx).hypot(f64::from(dy)).max(1.0);
    let bow = 24.0;
    let cx = (x1 + x2) / 2 + (-f64::from(dy) / length * bow) as i32;
    let cy = (y1 + y2) / 2 + (f64::from(dx) / length * bow) as i32;
    let (x1, y1) = edge_point((x1, y1), (cx, cy));
    let (x2, y2) = edge_point((x2, y2), (cx, cy));
    Arrow {
        x1,
        y1,
        cx,
        cy,
        x2,
        y2,
        label,
    }
}

/// Where the line from a box's centre towards `toward` leaves the box.
fn edge_point((x, y): (i32, i32), (tx, ty): (i32, i32)) -> (i32, i32) {
    let (dx, dy) = (f64::from(tx - x), f64::from(ty - y));
    if dx == 0.0 && dy == 0.0 {
        return (x, y);
    }
    let half_w = f64::from(NODE_WIDTH) / 2.0;
    let half_h = f64::from(NODE_HEIGHT) / 2.0;
    let scale = (half_w / dx.abs()).min(half_h / dy.abs());
    (x + (dx * scale) as i32, y + (dy * scale) as i32)
}
