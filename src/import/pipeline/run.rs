//! A claimed job from its file to its last batch: read, check every row once, then create
//! agents batch by batch. How it ends is `end`'s.

use std::collections::HashMap;

use rayon::prelude::*;

use super::{JobOutcome, RunControl, RunSettings, end};
use crate::{
    domain::hash_password,
    import::{Columns, RowOutcome, Sheet, validate},
    storage::{
        ClaimedJob, JobPhase, NewImportRow, PendingAgent, Storage, StorageError, StoredOutcome,
    },
    telemetry::spawn_blocking_with_tracing,
};

/// Rows hashed and written together. Small enough that progress moves every second or so, a
/// lost lease wastes little work and a graceful stop waits little; large enough that a batch's
/// insert is cheap next to its hashing (64 Argon2id hashes ≈ 0.8 s on two cores, the insert a
/// few milliseconds).
const BATCH_ROWS: usize = 64;

/// Attempts in a row that wrote no new row outcome before the job is given up: a file that
/// kills the process while it is read must not crash every process forever. Attempts that make
/// progress never count, however many restarts a long import sees.
pub const MAX_STALLED_ATTEMPTS: i64 = 5;

/// Runs a claimed job to its end, or until it must stop (lease lost, graceful stop).
#[tracing::instrument(skip_all, fields(job_id = job.id))]
pub async fn run_job(
    storage: &Storage,
    settings: &RunSettings,
    owner: &str,
    mut job: ClaimedJob,
    control: RunControl<'_>,
) -> Result<JobOutcome, StorageError> {
    let validated = job.total_rows.is_some();
    let upload = job.upload.take();
    if job.stalled_attempts > MAX_STALLED_ATTEMPTS {
        let why = format!(
            "the import stopped {MAX_STALLED_ATTEMPTS} times in a row without getting further"
        );
        return end::give_up(storage, settings, owner, job.id, validated, upload, &why).await;
    }
    let Some(upload) = upload else {
        let why = "the uploaded file is no longer stored";
        return end::give_up(storage, settings, owner, job.id, validated, None, why).await;
    };
    if !storage.set_phase(job.id, owner, JobPhase::Reading).await? {
        return Ok(JobOutcome::Interrupted);
    }
    let limits = settings.limits.clone();
    let (upload, read) = spawn_blocking_with_tracing(move || {
        let read = end::read(&upload, &limits);
        (upload, read)
    })
    .await;
    let (sheet, columns) = match read {
        Ok(read) => read,
        Err(error) if !validated => {
            storage.fail_job(job.id, owner, &error.to_string()).await?;
            return Ok(JobOutcome::Failed);
        }
        Err(error) => {
            let why = format!("the uploaded file could not be read again ({error})");
            return end::give_up(storage, settings, owner, job.id, true, None, &why).await;
        }
    };
    if storage.cancel_requested(job.id).await? {
        // Cancelled before its rows were checked: every row says so.
        if !validated {
            let cancelled = StoredOutcome::from(&RowOutcome::NotImported(end::CANCELLED.into()));
            let rows: Vec<NewImportRow> = sheet
                .rows
                .iter()
                .map(|row| NewImportRow {
                    row_no: row.number.into(),
                    outcome: Some(cancelled.clone()),
                })
                .collect();
            if !storage.record_validation(job.id, owner, &rows).await? {
                return Ok(JobOutcome::Interrupted);
            }
        }
        return end::cancel(storage, settings, owner, job.id, upload).await;
    }
    if !storage.set_phase(job.id, owner, JobPhase::Checking).await? {
        return Ok(JobOutcome::Interrupted);
    }
    let Some((mut valid, total)) = check(storage, settings, owner, &job, sheet, columns).await?
    else {
        return Ok(JobOutcome::Interrupted);
    };
    if !storage.set_phase(job.id, owner, JobPhase::Creating).await? {
        return Ok(JobOutcome::Interrupted);
    }

    let pending = storage.pending_rows(job.id).await?;
    let batches: Vec<Vec<validate::ValidRow>> = pending
        .chunks(BATCH_ROWS)
        .map(|batch| {
            batch
                .iter()
                .filter_map(|row_no| u32::try_from(*row_no).ok().and_then(|n| valid.remove(&n)))
                .collect()
        })
        .collect();
    drop(valid);
    let mut done = total - pending.len() as u64;
    (control.progress)(done, total);
    let progress = control.progress;
    let mut on_batch = |rows: u64| {
        done += rows;
        progress(done, total);
    };
    match create_agents(
        storage,
        settings,
        owner,
        &job,
        batches,
        &control,
        &mut on_batch,
    )
    .await?
    {
        Batches::Done => end::finish(storage, settings, owner, job.id, upload).await,
        Batches::LeaseLost => Ok(JobOutcome::Interrupted),
        Batches::Cancelled => end::cancel(storage, settings, owner, job.id, upload).await,
        Batches::Stopped => {
            storage.release_job(job.id, owner).await?;
            tracing::info!("import stopped after its batch; the next process resumes it at once");
            Ok(JobOutcome::Interrupted)
        }
    }
}

/// Validates every row, and on the first attempt stores every row's state at once, so the
/// whole list of errors is known within seconds. Returns the rows to create, by row number,
/// and the number of rows, or None when the lease was lost.
async fn check(
    storage: &Storage,
    settings: &RunSettings,
    owner: &str,
    job: &ClaimedJob,
    sheet: Sheet,
    columns: Columns,
) -> Result<Option<(HashMap<u32, validate::ValidRow>, u64)>, StorageError> {
    let policy = settings.policy.clone();
    // The parsed sheet is dropped once validated: the upload (at most the size limit) is kept
    // instead and read again for the result file, which keeps a 100,000-row job's memory flat.
    let checked =
        spawn_blocking_with_tracing(move || validate::validate_rows(&sheet, &columns, &policy))
            .await;
    let mut valid = HashMap::new();
    let mut rows = Vec::with_capacity(checked.len());
    for item in checked {
        match item {
            validate::Checked::Valid(row) => {
                rows.push(NewImportRow {
                    row_no: row.row_no.into(),
                    outcome: None,
                });
                valid.insert(row.row_no, row);
            }
            validate::Checked::Invalid { row_no, outcome }
            | validate::Checked::Kept { row_no, outcome } => rows.push(NewImportRow {
                row_no: row_no.into(),
                outcome: Some(StoredOutcome::from(&outcome)),
            }),
        }
    }
    if job.total_rows.is_none() {
        mark_existing_emails(storage, &mut rows, &valid).await?;
        if !storage.record_validation(job.id, owner, &rows).await? {
            return Ok(None);
        }
        tracing::info!(rows = rows.len(), "import validated");
    }
    Ok(Some((valid, rows.len() as u64)))
}

enum Batches {
    Done,
    LeaseLost,
    Stopped,
    Cancelled,
}

/// Hashes each batch on all cores while the previous batch is written, so the cores never
/// wait for the database. After each batch it looks whether the process is stopping or the
/// import was cancelled.
async fn create_agents(
    storage: &Storage,
    settings: &RunSettings,
    owner: &str,
    job: &ClaimedJob,
    batches: Vec<Vec<validate::ValidRow>>,
    control: &RunControl<'_>,
    on_batch: &mut (dyn FnMut(u64) + Send),
) -> Result<Batches, StorageError> {
    let taken = StoredOutcome::from(&RowOutcome::email_taken());
    let mut batches = batches.into_iter().enumerate();
    let mut next_hashes = batches
        .next()
        .map(|(n, batch)| (n, hash_in_background(batch)));
    while let Some((batch_no, hashing)) = next_hashes.take() {
        if control.limit.max_batches.is_some_and(|max| batch_no >= max) {
            return Ok(Batches::LeaseLost);
        }
        if control.limit.panic_at_batch == Some(batch_no) {
            panic!("a panic injected by a test at batch {batch_no}");
        }
        let agents = match hashing.await {
            Ok(agents) => agents,
            Err(error) => std::panic::resume_unwind(error.into_panic()),
        };
        // A stop finishes the batch just hashed and starts no other, so the process exits
        // about one batch (≈ 1 s) after the signal, with nothing hashed in vain.
        let stopping = control.stop.requested();
        if !stopping {
            next_hashes = batches
                .next()
                .map(|(n, batch)| (n, hash_in_background(batch)));
        }
        let lease = settings.lease_seconds();
        let written = storage
            .apply_batch(job.id, owner, lease, job.group_id, &agents, &taken)
            .await?;
        if written.is_none() {
            tracing::warn!("import lease lost; another process goes on with it");
            return Ok(Batches::LeaseLost);
        }
        on_batch(agents.len() as u64);
        if stopping {
            return Ok(Batches::Stopped);
        }
        // One small read a batch (about a second): a cancel waits at most for the batch.
        if storage.cancel_requested(job.id).await? {
            return Ok(Batches::Cancelled);
        }
    }
    Ok(Batches::Done)
}

fn hash_in_background(
    batch: Vec<validate::ValidRow>,
) -> tokio::task::JoinHandle<Vec<PendingAgent>> {
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        batch
            .into_par_iter()
            .map(|row| PendingAgent {
                row_no: row.row_no.into(),
                password_hash: hash_password(&row.password),
                name: row.name.as_str().to_owned(),
                email: row.email,
            })
            .collect()
    })
}

/// Rows whose email already belongs to an agent fail at validation time, so the full list of
/// errors is known within seconds rather than when the creation phase reaches them.
async fn mark_existing_emails(
    storage: &Storage,
    rows: &mut [NewImportRow],
    valid: &HashMap<u32, validate::ValidRow>,
) -> Result<(), StorageError> {
    let keys: Vec<&str> = valid.values().map(|row| row.email.key()).collect();
    let taken: std::collections::HashSet<String> = storage
        .existing_agent_emails(&keys)
        .await?
        .into_iter()
        .collect();
    for row in rows.iter_mut().filter(|row| row.outcome.is_none()) {
        let key = u32::try_from(row.row_no)
            .ok()
            .and_then(|n| valid.get(&n))
            .map(|v| v.email.key());
        if key.is_some_and(|key| taken.contains(key)) {
            row.outcome = Some(StoredOutcome::from(&RowOutcome::email_taken()));
        }
    }
    Ok(())
}
