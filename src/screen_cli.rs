//! `contract-review screen`: the legality screen offline, on files, with no database.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use serde::Serialize;

use crate::config::{ScreenArgs, ScreenFormat};
use crate::defaults::Overrides;
use crate::domain::ContractType;
use crate::resources::load_rules;
use crate::screening::{Facts, Report, RuleBook, Severity, Status, eval, screen};

#[derive(Serialize)]
struct FileReport<'a> {
    file: String,
    #[serde(flatten)]
    report: &'a Report,
}

/// Screens every file; exit 2 when any has a blocking finding.
///
/// # Errors
/// An unreadable file or rule book, invalid facts.
pub fn run(overrides: &Overrides, args: &ScreenArgs) -> anyhow::Result<ExitCode> {
    let book = load_rules(overrides)?;
    if let Some(corpus) = &args.eval {
        // `--eval DIR…`: the first folder is the flag's value, any further ones arrive as the
        // positional arguments.
        let dirs: Vec<&Path> = std::iter::once(corpus.as_path())
            .chain(args.files.iter().map(|p| p.as_path()))
            .collect();
        let evaluation = evaluate_corpora(&book, &dirs)?;
        print!("{}", format_evaluation(&evaluation));
        return Ok(ExitCode::SUCCESS);
    }
    let facts = facts(args)?;
    let mut reports = Vec::new();
    for file in &args.files {
        let source =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        reports.push((file.display().to_string(), screen(&book, &source, &facts)));
    }
    match args.format {
        ScreenFormat::Json => {
            let out: Vec<FileReport<'_>> = reports
                .iter()
                .map(|(file, report)| FileReport {
                    file: file.clone(),
                    report,
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        ScreenFormat::Text => {
            for (file, report) in &reports {
                print_text(file, report);
            }
        }
    }
    let blocking = reports.iter().any(|(_, report)| report.has_blocking());
    Ok(if blocking {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn facts(args: &ScreenArgs) -> anyhow::Result<Facts> {
    let mut facts = match &args.facts {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("{} is not valid facts JSON", path.display()))?
        }
        None => Facts::default(),
    };
    if let Some(kind) = &args.contract_type {
        facts.contract_type = Some(ContractType::parse(kind).map_err(|e| anyhow!(e))?);
    }
    if let Some(party) = &args.agency_party {
        facts.agency_party = Some(party.clone());
    }
    Ok(facts)
}

fn print_text(file: &str, report: &Report) {
    println!("== {file}");
    for finding in &report.findings {
        let severity = match finding.severity {
            Severity::Block => "阻断 BLOCK",
            Severity::Warn => "提示 WARN ",
        };
        println!(
            "  [{severity}] {} · {} ({})",
            finding.clause, finding.category, finding.provision
        );
        println!("      「{}」", finding.excerpt);
        println!("      → {}", finding.advice);
    }
    for item in &report.checklist {
        let mark = match item.status {
            Status::Flagged => "✗",
            Status::Clear => "✓",
        };
        println!("  {mark} {} [{}]", item.label, item.provision);
    }
}

/// Reads a labelled corpus directory: our own drafts with `+++` front matter (`tests/corpus`),
/// or a folder with a `labels.json` beside the texts (the real-text corpora of `../shared/corpus`).
///
/// # Errors
/// An unreadable directory or file, a document without valid front matter, invalid labels.
pub fn load_corpus(dir: &Path) -> anyhow::Result<Vec<eval::Case>> {
    let labels = dir.join("labels.json");
    if labels.is_file() {
        return load_shared_corpus(dir, &labels);
    }
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading the corpus {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|e| e == "md")
                && p.file_name().is_some_and(|n| n != "README.md")
        })
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let (label, body) = eval::parse_document(&name, &text).map_err(|e| anyhow!(e))?;
            Ok(eval::Case::from_label(name, label, body))
        })
        .collect()
}

/// A `labels.json` corpus: each `file` is relative to the folder or to its parent.
fn load_shared_corpus(dir: &Path, labels: &Path) -> anyhow::Result<Vec<eval::Case>> {
    let json =
        std::fs::read_to_string(labels).with_context(|| format!("reading {}", labels.display()))?;
    let parent = dir.parent().unwrap_or(dir);
    eval::parse_labels(&labels.display().to_string(), &json)
        .map_err(|e| anyhow!(e))?
        .into_iter()
        .map(|label| {
            let path = [dir.join(&label.file), parent.join(&label.file)]
                .into_iter()
                .find(|p| p.is_file())
                .ok_or_else(|| anyhow!("{}: no file {}", labels.display(), label.file))?;
            let body = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            Ok(eval::Case::from_shared(label, body))
        })
        .collect()
}

/// Screens every case of the corpus folders, all in one evaluation.
///
/// # Errors
/// See [`load_corpus`].
pub fn evaluate_corpora(book: &RuleBook, dirs: &[&Path]) -> anyhow::Result<eval::Evaluation> {
    let mut cases = Vec::new();
    for dir in dirs {
        cases.extend(load_corpus(dir)?);
    }
    Ok(eval::evaluate(book, &cases))
}

/// # Errors
/// See [`load_corpus`].
pub fn evaluate_corpus(book: &RuleBook, dir: &Path) -> anyhow::Result<eval::Evaluation> {
    evaluate_corpora(book, &[dir])
}

/// The evaluation as a table, then every mistake by file.
pub fn format_evaluation(evaluation: &eval::Evaluation) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "{} documents", evaluation.documents);
    let _ = writeln!(
        out,
        "{:<22} {:>4} {:>4} {:>4} {:>9} {:>7}",
        "category", "tp", "fp", "fn", "precision", "recall"
    );
    let mut line = |name: &str, c: &eval::Counts| {
        let _ = writeln!(
            out,
            "{name:<22} {:>4} {:>4} {:>4} {:>9.3} {:>7.3}",
            c.true_positives,
            c.false_positives,
            c.false_negatives,
            c.precision(),
            c.recall()
        );
    };
    for (category, counts) in &evaluation.per_category {
        line(category, counts);
    }
    line("overall", &evaluation.overall);
    for kind in [eval::Mistake::Missed, eval::Mistake::FalseAlarm] {
        let named: Vec<String> = evaluation
            .mistakes
            .iter()
            .filter(|(_, _, m)| *m == kind)
            .map(|(document, category, _)| format!("{document}:{category}"))
            .collect();
        if !named.is_empty() {
            let _ = writeln!(
                out,
                "{} ({}): {}",
                kind.as_str(),
                named.len(),
                named.join(" ")
            );
        }
    }
    out
}
