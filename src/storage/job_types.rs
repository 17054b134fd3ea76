//! What storage knows of an import job, as types: its state and phase (decoded strictly: an
//! unknown value is an error), how it ends, and the job as the pages and the claim see it.

use super::{Result, StorageError};
use crate::domain::Id;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Running,
    Finished,
    Failed,
    Cancelled,
}

impl JobState {
    pub(super) fn parse(text: &str) -> Result<JobState> {
        Ok(match text {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "finished" => JobState::Finished,
            "failed" => JobState::Failed,
            "cancelled" => JobState::Cancelled,
            other => return Err(StorageError::unknown("import_jobs.state", other)),
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Finished => "finished",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    pub fn is_done(self) -> bool {
        matches!(
            self,
            JobState::Finished | JobState::Failed | JobState::Cancelled
        )
    }
}

/// What a running job is doing, for the banner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobPhase {
    Reading,
    Checking,
    Creating,
    Writing,
}

impl JobPhase {
    fn parse(text: &str) -> Result<JobPhase> {
        Ok(match text {
            "reading" => JobPhase::Reading,
            "checking" => JobPhase::Checking,
            "creating" => JobPhase::Creating,
            "writing" => JobPhase::Writing,
            other => return Err(StorageError::unknown("import_jobs.phase", other)),
        })
    }

    pub(super) fn as_str(self) -> &'static str {
        match self {
            JobPhase::Reading => "reading",
            JobPhase::Checking => "checking",
            JobPhase::Creating => "creating",
            JobPhase::Writing => "writing",
        }
    }
}

/// How a job that got past its validation ended; its result file is stored either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobEnd<'a> {
    /// Every row was reached.
    Finished,
    /// Ended before its last row, for this reason.
    EndedEarly(&'a str),
    /// An administrator cancelled it.
    Cancelled,
}

/// What a request to cancel found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelRequest {
    /// The job stops after the batch in progress (or before it starts).
    Requested,
    /// The job had already ended.
    AlreadyEnded,
    NotFound,
}

/// What the pages and the API show of a job.
#[derive(Debug, Clone)]
pub struct ImportJob {
    pub id: Id,
    pub group_id: Id,
    pub submitted_by: String,
    pub file_name: String,
    pub state: JobState,
    /// What a running job is (or was last) doing; None until a process first takes it.
    pub phase: Option<JobPhase>,
    pub total_rows: Option<i64>,
    pub done_rows: i64,
    pub created_count: i64,
    pub failed_count: i64,
    pub not_imported_count: i64,
    pub error: Option<String>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
    pub result_expires_at: Option<i64>,
    /// When the current lease ends: a running job whose lease has ended waits for a process
    /// to take it over (its last one stopped or died).
    pub lease_until: Option<i64>,
    pub has_result: bool,
    /// Whether the uploaded file (with its plaintext passwords) is still stored.
    pub has_upload: bool,
    pub cancel_requested: bool,
}

#[derive(sqlx::FromRow)]
pub(super) struct JobRow {
    id: Id,
    group_id: Id,
    submitted_by: String,
    file_name: String,
    state: String,
    phase: Option<String>,
    total_rows: Option<i64>,
    done_rows: i64,
    created_count: i64,
    failed_count: i64,
    not_imported_count: i64,
    error: Option<String>,
    created_at: i64,
    finished_at: Option<i64>,
    result_expires_at: Option<i64>,
    lease_until: Option<i64>,
    has_result: i64,
    has_upload: i64,
    cancel_requested: i64,
}

impl TryFrom<JobRow> for ImportJob {
    type Error = StorageError;

    fn try_from(row: JobRow) -> Result<ImportJob> {
        Ok(ImportJob {
            id: row.id,
            group_id: row.group_id,
            submitted_by: row.submitted_by,
            file_name: row.file_name,
            state: JobState::parse(&row.state)?,
            phase: row.phase.as_deref().map(JobPhase::parse).transpose()?,
            total_rows: row.total_rows,
            done_rows: row.done_rows,
            created_count: row.created_count,
            failed_count: row.failed_count,
            not_imported_count: row.not_imported_count,
            error: row.error,
            created_at: row.created_at,
            finished_at: row.finished_at,
            result_expires_at: row.result_expires_at,
            lease_until: row.lease_until,
            has_result: row.has_result != 0,
            has_upload: row.has_upload != 0,
            cancel_requested: row.cancel_requested != 0,
        })
    }
}

/// A job this process now holds the lease of, with the uploaded file to work from.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedJob {
    pub id: Id,
    pub group_id: Id,
    pub file_name: String,
    pub upload: Option<Vec<u8>>,
    pub total_rows: Option<i64>,
    /// Attempts in a row, this one included, that wrote no new row outcome.
    pub stalled_attempts: i64,
}
