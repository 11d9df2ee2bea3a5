//! The Markdown templates people read: the review opinion letter and one e-mail per event,
//! rendered with minijinja and turned into HTML by pulldown-cmark.
//!
//! An e-mail template starts with TOML front matter holding its subject:
//!
//! ```text
//! +++
//! subject = "【审查通过】{{ contract.title | md }} / Approved: {{ contract.title | md }}"
//! +++
//! # Markdown body…
//! ```
//!
//! User-supplied text (titles, counterparties, opinions) goes through the `md` filter. For the
//! HTML part it escapes Markdown syntax, so that it reads as text and can never become a link or
//! markup; for the plain-text part and the subject it leaves the text as typed. Raw HTML is
//! never passed through to HTML.

use std::collections::BTreeSet;

use anyhow::{Context, anyhow, bail};
use minijinja::Environment;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};
use serde::{Deserialize, Serialize};

use crate::defaults::{Overrides, Source};

pub const OPINION: &str = "opinion.md";

/// The parsed templates.
pub struct Templates {
    /// `md` escapes: for Markdown that becomes HTML, and for the opinion letter.
    escaped: Environment<'static>,
    /// `md` is the identity: for subjects and plain-text bodies.
    plain: Environment<'static>,
    emails: BTreeSet<String>,
}

/// A rendered e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    subject: String,
}

/// Splits `+++\n<toml>\n+++\n<body>`.
fn split_front_matter(file: &str, source: &str) -> anyhow::Result<(FrontMatter, String)> {
    let source = source.replace("\r\n", "\n");
    let Some(rest) = source.strip_prefix("+++\n") else {
        bail!("{file}: an e-mail template starts with +++ front matter holding its subject");
    };
    let Some((front, body)) = rest.split_once("\n+++\n") else {
        bail!("{file}: the front matter is not closed by a +++ line");
    };
    let front: FrontMatter =
        toml::from_str(front).map_err(|e| anyhow!("{file}: front matter: {}", e.message()))?;
    Ok((front, body.to_owned()))
}

fn environment(md: fn(&str) -> String) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_keep_trailing_newline(true);
    env.add_filter("md", md);
    env
}

fn as_is(text: &str) -> String {
    text.to_owned()
}

impl Templates {
    /// The built-in templates with the operator's laid over them.
    ///
    /// # Errors
    /// A missing opinion template, an unreadable file, a template syntax error.
    pub fn load(overrides: &Overrides) -> anyhow::Result<Self> {
        let top = overrides.templates("")?;
        let opinion = top
            .iter()
            .find(|s| s.name == OPINION)
            .context("the opinion letter template opinion.md is missing")?;
        Self::from_sources(opinion, &overrides.templates("email")?)
    }

    /// Parses the opinion letter and the `email/<event>.md` templates.
    ///
    /// # Errors
    /// A template syntax error or an e-mail template without its front matter.
    pub fn from_sources(opinion: &Source, emails: &[Source]) -> anyhow::Result<Self> {
        let mut escaped = environment(escape_markdown);
        let mut plain = environment(as_is);
        escaped
            .add_template_owned(OPINION.to_owned(), opinion.text.clone())
            .map_err(|e| anyhow!("{}: {e}", opinion.origin))?;
        let mut events = BTreeSet::new();
        for source in emails {
            let Some(event) = source
                .name
                .strip_prefix("email/")
                .and_then(|name| name.strip_suffix(".md"))
            else {
                continue;
            };
            let file = &source.origin;
            let (front, body) = split_front_matter(file, &source.text)?;
            let add = |env: &mut Environment<'static>, name: String, source: String| {
                env.add_template_owned(name, source)
                    .map_err(|e| anyhow!("{file}: {e}"))
            };
            add(&mut plain, format!("{event}.subject"), front.subject)?;
            add(&mut plain, format!("{event}.md"), body.clone())?;
            add(&mut escaped, format!("{event}.md"), body)?;
            events.insert(event.to_owned());
        }
        Ok(Self {
            escaped,
            plain,
            emails: events,
        })
    }

    pub fn has_email(&self, event: &str) -> bool {
        self.emails.contains(event)
    }

    /// Renders the opinion letter to Markdown.
    ///
    /// # Errors
    /// A rendering error (an undefined filter, a type error in the template).
    pub fn render_opinion(&self, context: impl Serialize) -> anyhow::Result<String> {
        let template = self.escaped.get_template(OPINION)?;
        template
            .render(context)
            .context("rendering the opinion letter")
    }

    /// Renders the e-mail for `event`: subject, plain text and HTML.
    ///
    /// # Errors
    /// An unknown event or a rendering error.
    pub fn render_email(
        &self,
        event: &str,
        context: impl Serialize,
    ) -> anyhow::Result<RenderedEmail> {
        let render = |env: &Environment<'static>, name: String| {
            env.get_template(&name)
                .and_then(|t| t.render(&context))
                .with_context(|| format!("rendering the e-mail template {name}"))
        };
        let subject = render(&self.plain, format!("{event}.subject"))?;
        let markdown = render(&self.escaped, format!("{event}.md"))?;
        Ok(RenderedEmail {
            // A subject is one line; a newline in user text must not start a new header.
            subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
            text: markdown_to_text(&markdown),
            html: format!(
                "<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"></head>\n<body>\n{}</body></html>\n",
                markdown_to_html(&markdown)
            ),
        })
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

/// Markdown as a plain-text e-mail reads: headings and paragraphs on their own lines, a table
/// row as "label：value", a link as its words and its address, no Markdown syntax left.
pub fn markdown_to_text(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut out = String::with_capacity(markdown.len());
    let (mut cells_in_row, mut row_start) = (0, 0);
    let mut links = Vec::new();
    for event in Parser::new_ext(markdown, options) {
        match event {
            Event::Text(text) | Event::Code(text) | Event::Html(text) | Event::InlineHtml(text) => {
                out.push_str(&text);
            }
            Event::SoftBreak | Event::HardBreak => out.push('\n'),
            Event::Start(Tag::TableRow | Tag::TableHead) => {
                (cells_in_row, row_start) = (0, out.len());
            }
            Event::Start(Tag::TableCell) => {
                if cells_in_row > 0 {
                    out.push('：');
                }
                cells_in_row += 1;
            }
            Event::Start(Tag::Item) => out.push_str("- "),
            Event::Start(Tag::Link { dest_url, .. }) => links.push(dest_url),
            Event::End(TagEnd::Link) => {
                if let Some(url) = links.pop() {
                    out.push_str(&format!("：{url}"));
                }
            }
            Event::End(TagEnd::TableRow | TagEnd::TableHead) => {
                // A row of empty cells (a header kept only for the layout) is left out.
                if out[row_start..].chars().all(|c| c == '：') {
                    out.truncate(row_start);
                } else {
                    out.push('\n');
                }
            }
            Event::End(TagEnd::Table) => out.push('\n'),
            Event::End(TagEnd::Heading(_) | TagEnd::Paragraph) => out.push_str("\n\n"),
            Event::End(TagEnd::Item) => out.push('\n'),
            _ => {}
        }
    }
    out.trim_end().to_owned() + "\n"
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
    fn plain_text_mail_has_no_markdown_left() {
        let opinion = escape_markdown("一、删除第三条。\n二、**补充**资金来源。");
        let markdown = format!(
            "# 合同被退回修改 / Returned\n\n| | |\n|---|---|\n| 合同 Contract | 校舍\\_维修 |\n\n审查意见：\n\n{opinion}\n\n[打开合同 / Open](https://review.example/c/1)\n"
        );
        let text = markdown_to_text(&markdown);
        assert_eq!(
            text,
            "合同被退回修改 / Returned\n\n合同 Contract：校舍_维修\n\n审查意见：\n\n一、删除第三条。\n二、**补充**资金来源。\n\n打开合同 / Open：https://review.example/c/1\n"
        );
    }

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

    #[test]
    fn the_repository_templates_render_in_both_forms() {
        let templates = Templates::load(&Overrides::default()).unwrap();
        let context = serde_json::json!({
            "contract": { "title": "采购合同\nBcc: evil@x.cn", "counterparty": "某公司", "body_version": 2,
                          "body_sha256": "ab12", "state": "approved" },
            "agency": "示范市教育局", "amount": "¥1.00", "opinion": "同意 **签订**", "link": "http://x/contracts/1",
            "due_at": "2026-12-04", "findings_summary": "",
        });
        let mail = templates.render_email("approved", &context).unwrap();
        assert_eq!(
            mail.subject,
            "【审查通过】采购合同 Bcc: evil@x.cn / Approved: 采购合同 Bcc: evil@x.cn"
        );
        assert!(
            mail.text.contains("同意 **签订**"),
            "plain text keeps what was typed"
        );
        assert!(
            mail.html.contains("同意 **签订**") && !mail.html.contains("<strong>签订</strong>"),
            "{}",
            mail.html
        );
        assert!(mail.text.contains("ab12") && mail.html.contains("ab12"));
        for event in [
            "review_requested",
            "lead_review_requested",
            "returned",
            "rejected",
            "signed",
            "reminder",
            "escalation",
        ] {
            templates.render_email(event, &context).unwrap();
        }
    }

    #[test]
    fn front_matter_is_required() {
        assert!(split_front_matter("x.md", "# no front matter").is_err());
        assert!(split_front_matter("x.md", "+++\nsubject = \"s\"\n").is_err());
        let (front, body) = split_front_matter("x.md", "+++\nsubject = \"s\"\n+++\nbody").unwrap();
        assert_eq!((front.subject.as_str(), body.as_str()), ("s", "body"));
    }
}
