//! How a job ends, whatever happened on the way: every row gets an outcome, and a job that got
//! past its validation always leaves a result file.

use std::collections::HashMap;

use super::{JobOutcome, RunSettings};
use crate::{
    domain::Id,
    import::{
        Columns, FileError, Limits, RowOutcome, Sheet, outcome_sheet,
        report::{self, ResultCounts, ResultSummary},
        sheet,
    },
    org::OrgTree,
    storage::{
        AuditAction, AuditActor, CheckCounts, JobEnd, JobPhase, NewAuditEvent, Storage,
        StorageError, StoredOutcome,
    },
    telemetry::spawn_blocking_with_tracing,
};

pub(super) fn read(upload: &[u8], limits: &Limits) -> Result<(Sheet, Columns), FileError> {
    let sheet = sheet::read(upload, limits)?;
    let columns = Columns::find(&sheet.header)?;
    Ok((sheet, columns))
}

/// Ends a job that reached its last row: any row still without an outcome (none, normally)
/// says it was not imported, then the result file is written.
pub(super) async fn finish(
    storage: &Storage,
    settings: &RunSettings,
    owner: &str,
    job_id: Id,
    upload: Vec<u8>,
) -> Result<JobOutcome, StorageError> {
    let unreached = "the import ended before reaching this row; upload it again";
    let end = (Some(upload), Ending::Finished);
    settle_and_write(storage, settings, owner, job_id, unreached, end).await
}

/// The Result cell of a row a cancelled import did not reach.
pub(super) const CANCELLED: &str = "the import was cancelled";

/// Ends a job an administrator cancelled: rows not reached say so, the result file is written.
pub(super) async fn cancel(
    storage: &Storage,
    settings: &RunSettings,
    owner: &str,
    job_id: Id,
    upload: Vec<u8>,
) -> Result<JobOutcome, StorageError> {
    tracing::info!(job_id, "import cancelled");
    let end = (Some(upload), Ending::Cancelled);
    settle_and_write(storage, settings, owner, job_id, CANCELLED, end).await
}

/// Every row still waiting says `Not imported: <unreached>`, then the result file is written.
async fn settle_and_write(
    storage: &Storage,
    settings: &RunSettings,
    owner: &str,
    job_id: Id,
    unreached: &str,
    (upload, ending): (Option<Vec<u8>>, Ending),
) -> Result<JobOutcome, StorageError> {
    let unreached = StoredOutcome::from(&RowOutcome::NotImported(unreached.to_owned()));
    if !storage
        .settle_pending_rows(job_id, owner, &unreached)
        .await?
    {
        return Ok(JobOutcome::Interrupted);
    }
    write_result(storage, settings, owner, job_id, upload, ending).await
}

/// Where the result file takes the rows it gives back.
enum Rows {
    /// The upload, read again (none when it is no longer stored).
    Upload(Option<Vec<u8>>),
    /// A sheet read already.
    Read(Sheet, Columns),
}

/// How a job with rows ends.
enum Ending {
    Finished,
    EarlyBecause(String),
    Cancelled,
    Checked,
}

/// Ends a check (dry run): its outcomes, decided all at once and never stored row by row, go
/// straight into the result file, written from the sheet the check read, and its counts into
/// the job.
pub(super) async fn finish_check(
    storage: &Storage,
    settings: &RunSettings,
    owner: &str,
    job_id: Id,
    (sheet, columns): (Sheet, Columns),
    outcomes: HashMap<u32, RowOutcome>,
) -> Result<JobOutcome, StorageError> {
    if !storage.set_phase(job_id, owner, JobPhase::Writing).await? {
        return Ok(JobOutcome::Interrupted);
    }
    let end = (Rows::Read(sheet, columns), Ending::Checked);
    write_outcomes(storage, settings, owner, job_id, end, outcomes).await
}

/// Ends a job before its last row. Rows not reached say `Not imported: <why>`; a job that never
/// got through reading its file has no rows and fails with the reason alone.
pub(super) async fn give_up(
    storage: &Storage,
    settings: &RunSettings,
    owner: &str,
    job_id: Id,
    validated: bool,
    upload: Option<Vec<u8>>,
    why: &str,
) -> Result<JobOutcome, StorageError> {
    tracing::warn!(job_id, why, "import given up");
    if !validated {
        let reason = format!(
            "The import was given up before its rows were checked: {why}. Check that the file opens in a spreadsheet program, then upload it again."
        );
        storage.fail_job(job_id, owner, &reason).await?;
        return Ok(JobOutcome::Failed);
    }
    let error = format!(
        "The import ended before its last row: {why}. The result file says which rows were not imported."
    );
    let unreached = format!("{why}; upload this row again");
    let end = (upload, Ending::EarlyBecause(error));
    settle_and_write(storage, settings, owner, job_id, &unreached, end).await
}

/// Gives up a job this process holds, from what storage has of it (after its run panicked).
pub async fn give_up_held(
    storage: &Storage,
    settings: &RunSettings,
    owner: &str,
    job_id: Id,
    why: &str,
) -> Result<JobOutcome, StorageError> {
    let Some(job) = storage.held_job(job_id, owner).await? else {
        return Ok(JobOutcome::Interrupted);
    };
    let validated = job.total_rows.is_some();
    give_up(storage, settings, owner, job_id, validated, job.upload, why).await
}

/// Writes the result file from the upload and the stored outcomes, then ends the job. Without a
/// readable upload the result lists each row's number and outcome.
async fn write_result(
    storage: &Storage,
    settings: &RunSettings,
    owner: &str,
    job_id: Id,
    upload: Option<Vec<u8>>,
    ending: Ending,
) -> Result<JobOutcome, StorageError> {
    if !storage.set_phase(job_id, owner, JobPhase::Writing).await? {
        return Ok(JobOutcome::Interrupted);
    }
    let outcomes: HashMap<u32, RowOutcome> = storage
        .row_outcomes(job_id)
        .await?
        .into_iter()
        .filter_map(|(row_no, outcome)| Some((u32::try_from(row_no).ok()?, outcome?.into())))
        .collect();
    let end = (Rows::Upload(upload), ending);
    write_outcomes(storage, settings, owner, job_id, end, outcomes).await
}

/// Writes the result file from the rows it gives back and every row's outcome, then ends the job.
async fn write_outcomes(
    storage: &Storage,
    settings: &RunSettings,
    owner: &str,
    job_id: Id,
    (rows, ending): (Rows, Ending),
    outcomes: HashMap<u32, RowOutcome>,
) -> Result<JobOutcome, StorageError> {
    let count = |wanted: fn(&RowOutcome) -> bool| outcomes.values().filter(|o| wanted(o)).count();
    let created = count(RowOutcome::is_success) as u64;
    let not_imported = count(|o| matches!(o, RowOutcome::NotImported(_))) as u64;
    let failed = count(|o| matches!(o, RowOutcome::Error(_))) as u64;
    let Some(job) = storage.import_job(job_id).await? else {
        // Gone meanwhile (deleting a group deletes its jobs): no job is left to end.
        return Ok(JobOutcome::Interrupted);
    };
    let summary = ResultSummary {
        group_path: OrgTree::new(storage.all_groups().await?).path(job.group_id),
        file_name: job.file_name,
        options: job.options,
        submitted_by: job.submitted_by,
        submitted_at: job.created_at,
        finished_at: storage.clock().now(),
        counts: ResultCounts::of(outcomes.values()),
    };
    let checked = CheckCounts {
        rows: summary.counts.rows as i64,
        created: summary.counts.created as i64,
        updated: summary.counts.updated as i64,
        skipped: summary.counts.skipped as i64,
        kept: summary.counts.kept as i64,
        failed: summary.counts.failed as i64,
    };
    let counts = summary.counts;
    let audit_subject = format!("#{job_id} {}", summary.file_name);
    let audit_detail = format!(
        "{} created, {} updated, {} skipped, {} failed, {} not imported",
        counts.created, counts.updated, counts.skipped, counts.failed, counts.not_imported
    );
    let group_id = job.group_id;
    let limits = settings.limits.clone();
    let bytes = spawn_blocking_with_tracing(move || {
        let cell = |row_no: u32| outcomes.get(&row_no).cloned();
        let read = match rows {
            Rows::Read(sheet, columns) => Some((sheet, columns)),
            Rows::Upload(upload) => upload.and_then(|upload| read(&upload, &limits).ok()),
        };
        match read {
            Some((sheet, columns)) => report::write_result(&sheet, &columns, &cell, &summary),
            None => {
                let mut rows: Vec<u32> = outcomes.keys().copied().collect();
                rows.sort_unstable();
                outcome_sheet::write(&rows, &cell, &summary)
            }
        }
    })
    .await;
    let bytes = match bytes {
        Ok(bytes) => bytes,
        Err(error) => {
            tracing::error!(job_id, %error, "writing the result file failed");
            storage
                .fail_job(job_id, owner, "The result file could not be written.")
                .await?;
            return Ok(JobOutcome::Failed);
        }
    };
    let keep = settings.result_retention.as_secs() as i64;
    let end = match &ending {
        Ending::Finished => JobEnd::Finished,
        Ending::EarlyBecause(reason) => JobEnd::EndedEarly(reason),
        Ending::Cancelled => JobEnd::Cancelled,
        Ending::Checked => JobEnd::Checked(checked),
    };
    if !storage.finish_job(job_id, owner, &bytes, keep, end).await? {
        return Ok(JobOutcome::Interrupted);
    }
    if !matches!(ending, Ending::Checked) {
        let event = NewAuditEvent {
            group_id: Some(group_id),
            import_job_id: Some(job_id),
            detail: &audit_detail,
            ..NewAuditEvent::new(AuditAction::ImportEnded, &audit_subject)
        };
        storage
            .record_audit(&AuditActor::import_job(job_id), event)
            .await?;
    }
    tracing::info!(job_id, created, failed, not_imported, "import ended");
    Ok(match ending {
        Ending::Finished => JobOutcome::Finished { created, failed },
        Ending::EarlyBecause(_) => JobOutcome::Ended {
            created,
            failed,
            not_imported,
        },
        Ending::Cancelled => JobOutcome::Cancelled {
            created,
            failed,
            not_imported,
        },
        Ending::Checked => JobOutcome::Checked {
            rows: checked.rows as u64,
            failed,
        },
    })
}
