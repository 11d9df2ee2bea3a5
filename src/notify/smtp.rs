//! SMTP connections with Nagle's algorithm off, kept in a small pool.
//!
//! lettre writes a message and its terminating `.` in two writes. With Nagle on (lettre's own
//! transport), the `.` waits in the kernel until the server acknowledges the message, which a
//! server delays by up to 40 ms: every mail then spends most of its time with its last line
//! queued, and a process killed in that time still has the kernel deliver it, so the server
//! accepts a mail the outbox never recorded as sent and it goes out twice. With `TCP_NODELAY`
//! the `.` leaves at once; the time between the server's acceptance and the outbox record shrinks
//! to the server's answer and one database write, and each connection sends many times more mail
//! per second. The connections are lettre's (`AsyncSmtpConnection`, with STARTTLS and AUTH), on
//! a socket opened here. Implicit TLS (`smtps://`) stays with lettre's transport.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::Rset;
use lettre::transport::smtp::extension::ClientId;
use tokio::net::TcpStream;

use super::SendError;

/// How long one send (or connecting, with STARTTLS and AUTH) may take.
const TIMEOUT: Duration = Duration::from_secs(30);
/// A pooled connection idle longer than this is checked (NOOP) before it is used again.
const CHECK_AFTER_IDLE: Duration = Duration::from_secs(2);

/// Whether and how the connection is encrypted (`tls=` in the URL).
pub enum StartTls {
    /// `tls=none`: plaintext, for a local relay.
    Off,
    /// `tls=opportunistic`: STARTTLS when the server offers it.
    Opportunistic(TlsParameters),
    /// `tls=required` (the default): STARTTLS or no mail.
    Required(TlsParameters),
}

pub struct SmtpPool {
    host: String,
    port: u16,
    tls: StartTls,
    credentials: Option<Credentials>,
    hello: ClientId,
    max_idle: usize,
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
}

fn transient(message: impl std::fmt::Display) -> SendError {
    SendError {
        permanent: false,
        message: message.to_string(),
    }
}

fn from_lettre(error: &lettre::transport::smtp::Error) -> SendError {
    SendError {
        permanent: error.is_permanent(),
        message: error.to_string(),
    }
}

impl SmtpPool {
    /// `smtp://[user[:password]@]host[:port][?tls=none|opportunistic|required]`; the port
    /// defaults to 25 without TLS and 587 with STARTTLS, as lettre has it.
    ///
    /// # Errors
    /// A URL that does not say where to connect, an unknown `tls=` mode, bad percent-encoding.
    pub fn from_url(url: &str, max_idle: u32) -> anyhow::Result<Self> {
        let rest = url
            .strip_prefix("smtp://")
            .context("an SMTP URL begins with smtp://")?;
        let (authority, query) = rest.split_once('?').unwrap_or((rest, ""));
        let authority = authority.trim_end_matches('/');
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((userinfo, hostport)) => (Some(userinfo), hostport),
            None => (None, authority),
        };
        let mut mode = "required";
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.strip_prefix("tls=") {
                Some(value) => mode = value,
                None => bail!("unknown mail URL parameter {pair:?}"),
            }
        }
        let (host, port) = split_host_port(hostport)?;
        let tls_parameters =
            || TlsParameters::new(host.clone()).with_context(|| format!("TLS settings for {host}"));
        let (tls, default_port) = match mode {
            "none" => (StartTls::Off, 25),
            "opportunistic" => (StartTls::Opportunistic(tls_parameters()?), 587),
            "required" => (StartTls::Required(tls_parameters()?), 587),
            other => bail!("unsupported tls={other} for smtp://"),
        };
        let credentials = match userinfo {
            Some(userinfo) => {
                let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                Some(Credentials::new(
                    percent_decode(user)?,
                    percent_decode(password)?,
                ))
            }
            None => None,
        };
        Ok(Self {
            host,
            port: port.unwrap_or(default_port),
            tls,
            credentials,
            hello: ClientId::default(),
            max_idle: max_idle.max(1) as usize,
            idle: Mutex::new(Vec::new()),
        })
    }

    /// Sends one message on a pooled connection (or a new one).
    ///
    /// # Errors
    /// Permanent when the server refused the message (5xx), else transient.
    pub async fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<(), SendError> {
        let mut connection = self.connection().await?;
        match tokio::time::timeout(TIMEOUT, connection.send(envelope, message)).await {
            Ok(Ok(_)) => {
                self.recycle(connection);
                Ok(())
            }
            Ok(Err(error)) => {
                // After a refusal the connection is still good for the next mail.
                if !connection.has_broken() && connection.command(Rset).await.is_ok() {
                    self.recycle(connection);
                }
                Err(from_lettre(&error))
            }
            Err(_) => Err(transient("the mail server did not answer in time")),
        }
    }

    fn recycle(&self, connection: AsyncSmtpConnection) {
        if connection.has_broken() {
            return;
        }
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < self.max_idle
        {
            idle.push((connection, Instant::now()));
        }
    }

    async fn connection(&self) -> Result<AsyncSmtpConnection, SendError> {
        loop {
            let parked = self.idle.lock().ok().and_then(|mut idle| idle.pop());
            let Some((mut connection, since)) = parked else {
                break;
            };
            if since.elapsed() < CHECK_AFTER_IDLE || connection.test_connected().await {
                return Ok(connection);
            }
        }
        tokio::time::timeout(TIMEOUT, self.connect())
            .await
            .unwrap_or_else(|_| Err(transient("connecting to the mail server timed out")))
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let socket = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| transient(format!("connecting to {}:{}: {e}", self.host, self.port)))?;
        socket
            .set_nodelay(true)
            .map_err(|e| transient(format!("setting TCP_NODELAY: {e}")))?;
        let mut connection =
            AsyncSmtpConnection::connect_with_transport(Box::new(socket), &self.hello)
                .await
                .map_err(|e| from_lettre(&e))?;
        let upgrade = match &self.tls {
            StartTls::Off => None,
            StartTls::Opportunistic(parameters) => connection.can_starttls().then_some(parameters),
            StartTls::Required(parameters) => Some(parameters),
        };
        if let Some(parameters) = upgrade {
            connection
                .starttls(parameters.clone(), &self.hello)
                .await
                .map_err(|e| from_lettre(&e))?;
        }
        if let Some(credentials) = &self.credentials {
            connection
                .auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                .await
                .map_err(|e| from_lettre(&e))?;
        }
        Ok(connection)
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn split_host_port(hostport: &str) -> anyhow::Result<(String, Option<u16>)> {
    let (host, port) = if let Some(rest) = hostport.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .context("an IPv6 address in a mail URL needs its closing ]")?;
        (host, after.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        bail!("the mail URL names no host");
    }
    let port = port
        .map(|p| {
            p.parse::<u16>()
                .with_context(|| format!("invalid port {p:?}"))
        })
        .transpose()?;
    Ok((host.to_owned(), port))
}

/// `%XX` escapes in a URL's user name or password.
fn percent_decode(raw: &str) -> anyhow::Result<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = raw
                .get(i + 1..i + 3)
                .context("a % in the mail URL must be followed by two hex digits")?;
            out.push(u8::from_str_radix(hex, 16).context("bad %-escape in the mail URL")?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).context("the mail URL's credentials are not UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_parts_of_an_smtp_url() {
        let pool =
            SmtpPool::from_url("smtp://li%40city:p%3Ass@mail.city.gov.cn?tls=required", 4).unwrap();
        assert_eq!((pool.host.as_str(), pool.port), ("mail.city.gov.cn", 587));
        assert!(matches!(pool.tls, StartTls::Required(_)));
        assert!(pool.credentials.is_some());

        let relay = SmtpPool::from_url("smtp://127.0.0.1:2525?tls=none", 4).unwrap();
        assert_eq!((relay.host.as_str(), relay.port), ("127.0.0.1", 2525));
        assert!(matches!(relay.tls, StartTls::Off) && relay.credentials.is_none());

        let v6 = SmtpPool::from_url("smtp://[::1]?tls=none", 4).unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("::1", 25));

        assert!(SmtpPool::from_url("smtp://host?tls=maybe", 4).is_err());
        assert!(SmtpPool::from_url("smtp://host?port=2", 4).is_err());
        assert!(SmtpPool::from_url("smtp://:25", 4).is_err());
        assert_eq!(percent_decode("a%3Ab%25").unwrap(), "a:b%");
        assert!(percent_decode("a%3").is_err());
    }
}
