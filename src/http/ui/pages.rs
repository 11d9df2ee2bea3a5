//! The page templates (`web/*.html`, minijinja, HTML auto-escaping) and the style sheet, loaded
//! once at start-up.

use anyhow::{Context, anyhow};
use axum::response::Html;
use chrono::{DateTime, Utc};
use minijinja::{Environment, UndefinedBehavior, Value};

use crate::defaults::Overrides;
use crate::domain::Money;
use crate::error::Error;
use crate::workflow::calendar::beijing;

pub struct Pages {
    env: Environment<'static>,
    pub stylesheet: String,
}

impl Pages {
    /// The built-in page templates (`web/*.html`) and style sheet, with the operator's laid over
    /// them.
    ///
    /// # Errors
    /// An unreadable override, a missing style sheet or error page, a template syntax error.
    pub fn load(overrides: &Overrides) -> anyhow::Result<Self> {
        let mut env = Environment::new();
        // A page shows what it has: a missing error or value reads as nothing.
        env.set_undefined_behavior(UndefinedBehavior::Chainable);
        let mut stylesheet = None;
        for source in overrides.templates("web")? {
            let name = source.name.trim_start_matches("web/").to_owned();
            if name == "site.css" {
                stylesheet = Some(source.text);
            } else if name.ends_with(".html") {
                env.add_template_owned(name, source.text)
                    .with_context(|| format!("parsing {}", source.origin))?;
            }
        }
        env.add_filter("money", money);
        env.add_filter("when", when);
        env.add_filter("due", due);
        env.add_filter("short", short);
        let stylesheet = stylesheet.context("the style sheet web/site.css is missing")?;
        let pages = Self { env, stylesheet };
        pages
            .env
            .get_template("error.html")
            .context("the page template web/error.html is required")?;
        Ok(pages)
    }

    /// # Errors
    /// A template that fails to render: a bug, answered with a 500.
    pub fn render(&self, name: &str, context: Value) -> Result<Html<String>, Error> {
        let template = self
            .env
            .get_template(name)
            .map_err(|e| anyhow!("no page template {name}: {e}"))?;
        let html = template
            .render(context)
            .map_err(|e| anyhow!("rendering {name}: {e:#}"))?;
        Ok(Html(html))
    }
}

/// Fen to `¥1,234.56`.
fn money(fen: i64) -> String {
    Money::from_fen(fen).map_or_else(|_| format!("{fen} 分"), |m| m.to_string())
}

/// An RFC 3339 time as Beijing wall-clock time, `2026-11-27 14:05`.
fn when(value: String) -> String {
    DateTime::parse_from_rfc3339(&value).map_or(value, |at| {
        at.with_timezone(&Utc)
            .with_timezone(&beijing())
            .format("%Y-%m-%d %H:%M")
            .to_string()
    })
}

/// A review deadline as the day it falls on (`2026-12-09`), as the e-mails say it.
fn due(value: String) -> String {
    DateTime::parse_from_rfc3339(&value).map_or(value, |at| {
        crate::workflow::calendar::last_day(at.with_timezone(&Utc))
            .format("%Y-%m-%d")
            .to_string()
    })
}

/// The first 12 characters of a hash, for display beside the full value.
fn short(value: String) -> String {
    value.chars().take(12).collect()
}
