//! Keeps a job's lease while its work runs, whatever phase it is in (reading, checking, a
//! batch's hashing, the result file), not only between batches.

use std::{future::Future, time::Duration};

use crate::{domain::Id, storage::Storage};

/// Runs `work`, renewing the lease every third of it. Returns None when the lease was lost to
/// another process: the work is dropped there, which is safe because every write it would
/// make re-checks the lease first.
pub(super) async fn with_heartbeat<F: Future>(
    storage: &Storage,
    job_id: Id,
    owner: &str,
    lease: Duration,
    work: F,
) -> Option<F::Output> {
    let every = (lease / 3).max(Duration::from_millis(200));
    let lease_seconds = lease.as_secs() as i64;
    tokio::pin!(work);
    let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tokio::select! {
            biased;
            output = &mut work => return Some(output),
            _ = beat.tick() => match storage.renew_lease(job_id, owner, lease_seconds).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(job_id, "import lease lost; another process goes on with it");
                    return None;
                }
                // The database is briefly away: the work's own writes will tell if the lease
                // is gone by the time it answers again.
                Err(error) => tracing::warn!(job_id, %error, "could not renew the import lease"),
            },
        }
    }
}
