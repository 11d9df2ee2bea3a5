//! Sending e-mail: the outbox dispatcher claims queued mails (rendered when they were queued) and
//! sends them through one long-lived lettre transport.

pub mod dispatcher;
pub mod mailer;
mod smtp;

pub use dispatcher::Dispatcher;
