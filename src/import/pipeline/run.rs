//! A claimed job from its file to its last batch: read, check every row once, then create
//! agents batch by batch. How it ends is `end`'s.

use std::collections::HashMap;

use rayon::prelude::*;

use super::{JobOutcome, RunControl, RunSettings, end, groups::RowGroups};
use crate::{
    domain::{Id, hash_password},
    import::{
        Columns, RowOutcome, Sheet,
        plan::{Plan, Target, plan_row},
        validate,
    },
    org::Access,
    storage::{
        ClaimedJob, ExistingAgent, ImportMode, JobPhase, NewImportRow, PendingAgent, Storage,
        StorageError, StoredOutcome, WriteRefusals,
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
        let outcomes = check_only(storage, settings, &job, sheet, columns).await?;
        return end::finish_check(storage, settings, owner, job.id, upload, outcomes).await;
    }
    let Some((mut valid, total)) = check(storage, settings, owner, &job, sheet, columns).await?
    else {
        return Ok(JobOutcome::Interrupted);
    };
    if !storage.set_phase(job.id, owner, JobPhase::Creating).await? {
        return Ok(JobOutcome::Interrupted);
    }

    let pending = storage.pending_rows(job.id).await?;
    let batches: Vec<Vec<ToWrite>> = pending
        .chunks(BATCH_ROWS)
        .map(|batch| {
            batch
                .iter()
                .filter_map(|pending| {
                    let row = valid.remove(&u32::try_from(pending.row_no).ok()?)?;
                    let group_id = pending.group_id.unwrap_or(job.group_id);
                    Some(ToWrite::new(row, group_id, pending.agent_id, &columns))
                })
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
    let checked = validate_all(settings, job, sheet, columns).await;
    let total = checked.len() as u64;
    let mut valid = HashMap::new();
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
    columns: Columns,
) -> Vec<validate::Checked> {
    let rules = validate::RowRules {
        policy: settings.policy.clone(),
        blank_password_keeps: job.options.mode == ImportMode::Update,
    };
    // The parsed sheet is dropped once validated: the upload (at most the size limit) is kept
    // instead and read again for the result file, which keeps a 100,000-row job's memory flat.
    spawn_blocking_with_tracing(move || validate::validate_rows(&sheet, &columns, &rules)).await
}

/// A check: every row validated and planned as for real, nothing hashed, stored or changed.
/// Its outcomes go straight to the result file: a rerun after a crash costs seconds, so no
/// row is stored on the way (which is most of what 100,000 rows would cost).
async fn check_only(
    storage: &Storage,
    settings: &RunSettings,
    job: &ClaimedJob,
    sheet: Sheet,
    columns: Columns,
) -> Result<HashMap<u32, RowOutcome>, StorageError> {
    let mut valid = HashMap::new();
    let mut outcomes = HashMap::new();
    for item in validate_all(settings, job, sheet, columns).await {
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
    Ok(outcomes)
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

/// A row ready to hash and write.
struct ToWrite {
    row: validate::ValidRow,
    group_id: Id,
    update: Option<Id>,
    /// Whether the file has these columns: an update leaves what the file does not say.
    has_nickname: bool,
    has_description: bool,
}

impl ToWrite {
    fn new(
        row: validate::ValidRow,
        group_id: Id,
        update: Option<Id>,
        columns: &Columns,
    ) -> ToWrite {
        ToWrite {
            row,
            group_id,
            update,
            has_nickname: columns.nickname.is_some(),
            has_description: columns.description.is_some(),
        }
    }

    fn hashed(self) -> PendingAgent {
        let ToWrite { row, .. } = &self;
        let given = |has: bool, text: &str| (has || self.update.is_none()).then(|| text.to_owned());
        PendingAgent {
            row_no: row.row_no.into(),
            group_id: self.group_id,
            name: row.name.as_str().to_owned(),
            email: row.email.clone(),
            password_hash: row.password.as_deref().map(hash_password),
            nickname: given(self.has_nickname, row.nickname.as_str()),
            description: given(self.has_description, row.description.as_str()),
            update: self.update,
        }
    }
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
    batches: Vec<Vec<ToWrite>>,
    control: &RunControl<'_>,
    on_batch: &mut (dyn FnMut(u64) + Send),
) -> Result<Batches, StorageError> {
    let refusals = WriteRefusals {
        taken: StoredOutcome::from(&RowOutcome::email_taken()),
        vanished: StoredOutcome::from(&RowOutcome::Error(
            "the agent was deleted or changed while the import ran; upload this row again".into(),
        )),
    };
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
            .apply_batch(job.id, owner, lease, &agents, &refusals)
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

fn hash_in_background(batch: Vec<ToWrite>) -> tokio::task::JoinHandle<Vec<PendingAgent>> {
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        batch.into_par_iter().map(ToWrite::hashed).collect()
    })
}
