//! Keeps a job's lease while its work runs, whatever phase it is in (reading, checking, a
//! batch's hashing, the result file), not only between batches.

use std::{future::Future, time::Duration};

use tokio_util::task::AbortOnDropHandle;

use crate::{domain::Id, storage::Storage};

/// Runs `work` while a task of its own renews the lease every third of it.
///
/// The renewal must not share the work's task: on PostgreSQL it waits for the row lock that
/// the work's batch transaction holds, and a work that is not polled meanwhile never commits
/// (a deadlock the tests found). When a renewal finds the lease gone (to another process, or
/// because the work has just ended the job) renewing stops; the work notices at its next
/// write, every one of which re-checks the lease, and costs at most the batch in flight.
pub(super) async fn with_heartbeat<F: Future>(
    storage: &Storage,
    job_id: Id,
    owner: &str,
    lease: Duration,
    work: F,
) -> F::Output {
    // Aborted on drop too: a step dropped midway must not leave a renewal behind that keeps
    // the job from every other process for as long as this one lives.
    let _beat = AbortOnDropHandle::new(tokio::spawn(renew_until_lost(
        storage.clone(),
        job_id,
        owner.to_owned(),
        lease,
    )));
    work.await
}

async fn renew_until_lost(storage: Storage, job_id: Id, owner: String, lease: Duration) {
    let every = (lease / 3).max(Duration::from_millis(200));
    let lease_seconds = lease.as_secs() as i64;
    let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        beat.tick().await;
        match storage.renew_lease(job_id, &owner, lease_seconds).await {
            Ok(true) => {}
            Ok(false) => return,
            // The database is briefly away: the work's own writes will tell if the lease is
            // gone by the time it answers again.
            Err(error) => tracing::warn!(job_id, %error, "could not renew the import lease"),
        }
    }
}
