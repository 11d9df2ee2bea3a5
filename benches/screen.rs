//! Screen throughput: the whole screen on a >= 10 MiB document built from the corpus, beside
//! pulldown-cmark's bare parse of the same text and `rg -c -F -f` over the same trigger terms
//! (run once before the criterion groups, in the same process), and a 20-page contract.
//!
//! cargo bench --bench screen

use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use contract_review::domain::ContractType;
use contract_review::screen_cli::{load_corpus, load_rules};
use contract_review::screening::{Facts, screen};
use criterion::{Criterion, Throughput};

const TEN_MIB: usize = 10 * 1024 * 1024;
/// About 800 characters (2.4 kB of UTF-8) a page.
const TWENTY_PAGES: usize = 20 * 2_400;

/// Corpus bodies repeated until the text reaches `bytes`.
fn document(bytes: usize) -> String {
    let corpus = load_corpus(Path::new("tests/corpus")).expect("the corpus");
    let mut text = String::with_capacity(bytes + 4096);
    while text.len() < bytes {
        for case in &corpus {
            text.push_str(&case.body);
            text.push('\n');
        }
    }
    text
}

fn facts() -> Facts {
    Facts {
        contract_type: Some(ContractType::Construction),
        agency_party: Some("甲方".into()),
        counterparty: Some("某某有限公司".into()),
        funding_source: Some("2027年度预算（已批复）".into()),
        ..Facts::default()
    }
}

/// The trigger terms of the rule book, one per line, for rg.
fn triggers() -> Vec<String> {
    let source = std::fs::read_to_string("workflows/screening-rules.toml").expect("the rule book");
    let book: toml::Table = toml::from_str(&source).expect("TOML");
    book["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|rule| rule.get("triggers")?.as_array().cloned())
        .flatten()
        .filter_map(|t| t.as_str().map(str::to_owned))
        .collect()
}

/// `rg -c -F -i -f triggers doc`, best of five, as MiB/s.
fn ripgrep_baseline(text: &str) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (doc, patterns) = (dir.path().join("doc.md"), dir.path().join("triggers.txt"));
    std::fs::write(&doc, text).expect("write");
    std::fs::write(&patterns, triggers().join("\n")).expect("write");
    let mut best = f64::MAX;
    for _ in 0..5 {
        let started = Instant::now();
        let output = Command::new("rg")
            .args(["-c", "-F", "-i", "-f"])
            .arg(&patterns)
            .arg(&doc)
            .output();
        match output {
            Ok(out) if out.status.success() => best = best.min(started.elapsed().as_secs_f64()),
            Ok(out) => return eprintln!("rg failed: {}", String::from_utf8_lossy(&out.stderr)),
            Err(error) => {
                return eprintln!("rg is not installed ({error}); apt-get install ripgrep");
            }
        }
    }
    let mib = text.len() as f64 / (1024.0 * 1024.0);
    println!(
        "ripgrep rg -c -F -i -f (same triggers, {mib:.1} MiB): {:.1} ms = {:.0} MiB/s",
        best * 1000.0,
        mib / best
    );
}

fn benches(c: &mut Criterion) {
    let book = load_rules(Path::new("workflows/screening-rules.toml")).expect("the rule book");
    let facts = facts();
    let large = document(TEN_MIB);
    ripgrep_baseline(&large);

    let mut group = c.benchmark_group("ten_mib");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(large.len() as u64));
    group.bench_function("screen", |b| {
        b.iter(|| black_box(screen(&book, black_box(&large), &facts)))
    });
    group.bench_function("pulldown_cmark_parse", |b| {
        b.iter(|| black_box(pulldown_cmark::Parser::new(black_box(&large)).count()))
    });
    group.finish();

    let contract = document(TWENTY_PAGES);
    let mut group = c.benchmark_group("twenty_pages");
    group.throughput(Throughput::Bytes(contract.len() as u64));
    group.bench_function("screen", |b| {
        b.iter(|| black_box(screen(&book, black_box(&contract), &facts)))
    });
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    benches(&mut criterion);
    criterion.final_summary();
}
