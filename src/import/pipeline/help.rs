//! A process with no job of its own helps with another's (PostgreSQL only: SQLite keeps one
//! process per job, being the embedded, single-machine default). It reads the job's file once,
//! keeps its valid rows while the job runs, and writes one chunk a step.

use super::{
    RunControl, RunSettings,
    chunks::{Batches, ChunkEnd, JobRows, write_chunk},
};
use crate::{
    domain::Id,
    storage::{Backend, Storage, StorageError},
};

/// What a helping step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Helped {
    /// Nothing to help with.
    Nothing,
    /// Rows written for another process's job, in a chunk that ended as said.
    Wrote {
        job_id: Id,
        rows: u64,
        whole_chunk: bool,
    },
}

/// The job this process reads its rows from, kept between steps.
#[derive(Default)]
pub struct HelpCache(Option<JobRows>);

impl HelpCache {
    /// Forgets the rows (they hold passwords) once the job needs no more help.
    fn keep_only(&mut self, job_id: Option<Id>) {
        if self.0.as_ref().map(|rows| rows.job_id) != job_id {
            self.0 = None;
        }
    }
}

/// Claims a chunk of the oldest job that needs one and writes it.
pub async fn help(
    storage: &Storage,
    settings: &RunSettings,
    owner: &str,
    cache: &mut HelpCache,
    control: RunControl<'_>,
) -> Result<Helped, StorageError> {
    if storage.backend() != Backend::Postgres {
        return Ok(Helped::Nothing);
    }
    let needing = storage.job_needing_help(owner).await?;
    cache.keep_only(needing);
    let Some(job_id) = needing else {
        return Ok(Helped::Nothing);
    };
    if cache.0.is_none() {
        let Some(job) = storage.job_to_help(job_id).await? else {
            return Ok(Helped::Nothing);
        };
        cache.0 = JobRows::read(settings, job).await;
    }
    let Some(rows) = cache.0.as_ref() else {
        return Ok(Helped::Nothing);
    };
    let lease = settings.lease_seconds();
    let Some(chunk) = storage.claim_chunk(owner, lease, job_id).await? else {
        return Ok(Helped::Nothing);
    };
    tracing::info!(job_id, chunk = chunk.chunk_no, "helping with an import");
    let mut written = 0;
    let mut on_batch = |rows: u64| written += rows;
    let mut batches = Batches::reporting_to(&mut on_batch);
    let ended = write_chunk(
        storage,
        settings,
        owner,
        &chunk,
        rows,
        &control,
        &mut batches,
    )
    .await?;
    Ok(Helped::Wrote {
        job_id,
        rows: written,
        whole_chunk: ended == ChunkEnd::Written,
    })
}
