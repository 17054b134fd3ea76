//! A claimed undo from its first row to its last: batch by batch, each batch one transaction
//! (`Storage::undo_batch`), so an undo that dies midway is resumed by the next process with
//! every agent taken back exactly once.

use super::{JobOutcome, MAX_STALLED_ATTEMPTS, RunControl, RunSettings};
use crate::{
    domain::Id,
    storage::{ClaimedJob, Storage, StorageError},
};

/// Rows taken back in one transaction. An undo hashes nothing: a batch is a few hundred small
/// statements, a fraction of a second, so a lost lease or a graceful stop costs little.
const UNDO_BATCH_ROWS: i64 = 200;

/// Runs a claimed undo to its end, or until it must stop (lease lost, graceful stop).
///
/// An undo that stopped [`MAX_STALLED_ATTEMPTS`] times in a row without getting further is
/// given up as an import is, but it ends `undone` with what it took back: the rows it never
/// reached are kept and listed as not reached. Leaving it `undoing` would retry it forever,
/// and sending it back to its import's state would lose which rows were already taken back;
/// the list tells the administrator exactly which agents are still as the import left them.
#[tracing::instrument(skip_all, fields(job_id = job.id))]
pub async fn run_undo(
    storage: &Storage,
    settings: &RunSettings,
    owner: &str,
    job: ClaimedJob,
    control: RunControl<'_>,
) -> Result<JobOutcome, StorageError> {
    if job.stalled_attempts > MAX_STALLED_ATTEMPTS {
        tracing::warn!(
            "undo given up: it stopped {MAX_STALLED_ATTEMPTS} times in a row without getting further"
        );
        if !storage.give_up_undo(job.id, owner).await? {
            return Ok(JobOutcome::Interrupted);
        }
        return undone(storage, job.id).await;
    }
    let Some(before) = storage.import_job(job.id).await? else {
        return Ok(JobOutcome::Interrupted);
    };
    let mut done = (before.undone_count + before.undo_kept_count) as u64;
    let total = done + storage.undo_preview(job.id).await?.rows() as u64;
    (control.progress)(done, total);
    let lease = settings.lease_seconds();
    for batch_no in 0.. {
        if control.limit.max_batches.is_some_and(|max| batch_no >= max) {
            return Ok(JobOutcome::Interrupted);
        }
        if control.limit.panic_at_batch == Some(batch_no) {
            panic!("a panic injected by a test at undo batch {batch_no}");
        }
        let Some(batch) = storage
            .undo_batch(job.id, owner, lease, UNDO_BATCH_ROWS)
            .await?
        else {
            tracing::warn!("undo lease lost; another process goes on with it");
            return Ok(JobOutcome::Interrupted);
        };
        done += batch.reverted + batch.kept;
        (control.progress)(done, total);
        if !batch.left {
            break;
        }
        if control.stop.requested() {
            storage.release_job(job.id, owner).await?;
            tracing::info!("undo stopped after its batch; the next process resumes it at once");
            return Ok(JobOutcome::Interrupted);
        }
    }
    if !storage.finish_undo(job.id, owner).await? {
        return Ok(JobOutcome::Interrupted);
    }
    undone(storage, job.id).await
}

/// The outcome of an undo that has ended, from the job's counts (earlier attempts included).
async fn undone(storage: &Storage, job_id: Id) -> Result<JobOutcome, StorageError> {
    let Some(job) = storage.import_job(job_id).await? else {
        return Ok(JobOutcome::Interrupted);
    };
    let (reverted, kept) = (job.undone_count as u64, job.undo_kept_count as u64);
    tracing::info!(reverted, kept, "import undone");
    Ok(JobOutcome::Undone { reverted, kept })
}
