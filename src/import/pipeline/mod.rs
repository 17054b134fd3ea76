//! One import from upload to result file, shared by the web, the API, the command line and the
//! job runner: `submit` checks a file and queues it; `run` takes a claimed job through reading,
//! checking and creating, in chunks any process may `help` with; `end` writes the result file, however the job ends; `undo` takes an
//! ended import back.

mod chunks;
mod end;
mod groups;
mod hash_pool;
mod help;
mod run;
mod submit;
mod undo;

use std::time::Duration;

use tokio::sync::watch;

use super::Limits;
use crate::domain::PasswordPolicy;

pub use end::give_up_held as give_up;
pub use hash_pool::HashPool;
pub use help::{HelpCache, Helped, help};
pub use run::{MAX_STALLED_ATTEMPTS, run_job};
pub use submit::{Submission, SubmitError, Submitted, check_file, submit};
pub use undo::run_undo;

/// The settings a job needs, and no more.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub limits: Limits,
    pub policy: PasswordPolicy,
    /// How long a claim lasts without a heartbeat.
    pub lease: Duration,
    /// How long result files are kept.
    pub result_retention: Duration,
    /// The threads passwords are hashed on.
    pub hashing: HashPool,
}

impl RunSettings {
    fn lease_seconds(&self) -> i64 {
        self.lease.as_secs() as i64
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOutcome {
    /// Every row reached its outcome.
    Finished { created: u64, failed: u64 },
    /// The job ended before its last row; those rows say `Not imported: <why>` in the result.
    Ended {
        created: u64,
        failed: u64,
        not_imported: u64,
    },
    /// An administrator cancelled it; rows not reached say so in the result.
    Cancelled {
        created: u64,
        failed: u64,
        not_imported: u64,
    },
    /// A check (dry run) decided every row and changed nothing.
    Checked { rows: u64, failed: u64 },
    /// The whole file was unusable; the job is marked failed with the reason, no result file.
    Failed,
    /// An undo ended: agents taken back, and agents kept because they changed after the
    /// import (or were not reached by an undo given up), over all its attempts.
    Undone { reverted: u64, kept: u64 },
    /// The lease went to another process, the process is stopping, or a test's run limit was
    /// reached: someone resumes it.
    Interrupted,
}

/// Asks a running job to stop after the batch it is on (a graceful shutdown).
#[derive(Debug, Clone)]
pub struct Stop(Option<watch::Receiver<bool>>);

impl Stop {
    /// Never asked to stop.
    pub fn never() -> Stop {
        Stop(None)
    }

    pub fn on(signal: watch::Receiver<bool>) -> Stop {
        Stop(Some(signal))
    }

    pub fn requested(&self) -> bool {
        self.0.as_ref().is_some_and(|signal| *signal.borrow())
    }
}

/// Lets a test stop a job midway as if its process had died, or make it panic.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunLimit {
    pub max_batches: Option<usize>,
    pub panic_at_batch: Option<usize>,
}

/// Everything a run is told from outside: when to stop, the test's limit, where progress goes.
pub struct RunControl<'a> {
    pub stop: Stop,
    pub limit: RunLimit,
    pub progress: &'a (dyn Fn(u64, u64) + Sync),
}

impl RunControl<'_> {
    pub fn plain() -> RunControl<'static> {
        RunControl {
            stop: Stop::never(),
            limit: RunLimit::default(),
            progress: &|_, _| {},
        }
    }
}
