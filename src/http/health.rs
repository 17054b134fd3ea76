//! Probes for load balancers and orchestrators.

use axum::{extract::State, http::StatusCode};

use super::AppState;

/// The process is up and answering.
pub(crate) async fn healthz() -> &'static str {
    "ok"
}

/// The database answers and the import worker runs: only then should traffic be sent here.
pub(crate) async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if !state.worker.is_ready() {
        tracing::warn!("readiness check failed: the import worker is not running");
        return (StatusCode::SERVICE_UNAVAILABLE, "import worker not running");
    }
    match state.storage.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}
