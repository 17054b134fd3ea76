//! Argon2id is slow on purpose, so it runs on a blocking thread, never on the async runtime.

use crate::{
    domain::{hash_password, verify_password},
    telemetry::spawn_blocking_with_tracing,
};

/// Checks a password against the stored hash. An unknown account costs the same hashing time
/// as a known one, so timing does not tell which addresses exist.
pub(super) async fn password_matches(stored_hash: Option<String>, password: String) -> bool {
    spawn_blocking_with_tracing(move || match stored_hash {
        Some(hash) => verify_password(&hash, &password),
        None => {
            hash_password(&password);
            false
        }
    })
    .await
}

/// Hashes a new password.
pub(crate) async fn new_password_hash(password: String) -> String {
    spawn_blocking_with_tracing(move || hash_password(&password)).await
}
