//! Logging set-up: human-readable or JSON lines, levels from `RUST_LOG` (default `info`). The
//! use cases and store methods have `debug` spans: with `RUST_LOG=contract_review=debug` each
//! one logs when it closes, with its busy and idle time, so a slow request shows where its time
//! went.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

use crate::config::LogFormat;

/// Installs the global subscriber. Call once, from `main`.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(span_events())
        .with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
    if let Err(error) = result {
        eprintln!("logging was already initialised: {error}");
    }
}

/// Span timings only when debugging: at `info` the request log line already says how long a
/// request took, and a closing line per request would double the log.
fn span_events() -> FmtSpan {
    let debugging = std::env::var("RUST_LOG")
        .is_ok_and(|filter| filter.contains("debug") || filter.contains("trace"));
    if debugging {
        FmtSpan::CLOSE
    } else {
        FmtSpan::NONE
    }
}
