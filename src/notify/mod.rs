//! Messages people read: the review opinion letter and, as notifications, e-mails. Templates
//! live in `templates/`, are rendered with minijinja, and become HTML through pulldown-cmark.

mod templates;

pub use templates::{Templates, escape_markdown, markdown_to_html};
