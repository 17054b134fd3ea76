use std::{panic::AssertUnwindSafe, sync::Arc, time::Duration};

use futures_util::FutureExt;
use tokio::sync::watch;

use super::{
    WorkerStatus,
    bulk::{self, BulkStep},
    heartbeat::with_heartbeat,
};
use crate::{
    config::Config,
    domain::Id,
    import::{
        JobOutcome, RunControl, RunLimit, RunSettings, Stop,
        pipeline::{self, HelpCache, Helped},
    },
    storage::{JobState, SessionExpiry, Storage, StorageError},
};

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Ran(JobOutcome),
    /// Wrote rows of a job another process holds (PostgreSQL).
    Helped(Helped),
    /// Did a batch of a bulk action (no import was waiting).
    Bulk(BulkStep),
    Idle,
}

/// Claims and runs import jobs. Each process runs one; its `owner` name is unique, so leases
/// tell processes apart.
#[derive(Clone)]
pub struct Worker {
    storage: Storage,
    settings: RunSettings,
    session_idle: Duration,
    token_idle: Duration,
    session_max: Duration,
    owner: String,
    /// The rows of the job this process last helped with, read once for all its chunks.
    help_cache: Arc<tokio::sync::Mutex<HelpCache>>,
}

/// How often an idle worker looks for work: an upload waits at most this long to start.
const POLL_INTERVAL: Duration = Duration::from_millis(500);

impl Worker {
    pub fn new(storage: Storage, config: Config) -> Worker {
        let owner = format!(
            "{}-{}-{:08x}",
            hostname(),
            std::process::id(),
            rand::random::<u32>()
        );
        Worker {
            storage,
            settings: RunSettings::from(&config),
            session_idle: config.session_idle,
            token_idle: config.token_idle,
            session_max: config.session_max,
            owner,
            help_cache: Arc::default(),
        }
    }

    /// Claims the oldest available import and runs it; with none waiting, does a batch of the
    /// oldest bulk action.
    pub async fn step(&self) -> Result<Step, StorageError> {
        match self
            .step_with(None, Stop::never(), RunLimit::default(), &|_, _| {})
            .await?
        {
            Step::Idle => self.bulk_step().await,
            other => Ok(other),
        }
    }

    /// One batch of the oldest bulk action no other process holds.
    pub async fn bulk_step(&self) -> Result<Step, StorageError> {
        let lease = self.settings.lease;
        Ok(
            match bulk::step(&self.storage, &self.owner, lease, None).await? {
                Some(step) => Step::Bulk(step),
                None => Step::Idle,
            },
        )
    }

    /// Runs the one job `job_id` if no other process holds it (the command line runs the job it
    /// queued), reporting progress as rows done of all rows.
    pub async fn run_one(
        &self,
        job_id: Id,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<Step, StorageError> {
        self.step_with(Some(job_id), Stop::never(), RunLimit::default(), progress)
            .await
    }

    /// Writes one chunk of a job another process holds, if one needs it (PostgreSQL).
    pub async fn help(&self) -> Result<Step, StorageError> {
        self.help_with(Stop::never(), RunLimit::default()).await
    }

    /// A helping step that stops where the test says, as if its process had died.
    #[cfg(feature = "test-support")]
    pub async fn help_limited(&self, limit: RunLimit) -> Result<Step, StorageError> {
        self.help_with(Stop::never(), limit).await
    }

    #[tracing::instrument(skip_all, fields(owner = %self.owner))]
    async fn help_with(&self, stop: Stop, limit: RunLimit) -> Result<Step, StorageError> {
        let control = RunControl {
            stop,
            limit,
            progress: &|_, _| {},
        };
        let mut cache = self.help_cache.lock().await;
        let (storage, settings, owner) = (&self.storage, &self.settings, self.owner.as_str());
        let helping = pipeline::help(storage, settings, owner, &mut cache, control);
        // A panic while helping costs the chunk in flight: its lease runs out and another
        // process writes it. The rows read are dropped, in case they were the cause.
        match AssertUnwindSafe(helping).catch_unwind().await {
            Ok(Ok(Helped::Nothing)) => Ok(Step::Idle),
            Ok(Ok(helped)) => Ok(Step::Helped(helped)),
            Ok(Err(error)) => Err(error),
            Err(panic) => {
                tracing::error!(
                    panic = panic_message(panic.as_ref()),
                    "helping with an import panicked"
                );
                *cache = HelpCache::default();
                Ok(Step::Idle)
            }
        }
    }

    /// A step that stops where the test says: after some batches, as if the process had died,
    /// or with a panic.
    #[cfg(feature = "test-support")]
    pub async fn step_limited(&self, limit: RunLimit) -> Result<Step, StorageError> {
        self.step_with(None, Stop::never(), limit, &|_, _| {}).await
    }

    #[tracing::instrument(skip_all, fields(owner = %self.owner))]
    async fn step_with(
        &self,
        only: Option<Id>,
        stop: Stop,
        limit: RunLimit,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<Step, StorageError> {
        let lease = self.settings.lease;
        let claimed = self
            .storage
            .claim_job(&self.owner, lease.as_secs() as i64, only)
            .await?;
        let Some(job) = claimed else {
            return Ok(Step::Idle);
        };
        let job_id = job.id;
        tracing::info!(
            job_id,
            stalled = job.stalled_attempts,
            state = job.state.as_str(),
            "import claimed"
        );
        let control = RunControl {
            stop,
            limit,
            progress,
        };
        let (storage, settings, owner) = (&self.storage, &self.settings, self.owner.as_str());
        let undo = job.state == JobState::Undoing;
        // A panic anywhere in the job (its hashing threads included) ends up here instead of
        // ending the worker: the job is given up with a reason, and the next one runs.
        let ran = if undo {
            let run = pipeline::run_undo(storage, settings, owner, job, control);
            let guarded = AssertUnwindSafe(run).catch_unwind();
            with_heartbeat(storage, job_id, owner, lease, guarded).await
        } else {
            let run = pipeline::run_job(storage, settings, owner, job, control);
            let guarded = AssertUnwindSafe(run).catch_unwind();
            with_heartbeat(storage, job_id, owner, lease, guarded).await
        };
        match ran {
            Ok(outcome) => outcome.map(Step::Ran),
            Err(panic) if undo => {
                let message = panic_message(panic.as_ref());
                tracing::error!(job_id, panic = message, "the undo job panicked");
                // Its batch rolled back. No result file is written for an undo: it is let go
                // at once, still counted as stalled, so the next claim retries it and a panic
                // that repeats ends in the undo's own give-up.
                self.storage.abandon_undo(job_id, &self.owner).await?;
                Ok(Step::Ran(JobOutcome::Interrupted))
            }
            Err(panic) => {
                let message = panic_message(panic.as_ref());
                tracing::error!(job_id, panic = message, "the import job panicked");
                self.give_up_after_panic(job_id).await.map(Step::Ran)
            }
        }
    }

    async fn give_up_after_panic(&self, job_id: Id) -> Result<JobOutcome, StorageError> {
        let why = "an internal error stopped the import (it is in the server's log)";
        let give_up = pipeline::give_up(&self.storage, &self.settings, &self.owner, job_id, why);
        match AssertUnwindSafe(give_up).catch_unwind().await {
            Ok(outcome) => outcome,
            // Even the result file could not be written: the job ends with the reason alone.
            Err(_) => {
                self.storage
                    .fail_job(job_id, &self.owner, &format!("The import stopped: {why}."))
                    .await?;
                Ok(JobOutcome::Failed)
            }
        }
    }

    /// Runs until `shutdown` turns true: the job in progress then stops after its batch and
    /// gives its lease back. Errors are logged and retried: a database that is briefly away
    /// must not end the worker.
    pub async fn run(self, status: WorkerStatus, mut shutdown: watch::Receiver<bool>) {
        let _running = status.running();
        let mut housekeeping = tokio::time::interval(Duration::from_secs(600));
        loop {
            if *shutdown.borrow() {
                break;
            }
            let stop = Stop::on(shutdown.clone());
            let step = match self
                .step_with(None, stop.clone(), RunLimit::default(), &|_, _| {})
                .await
            {
                Ok(Step::Idle) => match self.help_with(stop, RunLimit::default()).await {
                    Ok(Step::Idle) => self.bulk_step().await,
                    other => other,
                },
                other => other,
            };
            let pause = match step {
                Ok(Step::Ran(_) | Step::Helped(_) | Step::Bulk(_)) => Duration::ZERO,
                Ok(Step::Idle) => POLL_INTERVAL,
                Err(error) => {
                    tracing::error!(%error, "import worker step failed");
                    Duration::from_secs(2)
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = status.woken() => {}
                _ = housekeeping.tick() => self.housekeeping().await,
                _ = shutdown.changed() => {}
            }
        }
        tracing::info!(owner = %self.owner, "import worker stopped");
    }

    async fn housekeeping(&self) {
        let now = self.storage.clock().now();
        let before = |age: Duration| now - age.as_secs() as i64;
        let expiry = SessionExpiry {
            idle_before: before(self.session_idle),
            created_before: before(self.session_max),
            token_idle_before: before(self.token_idle),
        };
        if let Err(error) = self.storage.delete_expired_sessions(expiry).await {
            tracing::warn!(%error, "could not delete expired sessions");
        }
        let before = now - crate::accounts::THROTTLE_LOOK_BACK_SECONDS;
        if let Err(error) = self.storage.delete_sign_in_failures_before(before).await {
            tracing::warn!(%error, "could not delete old sign-in failures");
        }
        match self.storage.expire_results().await {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "expired import result files deleted"),
            Err(error) => tracing::warn!(%error, "could not expire result files"),
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message")
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "roster".to_owned())
}
