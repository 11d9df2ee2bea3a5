//! `contract-review screen`: the legality screen offline, on files, with no database.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use serde::Serialize;

use crate::config::{ScreenArgs, ScreenFormat};
use crate::domain::ContractType;
use crate::screening::{Facts, Report, RuleBook, Severity, Status, screen};

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
pub fn run(rules: &Path, args: &ScreenArgs) -> anyhow::Result<ExitCode> {
    let book = load_rules(rules)?;
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

/// Reads and validates the rule book.
///
/// # Errors
/// Every problem in the file, with its line.
pub fn load_rules(path: &Path) -> anyhow::Result<RuleBook> {
    let source = std::fs::read_to_string(path)
        .with_context(|| format!("reading the rule book {}", path.display()))?;
    RuleBook::parse(&path.display().to_string(), &source)
        .map_err(|problems| anyhow!("the rule book is invalid:\n{}", problems.join("\n")))
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
