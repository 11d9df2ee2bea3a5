//! The configuration files, read and checked once at start-up: the workflow definition, the
//! working-day calendar, the screening rule book and the Markdown templates. A bad file stops
//! the start with its name and line.

use anyhow::anyhow;

use crate::defaults::{Overrides, Source};
use crate::screening::RuleBook;
use crate::templates::Templates;
use crate::workflow::{self, Definition, WorkingCalendar};

/// The loaded files.
pub struct Resources {
    /// The workflow file as read; the service stores it so that contracts pinned to it can
    /// finish even after the file changes.
    pub workflow: Source,
    pub calendar: WorkingCalendar,
    pub templates: Templates,
    pub rules: RuleBook,
}

impl Resources {
    /// # Errors
    /// An unreadable override, or a calendar, rule book or template that does not parse.
    pub fn load(overrides: &Overrides) -> anyhow::Result<Self> {
        let calendar = overrides.calendar()?;
        Ok(Self {
            workflow: overrides.workflow()?,
            calendar: WorkingCalendar::parse(&calendar.origin, &calendar.text)
                .map_err(|e| anyhow!(e))?,
            templates: Templates::load(overrides)?,
            rules: load_rules(overrides)?,
        })
    }
}

/// Reads and validates the rule book.
///
/// # Errors
/// Every problem in the file, with its line.
pub fn load_rules(overrides: &Overrides) -> anyhow::Result<RuleBook> {
    let source = overrides.rules()?;
    RuleBook::parse(&source.origin, &source.text)
        .map_err(|problems| anyhow!("the rule book is invalid:\n{}", problems.join("\n")))
}

/// Parses and validates a workflow definition against the e-mail templates it names.
///
/// # Errors
/// Every problem in the file, with its line.
pub fn check_workflow(source: &Source, templates: &Templates) -> anyhow::Result<Definition> {
    workflow::parse(&source.origin, &source.text, &|event| {
        templates.has_email(event)
    })
    .map_err(|errors| anyhow!("the workflow file is invalid:\n{errors}"))
}
