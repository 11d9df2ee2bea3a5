//! Messages people read: the review opinion letter and e-mail. Templates live in `templates/`,
//! are rendered with minijinja and become HTML through pulldown-cmark; e-mail is queued in the
//! outbox and sent by the dispatcher through one long-lived lettre transport.

pub mod dispatcher;
pub mod mailer;
mod templates;

pub use dispatcher::Dispatcher;
pub use templates::{RenderedEmail, Templates, escape_markdown, markdown_to_html};
