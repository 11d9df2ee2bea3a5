//! The files the service is configured by: the workflow definition, the working-day calendar,
//! the screening rule book and the templates. Read once at start-up; a bad file stops the start with its name and line.

use std::path::PathBuf;

use anyhow::{Context, anyhow};

use crate::notify::Templates;
use crate::screening::RuleBook;
use crate::workflow::WorkingCalendar;

/// Where the files are (see `--workflow`, `--calendar`, `--templates-dir`).
#[derive(Debug, Clone)]
pub struct ResourcePaths {
    pub workflow: PathBuf,
    pub calendar: PathBuf,
    pub templates: PathBuf,
    pub rules: PathBuf,
}

impl Default for ResourcePaths {
    fn default() -> Self {
        Self {
            workflow: PathBuf::from("workflows/contract-review.toml"),
            calendar: PathBuf::from("workflows/calendar-cn.toml"),
            templates: PathBuf::from("templates"),
            rules: PathBuf::from("workflows/screening-rules.toml"),
        }
    }
}

/// The loaded files.
pub struct Resources {
    pub workflow_file: String,
    pub workflow_source: String,
    pub calendar: WorkingCalendar,
    pub templates: Templates,
    pub rules: RuleBook,
}

impl Resources {
    /// # Errors
    /// A missing or unreadable file, a calendar or template that does not parse.
    pub fn load(paths: &ResourcePaths) -> anyhow::Result<Self> {
        let workflow_file = paths.workflow.display().to_string();
        let workflow_source = std::fs::read_to_string(&paths.workflow)
            .with_context(|| format!("reading the workflow definition {workflow_file}"))?;
        let calendar_file = paths.calendar.display().to_string();
        let calendar_source = std::fs::read_to_string(&paths.calendar)
            .with_context(|| format!("reading the working-day calendar {calendar_file}"))?;
        let calendar =
            WorkingCalendar::parse(&calendar_file, &calendar_source).map_err(|e| anyhow!(e))?;
        let templates = Templates::load(&paths.templates)?;
        let rules = crate::screen_cli::load_rules(&paths.rules)?;
        Ok(Self {
            rules,
            workflow_file,
            workflow_source,
            calendar,
            templates,
        })
    }
}
