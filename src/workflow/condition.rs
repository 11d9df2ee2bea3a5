//! `when` conditions: boolean expressions over a contract's facts, evaluated by evalexpr.
//! Only known variables, no functions, no assignments.

use std::collections::BTreeSet;

use evalexpr::{
    ContextWithMutableVariables, DefaultNumericTypes, HashMapContext, Node, Operator, Value,
    build_operator_tree,
};
use strum::IntoEnumIterator;

use crate::domain::ContractType;

/// The facts a condition can read, besides the definition's `[params]`.
pub const FACT_VARIABLES: [&str; 3] = ["amount_fen", "contract_type", "has_funding_source"];

/// What a condition is evaluated against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionFacts {
    pub amount_fen: i64,
    pub contract_type: ContractType,
    pub has_funding_source: bool,
}

#[derive(Debug, Clone)]
pub struct Condition {
    source: String,
    tree: Node<DefaultNumericTypes>,
}

impl Condition {
    /// Parses `source` and checks it only reads facts and `params`.
    ///
    /// # Errors
    /// A message saying what is wrong with the expression.
    pub fn parse(source: &str, params: &[(String, i64)]) -> Result<Self, String> {
        let tree = build_operator_tree::<DefaultNumericTypes>(source)
            .map_err(|e| format!("invalid `when` expression {source:?}: {e}"))?;
        if let Some(function) = tree.iter_function_identifiers().next() {
            return Err(format!(
                "`when` may not call functions (found `{function}`)"
            ));
        }
        if let Some(variable) = tree.iter_write_variable_identifiers().next() {
            return Err(format!("`when` may not assign (found `{variable}`)"));
        }
        for variable in tree.iter_read_variable_identifiers() {
            let known = FACT_VARIABLES.contains(&variable)
                || params.iter().any(|(name, _)| name == variable);
            if !known {
                return Err(format!(
                    "unknown variable `{variable}` in `when` (known: {}, and the [params])",
                    FACT_VARIABLES.join(", ")
                ));
            }
        }
        let condition = Self {
            source: source.to_owned(),
            tree,
        };
        let sample = ConditionFacts {
            amount_fen: 0,
            contract_type: ContractType::Other,
            has_funding_source: true,
        };
        condition.evaluate(&sample, params)?;
        Ok(condition)
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// # Errors
    /// When the expression does not yield a boolean (e.g. compares a number with text).
    pub fn evaluate(
        &self,
        facts: &ConditionFacts,
        params: &[(String, i64)],
    ) -> Result<bool, String> {
        let mut context = HashMapContext::<DefaultNumericTypes>::new();
        let mut set = |name: &str, value: Value<DefaultNumericTypes>| {
            context
                .set_value(name.to_owned(), value)
                .map_err(|e| format!("setting `{name}`: {e}"))
        };
        set("amount_fen", Value::Int(facts.amount_fen))?;
        set(
            "contract_type",
            Value::String(facts.contract_type.as_str().to_owned()),
        )?;
        set(
            "has_funding_source",
            Value::Boolean(facts.has_funding_source),
        )?;
        for (name, value) in params {
            set(name, Value::Int(*value))?;
        }
        self.tree.eval_boolean_with_context(&context).map_err(|e| {
            format!(
                "`when` {:?} does not evaluate to true or false: {e}",
                self.source
            )
        })
    }

    /// The integer literals in the expression: the boundaries worth sampling.
    fn integer_literals(&self) -> Vec<i64> {
        self.tree
            .iter()
            .filter_map(|node| match node.operator() {
                Operator::Const {
                    value: Value::Int(n),
                } => Some(*n),
                _ => None,
            })
            .collect()
    }
}

/// Every combination of facts that can tell the given conditions apart: each contract type,
/// with and without a funding source, and amounts at and around every boundary the conditions
/// (or the params) mention. For comparisons against constants this covers every case.
pub fn sample_space(conditions: &[&Condition], params: &[(String, i64)]) -> Vec<ConditionFacts> {
    let mut amounts: BTreeSet<i64> = [0, 1, i64::MAX / 2].into_iter().collect();
    let boundaries = conditions
        .iter()
        .flat_map(|c| c.integer_literals())
        .chain(params.iter().map(|(_, value)| *value));
    for boundary in boundaries {
        for amount in [
            boundary.saturating_sub(1),
            boundary,
            boundary.saturating_add(1),
        ] {
            if amount >= 0 {
                amounts.insert(amount);
            }
        }
    }
    let mut samples = Vec::new();
    for contract_type in ContractType::iter() {
        for has_funding_source in [true, false] {
            for &amount_fen in &amounts {
                samples.push(ConditionFacts {
                    amount_fen,
                    contract_type,
                    has_funding_source,
                });
            }
        }
    }
    samples
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> Vec<(String, i64)> {
        vec![("threshold".to_owned(), 500)]
    }

    fn facts(amount_fen: i64, contract_type: ContractType) -> ConditionFacts {
        ConditionFacts {
            amount_fen,
            contract_type,
            has_funding_source: true,
        }
    }

    #[test]
    fn evaluates_facts_and_params() {
        let condition = Condition::parse(
            r#"amount_fen >= threshold || contract_type == "guarantee""#,
            &params(),
        )
        .unwrap();
        assert!(
            condition
                .evaluate(&facts(500, ContractType::Service), &params())
                .unwrap()
        );
        assert!(
            !condition
                .evaluate(&facts(499, ContractType::Service), &params())
                .unwrap()
        );
        assert!(
            condition
                .evaluate(&facts(1, ContractType::Guarantee), &params())
                .unwrap()
        );
    }

    #[test]
    fn refuses_unknown_variables_functions_assignments_and_non_booleans() {
        for bad in [
            "amount > 1",
            "str::len(contract_type) > 1",
            "amount_fen = 5",
            "amount_fen + 1",
            "amount_fen <",
        ] {
            assert!(
                Condition::parse(bad, &params()).is_err(),
                "{bad} should be refused"
            );
        }
    }

    #[test]
    fn samples_straddle_every_boundary() {
        let condition = Condition::parse("amount_fen < 1000", &params()).unwrap();
        let amounts: BTreeSet<i64> = sample_space(&[&condition], &params())
            .iter()
            .map(|f| f.amount_fen)
            .collect();
        for expected in [499, 500, 501, 999, 1000, 1001] {
            assert!(
                amounts.contains(&expected),
                "{expected} missing from {amounts:?}"
            );
        }
    }
}
