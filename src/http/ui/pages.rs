//! The page templates (`templates/web/*.html`, minijinja, HTML auto-escaping) and the style
//! sheet, read once at start-up.

use std::path::Path;

use anyhow::{Context, anyhow};
use axum::response::Html;
use chrono::{DateTime, Utc};
use minijinja::{Environment, UndefinedBehavior, Value};

use crate::domain::Money;
use crate::error::Error;
use crate::workflow::calendar::beijing;

pub struct Pages {
    env: Environment<'static>,
    pub stylesheet: String,
}

impl Pages {
    /// Reads every `*.html` template and `site.css` from `dir`.
    ///
    /// # Errors
    /// A missing directory or style sheet, an unreadable file, a template syntax error.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let mut env = Environment::new();
        // A page shows what it has: a missing error or value reads as nothing.
        env.set_undefined_behavior(UndefinedBehavior::Chainable);
        let entries = std::fs::read_dir(dir)
            .with_context(|| format!("reading the page templates in {}", dir.display()))?;
        for entry in entries {
            let path = entry?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("html") {
                continue;
            }
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| anyhow!("{} has no UTF-8 name", path.display()))?
                .to_owned();
            let source = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            env.add_template_owned(name, source)
                .with_context(|| format!("parsing {}", path.display()))?;
        }
        env.add_filter("money", money);
        env.add_filter("when", when);
        env.add_filter("short", short);
        let css = dir.join("site.css");
        let stylesheet = std::fs::read_to_string(&css)
            .with_context(|| format!("reading the style sheet {}", css.display()))?;
        let pages = Self { env, stylesheet };
        pages
            .env
            .get_template("error.html")
            .context("templates/web/error.html is required")?;
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

/// The first 12 characters of a hash, for display beside the full value.
fn short(value: String) -> String {
    value.chars().take(12).collect()
}
