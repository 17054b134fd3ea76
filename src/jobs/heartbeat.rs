//! Keeps a job's lease while its work runs, whatever phase it is in (reading, checking, a
//! batch's hashing, the result file), not only between batches.

use std::{future::Future, time::Duration};

use crate::{domain::Id, storage::Storage};

/// Runs `work`, renewing the lease every third of it. When a renewal finds the lease gone (to
/// another process, or because the work has just ended the job) renewing stops, and the work
/// runs on to its end: every write it would make re-checks the lease first, so it notices
/// itself, writes nothing, and costs at most the batch in flight.
pub(super) async fn with_heartbeat<F: Future>(
    storage: &Storage,
    job_id: Id,
    owner: &str,
    lease: Duration,
    work: F,
) -> F::Output {
    let every = (lease / 3).max(Duration::from_millis(200));
    let lease_seconds = lease.as_secs() as i64;
    tokio::pin!(work);
    let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    let mut renewing = true;
    loop {
        tokio::select! {
            biased;
            output = &mut work => return output,
            _ = beat.tick(), if renewing => match storage.renew_lease(job_id, owner, lease_seconds).await {
                Ok(true) => {}
                Ok(false) => renewing = false,
                // The database is briefly away: the work's own writes will tell if the lease
                // is gone by the time it answers again.
                Err(error) => tracing::warn!(job_id, %error, "could not renew the import lease"),
            },
        }
    }
}
