//! Logging setup and the helper that moves CPU-heavy work off the async runtime.

use tracing_subscriber::{EnvFilter, fmt};

/// Logs go to standard error so that commands like `roster export` keep standard output clean.
pub fn init() {
    let filter = EnvFilter::try_from_env("ROSTER_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let _ = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
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
