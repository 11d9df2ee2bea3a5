//! Screen throughput beside pulldown-cmark's bare parse (no rendering) of the same text, in one
//! run: a document of at least 32 MiB built at run time from the real texts of
//! `../shared/corpus` (read in place, never stored in the repository; our own `tests/corpus`
//! stands in, loudly, when that folder is absent), and a 20-page contract. Before the criterion
//! groups it prints both throughputs and their ratio from a best-of-five timing, so the goal
//! (the screen at ≥ 0.5 × the bare parse) is read off one line.
//!
//! cargo bench --bench screen

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

use contract_review::domain::ContractType;
use contract_review::resources::load_rules;
use contract_review::screen_cli::load_corpus;
use contract_review::screening::{Facts, screen};
use criterion::{Criterion, Throughput};

const LARGE: usize = 32 * 1024 * 1024;
/// About 800 characters (2.4 kB of UTF-8) a page.
const TWENTY_PAGES: usize = 20 * 2_400;

/// The texts to build documents from: the real-text corpus if it is beside the repository.
fn bodies() -> Vec<String> {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let dirs: Vec<PathBuf> = ["a", "b", "c"].iter().map(|d| shared.join(d)).collect();
    if dirs.iter().all(|d| d.join("labels.json").is_file()) {
        let mut bodies = Vec::new();
        for dir in &dirs {
            bodies.extend(
                load_corpus(dir)
                    .expect("the shared corpus")
                    .into_iter()
                    .map(|c| c.body),
            );
        }
        println!(
            "document built from {} real texts of ../shared/corpus",
            bodies.len()
        );
        return bodies;
    }
    println!(
        "WARNING: ../shared/corpus not found; the document is built from tests/corpus instead"
    );
    load_corpus(Path::new("tests/corpus"))
        .expect("the corpus")
        .into_iter()
        .map(|c| c.body)
        .collect()
}

/// Corpus bodies repeated until the text reaches `bytes`.
fn document(bodies: &[String], bytes: usize) -> String {
    let mut text = String::with_capacity(bytes + 64 * 1024);
    while text.len() < bytes {
        for body in bodies {
            text.push_str(body);
            text.push_str("\n\n");
            if text.len() >= bytes {
                break;
            }
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

/// Best of five, in seconds.
fn best_of_five(mut run: impl FnMut()) -> f64 {
    (0..5)
        .map(|_| {
            let started = Instant::now();
            run();
            started.elapsed().as_secs_f64()
        })
        .fold(f64::MAX, f64::min)
}

fn benches(c: &mut Criterion) {
    let book = load_rules(&Default::default()).expect("the rule book");
    let facts = facts();
    let bodies = bodies();
    let large = document(&bodies, LARGE);
    let mib = large.len() as f64 / (1024.0 * 1024.0);

    let screen_secs = best_of_five(|| {
        black_box(screen(&book, black_box(&large), &facts));
    });
    let parse_secs = best_of_five(|| {
        black_box(pulldown_cmark::Parser::new(black_box(&large)).count());
    });
    println!(
        "{mib:.1} MiB: screen {:.0} ms = {:.1} MiB/s; pulldown-cmark bare parse {:.0} ms = {:.1} MiB/s; ratio {:.2} × (goal ≥ 0.5 ×)",
        screen_secs * 1000.0,
        mib / screen_secs,
        parse_secs * 1000.0,
        mib / parse_secs,
        parse_secs / screen_secs
    );
    let contract = document(&bodies, TWENTY_PAGES);
    let page_secs = best_of_five(|| {
        black_box(screen(&book, black_box(&contract), &facts));
    });
    println!(
        "20-page contract ({} kB): screened in {:.2} ms (goal < 5 ms)",
        contract.len() / 1000,
        page_secs * 1000.0
    );

    let mut group = c.benchmark_group("thirty_two_mib");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(large.len() as u64));
    group.bench_function("screen", |b| {
        b.iter(|| black_box(screen(&book, black_box(&large), &facts)))
    });
    group.bench_function("pulldown_cmark_parse", |b| {
        b.iter(|| black_box(pulldown_cmark::Parser::new(black_box(&large)).count()))
    });
    group.finish();

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
