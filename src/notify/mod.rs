//! Sending e-mail: the outbox dispatcher claims queued mails (rendered when they were queued) and
//! sends them through one long-lived lettre transport.

pub mod dispatcher;
pub mod mailer;
mod smtp;

pub use dispatcher::Dispatcher;

/// Why a message was not delivered, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    pub permanent: bool,
    pub message: String,
}
