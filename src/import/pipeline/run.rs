//! A claimed job from its file to its last batch: read, check every row once, then write its
//! agents chunk by chunk (`chunks`), with any other process that helps. How it ends is
//! `end`'s.

use std::{
    collections::HashMap,
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use super::{
    JobOutcome, RunControl, RunSettings,
    chunks::{Batches as ChunkBatches, CHUNK_ROWS, ChunkEnd, JobRows, write_chunk},
    end,
    groups::RowGroups,
};
use crate::{
    domain::Id,
    import::{
        Columns, RowOutcome, Sheet,
        plan::{Plan, Target, plan_row},
        validate,
    },
    org::Access,
    storage::{
        ClaimedJob, ExistingAgent, ImportMode, JobPhase, NewImportRow, Storage, StorageError,
        StoredOutcome,
    },
    telemetry::spawn_blocking_with_tracing,
};

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
                .map(|row| NewImportRow::decided(row.number.into(), cancelled.clone()))
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
    if job.options.dry_run && !validated {
        // A check writes its result from the sheet it holds: the upload is not read again.
        drop(upload);
        let (sheet, outcomes) = check_only(storage, settings, &job, sheet, &columns).await?;
        let read = (sheet, columns);
        return end::finish_check(storage, settings, owner, job.id, read, outcomes).await;
    }
    let Some((valid, total)) = check(storage, settings, owner, &job, sheet, columns).await? else {
        return Ok(JobOutcome::Interrupted);
    };
    if !storage.start_creating(job.id, owner, CHUNK_ROWS).await? {
        return Ok(JobOutcome::Interrupted);
    }
    let rows = JobRows::new(&job, valid, &columns);
    match create_agents(storage, settings, owner, &rows, total, &control).await? {
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

/// Validates every row and, on the first attempt, decides what each does (create, update,
/// skip, fail: `plan`) and stores every row's state at once, so the whole list of errors is
/// known within seconds; a check decides every row there. Returns the rows to write, by row
/// number, and the number of rows, or None when the lease was lost.
async fn check(
    storage: &Storage,
    settings: &RunSettings,
    owner: &str,
    job: &ClaimedJob,
    sheet: Sheet,
    columns: Columns,
) -> Result<Option<(HashMap<u32, validate::ValidRow>, u64)>, StorageError> {
    // The parsed sheet is dropped once validated: the upload (at most the size limit) is kept
    // instead and read again for the result file, which keeps a long job's memory flat.
    let (_, checked) = validate_all(settings, job, sheet, &columns).await;
    let total = checked.len() as u64;
    // Sized once: growing a map of 100,000 rows holds its old and new tables at once.
    let mut valid = HashMap::with_capacity(checked.len());
    let mut decided = Vec::with_capacity(checked.len());
    for item in checked {
        match item {
            validate::Checked::Valid(row) => {
                valid.insert(row.row_no, row);
            }
            validate::Checked::Invalid { row_no, outcome }
            | validate::Checked::Kept { row_no, outcome } => decided.push(NewImportRow::decided(
                row_no.into(),
                StoredOutcome::from(&outcome),
            )),
        }
    }
    if job.total_rows.is_none() {
        let mut rows: Vec<NewImportRow> = plan_rows(storage, job, &mut valid)
            .await?
            .into_iter()
            .map(|(row_no, planned)| planned.into_row(row_no))
            .collect();
        rows.append(&mut decided);
        rows.sort_unstable_by_key(|row| row.row_no);
        if !storage.record_validation(job.id, owner, &rows).await? {
            return Ok(None);
        }
        tracing::info!(rows = rows.len(), "import validated");
    }
    Ok(Some((valid, total)))
}

/// Every row against the file's rules and the job's mode.
async fn validate_all(
    settings: &RunSettings,
    job: &ClaimedJob,
    sheet: Sheet,
    columns: &Columns,
) -> (Sheet, Vec<validate::Checked>) {
    let rules = validate::RowRules {
        policy: settings.policy.clone(),
        blank_password_keeps: job.options.mode == ImportMode::Update,
    };
    let columns = *columns;
    spawn_blocking_with_tracing(move || {
        let checked = validate::validate_rows(&sheet, &columns, &rules);
        (sheet, checked)
    })
    .await
}

/// A check: every row validated and planned as for real, nothing hashed, stored or changed.
/// Its outcomes go straight to the result file: a rerun after a crash costs seconds, so no
/// row is stored on the way (which is most of what 100,000 rows would cost). Gives the sheet
/// back, for the result file.
async fn check_only(
    storage: &Storage,
    settings: &RunSettings,
    job: &ClaimedJob,
    sheet: Sheet,
    columns: &Columns,
) -> Result<(Sheet, HashMap<u32, RowOutcome>), StorageError> {
    let (sheet, checked) = validate_all(settings, job, sheet, columns).await;
    // Sized once: growing a map of 100,000 rows holds its old and new tables at once.
    let mut valid = HashMap::with_capacity(checked.len());
    let mut outcomes = HashMap::with_capacity(checked.len());
    for item in checked {
        match item {
            validate::Checked::Valid(row) => {
                valid.insert(row.row_no, row);
            }
            validate::Checked::Invalid { row_no, outcome }
            | validate::Checked::Kept { row_no, outcome } => {
                outcomes.insert(row_no, outcome);
            }
        }
    }
    for (row_no, planned) in plan_rows(storage, job, &mut valid).await? {
        if let Plan::Decided(outcome) = planned.plan {
            outcomes.insert(row_no, outcome);
        }
    }
    tracing::info!(rows = outcomes.len(), "import checked");
    Ok((sheet, outcomes))
}

/// A valid row's plan and the group its agent goes to.
struct Planned {
    plan: Plan,
    group_id: Option<Id>,
}

impl Planned {
    fn into_row(self, row_no: u32) -> NewImportRow {
        let row_no = row_no.into();
        let (group_id, agent_id) = match self.plan {
            Plan::Decided(outcome) => {
                return NewImportRow::decided(row_no, StoredOutcome::from(&outcome));
            }
            Plan::Create => (self.group_id, None),
            Plan::Update { agent_id } => (self.group_id, Some(agent_id)),
        };
        NewImportRow {
            row_no,
            outcome: None,
            group_id,
            agent_id,
        }
    }
}

/// Decides what each valid row does, in row order. Rows decided now (errors, skips, a check's
/// verdicts) leave `valid`; the rest stay there, to be written.
async fn plan_rows(
    storage: &Storage,
    job: &ClaimedJob,
    valid: &mut HashMap<u32, validate::ValidRow>,
) -> Result<Vec<(u32, Planned)>, StorageError> {
    let keys: Vec<&str> = valid.values().map(|row| row.email.key()).collect();
    let existing: HashMap<String, ExistingAgent> = storage
        .agents_by_email_keys(&keys)
        .await?
        .into_iter()
        .map(|agent| (agent.email_key.clone(), agent))
        .collect();
    let sender = Access::of_sender(storage, job.submitted_by_id).await?;
    let group_name = |id| sender.can_see(id).then(|| sender.tree.path(id));
    let mut groups = RowGroups::new(storage, job.group_id, !job.options.dry_run).await?;
    let mut row_numbers: Vec<u32> = valid.keys().copied().collect();
    row_numbers.sort_unstable();
    let mut planned = Vec::with_capacity(row_numbers.len());
    for row_no in row_numbers {
        let row = &valid[&row_no];
        let target = groups.target(row.group.as_ref()).await?;
        let agent = existing.get(row.email.key());
        let has_password = row.password.is_some();
        let plan = plan_row(job.options, target, agent, has_password, &group_name);
        if matches!(plan, Plan::Decided(_)) {
            valid.remove(&row_no);
        }
        let group_id = match target {
            Target::Group(id) => Some(id),
            Target::NewGroup => None,
        };
        planned.push((row_no, Planned { plan, group_id }));
    }
    Ok(planned)
}

enum Batches {
    Done,
    LeaseLost,
    Stopped,
    Cancelled,
}

/// How often the job's holder looks again while other processes write its last chunks.
const WAIT_FOR_OTHERS: Duration = Duration::from_millis(200);

/// Writes the job's chunks until none is left: those no one holds, then, while other
/// processes write the last ones, waits for them — or for their leases to run out, when it
/// takes their chunks over. Progress counts every process's rows.
async fn create_agents(
    storage: &Storage,
    settings: &RunSettings,
    owner: &str,
    rows: &JobRows,
    total: u64,
    control: &RunControl<'_>,
) -> Result<Batches, StorageError> {
    let job_id = rows.job_id;
    let lease = settings.lease_seconds();
    // Rows done by every process, read again before each chunk; this one's batches add to it.
    let done = AtomicU64::new(0);
    let mut on_batch = |rows: u64| {
        let now = done.fetch_add(rows, Ordering::Relaxed) + rows;
        (control.progress)(now, total);
    };
    let mut batches = ChunkBatches::reporting_to(&mut on_batch);
    loop {
        // The job's lease, checked before each chunk: a holder that lost the job stops
        // claiming its work (what it has written stays: every batch was its chunk's).
        if !storage.renew_lease(job_id, owner, lease).await? {
            return Ok(Batches::LeaseLost);
        }
        let now = rows_done(storage, job_id).await?;
        done.store(now, Ordering::Relaxed);
        (control.progress)(now, total);
        if let Some(chunk) = storage.claim_chunk(owner, lease, job_id).await? {
            let ended = write_chunk(
                storage,
                settings,
                owner,
                &chunk,
                rows,
                control,
                &mut batches,
            )
            .await?;
            match ended {
                ChunkEnd::Written => continue,
                ChunkEnd::Lost | ChunkEnd::LimitReached => return Ok(Batches::LeaseLost),
                ChunkEnd::Stopped => return Ok(Batches::Stopped),
                ChunkEnd::Cancelled => return Ok(Batches::Cancelled),
            }
        }
        if storage.open_chunks(job_id).await? == 0 {
            return Ok(Batches::Done);
        }
        if control.stop.requested() {
            return Ok(Batches::Stopped);
        }
        if storage.cancel_requested(job_id).await? {
            return Ok(Batches::Cancelled);
        }
        tokio::time::sleep(WAIT_FOR_OTHERS).await;
    }
}

async fn rows_done(storage: &Storage, job_id: Id) -> Result<u64, StorageError> {
    let job = storage.import_job(job_id).await?;
    Ok(job.map_or(0, |job| job.done_rows.max(0) as u64))
}
