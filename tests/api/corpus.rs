//! The screen's quality on the labelled corpus stays above its thresholds.

use std::path::Path;

#[test]
fn the_screen_keeps_its_precision_and_recall_on_the_corpus() {
    let book = contract_review::resources::load_rules(&Default::default()).unwrap();
    let evaluation =
        contract_review::screen_cli::evaluate_corpus(&book, Path::new("tests/corpus")).unwrap();

    assert!(
        evaluation.documents >= 80,
        "the corpus has {} drafts",
        evaluation.documents
    );
    let positives = |category: &str| {
        let counts = evaluation.per_category[category];
        counts.true_positives + counts.false_negatives
    };
    for category in evaluation.per_category.keys() {
        assert!(
            positives(category) >= 6,
            "{category} has {} positive drafts",
            positives(category)
        );
    }
    let overall = evaluation.overall;
    assert!(
        overall.recall() >= 0.95,
        "recall {:.3}; mistakes: {:?}",
        overall.recall(),
        evaluation.mistakes
    );
    assert!(
        overall.precision() >= 0.90,
        "precision {:.3}; mistakes: {:?}",
        overall.precision(),
        evaluation.mistakes
    );
}
