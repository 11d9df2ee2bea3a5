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
        let evaluation = evaluate_corpus(&book, corpus)?;
        print_evaluation(&evaluation);
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

/// Reads every `*.md` of a labelled corpus directory.
///
/// # Errors
/// An unreadable directory or file, or a document without valid front matter.
pub fn load_corpus(dir: &Path) -> anyhow::Result<Vec<(String, eval::Label, String)>> {
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
            Ok((name, label, body))
        })
        .collect()
}

/// # Errors
/// See [`load_corpus`].
pub fn evaluate_corpus(book: &RuleBook, dir: &Path) -> anyhow::Result<eval::Evaluation> {
    Ok(eval::evaluate(book, &load_corpus(dir)?))
}

fn print_evaluation(evaluation: &eval::Evaluation) {
    println!("{} documents", evaluation.documents);
    println!(
        "{:<22} {:>4} {:>4} {:>4} {:>9} {:>7}",
        "category", "tp", "fp", "fn", "precision", "recall"
    );
    let line = |name: &str, c: &eval::Counts| {
        println!(
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
    for (document, category, mistake) in &evaluation.mistakes {
        println!("  {mistake}: {category} in {document}");
    }
}
