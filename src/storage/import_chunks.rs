//! A validated import's pending rows in chunks, so that every process can write some of them.
//!
//! A chunk is claimed by one process at a time through a lease of its own (`owner`,
//! `lease_until`), the way a job is. Exactly-once rests on the chunk row: a batch's transaction
//! first re-checks, and locks, the chunk it writes for ([`Storage::apply_batch`]), a claim
//! changes the chunk's owner under the same lock, and a job's end closes every chunk of it
//! under that lock too ([`Storage::settle_pending_rows`]). So a process that lost its chunk,
//! or whose job has ended, writes nothing.

use super::{Backend, PendingRow, Result, Storage, placeholders};
use crate::domain::Id;

/// A chunk this process holds: the rows numbered `first_row..=last_row` of job `job_id` that
/// have no outcome yet are its work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    pub job_id: Id,
    pub chunk_no: i64,
    pub first_row: i64,
    pub last_row: i64,
}

/// A chunk that no live process holds: unclaimed, its lease run out, or held by `$owner`
/// itself (a process resuming its own). `$owner` and `$now` are the statement's placeholders
/// named here.
fn claimable(owner: &str, now: &str) -> String {
    format!("done_at IS NULL AND (owner IS NULL OR owner = {owner} OR lease_until < {now})")
}

impl Storage {
    /// Moves a validated job to its creating phase and, the first time, splits its pending
    /// rows into chunks of `chunk_rows`. A resumed job keeps the chunks it has. Returns false
    /// when the lease was lost.
    pub async fn start_creating(&self, job_id: Id, owner: &str, chunk_rows: usize) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let ours = sqlx::query(
            "UPDATE import_jobs SET phase = 'creating' \
             WHERE id = $1 AND owner = $2 AND state = 'running'",
        )
        .bind(job_id)
        .bind(owner)
        .execute(&mut *tx)
        .await?;
        if ours.rows_affected() == 0 {
            return Ok(false);
        }
        let (existing,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM import_chunks WHERE job_id = $1")
                .bind(job_id)
                .fetch_one(&mut *tx)
                .await?;
        if existing == 0 {
            let pending: Vec<(i64,)> = sqlx::query_as(
                "SELECT row_no FROM import_rows WHERE job_id = $1 AND outcome IS NULL ORDER BY row_no",
            )
            .bind(job_id)
            .fetch_all(&mut *tx)
            .await?;
            let ranges: Vec<(i64, i64)> = pending
                .chunks(chunk_rows.max(1))
                .map(|rows| (rows[0].0, rows[rows.len() - 1].0))
                .collect();
            for (statement_no, statement) in ranges.chunks(500).enumerate() {
                let values = (0..statement.len())
                    .map(|i| format!("($1, {})", placeholders(2 + 3 * i, 3)))
                    .collect::<Vec<_>>()
                    .join(", ");
                let sql = format!(
                    "INSERT INTO import_chunks (job_id, chunk_no, first_row, last_row) VALUES {values}"
                );
                let mut insert = sqlx::query(&sql).bind(job_id);
                for (i, (first, last)) in statement.iter().enumerate() {
                    let chunk_no = (statement_no * 500 + i) as i64;
                    insert = insert.bind(chunk_no).bind(*first).bind(*last);
                }
                insert.execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Claims the first chunk of `job_id` that no live process holds. On PostgreSQL, processes
    /// claiming at once skip each other's locked chunks instead of waiting; the claim test is
    /// repeated in the outer WHERE, so two that picked the same chunk serialise on its row
    /// lock and the second updates nothing.
    pub async fn claim_chunk(
        &self,
        owner: &str,
        lease_seconds: i64,
        job_id: Id,
    ) -> Result<Option<Chunk>> {
        let at = self.now();
        let skip_locked = match self.backend {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            // One writer at a time: the statement is atomic as it is.
            Backend::Sqlite => "",
        };
        let claimable = claimable("$1", "$3");
        let sql = format!(
            "UPDATE import_chunks SET owner = $1, lease_until = $2, attempts = attempts + 1 \
             WHERE job_id = $4 AND chunk_no = (SELECT chunk_no FROM import_chunks \
                                               WHERE job_id = $4 AND {claimable} \
                                               ORDER BY chunk_no LIMIT 1 {skip_locked}) \
               AND {claimable} \
             RETURNING job_id, chunk_no, first_row, last_row"
        );
        let claimed: Option<(Id, i64, i64, i64)> = sqlx::query_as(&sql)
            .bind(owner)
            .bind(at + lease_seconds)
            .bind(at)
            .bind(job_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(
            claimed.map(|(job_id, chunk_no, first_row, last_row)| Chunk {
                job_id,
                chunk_no,
                first_row,
                last_row,
            }),
        )
    }

    /// The oldest import, other than by its own holder, with a chunk for `owner` to help with:
    /// running, past its validation, not cancelled.
    pub async fn job_needing_help(&self, owner: &str) -> Result<Option<Id>> {
        let claimable = claimable("$1", "$2");
        let sql = format!(
            "SELECT j.id FROM import_jobs j \
             WHERE j.state = 'running' AND j.phase = 'creating' AND j.cancel_requested = 0 \
               AND j.dry_run = 0 \
               AND EXISTS (SELECT 1 FROM import_chunks WHERE job_id = j.id AND {claimable}) \
             ORDER BY j.id LIMIT 1"
        );
        let found: Option<(Id,)> = sqlx::query_as(&sql)
            .bind(owner)
            .bind(self.now())
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.map(|(id,)| id))
    }

    /// The chunk's rows still waiting for their agent, in row order.
    pub async fn chunk_rows(&self, chunk: &Chunk) -> Result<Vec<PendingRow>> {
        let rows: Vec<(i64, Option<Id>, Option<Id>)> = sqlx::query_as(
            "SELECT row_no, group_id, agent_id FROM import_rows \
             WHERE job_id = $1 AND row_no BETWEEN $2 AND $3 AND outcome IS NULL ORDER BY row_no",
        )
        .bind(chunk.job_id)
        .bind(chunk.first_row)
        .bind(chunk.last_row)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(row_no, group_id, agent_id)| PendingRow {
                row_no,
                group_id,
                agent_id,
            })
            .collect())
    }

    /// The chunk's last row is written. False when it was no longer ours.
    pub async fn finish_chunk(&self, chunk: &Chunk, owner: &str) -> Result<bool> {
        let finished = sqlx::query(
            "UPDATE import_chunks SET done_at = $1, done_by = owner, owner = NULL, lease_until = NULL \
             WHERE job_id = $2 AND chunk_no = $3 AND owner = $4 AND done_at IS NULL",
        )
        .bind(self.now())
        .bind(chunk.job_id)
        .bind(chunk.chunk_no)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(finished.rows_affected() == 1)
    }

    /// A chunk's heartbeat while its batch hashes; false once it is no longer ours.
    pub async fn renew_chunk(
        &self,
        chunk: &Chunk,
        owner: &str,
        lease_seconds: i64,
    ) -> Result<bool> {
        let renewed = sqlx::query(
            "UPDATE import_chunks SET lease_until = $1 \
             WHERE job_id = $2 AND chunk_no = $3 AND owner = $4 AND done_at IS NULL",
        )
        .bind(self.now() + lease_seconds)
        .bind(chunk.job_id)
        .bind(chunk.chunk_no)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(renewed.rows_affected() == 1)
    }

    /// Gives a chunk back on a graceful stop or a cancel, so another process takes it at once.
    pub async fn release_chunk(&self, chunk: &Chunk, owner: &str) -> Result<()> {
        sqlx::query(
            "UPDATE import_chunks SET owner = NULL, lease_until = NULL \
             WHERE job_id = $1 AND chunk_no = $2 AND owner = $3 AND done_at IS NULL",
        )
        .bind(chunk.job_id)
        .bind(chunk.chunk_no)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Chunks of the job not written yet, whoever holds them.
    pub async fn open_chunks(&self, job_id: Id) -> Result<i64> {
        let (open,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM import_chunks WHERE job_id = $1 AND done_at IS NULL",
        )
        .bind(job_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(open)
    }

    /// How many processes hold a chunk of the job now: what the banner says while it runs.
    pub async fn processes_working(&self, job_id: Id) -> Result<i64> {
        let (working,): (i64,) = sqlx::query_as(
            "SELECT COUNT(DISTINCT owner) FROM import_chunks \
             WHERE job_id = $1 AND done_at IS NULL AND owner IS NOT NULL AND lease_until >= $2",
        )
        .bind(job_id)
        .bind(self.now())
        .fetch_one(&self.pool)
        .await?;
        Ok(working)
    }

    /// Which processes wrote the job's chunks, and how many each: how an import spread.
    pub async fn chunk_writers(&self, job_id: Id) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT done_by, COUNT(*) FROM import_chunks \
             WHERE job_id = $1 AND done_by IS NOT NULL GROUP BY done_by ORDER BY done_by",
        )
        .bind(job_id)
        .fetch_all(&self.pool)
        .await?)
    }
}

/// Closes every chunk of the job, inside the transaction that ends it: it waits for a batch
/// in flight on any of them, and no batch is written for one afterwards.
pub(super) async fn close_chunks(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    job_id: Id,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE import_chunks SET done_at = $1, owner = NULL, lease_until = NULL \
         WHERE job_id = $2 AND done_at IS NULL",
    )
    .bind(at)
    .bind(job_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
