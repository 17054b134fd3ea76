use std::time::Duration;

use tokio::sync::watch;

use crate::{
    config::Config,
    import::{JobOutcome, RunLimit, pipeline},
    storage::{Storage, StorageError},
};

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Ran(JobOutcome),
    Idle,
}

/// Claims and runs import jobs. Each process runs one; its `owner` name is unique, so leases
/// tell processes apart.
#[derive(Clone)]
pub struct Worker {
    storage: Storage,
    config: Config,
    owner: String,
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
            config,
            owner,
        }
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Claims the oldest available job and runs it.
    pub async fn step(&self) -> Result<Step, StorageError> {
        self.step_limited(RunLimit::default(), &|_, _| {}).await
    }

    pub async fn step_limited(
        &self,
        limit: RunLimit,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<Step, StorageError> {
        let lease = self.config.job_lease.as_secs() as i64;
        let Some(job) = self.storage.claim_job(&self.owner, lease, None).await? else {
            return Ok(Step::Idle);
        };
        tracing::info!(job_id = job.id, owner = %self.owner, attempt = job.attempts, "import claimed");
        let outcome = pipeline::run_job(
            &self.storage,
            &self.config,
            &self.owner,
            job,
            limit,
            progress,
        )
        .await?;
        Ok(Step::Ran(outcome))
    }

    /// Runs until `shutdown` turns true. Errors are logged and retried: a database that is
    /// briefly away must not end the worker.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut housekeeping = tokio::time::interval(Duration::from_secs(600));
        loop {
            if *shutdown.borrow() {
                break;
            }
            let pause = match self.step().await {
                Ok(Step::Ran(_)) => Duration::ZERO,
                Ok(Step::Idle) => POLL_INTERVAL,
                Err(error) => {
                    tracing::error!(%error, "import worker step failed");
                    Duration::from_secs(2)
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = housekeeping.tick() => self.housekeeping().await,
                _ = shutdown.changed() => {}
            }
        }
        tracing::info!(owner = %self.owner, "import worker stopped");
    }

    async fn housekeeping(&self) {
        let now = self.storage.clock().now();
        let idle_before = now - self.config.session_idle.as_secs() as i64;
        let created_before = now - self.config.session_max.as_secs() as i64;
        if let Err(error) = self
            .storage
            .delete_expired_sessions(idle_before, created_before)
            .await
        {
            tracing::warn!(%error, "could not delete expired sessions");
        }
        match self.storage.expire_results().await {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "expired import result files deleted"),
            Err(error) => tracing::warn!(%error, "could not expire result files"),
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "roster".to_owned())
}
