//! One import from upload to result file, shared by the web, the API, the command line and the
//! job runner.

use std::collections::HashMap;

use rayon::prelude::*;

use super::{Columns, FileError, Limits, Sheet, report, sheet, validate};
use crate::{
    config::Config,
    domain::{Id, hash_password},
    storage::{ClaimedJob, EMAIL_TAKEN_MESSAGE, NewImportRow, PendingAgent, Storage, StorageError},
    telemetry::spawn_blocking_with_tracing,
};

/// Rows hashed and written together. Small enough that progress moves every second or so and
/// a lost lease wastes little work; large enough that a batch's insert is cheap next to its
/// hashing (64 Argon2id hashes ≈ 0.8 s on two cores, the insert a few milliseconds).
const BATCH_ROWS: usize = 64;

/// A job that keeps dying (a crash while reading it, say) is failed rather than retried forever.
const MAX_ATTEMPTS: i64 = 5;

/// What an accepted upload looks like before its job runs.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub job_id: Id,
    pub data_rows: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOutcome {
    Finished {
        created: u64,
        failed: u64,
    },
    /// The whole file was unusable; the job is marked failed with the reason.
    Failed,
    /// The lease went to another process, or the run limit was reached: someone resumes it.
    Interrupted,
}

/// Lets a test stop a job midway as if its process had died.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunLimit {
    pub max_batches: Option<usize>,
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Reads the whole file once (about 0.3 s for 100,000 rows) so that anything making it unusable
/// — format, size, header, row count — is reported at once and nothing is queued.
pub async fn check_file(bytes: Vec<u8>, limits: Limits) -> Result<(Vec<u8>, usize), FileError> {
    spawn_blocking_with_tracing(move || {
        let sheet = sheet::read(&bytes, &limits)?;
        Columns::find(&sheet.header)?;
        Ok((bytes, sheet.rows.len()))
    })
    .await
}

/// Checks the file and queues its job. The stored file holds plaintext passwords until the job
/// ends.
pub async fn submit(
    storage: &Storage,
    limits: &Limits,
    group_id: Id,
    submitted_by: &str,
    file_name: &str,
    bytes: Vec<u8>,
) -> Result<Submitted, SubmitError> {
    let (bytes, data_rows) = check_file(bytes, limits.clone()).await?;
    let job_id = storage
        .enqueue_import(group_id, submitted_by, file_name, &bytes)
        .await?;
    tracing::info!(job_id, group_id, data_rows, file_name, "import queued");
    Ok(Submitted { job_id, data_rows })
}

/// Runs a claimed job to its end (or until its lease is lost): validate every row once, then
/// create agents batch by batch, then write the result file.
pub async fn run_job(
    storage: &Storage,
    config: &Config,
    owner: &str,
    mut job: ClaimedJob,
    limit: RunLimit,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<JobOutcome, StorageError> {
    let Some(upload) = job.upload.take().filter(|_| job.attempts <= MAX_ATTEMPTS) else {
        let reason = "The import stopped several times without finishing and was abandoned; upload the file again.";
        storage.fail_job(job.id, Some(owner), reason).await?;
        return Ok(JobOutcome::Failed);
    };
    let policy = config.password_policy.clone();
    let limits = config.limits.clone();
    // The parsed sheet is dropped once validated: the upload (at most the size limit) is kept
    // instead and read again for the result file, which keeps a 100,000-row job's memory flat.
    let parsed = spawn_blocking_with_tracing(move || {
        let result = read(&upload, &limits)
            .map(|(sheet, columns)| validate::validate_rows(&sheet, &columns, &policy));
        (upload, result)
    })
    .await;
    let (upload, checked) = match parsed {
        (upload, Ok(checked)) => (upload, checked),
        (_, Err(error)) => {
            storage
                .fail_job(job.id, Some(owner), &error.to_string())
                .await?;
            return Ok(JobOutcome::Failed);
        }
    };

    let mut valid: HashMap<u32, validate::ValidRow> = HashMap::new();
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
            validate::Checked::Invalid { row_no, message } => rows.push(NewImportRow {
                row_no: row_no.into(),
                outcome: Some(message),
            }),
        }
    }
    if job.total_rows.is_none() {
        mark_existing_emails(storage, &mut rows, &valid).await?;
        if !storage.record_validation(job.id, owner, &rows).await? {
            return Ok(JobOutcome::Interrupted);
        }
        tracing::info!(job_id = job.id, rows = rows.len(), "import validated");
    }
    let total = rows.len() as u64;
    drop(rows);

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
    progress(done, total);
    if !create_agents(storage, config, owner, &job, batches, limit, &mut |rows| {
        done += rows;
        progress(done, total);
    })
    .await?
    {
        return Ok(JobOutcome::Interrupted);
    }
    finish(storage, config, owner, job.id, upload).await
}

fn read(upload: &[u8], limits: &Limits) -> Result<(Sheet, Columns), FileError> {
    let sheet = sheet::read(upload, limits)?;
    let columns = Columns::find(&sheet.header)?;
    Ok((sheet, columns))
}

/// Hashes each batch on all cores while the previous batch is written, so the cores never
/// wait for the database. Returns false when the job must stop here (lease lost, or the run
/// limit reached).
async fn create_agents(
    storage: &Storage,
    config: &Config,
    owner: &str,
    job: &ClaimedJob,
    batches: Vec<Vec<validate::ValidRow>>,
    limit: RunLimit,
    on_batch: &mut (dyn FnMut(u64) + Send),
) -> Result<bool, StorageError> {
    let lease = config.job_lease.as_secs() as i64;
    let mut batches = batches.into_iter().enumerate();
    let mut next_hashes = batches
        .next()
        .map(|(n, batch)| (n, hash_in_background(batch)));
    while let Some((batch_no, hashing)) = next_hashes.take() {
        if limit.max_batches.is_some_and(|max| batch_no >= max) {
            return Ok(false);
        }
        let agents = hashing.await.expect("hashing never panics");
        next_hashes = batches
            .next()
            .map(|(n, batch)| (n, hash_in_background(batch)));
        if storage
            .apply_batch(job.id, owner, lease, job.group_id, &agents)
            .await?
            .is_none()
        {
            tracing::warn!(
                job_id = job.id,
                "import lease lost; another process goes on with it"
            );
            return Ok(false);
        }
        on_batch(agents.len() as u64);
    }
    Ok(true)
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

/// Writes the result file from the upload and the stored outcomes, then ends the job.
async fn finish(
    storage: &Storage,
    config: &Config,
    owner: &str,
    job_id: Id,
    upload: Vec<u8>,
) -> Result<JobOutcome, StorageError> {
    let outcomes: HashMap<u32, String> = storage
        .row_outcomes(job_id)
        .await?
        .into_iter()
        .filter_map(|(row_no, outcome)| Some((u32::try_from(row_no).ok()?, outcome?)))
        .collect();
    let (created, failed) = outcomes.values().fold((0, 0), |(ok, bad), outcome| {
        if outcome == "Success" {
            (ok + 1, bad)
        } else {
            (ok, bad + 1)
        }
    });
    let limits = config.limits.clone();
    let result = spawn_blocking_with_tracing(move || {
        let (sheet, columns) = read(&upload, &limits).map_err(|error| error.to_string())?;
        report::write_result(&sheet, &columns, &|row_no| outcomes.get(&row_no).cloned())
            .map_err(|error| error.to_string())
    })
    .await;
    let keep = config.result_retention.as_secs() as i64;
    match result {
        Ok(bytes) if storage.finish_job(job_id, owner, &bytes, keep).await? => {
            tracing::info!(job_id, created, failed, "import finished");
            Ok(JobOutcome::Finished { created, failed })
        }
        Ok(_) => Ok(JobOutcome::Interrupted),
        Err(error) => {
            tracing::error!(job_id, %error, "writing the result file failed");
            storage
                .fail_job(job_id, Some(owner), "The result file could not be written.")
                .await?;
            Ok(JobOutcome::Failed)
        }
    }
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
            row.outcome = Some(EMAIL_TAKEN_MESSAGE.to_owned());
        }
    }
    Ok(())
}
