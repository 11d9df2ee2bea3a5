//! Loading and rendering the Markdown templates.
//!
//! User-supplied text (titles, counterparties, opinions) is passed through the `md` filter,
//! which escapes Markdown syntax so that it reads as text and cannot become a link or markup.
//! Raw HTML is never passed through to the HTML rendering.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, anyhow};
use minijinja::Environment;
use pulldown_cmark::{Event, Options, Parser, html};
use serde::Serialize;

pub const OPINION: &str = "opinion.md";

/// The parsed templates: the opinion letter and one e-mail per notification event.
pub struct Templates {
    env: Environment<'static>,
    emails: BTreeSet<String>,
}

impl Templates {
    /// Reads `DIR/opinion.md` and every `DIR/email/<event>.md`.
    ///
    /// # Errors
    /// A missing directory or opinion template, an unreadable file, a template syntax error.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let mut env = Environment::new();
        env.set_keep_trailing_newline(true);
        env.add_filter("md", escape_markdown);
        let opinion_path = dir.join(OPINION);
        let opinion = std::fs::read_to_string(&opinion_path).with_context(|| {
            format!(
                "reading the opinion letter template {}",
                opinion_path.display()
            )
        })?;
        env.add_template_owned(OPINION.to_owned(), opinion)
            .map_err(|e| anyhow!("{}: {e}", opinion_path.display()))?;
        let mut emails = BTreeSet::new();
        let email_dir = dir.join("email");
        let entries = std::fs::read_dir(&email_dir)
            .with_context(|| format!("reading the e-mail templates in {}", email_dir.display()))?;
        for entry in entries {
            let path = entry?.path();
            let Some(event) = path.file_stem().and_then(|s| s.to_str()).map(str::to_owned) else {
                continue;
            };
            if path.extension().and_then(|e| e.to_str()) != Some("md") {
                continue;
            }
            let source = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            env.add_template_owned(format!("email/{event}.md"), source)
                .map_err(|e| anyhow!("{}: {e}", path.display()))?;
            emails.insert(event);
        }
        Ok(Self { env, emails })
    }

    pub fn has_email(&self, event: &str) -> bool {
        self.emails.contains(event)
    }

    /// Renders the opinion letter to Markdown.
    ///
    /// # Errors
    /// A rendering error (an undefined filter, a type error in the template).
    pub fn render_opinion(&self, context: impl Serialize) -> anyhow::Result<String> {
        let template = self.env.get_template(OPINION)?;
        template
            .render(context)
            .context("rendering the opinion letter")
    }
}

/// Escapes Markdown syntax so that `text` renders as itself. Line breaks are kept as hard breaks.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '#' | '+' | '-' | '.'
            | '!' | '|' | '<' | '>' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("  \n"),
            '\r' => {}
            _ => out.push(c),
        }
    }
    out
}

/// Markdown to HTML with raw HTML shown as text, never interpreted.
pub fn markdown_to_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        other => other,
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_text_renders_as_itself() {
        let hostile = "[点我](javascript:alert(1)) <script>x</script> **粗**";
        let html = markdown_to_html(&escape_markdown(hostile));
        assert!(!html.contains("<a"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<strong>"), "{html}");
        assert!(html.contains("点我"));
    }

    #[test]
    fn raw_html_in_markdown_is_shown_as_text() {
        let html = markdown_to_html("# 标题\n\n<img src=x onerror=alert(1)>\n");
        assert!(html.contains("<h1>标题</h1>"));
        assert!(html.contains("&lt;img"), "{html}");
    }
}
