//! Taking an import back. An ended import becomes `undoing`, a durable job that the queue leases
//! like an import; it ends `undone`.

use super::{Result, Storage, job_types::JobState};
use crate::domain::Id;

/// What a request to undo found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UndoRequest {
    /// The undo is queued.
    Requested,
    /// Undone already, or being undone.
    AlreadyUndone,
    /// Queued or running: it must end (or be cancelled) first.
    StillRunning,
    /// A check, or an import that never got past reading its file: nothing to take back.
    NothingToUndo,
    NotFound,
}

/// An agent an undo left as it was, because it changed after the import (or is gone).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct KeptAgent {
    pub row_no: i64,
    /// None when the agent no longer exists.
    pub email: Option<String>,
}

impl std::fmt::Display for KeptAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.email {
            Some(email) => write!(f, "row {}: {email} (changed after the import)", self.row_no),
            None => write!(f, "row {}: the agent no longer exists", self.row_no),
        }
    }
}

impl Storage {
    /// The agents an undo kept, in row order.
    pub async fn undo_kept_agents(&self, job_id: Id, limit: i64) -> Result<Vec<KeptAgent>> {
        Ok(sqlx::query_as(
            "SELECT r.row_no, a.email FROM import_rows r LEFT JOIN agents a ON a.id = r.agent_id \
             WHERE r.job_id = $1 AND r.undo = 'kept' ORDER BY r.row_no LIMIT $2",
        )
        .bind(job_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Queues the undo of an ended import, once.
    pub async fn request_undo(&self, job_id: Id, requested_by: &str) -> Result<UndoRequest> {
        let updated = sqlx::query(
            "UPDATE import_jobs SET state = 'undoing', undo_requested_by = $2, \
                    owner = NULL, lease_until = NULL, stalled_attempts = 0, phase = NULL \
             WHERE id = $1 AND state IN ('finished', 'failed', 'cancelled') \
               AND dry_run = 0 AND total_rows IS NOT NULL",
        )
        .bind(job_id)
        .bind(requested_by)
        .execute(&self.pool)
        .await?;
        if updated.rows_affected() == 1 {
            return Ok(UndoRequest::Requested);
        }
        let Some(job) = self.import_job(job_id).await? else {
            return Ok(UndoRequest::NotFound);
        };
        Ok(match job.state {
            JobState::Undoing | JobState::Undone => UndoRequest::AlreadyUndone,
            JobState::Queued | JobState::Running => UndoRequest::StillRunning,
            JobState::Finished | JobState::Failed | JobState::Cancelled => {
                UndoRequest::NothingToUndo
            }
        })
    }
}
