//! Runs bulk jobs a batch at a time: the rights are those of whoever confirmed it, as the tree
//! is at each batch; the last step of a group's deletion deletes the groups.

use std::time::Duration;

use crate::{
    domain::Id,
    org::Access,
    storage::{BULK_BATCH, BulkAction, BulkBatch, BulkEnd, BulkJob, Storage, StorageError},
};

/// What one step of a bulk job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkStep {
    /// A batch was done; the job goes on.
    Batch { seen: i64, changed: i64 },
    /// The job has ended.
    Finished,
    /// Another process took the job over.
    Lost,
}

/// Claims a bulk job (or `only` that one) and does one batch of it. None: no job to do.
pub(crate) async fn step(
    storage: &Storage,
    owner: &str,
    lease: Duration,
    only: Option<Id>,
) -> Result<Option<BulkStep>, StorageError> {
    let lease_seconds = lease.as_secs() as i64;
    let Some(job) = storage.claim_bulk_job(owner, lease_seconds, only).await? else {
        return Ok(None);
    };
    let access = Access::of_sender(storage, job.actor.admin_id).await?;
    // A move whose group was deleted (or taken from its administrator) since it was confirmed
    // would fail every batch for ever: it ends, saying why, with what it moved so far.
    if let BulkAction::Move { to } = job.action
        && !access.can_see(to)
    {
        let why = "The group to move to was deleted meanwhile, or is no longer yours.";
        storage.fail_bulk_job(job.id, owner, why).await?;
        return Ok(Some(BulkStep::Finished));
    }
    let decide = |agent: &_| access.bulk_change(job.action, agent);
    let batch = storage
        .bulk_batch(&job, owner, lease_seconds, BULK_BATCH, &decide)
        .await?;
    Ok(Some(match batch {
        BulkBatch::Worked { seen, changed } => BulkStep::Batch { seen, changed },
        BulkBatch::LeaseLost => BulkStep::Lost,
        BulkBatch::NoneLeft => finish(storage, owner, &job, &access).await?,
    }))
}

/// Runs the job `job_id` to its end within this call: a selection small enough for a request.
pub(crate) async fn run_to_end(
    storage: &Storage,
    owner: &str,
    lease: Duration,
    job_id: Id,
) -> Result<(), StorageError> {
    while let Some(BulkStep::Batch { .. }) = step(storage, owner, lease, Some(job_id)).await? {}
    Ok(())
}

async fn finish(
    storage: &Storage,
    owner: &str,
    job: &BulkJob,
    access: &Access,
) -> Result<BulkStep, StorageError> {
    let BulkAction::DeleteGroup { group } = job.action else {
        storage.finish_bulk_job(job, owner, &[], None).await?;
        return Ok(BulkStep::Finished);
    };
    if !access.can_see(group) {
        let why = match access.tree.get(group) {
            Some(_) => "The group is no longer yours to delete.",
            None => "The group was deleted meanwhile.",
        };
        storage.fail_bulk_job(job.id, owner, why).await?;
        return Ok(BulkStep::Finished);
    }
    // Agents added below the group since it was confirmed go with it.
    let groups = access.groups_deleted_with(group);
    let ids: Vec<Id> = groups.iter().map(|(id, _)| *id).collect();
    let late = storage.agent_ids_in_groups(&ids).await?;
    if !late.is_empty() {
        return Ok(match storage.add_bulk_agents(job.id, owner, &late).await? {
            true => BulkStep::Batch {
                seen: 0,
                changed: 0,
            },
            false => BulkStep::Lost,
        });
    }
    let parent = access.tree.get(group).and_then(|g| g.parent_id);
    Ok(
        match storage.finish_bulk_job(job, owner, &groups, parent).await? {
            BulkEnd::Ended => BulkStep::Finished,
            BulkEnd::LeaseLost => BulkStep::Lost,
            // An agent arrived between the look and the delete: the next step takes it along.
            BulkEnd::AgentsArrived => BulkStep::Batch {
                seen: 0,
                changed: 0,
            },
        },
    )
}
