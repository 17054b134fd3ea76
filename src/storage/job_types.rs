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
    /// Ended, and being taken back: a durable job of its own, leased like an import.
    Undoing,
    /// Taken back: the agents it created are gone, the ones it updated have their old values.
    Undone,
}

impl JobState {
    pub(super) fn parse(text: &str) -> Result<JobState> {
        Ok(match text {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "finished" => JobState::Finished,
            "failed" => JobState::Failed,
            "cancelled" => JobState::Cancelled,
            "undoing" => JobState::Undoing,
            "undone" => JobState::Undone,
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
            JobState::Undoing => "undoing",
            JobState::Undone => "undone",
        }
    }

    /// The import itself has ended (an undo may follow).
    pub fn is_done(self) -> bool {
        !matches!(self, JobState::Queued | JobState::Running)
    }

    /// An import that ended this way may be undone.
    pub fn can_undo(self) -> bool {
        matches!(
            self,
            JobState::Finished | JobState::Failed | JobState::Cancelled
        )
    }
}

/// What an import does with a row whose email already belongs to an agent of the group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImportMode {
    /// The row fails: as in the seed, an import only creates.
    #[default]
    Create,
    /// The agent is updated from the row (the password only when its cell is not empty).
    Update,
    /// The row is skipped, not failed.
    Skip,
}

/// The mode a form, the API or the command line named, when it is not one of the three.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the mode must be create, update or skip, not \"{0}\"")]
pub struct UnknownMode(pub String);

impl ImportMode {
    pub const ALL: [ImportMode; 3] = [ImportMode::Create, ImportMode::Update, ImportMode::Skip];

    pub fn as_str(self) -> &'static str {
        match self {
            ImportMode::Create => "create",
            ImportMode::Update => "update",
            ImportMode::Skip => "skip",
        }
    }

    /// What the import page and the result's Summary call it.
    pub fn describe(self) -> &'static str {
        match self {
            ImportMode::Create => "Create new agents; an email that already exists fails its row",
            ImportMode::Update => "Create new agents and update existing agents of the group",
            ImportMode::Skip => "Create new agents and skip emails that already exist",
        }
    }
}

impl std::str::FromStr for ImportMode {
    type Err = UnknownMode;

    fn from_str(text: &str) -> std::result::Result<ImportMode, UnknownMode> {
        let text = text.trim();
        ImportMode::ALL
            .into_iter()
            .find(|mode| mode.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| UnknownMode(text.chars().take(40).collect()))
    }
}

/// How an upload is to be imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportOptions {
    pub mode: ImportMode,
    /// Check only: every row validated as for real, nothing hashed, created or changed.
    pub dry_run: bool,
    /// The agents it creates, and those whose password it sets, must change their password
    /// at their next sign-in.
    pub must_change_password: bool,
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
    /// A check (dry run) decided every row at once and stored none of them: its counts.
    Checked(CheckCounts),
}

/// What a check found, row by row counted: what an import would create, update and skip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CheckCounts {
    pub rows: i64,
    pub created: i64,
    pub updated: i64,
    pub skipped: i64,
    pub kept: i64,
    pub failed: i64,
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
    pub options: ImportOptions,
    pub updated_count: i64,
    pub skipped_count: i64,
    /// Rows of a result file uploaded again that were done already and left as they were.
    pub kept_count: i64,
    /// Undo: agents taken back, and agents kept because they changed after the import.
    pub undone_count: i64,
    pub undo_kept_count: i64,
    pub undo_requested_by: Option<String>,
    pub undone_at: Option<i64>,
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
    mode: String,
    dry_run: i64,
    must_change_password: i64,
    updated_count: i64,
    skipped_count: i64,
    kept_count: i64,
    undone_count: i64,
    undo_kept_count: i64,
    undo_requested_by: Option<String>,
    undone_at: Option<i64>,
}

fn parse_mode(text: &str) -> Result<ImportMode> {
    text.parse()
        .map_err(|_| StorageError::unknown("import_jobs.mode", text))
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
            options: ImportOptions {
                mode: parse_mode(&row.mode)?,
                dry_run: row.dry_run != 0,
                must_change_password: row.must_change_password != 0,
            },
            updated_count: row.updated_count,
            skipped_count: row.skipped_count,
            kept_count: row.kept_count,
            undone_count: row.undone_count,
            undo_kept_count: row.undo_kept_count,
            undo_requested_by: row.undo_requested_by,
            undone_at: row.undone_at,
        })
    }
}

/// A job this process now holds the lease of, with the uploaded file to work from.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: Id,
    pub group_id: Id,
    pub file_name: String,
    pub upload: Option<Vec<u8>>,
    pub total_rows: Option<i64>,
    /// Attempts in a row, this one included, that wrote no new row outcome.
    pub stalled_attempts: i64,
    /// Running: an import; undoing: taking one back.
    pub state: JobState,
    pub options: ImportOptions,
    /// The administrator who sent the file, whose rights decide which groups a row's
    /// message may name (None for jobs from before the lifecycle, and the command line).
    pub submitted_by_id: Option<Id>,
}

#[derive(sqlx::FromRow)]
pub(super) struct ClaimedRow {
    id: Id,
    group_id: Id,
    file_name: String,
    upload: Option<Vec<u8>>,
    total_rows: Option<i64>,
    stalled_attempts: i64,
    state: String,
    mode: String,
    dry_run: i64,
    must_change_password: i64,
    submitted_by_id: Option<Id>,
}

impl TryFrom<ClaimedRow> for ClaimedJob {
    type Error = StorageError;

    fn try_from(row: ClaimedRow) -> Result<ClaimedJob> {
        Ok(ClaimedJob {
            id: row.id,
            group_id: row.group_id,
            file_name: row.file_name,
            upload: row.upload,
            total_rows: row.total_rows,
            stalled_attempts: row.stalled_attempts,
            state: JobState::parse(&row.state)?,
            options: ImportOptions {
                mode: parse_mode(&row.mode)?,
                dry_run: row.dry_run != 0,
                must_change_password: row.must_change_password != 0,
            },
            submitted_by_id: row.submitted_by_id,
        })
    }
}
