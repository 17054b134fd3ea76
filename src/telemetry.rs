//! Logging setup and the helper that moves CPU-heavy work off the async runtime.

use std::io::IsTerminal;

use tracing_subscriber::{EnvFilter, fmt};

use crate::config::Command;

/// Logs go to standard error so that commands like `roster export` keep standard output clean.
/// The server logs at `info`; the other commands only warnings, since what they have to say
/// they print. `ROSTER_LOG` overrides both. Colours only on a terminal.
pub fn init(command: Option<&Command>) {
    let default = match command {
        None | Some(Command::Serve) => "info,sqlx=warn,tower_http=info",
        Some(_) => "warn,sqlx=warn",
    };
    let filter = EnvFilter::try_from_env("ROSTER_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let _ = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

/// Hashing and spreadsheet work block a thread for long stretches; running it on the blocking
/// pool keeps every request answered meanwhile. The span is carried over so logs stay attached.
pub async fn spawn_blocking_with_tracing<F, R>(work: F) -> R
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let span = tracing::Span::current();
    match tokio::task::spawn_blocking(move || span.in_scope(work)).await {
        Ok(value) => value,
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    }
}
