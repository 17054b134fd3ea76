//! The durable import queue: jobs, their leases, their phases and their ends. The rows of a job
//! are its ledger, in `import_rows`.
//!
//! A job is held by one process at a time through a lease (`owner`, `lease_until`), renewed by
//! a heartbeat while the job works. Every write a holder makes re-checks the lease in its own
//! statement or transaction, so a process that lost its lease writes nothing.

use super::{
    Result, Storage,
    job_types::{
        CancelRequest, ClaimedJob, ClaimedRow, ImportJob, ImportOptions, JobEnd, JobPhase, JobRow,
        JobState,
    },
};
use crate::domain::Id;

/// An upload to queue.
pub struct NewImport<'a> {
    pub group_id: Id,
    pub submitted_by: &'a str,
    pub submitted_by_id: Option<Id>,
    pub file_name: &'a str,
    pub upload: &'a [u8],
    pub options: ImportOptions,
}

impl<'a> NewImport<'a> {
    /// A create-mode import with no administrator behind it (the command line, tests).
    pub fn plain(
        group_id: Id,
        submitted_by: &'a str,
        file_name: &'a str,
        upload: &'a [u8],
    ) -> Self {
        NewImport {
            group_id,
            submitted_by,
            submitted_by_id: None,
            file_name,
            upload,
            options: ImportOptions::default(),
        }
    }
}

const JOB_COLUMNS: &str = "id, group_id, submitted_by, file_name, state, phase, total_rows, done_rows, \
     created_count, failed_count, not_imported_count, error, created_at, finished_at, \
     result_expires_at, lease_until, cancel_requested, mode, dry_run, must_change_password, updated_count, \
     skipped_count, kept_count, undone_count, undo_kept_count, undo_requested_by, undone_at, \
     CASE WHEN result IS NULL THEN 0 ELSE 1 END AS has_result, \
     CASE WHEN upload IS NULL THEN 0 ELSE 1 END AS has_upload";

/// The lease test every holder's write repeats: an import runs, an undo undoes.
const HELD: &str = "owner = $2 AND state IN ('running', 'undoing')";

/// What a claim returns of a job.
const CLAIMED_COLUMNS: &str = "id, group_id, file_name, upload, total_rows, stalled_attempts, state, mode, dry_run, must_change_password, submitted_by_id";

impl Storage {
    pub async fn enqueue_import(&self, job: NewImport<'_>) -> Result<Id> {
        let (id,): (Id,) = sqlx::query_as(
            "INSERT INTO import_jobs (group_id, submitted_by, submitted_by_id, file_name, upload, \
                                      mode, dry_run, must_change_password, state, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', $9) RETURNING id",
        )
        .bind(job.group_id)
        .bind(job.submitted_by)
        .bind(job.submitted_by_id)
        .bind(job.file_name)
        .bind(job.upload.to_vec())
        .bind(job.options.mode.as_str())
        .bind(i64::from(job.options.dry_run))
        .bind(i64::from(job.options.must_change_password))
        .bind(self.now())
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    /// Takes the oldest job that is queued or whose lease ran out. The lease test is repeated in
    /// the outer WHERE: on PostgreSQL, two processes that picked the same id serialise on the
    /// row lock, and the second sees the fresh lease and updates nothing.
    /// `only` restricts the claim to one job (the command line runs the job it queued).
    pub async fn claim_job(
        &self,
        owner: &str,
        lease_seconds: i64,
        only: Option<Id>,
    ) -> Result<Option<ClaimedJob>> {
        let at = self.now();
        let sql = format!(
            "UPDATE import_jobs SET state = CASE WHEN state = 'undoing' THEN 'undoing' ELSE 'running' END, \
                    owner = $1, lease_until = $2, \
                    attempts = attempts + 1, stalled_attempts = stalled_attempts + 1, \
                    phase = CASE WHEN state = 'undoing' THEN NULL ELSE COALESCE(phase, 'reading') END, \
                    started_at = COALESCE(started_at, $3) \
             WHERE id = (SELECT id FROM import_jobs \
                         WHERE state IN ('queued', 'running', 'undoing') AND (lease_until IS NULL OR lease_until < $3) \
                           AND (id = $4 OR $4 IS NULL) \
                         ORDER BY id LIMIT 1) \
               AND state IN ('queued', 'running', 'undoing') AND (lease_until IS NULL OR lease_until < $3) \
             RETURNING {CLAIMED_COLUMNS}"
        );
        sqlx::query_as::<_, ClaimedRow>(&sql)
            .bind(owner)
            .bind(at + lease_seconds)
            .bind(at)
            .bind(only)
            .fetch_optional(&self.pool)
            .await?
            .map(ClaimedJob::try_from)
            .transpose()
    }

    /// A job this process holds, as its claim returned it.
    pub async fn held_job(&self, job_id: Id, owner: &str) -> Result<Option<ClaimedJob>> {
        let sql = format!("SELECT {CLAIMED_COLUMNS} FROM import_jobs WHERE id = $1 AND {HELD}");
        sqlx::query_as::<_, ClaimedRow>(&sql)
            .bind(job_id)
            .bind(owner)
            .fetch_optional(&self.pool)
            .await?
            .map(ClaimedJob::try_from)
            .transpose()
    }

    /// A job another process holds, for this one to help write: running and past its
    /// validation. The upload is what a helper reads its rows from.
    pub async fn job_to_help(&self, job_id: Id) -> Result<Option<ClaimedJob>> {
        let sql = format!(
            "SELECT {CLAIMED_COLUMNS} FROM import_jobs \
             WHERE id = $1 AND state = 'running' AND phase = 'creating' AND upload IS NOT NULL"
        );
        sqlx::query_as::<_, ClaimedRow>(&sql)
            .bind(job_id)
            .fetch_optional(&self.pool)
            .await?
            .map(ClaimedJob::try_from)
            .transpose()
    }

    /// The heartbeat: extends the lease; false when another process has taken the job over.
    pub async fn renew_lease(&self, job_id: Id, owner: &str, lease_seconds: i64) -> Result<bool> {
        let sql = format!("UPDATE import_jobs SET lease_until = $3 WHERE id = $1 AND {HELD}");
        let updated = sqlx::query(&sql)
            .bind(job_id)
            .bind(owner)
            .bind(self.now() + lease_seconds)
            .execute(&self.pool)
            .await?;
        Ok(updated.rows_affected() == 1)
    }

    /// Says what the job is doing now; false when the lease was lost.
    pub async fn set_phase(&self, job_id: Id, owner: &str, phase: JobPhase) -> Result<bool> {
        let sql = format!("UPDATE import_jobs SET phase = $3 WHERE id = $1 AND {HELD}");
        let updated = sqlx::query(&sql)
            .bind(job_id)
            .bind(owner)
            .bind(phase.as_str())
            .execute(&self.pool)
            .await?;
        Ok(updated.rows_affected() == 1)
    }

    /// Gives the job back on a graceful stop, so the next process takes it at once instead of
    /// after the lease. A stop is not a crash: the attempt does not count as stalled.
    pub async fn release_job(&self, job_id: Id, owner: &str) -> Result<bool> {
        let sql = format!(
            "UPDATE import_jobs SET owner = NULL, lease_until = NULL, \
                    stalled_attempts = CASE WHEN stalled_attempts > 0 THEN stalled_attempts - 1 ELSE 0 END \
             WHERE id = $1 AND {HELD}"
        );
        let updated = sqlx::query(&sql)
            .bind(job_id)
            .bind(owner)
            .execute(&self.pool)
            .await?;
        Ok(updated.rows_affected() == 1)
    }

    /// Ends the job: stores the result file and erases the upload (it holds plaintext
    /// passwords) in the same statement.
    pub async fn finish_job(
        &self,
        job_id: Id,
        owner: &str,
        result: &[u8],
        keep_seconds: i64,
        end: JobEnd<'_>,
    ) -> Result<bool> {
        let at = self.now();
        let (state, error) = match end {
            JobEnd::Finished | JobEnd::Checked(_) => (JobState::Finished, None),
            JobEnd::EndedEarly(reason) => (JobState::Failed, Some(reason)),
            JobEnd::Cancelled => (JobState::Cancelled, None),
        };
        let mut tx = self.pool.begin().await?;
        if let JobEnd::Checked(counts) = end {
            // A check stores no rows: its counts arrive with its end, in the same transaction.
            let sql = format!(
                "UPDATE import_jobs SET total_rows = $3, done_rows = $3, created_count = $4, \
                        updated_count = $5, skipped_count = $6, kept_count = $7, failed_count = $8 \
                 WHERE id = $1 AND {HELD}"
            );
            sqlx::query(&sql)
                .bind(job_id)
                .bind(owner)
                .bind(counts.rows)
                .bind(counts.created)
                .bind(counts.updated)
                .bind(counts.skipped)
                .bind(counts.kept)
                .bind(counts.failed)
                .execute(&mut *tx)
                .await?;
        }
        let sql = format!(
            "UPDATE import_jobs SET state = $7, \
                    error = $6, upload = NULL, result = $3, finished_at = $4, result_expires_at = $5, \
                    owner = NULL, lease_until = NULL, phase = NULL \
             WHERE id = $1 AND {HELD}"
        );
        let updated = sqlx::query(&sql)
            .bind(job_id)
            .bind(owner)
            .bind(result.to_vec())
            .bind(at)
            .bind(at + keep_seconds)
            .bind(error)
            .bind(state.as_str())
            .execute(&mut *tx)
            .await?;
        let finished = updated.rows_affected() == 1;
        tx.commit().await?;
        if finished {
            self.forget_erased().await;
        }
        Ok(finished)
    }

    /// Ends the job as failed with no result file (the whole file was unusable, or it never
    /// got past reading); the upload is erased too.
    pub async fn fail_job(&self, job_id: Id, owner: &str, reason: &str) -> Result<()> {
        let sql = format!(
            "UPDATE import_jobs SET state = 'failed', upload = NULL, error = $3, finished_at = $4, \
                    owner = NULL, lease_until = NULL, phase = NULL \
             WHERE id = $1 AND {HELD}"
        );
        sqlx::query(&sql)
            .bind(job_id)
            .bind(owner)
            .bind(reason)
            .bind(self.now())
            .execute(&self.pool)
            .await?;
        self.forget_erased().await;
        Ok(())
    }

    pub async fn import_job(&self, id: Id) -> Result<Option<ImportJob>> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM import_jobs WHERE id = $1");
        sqlx::query_as::<_, JobRow>(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(ImportJob::try_from)
            .transpose()
    }

    /// A group's imports, newest first.
    pub async fn group_imports(&self, group_id: Id, limit: i64) -> Result<Vec<ImportJob>> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM import_jobs WHERE group_id = $1 ORDER BY id DESC LIMIT $2"
        );
        sqlx::query_as::<_, JobRow>(&sql)
            .bind(group_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(ImportJob::try_from)
            .collect()
    }

    /// Asks a queued or running job to stop; the process holding it sees the request after
    /// its batch.
    pub async fn request_cancel(&self, job_id: Id) -> Result<CancelRequest> {
        let updated = sqlx::query(
            "UPDATE import_jobs SET cancel_requested = 1 WHERE id = $1 AND state IN ('queued', 'running')",
        )
        .bind(job_id)
        .execute(&self.pool)
        .await?;
        if updated.rows_affected() == 1 {
            return Ok(CancelRequest::Requested);
        }
        Ok(match self.import_job(job_id).await? {
            Some(_) => CancelRequest::AlreadyEnded,
            None => CancelRequest::NotFound,
        })
    }

    pub async fn cancel_requested(&self, job_id: Id) -> Result<bool> {
        let (requested,): (i64,) =
            sqlx::query_as("SELECT cancel_requested FROM import_jobs WHERE id = $1")
                .bind(job_id)
                .fetch_one(&self.pool)
                .await?;
        Ok(requested != 0)
    }

    /// How many unfinished imports, of any group, will run before this queued one.
    pub async fn imports_ahead(&self, job_id: Id) -> Result<i64> {
        let (ahead,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM import_jobs WHERE id < $1 AND state IN ('queued', 'running')",
        )
        .bind(job_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(ahead)
    }

    pub async fn import_result(&self, id: Id) -> Result<Option<Vec<u8>>> {
        let found: Option<(Option<Vec<u8>>,)> =
            sqlx::query_as("SELECT result FROM import_jobs WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(found.and_then(|(result,)| result))
    }

    /// Housekeeping: result files past their retention are dropped; the job's counts stay.
    pub async fn expire_results(&self) -> Result<u64> {
        let updated = sqlx::query("UPDATE import_jobs SET result = NULL WHERE result IS NOT NULL AND result_expires_at < $1")
            .bind(self.now())
            .execute(&self.pool)
            .await?;
        Ok(updated.rows_affected())
    }
}
