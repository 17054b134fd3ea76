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
    job: ClaimedJob,
    limit: RunLimit,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<JobOutcome, StorageError> {
    let lease = config.job_lease.as_secs() as i64;
    let Some(upload) = job.upload.filter(|_| job.attempts <= MAX_ATTEMPTS) else {
        let reason = "The import stopped several times without finishing and was abandoned; upload the file again.";
        storage.fail_job(job.id, Some(owner), reason).await?;
        return Ok(JobOutcome::Failed);
    };
    let limits = config.limits.clone();
    let parsed = spawn_blocking_with_tracing(move || {
        let sheet = sheet::read(&upload, &limits)?;
        let columns = Columns::find(&sheet.header)?;
        Ok::<_, FileError>((sheet, columns))
    })
    .await;
    let (sheet, columns) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => {
            storage
                .fail_job(job.id, Some(owner), &error.to_string())
                .await?;
            return Ok(JobOutcome::Failed);
        }
    };

    let checked = validate::validate_rows(&sheet, &columns, &config.password_policy);
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
    let mut done = total - pending.len() as u64;
    progress(done, total);
    for (batch_no, batch) in pending.chunks(BATCH_ROWS).enumerate() {
        if limit.max_batches.is_some_and(|max| batch_no >= max) {
            return Ok(JobOutcome::Interrupted);
        }
        let to_hash: Vec<validate::ValidRow> = batch
            .iter()
            .filter_map(|row_no| {
                u32::try_from(*row_no)
                    .ok()
                    .and_then(|n| valid.get(&n))
                    .cloned()
            })
            .collect();
        let agents = spawn_blocking_with_tracing(move || {
            to_hash
                .into_par_iter()
                .map(|row| PendingAgent {
                    row_no: row.row_no.into(),
                    password_hash: hash_password(&row.password),
                    name: row.name.as_str().to_owned(),
                    email: row.email,
                })
                .collect::<Vec<_>>()
        })
        .await;
        if storage
            .apply_batch(job.id, owner, lease, job.group_id, &agents)
            .await?
            .is_none()
        {
            tracing::warn!(
                job_id = job.id,
                "import lease lost; another process goes on with it"
            );
            return Ok(JobOutcome::Interrupted);
        }
        done += batch.len() as u64;
        progress(done, total);
    }

    let outcomes: HashMap<u32, String> = storage
        .row_outcomes(job.id)
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
    let result = write_report(sheet, columns, outcomes).await;
    let keep = config.result_retention.as_secs() as i64;
    match result {
        Ok(bytes) if storage.finish_job(job.id, owner, &bytes, keep).await? => {
            tracing::info!(job_id = job.id, created, failed, "import finished");
            Ok(JobOutcome::Finished { created, failed })
        }
        Ok(_) => Ok(JobOutcome::Interrupted),
        Err(error) => {
            tracing::error!(job_id = job.id, %error, "writing the result file failed");
            storage
                .fail_job(job.id, Some(owner), "The result file could not be written.")
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

async fn write_report(
    sheet: Sheet,
    columns: Columns,
    outcomes: HashMap<u32, String>,
) -> Result<Vec<u8>, String> {
    spawn_blocking_with_tracing(move || {
        report::write_result(&sheet, &columns, &|row_no| outcomes.get(&row_no).cloned())
            .map_err(|error| error.to_string())
    })
    .await
}
