//! Writing a validated job's agents, chunk by chunk. The process holding the job writes
//! chunks, and on PostgreSQL so does every other process with nothing of its own to do
//! (`help`): each claims a chunk, hashes its rows on its own cores and writes them batch by
//! batch, each batch in one transaction that re-checks the chunk is still its own.

use std::{collections::HashMap, time::Duration};

use tokio_util::task::AbortOnDropHandle;

use super::{RunControl, RunSettings, end};
use crate::{
    domain::{Id, hash_password},
    import::{Columns, RowOutcome, validate},
    storage::{
        Chunk, ClaimedJob, ImportMode, PendingAgent, PendingRow, Storage, StorageError,
        StoredOutcome, WriteRefusals,
    },
    telemetry::spawn_blocking_with_tracing,
};

/// Rows hashed and written together. Small enough that progress moves every second or so, a
/// lost chunk wastes little work and a graceful stop waits little; large enough that a batch's
/// insert is cheap next to its hashing (64 Argon2id hashes ≈ 0.8 s on two cores, the insert a
/// few milliseconds).
pub(super) const BATCH_ROWS: usize = 64;

/// Pending rows a chunk: a few batches, so that a process claims work every few seconds and a
/// dead process's chunk costs little to redo, while claims stay rare next to the writes.
pub(super) const CHUNK_ROWS: usize = 256;

/// What a process needs to write a job's agents: every valid row of its file, by row number,
/// and what the job says of them.
pub struct JobRows {
    pub(super) job_id: Id,
    group_id: Id,
    rows: HashMap<u32, validate::ValidRow>,
    /// Whether the file has these columns: an update leaves what the file does not say.
    has_nickname: bool,
    has_description: bool,
    /// The job's option: agents given a password must change it at their next sign-in.
    must_change_password: bool,
}

impl JobRows {
    pub(super) fn new(
        job: &ClaimedJob,
        rows: HashMap<u32, validate::ValidRow>,
        columns: &Columns,
    ) -> JobRows {
        JobRows {
            job_id: job.id,
            group_id: job.group_id,
            rows,
            has_nickname: columns.nickname.is_some(),
            has_description: columns.description.is_some(),
            must_change_password: job.options.must_change_password,
        }
    }

    /// A helper's copy: the job's file read and validated again, as its holder did. None when
    /// the file cannot be read (the holder read it, so this process is the odd one out: it
    /// leaves the job to the others).
    pub(super) async fn read(settings: &RunSettings, mut job: ClaimedJob) -> Option<JobRows> {
        let upload = job.upload.take()?;
        let limits = settings.limits.clone();
        let rules = validate::RowRules {
            policy: settings.policy.clone(),
            blank_password_keeps: job.options.mode == ImportMode::Update,
        };
        let read = spawn_blocking_with_tracing(move || {
            let (sheet, columns) = end::read(&upload, &limits)?;
            let valid = validate::validate_rows(&sheet, &columns, &rules)
                .into_iter()
                .filter_map(|checked| match checked {
                    validate::Checked::Valid(row) => Some((row.row_no, row)),
                    _ => None,
                })
                .collect::<HashMap<_, _>>();
            Ok::<_, crate::import::FileError>((valid, columns))
        })
        .await;
        match read {
            Ok((valid, columns)) => Some(JobRows::new(&job, valid, &columns)),
            Err(error) => {
                tracing::warn!(job_id = job.id, %error, "could not read an import to help with");
                None
            }
        }
    }

    /// The chunk's pending rows, ready to hash. A row this process did not find valid (it
    /// would have to run other rules than the holder) is left without an outcome: the job's
    /// end says it was not imported.
    fn to_write(&self, pending: &[PendingRow]) -> Vec<ToWrite> {
        pending
            .iter()
            .filter_map(|pending| {
                let row = self.rows.get(&u32::try_from(pending.row_no).ok()?)?;
                Some(ToWrite {
                    row: row.clone(),
                    group_id: pending.group_id.unwrap_or(self.group_id),
                    update: pending.agent_id,
                    has_nickname: self.has_nickname,
                    has_description: self.has_description,
                    must_change_password: self.must_change_password,
                })
            })
            .collect()
    }
}

/// A row ready to hash and write.
struct ToWrite {
    row: validate::ValidRow,
    group_id: Id,
    update: Option<Id>,
    has_nickname: bool,
    has_description: bool,
    must_change_password: bool,
}

impl ToWrite {
    fn hashed(self) -> PendingAgent {
        let ToWrite { row, .. } = &self;
        let given = |has: bool, text: &str| (has || self.update.is_none()).then(|| text.to_owned());
        PendingAgent {
            row_no: row.row_no.into(),
            group_id: self.group_id,
            name: row.name.as_str().to_owned(),
            email: row.email.clone(),
            password_hash: row.password.as_deref().map(hash_password),
            // Only a password the file sets is one to change: a kept password stays the
            // agent's own.
            must_change_password: self.must_change_password && row.password.is_some(),
            nickname: given(self.has_nickname, row.nickname.as_str()),
            description: given(self.has_description, row.description.as_str()),
            update: self.update,
        }
    }
}

/// How writing a chunk ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ChunkEnd {
    /// Every row of it written.
    Written,
    /// Taken over by another process after its lease ran out, or its job ended meanwhile.
    Lost,
    /// The process is stopping: the chunk was given back after its batch.
    Stopped,
    /// The import was cancelled: the chunk was given back after its batch.
    Cancelled,
    /// A test's run limit: the process "died" holding it.
    LimitReached,
}

/// Batches written in one run, counted across its chunks for a test's limit, and what each
/// batch's rows are reported to.
pub(super) struct Batches<'a> {
    written: usize,
    on_batch: &'a mut (dyn FnMut(u64) + Send),
}

impl<'a> Batches<'a> {
    pub(super) fn reporting_to(on_batch: &'a mut (dyn FnMut(u64) + Send)) -> Batches<'a> {
        Batches {
            written: 0,
            on_batch,
        }
    }

    fn written(&mut self, rows: u64) {
        self.written += 1;
        (self.on_batch)(rows);
    }
}

/// Hashes and writes one claimed chunk. Each batch hashes on the pool while the previous one
/// is written, so the cores never wait for the database; after each, it looks whether the
/// process is stopping or the import was cancelled.
pub(super) async fn write_chunk(
    storage: &Storage,
    settings: &RunSettings,
    owner: &str,
    chunk: &Chunk,
    rows: &JobRows,
    control: &RunControl<'_>,
    batches: &mut Batches<'_>,
) -> Result<ChunkEnd, StorageError> {
    let pending = storage.chunk_rows(chunk).await?;
    let to_write: Vec<Vec<ToWrite>> = pending
        .chunks(BATCH_ROWS)
        .map(|batch| rows.to_write(batch))
        .collect();
    // Aborted on drop too: a write dropped midway (its process stopping) or a panic must not
    // leave a renewal behind that keeps the chunk from every other process for good.
    let beat = AbortOnDropHandle::new(tokio::spawn(renew_chunk_until_lost(
        storage.clone(),
        *chunk,
        owner.to_owned(),
        settings.lease,
    )));
    let ended = write_batches(storage, settings, owner, chunk, to_write, control, batches).await;
    drop(beat);
    let ended = ended?;
    match ended {
        ChunkEnd::Written => {
            if !storage.finish_chunk(chunk, owner).await? {
                return Ok(ChunkEnd::Lost);
            }
        }
        ChunkEnd::Stopped | ChunkEnd::Cancelled => storage.release_chunk(chunk, owner).await?,
        ChunkEnd::Lost | ChunkEnd::LimitReached => {}
    }
    Ok(ended)
}

async fn write_batches(
    storage: &Storage,
    settings: &RunSettings,
    owner: &str,
    chunk: &Chunk,
    to_write: Vec<Vec<ToWrite>>,
    control: &RunControl<'_>,
    batches: &mut Batches<'_>,
) -> Result<ChunkEnd, StorageError> {
    let refusals = WriteRefusals {
        taken: StoredOutcome::from(&RowOutcome::email_taken()),
        vanished: StoredOutcome::from(&RowOutcome::Error(
            "the agent was deleted or changed while the import ran; upload this row again".into(),
        )),
    };
    let hash = |batch: Vec<ToWrite>| settings.hashing.map(batch, ToWrite::hashed);
    let mut to_write = to_write.into_iter();
    let mut next_hashes = to_write.next().map(hash);
    while let Some(hashing) = next_hashes.take() {
        let batch_no = batches.written;
        if control.limit.max_batches.is_some_and(|max| batch_no >= max) {
            return Ok(ChunkEnd::LimitReached);
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
            next_hashes = to_write.next().map(hash);
        }
        let lease = settings.lease_seconds();
        let written = storage
            .apply_batch(chunk, owner, lease, &agents, &refusals)
            .await?;
        if written.is_none() {
            tracing::warn!(
                chunk = chunk.chunk_no,
                "import chunk lost; another process has it"
            );
            return Ok(ChunkEnd::Lost);
        }
        batches.written(agents.len() as u64);
        if stopping {
            return Ok(ChunkEnd::Stopped);
        }
        // One small read a batch (about a second): a cancel waits at most for the batch.
        if storage.cancel_requested(chunk.job_id).await? {
            return Ok(ChunkEnd::Cancelled);
        }
    }
    Ok(ChunkEnd::Written)
}

/// Keeps the chunk's lease while its batches hash, on a task of its own: on PostgreSQL the
/// renewal waits for the row lock a batch's transaction holds (see `jobs::heartbeat`).
async fn renew_chunk_until_lost(storage: Storage, chunk: Chunk, owner: String, lease: Duration) {
    let every = (lease / 3).max(Duration::from_millis(200));
    let lease_seconds = lease.as_secs() as i64;
    let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        beat.tick().await;
        match storage.renew_chunk(&chunk, &owner, lease_seconds).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(error) => tracing::warn!(%error, "could not renew an import chunk's lease"),
        }
    }
}
