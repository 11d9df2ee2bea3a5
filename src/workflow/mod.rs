//! The review workflow as data: a TOML definition validated into a graph, and a pure engine
//! that turns "this actor fires this transition on this contract" into a plan or a refusal.
//! No I/O here: files are read by the caller, facts are gathered by the service.

pub mod calendar;
pub mod condition;
pub mod definition;
pub mod engine;
pub mod graph;

#[cfg(test)]
mod tests;

pub use calendar::WorkingCalendar;
pub use definition::{Definition, DefinitionErrors, Effect, Guard, Input, Outcome, parse};
pub use engine::{Actor, Available, ContractFacts, Inputs, Plan, Refusal, Standing};
