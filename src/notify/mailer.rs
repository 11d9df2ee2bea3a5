//! The mail transport, built once from `--mail-url` and shared: SMTP with a connection pool
//! (`smtp://…?tls=required|opportunistic|none` on our own sockets with Nagle off, see `smtp.rs`;
//! `smtps://…` through lettre's transport), or `.eml` files in a directory (`file://DIR`, the
//! default, so that the service runs with no mail server).
//!
//! The file transport is idempotent per outbox row: the message is written as `<row id>.eml`
//! through a temporary file and a rename, and a row whose file already exists counts as
//! delivered, so a crash between writing and recording never leaves two files for one mail.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use uuid::Uuid;

use super::SendError;
use super::smtp::SmtpPool;
use crate::domain::QueuedMail;

pub enum Mailer {
    /// `smtp://`, plaintext or STARTTLS.
    Smtp(SmtpPool),
    /// `smtps://`, implicit TLS.
    Smtps(AsyncSmtpTransport<Tokio1Executor>),
    /// `.eml` files in this directory, one per outbox row.
    Files(PathBuf),
}

impl Mailer {
    /// # Errors
    /// An unknown scheme or TLS mode, an unparsable URL, a directory that cannot be created.
    pub fn from_url(url: &str, pool_size: u32) -> anyhow::Result<Self> {
        if let Some(dir) = url.strip_prefix("file://") {
            let dir = PathBuf::from(dir);
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("creating the mail directory {}", dir.display()))?;
            return Ok(Mailer::Files(dir));
        }
        let (scheme, _) = url
            .split_once("://")
            .context("a mail URL looks like smtp://host:port")?;
        if scheme != "smtp" && scheme != "smtps" {
            bail!("unsupported mail URL scheme {scheme:?}: use smtp://, smtps:// or file://");
        }
        if scheme == "smtp" {
            return Ok(Mailer::Smtp(SmtpPool::from_url(url, pool_size)?));
        }
        let (base, query) = url.split_once('?').map_or((url, ""), |(b, q)| (b, q));
        if !query.is_empty() {
            bail!("unsupported mail URL parameters for smtps://: {query}");
        }
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(base)
            .map_err(|e| anyhow!("invalid mail URL: {e}"))?
            .timeout(Some(Duration::from_secs(30)))
            .pool_config(PoolConfig::new().max_size(pool_size))
            .build();
        Ok(Mailer::Smtps(transport))
    }

    /// Sends one queued e-mail.
    ///
    /// # Errors
    /// Whether the failure is permanent (the server refused the message) or transient.
    pub async fn send(
        &self,
        from: &Mailbox,
        message_id_domain: &str,
        row: &QueuedMail,
    ) -> Result<(), SendError> {
        let message = compose(from, message_id_domain, row).map_err(|e| SendError {
            permanent: true,
            message: format!("{e:#}"),
        })?;
        match self {
            Mailer::Smtp(pool) => pool.send(message.envelope(), &message.formatted()).await,
            Mailer::Smtps(transport) => {
                transport
                    .send(message)
                    .await
                    .map(drop)
                    .map_err(|e| SendError {
                        permanent: e.is_permanent(),
                        message: e.to_string(),
                    })
            }
            Mailer::Files(dir) => {
                let (dir, id, bytes) = (dir.clone(), row.id, message.formatted());
                tokio::task::spawn_blocking(move || write_once(&dir, id, &bytes))
                    .await
                    .map_err(anyhow::Error::from)
                    .and_then(|written| written)
                    .map_err(|e| SendError {
                        permanent: false,
                        message: format!("{e:#}"),
                    })
            }
        }
    }
}

/// Where the file transport puts a row's message.
pub fn eml_path(dir: &Path, id: Uuid) -> PathBuf {
    dir.join(format!("{id}.eml"))
}

/// Writes `<id>.eml` unless it exists: first a temporary file of this writer's own, flushed to
/// disk, then renamed into place (and the directory flushed), so that a reader, a crash or a
/// second dispatcher never sees half a message or two files for one row.
fn write_once(dir: &Path, id: Uuid, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;

    let target = eml_path(dir, id);
    if target
        .try_exists()
        .with_context(|| format!("looking for {}", target.display()))?
    {
        return Ok(());
    }
    let temporary = dir.join(format!(".{id}.{}.tmp", Uuid::now_v7().simple()));
    let written = std::fs::File::create(&temporary)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&temporary, &target))
        .and_then(|()| std::fs::File::open(dir)?.sync_all());
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written.with_context(|| format!("writing {}", target.display()))
}

/// A multipart/alternative message with a Message-ID derived from the outbox row, so that a
/// message sent twice (a crash between sending and recording) is recognisable as one.
fn compose(from: &Mailbox, message_id_domain: &str, row: &QueuedMail) -> anyhow::Result<Message> {
    let to: Mailbox = row
        .recipient
        .parse()
        .with_context(|| format!("invalid recipient {:?}", row.recipient))?;
    let alternative = MultiPart::alternative()
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(row.body_text.clone()),
        )
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_HTML)
                .body(row.body_html.clone()),
        );
    Message::builder()
        .message_id(Some(format!("<{}@{message_id_domain}>", row.id)))
        .from(from.clone())
        .to(to)
        .subject(row.subject.clone())
        .multipart(alternative)
        .context("building the message")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_transport_writes_each_row_once() {
        let dir = std::env::temp_dir().join(format!("cr-mail-{}", Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let id = Uuid::now_v7();

        write_once(&dir, id, b"first").unwrap();
        write_once(&dir, id, b"second, after a crash before the record").unwrap();

        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, [format!("{id}.eml")], "one file, no temporary left");
        assert_eq!(std::fs::read(eml_path(&dir, id)).unwrap(), b"first");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
