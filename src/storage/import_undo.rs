//! Taking an import back. An ended import becomes `undoing`, a durable job that the queue leases
//! like an import (its batches are `undo_batch`'s); it ends `undone`. Here: the request, what
//! it will do, and what it kept.

use super::{
    Result, Storage,
    job_types::{ImportJob, JobState},
};
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

/// Why an undo left an agent as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeptBecause {
    /// Edited (or imported again) after the import.
    Changed,
    /// Deleted since.
    Gone,
    /// The import ran before Roster recorded which agent each row wrote.
    NotRecorded,
    /// The undo was given up before reaching it; it is as the import left it.
    NotReached,
}

/// An agent an undo left as it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptAgent {
    pub row_no: i64,
    /// None when the agent no longer exists (or was never recorded).
    pub email: Option<String>,
    pub why: KeptBecause,
}

impl std::fmt::Display for KeptAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let row = self.row_no;
        let email = self.email.as_deref().unwrap_or("");
        match self.why {
            KeptBecause::Changed => write!(f, "row {row}: {email} (changed after the import)"),
            KeptBecause::Gone => write!(f, "row {row}: the agent no longer exists"),
            KeptBecause::NotRecorded => write!(
                f,
                "row {row}: imported before Roster recorded which agent a row wrote"
            ),
            KeptBecause::NotReached => write!(
                f,
                "row {row}: {email} (the undo stopped before reaching it; it is as the import left it)"
            ),
        }
    }
}

/// What undoing an import will do, for the confirmation page: the rows not yet undone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UndoPreview {
    /// Agents the import created: deleted, their sessions ended.
    pub to_delete: i64,
    /// Agents the import updated: their earlier values put back.
    pub to_restore: i64,
    /// Rows of an import from before Roster recorded which agent a row wrote: kept as they are.
    pub not_undoable: i64,
}

impl UndoPreview {
    /// Rows the undo still has to reach.
    pub fn rows(&self) -> i64 {
        self.to_delete + self.to_restore + self.not_undoable
    }
}

/// The rows an undo takes back: what the import created or updated.
pub(super) const UNDOABLE: &str =
    "job_id = $1 AND outcome IN ('success', 'updated') AND undo IS NULL";

impl ImportJob {
    /// Why an undo would be refused now, or None when it may be asked for: the rule of
    /// [`Storage::request_undo`]'s WHERE, for the pages to offer Undo only where it works.
    pub fn undo_refused(&self) -> Option<UndoRequest> {
        Some(match self.state {
            JobState::Undoing | JobState::Undone => UndoRequest::AlreadyUndone,
            JobState::Queued | JobState::Running => UndoRequest::StillRunning,
            JobState::Finished | JobState::Failed | JobState::Cancelled => {
                if !self.options.dry_run && self.total_rows.is_some() {
                    return None;
                }
                UndoRequest::NothingToUndo
            }
        })
    }

    pub fn can_be_undone(&self) -> bool {
        self.undo_refused().is_none()
    }
}

impl Storage {
    /// The agents an undo kept, in row order.
    pub async fn undo_kept_agents(&self, job_id: Id, limit: i64) -> Result<Vec<KeptAgent>> {
        let rows: Vec<(i64, Option<String>, Option<Id>, i64)> = sqlx::query_as(
            "SELECT r.row_no, a.email, r.agent_id, \
                    CASE WHEN a.revision = r.agent_revision THEN 1 ELSE 0 END \
             FROM import_rows r LEFT JOIN agents a ON a.id = r.agent_id \
             WHERE r.job_id = $1 AND r.undo = 'kept' ORDER BY r.row_no LIMIT $2",
        )
        .bind(job_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(row_no, email, agent_id, unchanged)| {
                // Nothing is written to a kept agent: one still at the import's revision was
                // kept only because the undo never reached it.
                let why = match (&email, agent_id) {
                    (_, None) => KeptBecause::NotRecorded,
                    (None, Some(_)) => KeptBecause::Gone,
                    (Some(_), Some(_)) if unchanged == 1 => KeptBecause::NotReached,
                    (Some(_), Some(_)) => KeptBecause::Changed,
                };
                KeptAgent { row_no, email, why }
            })
            .collect())
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
        Ok(job.undo_refused().unwrap_or(UndoRequest::NothingToUndo))
    }

    /// What an undo of this job will do with the rows it has not reached yet.
    pub async fn undo_preview(&self, job_id: Id) -> Result<UndoPreview> {
        let sql = format!(
            "SELECT COUNT(CASE WHEN outcome = 'success' AND agent_id IS NOT NULL THEN 1 END), \
                    COUNT(CASE WHEN outcome = 'updated' AND agent_id IS NOT NULL THEN 1 END), \
                    COUNT(CASE WHEN agent_id IS NULL THEN 1 END) \
             FROM import_rows WHERE {UNDOABLE}"
        );
        let (to_delete, to_restore, not_undoable): (i64, i64, i64) = sqlx::query_as(&sql)
            .bind(job_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(UndoPreview {
            to_delete,
            to_restore,
            not_undoable,
        })
    }
}
