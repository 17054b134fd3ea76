//! Bulk actions as a durable job: the agents chosen at confirmation are stored with the job,
//! and a batch at a time is worked through, in one transaction that re-checks the lease,
//! changes the agents, records each change in the audit log and strikes them off the job's
//! list. A process that dies mid-way costs nothing: the next owner goes on with the list.

use super::{
    AuditAction, AuditActor, NewAuditEvent, Result, Storage, StorageError, audit::insert_audit,
    placeholders,
};
use crate::domain::Id;

/// What a bulk job does to each agent it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkAction {
    Move {
        to: Id,
    },
    Enable,
    Disable,
    RequirePasswordChange,
    Delete,
    /// Deletes `group` with every agent and subgroup below it: its agents first, batch by
    /// batch, then the groups.
    DeleteGroup {
        group: Id,
    },
}

impl BulkAction {
    /// The action's word, as stored and as the API names it.
    pub fn as_str(self) -> &'static str {
        match self {
            BulkAction::Move { .. } => "move",
            BulkAction::Enable => "enable",
            BulkAction::Disable => "disable",
            BulkAction::RequirePasswordChange => "require_password_change",
            BulkAction::Delete => "delete",
            BulkAction::DeleteGroup { .. } => "delete_group",
        }
    }

    fn target(self) -> Option<Id> {
        match self {
            BulkAction::Move { to } => Some(to),
            BulkAction::DeleteGroup { group } => Some(group),
            _ => None,
        }
    }

    fn parse(text: &str, target: Option<Id>) -> Result<BulkAction> {
        let unknown = || StorageError::unknown("bulk_jobs.action", text);
        Ok(match text {
            "move" => BulkAction::Move {
                to: target.ok_or_else(unknown)?,
            },
            "enable" => BulkAction::Enable,
            "disable" => BulkAction::Disable,
            "require_password_change" => BulkAction::RequirePasswordChange,
            "delete" => BulkAction::Delete,
            "delete_group" => BulkAction::DeleteGroup {
                group: target.ok_or_else(unknown)?,
            },
            _ => return Err(unknown()),
        })
    }

    /// Whether the agents it reaches are gone after it.
    pub fn deletes(self) -> bool {
        matches!(self, BulkAction::Delete | BulkAction::DeleteGroup { .. })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkState {
    Queued,
    Running,
    Done,
    Failed,
}

impl BulkState {
    /// The state's word, as stored and as the API names it.
    pub fn as_str(self) -> &'static str {
        match self {
            BulkState::Queued => "queued",
            BulkState::Running => "running",
            BulkState::Done => "done",
            BulkState::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Result<BulkState> {
        Ok(match text {
            "queued" => BulkState::Queued,
            "running" => BulkState::Running,
            "done" => BulkState::Done,
            "failed" => BulkState::Failed,
            _ => return Err(StorageError::unknown("bulk_jobs.state", text)),
        })
    }

    pub fn is_done(self) -> bool {
        matches!(self, BulkState::Done | BulkState::Failed)
    }
}

/// A job to store, with the agents it was confirmed for.
pub struct NewBulkJob<'a> {
    /// Whose Properties show its progress (None: the top of the tree).
    pub shown_in: Option<Id>,
    pub action: BulkAction,
    /// What the confirmation named: the group moved to or deleted.
    pub subject: &'a str,
    pub actor: &'a AuditActor,
    pub agent_ids: &'a [Id],
}

#[derive(Debug, Clone)]
pub struct BulkJob {
    pub id: Id,
    pub shown_in: Option<Id>,
    pub action: BulkAction,
    pub state: BulkState,
    pub total: i64,
    pub done: i64,
    pub changed: i64,
    pub actor: AuditActor,
    pub subject: String,
    pub created_at: i64,
    pub error: Option<String>,
}

#[derive(sqlx::FromRow)]
struct BulkRow {
    id: Id,
    group_id: Option<Id>,
    action: String,
    target_group_id: Option<Id>,
    state: String,
    total: i64,
    done_count: i64,
    changed_count: i64,
    actor_id: Option<Id>,
    actor: String,
    address: String,
    subject: String,
    created_at: i64,
    error: Option<String>,
}

impl TryFrom<BulkRow> for BulkJob {
    type Error = StorageError;

    fn try_from(row: BulkRow) -> Result<BulkJob> {
        Ok(BulkJob {
            id: row.id,
            shown_in: row.group_id,
            action: BulkAction::parse(&row.action, row.target_group_id)?,
            state: BulkState::parse(&row.state)?,
            total: row.total,
            done: row.done_count,
            changed: row.changed_count,
            actor: AuditActor {
                admin_id: row.actor_id,
                name: row.actor,
                address: row.address,
            },
            subject: row.subject,
            created_at: row.created_at,
            error: row.error,
        })
    }
}

const BULK_COLUMNS: &str = "id, group_id, action, target_group_id, state, total, done_count, \
     changed_count, actor_id, actor, address, subject, created_at, error";

/// An agent of a batch as it is now, for the rule to decide what happens to it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BulkAgent {
    pub id: Id,
    pub group_id: Id,
    pub name: String,
    pub email: String,
    pub enabled: i64,
    pub must_change_password: i64,
}

impl BulkAgent {
    pub fn is_enabled(&self) -> bool {
        self.enabled != 0
    }

    pub fn must_change_password(&self) -> bool {
        self.must_change_password != 0
    }
}

/// The rule's answer for one agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentChange {
    /// Already so, or out of the actor's reach now.
    Unchanged,
    /// Changed, with the audit log's words for it.
    Changed { detail: String },
}

/// What one batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkBatch {
    /// Agents were worked through; more may remain.
    Worked { seen: i64, changed: i64 },
    /// Every chosen agent is done: the job can end.
    NoneLeft,
    /// Another process holds the job now; nothing was written.
    LeaseLost,
}

/// How an attempt to end a bulk job went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkEnd {
    Ended,
    /// Another process holds the job now; nothing was written.
    LeaseLost,
    /// An agent was added to a group being deleted since the last look; nothing was written.
    AgentsArrived,
}

fn is_foreign_key(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|e| e.kind() == sqlx::error::ErrorKind::ForeignKeyViolation)
}

/// The lease test of a bulk job's writes.
const HELD: &str = "id = $1 AND owner = $2 AND state = 'running'";

type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;

/// Agent ids per statement: well below SQLite's 32,766 bound values with the audit rows' nine
/// columns each.
pub const BULK_BATCH: i64 = 500;

impl Storage {
    pub async fn create_bulk_job(&self, job: NewBulkJob<'_>) -> Result<Id> {
        let mut tx = self.pool.begin().await?;
        let (id,): (Id,) = sqlx::query_as(
            "INSERT INTO bulk_jobs (group_id, action, target_group_id, total, actor_id, actor, \
                                    address, subject, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(job.shown_in)
        .bind(job.action.as_str())
        .bind(job.action.target())
        .bind(job.agent_ids.len() as i64)
        .bind(job.actor.admin_id)
        .bind(&job.actor.name)
        .bind(&job.actor.address)
        .bind(job.subject)
        .bind(self.now())
        .fetch_one(&mut *tx)
        .await?;
        add_agents(&mut tx, id, job.agent_ids).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Claims the oldest bulk job no live process holds (or `only` that one), for `owner`.
    /// A job its owner claims again is simply renewed: a worker takes one batch per step.
    pub async fn claim_bulk_job(
        &self,
        owner: &str,
        lease_seconds: i64,
        only: Option<Id>,
    ) -> Result<Option<BulkJob>> {
        let at = self.now();
        let free = "state IN ('queued', 'running') \
                    AND (lease_until IS NULL OR lease_until < $3 OR owner = $1)";
        let sql = format!(
            "UPDATE bulk_jobs SET state = 'running', owner = $1, lease_until = $2 \
             WHERE id = (SELECT id FROM bulk_jobs WHERE {free} AND (id = $4 OR $4 IS NULL) \
                         ORDER BY id LIMIT 1) \
               AND {free} \
             RETURNING {BULK_COLUMNS}"
        );
        sqlx::query_as::<_, BulkRow>(&sql)
            .bind(owner)
            .bind(at + lease_seconds)
            .bind(at)
            .bind(only)
            .fetch_optional(&self.pool)
            .await?
            .map(BulkJob::try_from)
            .transpose()
    }

    pub async fn bulk_job(&self, id: Id) -> Result<Option<BulkJob>> {
        let sql = format!("SELECT {BULK_COLUMNS} FROM bulk_jobs WHERE id = $1");
        sqlx::query_as::<_, BulkRow>(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(BulkJob::try_from)
            .transpose()
    }

    /// The bulk jobs shown in a group's Properties (None: the top), newest first.
    pub async fn bulk_jobs_shown_in(&self, group: Option<Id>, limit: i64) -> Result<Vec<BulkJob>> {
        let sql = format!(
            "SELECT {BULK_COLUMNS} FROM bulk_jobs \
             WHERE (group_id = $1 OR (group_id IS NULL AND $1 IS NULL)) ORDER BY id DESC LIMIT $2"
        );
        sqlx::query_as::<_, BulkRow>(&sql)
            .bind(group)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(BulkJob::try_from)
            .collect()
    }

    /// Works through the next `limit` agents of a job this process holds: `decide` says, for
    /// each agent still there, what the action does to it; the agents are changed, the changes
    /// recorded in the audit log, and the cursor moved, all in one transaction.
    pub async fn bulk_batch(
        &self,
        job: &BulkJob,
        owner: &str,
        lease_seconds: i64,
        limit: i64,
        decide: &(dyn Fn(&BulkAgent) -> AgentChange + Sync),
    ) -> Result<BulkBatch> {
        let at = self.now();
        let mut tx = self.pool.begin().await?;
        let sql = format!("UPDATE bulk_jobs SET lease_until = $3 WHERE {HELD}");
        let ours = sqlx::query(&sql)
            .bind(job.id)
            .bind(owner)
            .bind(at + lease_seconds)
            .execute(&mut *tx)
            .await?;
        if ours.rows_affected() == 0 {
            return Ok(BulkBatch::LeaseLost);
        }
        let ids: Vec<(Id,)> = sqlx::query_as(
            "SELECT agent_id FROM bulk_job_agents WHERE job_id = $1 ORDER BY agent_id LIMIT $2",
        )
        .bind(job.id)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        if ids.is_empty() {
            return Ok(BulkBatch::NoneLeft);
        }
        let ids: Vec<Id> = ids.into_iter().map(|(id,)| id).collect();
        let sql = format!(
            "SELECT id, group_id, name, email, enabled, must_change_password FROM agents \
             WHERE id IN ({}) ORDER BY id",
            placeholders(1, ids.len())
        );
        let mut query = sqlx::query_as::<_, BulkAgent>(&sql);
        for id in &ids {
            query = query.bind(*id);
        }
        let agents = query.fetch_all(&mut *tx).await?;
        let changed: Vec<(&BulkAgent, String)> = agents
            .iter()
            .filter_map(|agent| match decide(agent) {
                AgentChange::Unchanged => None,
                AgentChange::Changed { detail } => Some((agent, detail)),
            })
            .collect();
        if !changed.is_empty() {
            let changed_ids: Vec<Id> = changed.iter().map(|(agent, _)| agent.id).collect();
            apply(&mut tx, job.action, &changed_ids, at).await?;
            record_changes(&mut tx, job, &changed, at).await?;
        }
        let sql = format!(
            "DELETE FROM bulk_job_agents WHERE job_id = $1 AND agent_id IN ({})",
            placeholders(2, ids.len())
        );
        bind_ids(sqlx::query(&sql).bind(job.id), &ids)
            .execute(&mut *tx)
            .await?;
        let sql = format!(
            "UPDATE bulk_jobs SET done_count = done_count + $3, \
                                  changed_count = changed_count + $4 WHERE {HELD}"
        );
        sqlx::query(&sql)
            .bind(job.id)
            .bind(owner)
            .bind(ids.len() as i64)
            .bind(changed.len() as i64)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(BulkBatch::Worked {
            seen: ids.len() as i64,
            changed: changed.len() as i64,
        })
    }

    /// Adds agents to a job that holds its lease: a group's deletion takes along the agents
    /// added below it since it was confirmed. False when the lease was lost.
    pub async fn add_bulk_agents(&self, job_id: Id, owner: &str, agent_ids: &[Id]) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let sql = format!("UPDATE bulk_jobs SET total = total + $3 WHERE {HELD}");
        let ours = sqlx::query(&sql)
            .bind(job_id)
            .bind(owner)
            .bind(agent_ids.len() as i64)
            .execute(&mut *tx)
            .await?;
        if ours.rows_affected() == 0 {
            return Ok(false);
        }
        add_agents(&mut tx, job_id, agent_ids).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Ends a job this process holds; a group's deletion deletes its groups (`groups`, with
    /// the audit log's path of each) in the same transaction. An agent added to them since
    /// the last batch makes the deletion fail and the job stay running, for the next step to
    /// take that agent along.
    pub async fn finish_bulk_job(
        &self,
        job: &BulkJob,
        owner: &str,
        groups: &[(Id, String)],
        reported_in: Option<Id>,
    ) -> Result<BulkEnd> {
        match self.end_bulk_job(job, owner, groups, reported_in).await {
            Ok(true) => Ok(BulkEnd::Ended),
            Ok(false) => Ok(BulkEnd::LeaseLost),
            Err(StorageError::Database(error)) if is_foreign_key(&error) => {
                Ok(BulkEnd::AgentsArrived)
            }
            Err(error) => Err(error),
        }
    }

    async fn end_bulk_job(
        &self,
        job: &BulkJob,
        owner: &str,
        groups: &[(Id, String)],
        reported_in: Option<Id>,
    ) -> Result<bool> {
        let at = self.now();
        let mut tx = self.pool.begin().await?;
        let sql = format!(
            "UPDATE bulk_jobs SET state = 'done', finished_at = $3, owner = NULL, \
                                  lease_until = NULL WHERE {HELD}"
        );
        let ours = sqlx::query(&sql)
            .bind(job.id)
            .bind(owner)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        if ours.rows_affected() == 0 {
            return Ok(false);
        }
        if !groups.is_empty() {
            let ids: Vec<Id> = groups.iter().map(|(id, _)| *id).collect();
            let sql = format!(
                "DELETE FROM agent_groups WHERE id IN ({})",
                placeholders(1, ids.len())
            );
            bind_ids(sqlx::query(&sql), &ids).execute(&mut *tx).await?;
            for (_, path) in groups {
                let event = NewAuditEvent {
                    group_id: reported_in,
                    detail: "with everything in it",
                    ..NewAuditEvent::new(AuditAction::GroupDeleted, path)
                };
                insert_audit(&mut *tx, at, &job.actor, event).await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Ends a job that cannot go on, with the reason shown in its banner.
    pub async fn fail_bulk_job(&self, job_id: Id, owner: &str, why: &str) -> Result<()> {
        let sql = format!(
            "UPDATE bulk_jobs SET state = 'failed', error = $3, finished_at = $4, owner = NULL, \
                                  lease_until = NULL WHERE {HELD}"
        );
        sqlx::query(&sql)
            .bind(job_id)
            .bind(owner)
            .bind(why)
            .bind(self.now())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Whether an import into one of these groups has not ended (a group's deletion waits).
    pub async fn imports_running_in(&self, group_ids: &[Id]) -> Result<bool> {
        for chunk in group_ids.chunks(1000) {
            let sql = format!(
                "SELECT COUNT(*) FROM import_jobs \
                 WHERE state IN ('queued', 'running', 'undoing') AND group_id IN ({})",
                placeholders(1, chunk.len())
            );
            let mut query = sqlx::query_scalar::<_, i64>(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            if query.fetch_one(&self.pool).await? > 0 {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The ids of every agent in these groups, for a selection of "all in this group".
    pub async fn agent_ids_in_groups(&self, group_ids: &[Id]) -> Result<Vec<Id>> {
        let mut found = Vec::new();
        for chunk in group_ids.chunks(1000) {
            let sql = format!(
                "SELECT id FROM agents WHERE group_id IN ({}) ORDER BY id",
                placeholders(1, chunk.len())
            );
            let mut query = sqlx::query_as::<_, (Id,)>(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            found.extend(
                query
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(|(id,)| id),
            );
        }
        Ok(found)
    }

    /// Of these agents, the ids of those in these groups (the ones an administrator may act on).
    pub async fn agents_among(&self, agent_ids: &[Id], group_ids: &[Id]) -> Result<Vec<Id>> {
        let groups: std::collections::HashSet<Id> = group_ids.iter().copied().collect();
        let mut found = Vec::new();
        for chunk in agent_ids.chunks(1000) {
            let sql = format!(
                "SELECT id, group_id FROM agents WHERE id IN ({}) ORDER BY id",
                placeholders(1, chunk.len())
            );
            let mut query = sqlx::query_as::<_, (Id, Id)>(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            found.extend(
                query
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .filter(|(_, group)| groups.contains(group))
                    .map(|(id, _)| id),
            );
        }
        Ok(found)
    }
}

async fn add_agents(tx: &mut Tx<'_>, job_id: Id, agent_ids: &[Id]) -> Result<()> {
    for chunk in agent_ids.chunks(BULK_BATCH as usize) {
        let values: Vec<String> = (0..chunk.len())
            .map(|n| format!("($1, ${})", n + 2))
            .collect();
        let sql = format!(
            "INSERT INTO bulk_job_agents (job_id, agent_id) VALUES {} ON CONFLICT DO NOTHING",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(job_id);
        for id in chunk {
            query = query.bind(*id);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// The action's statement on the agents it changes. Disabled and deleted agents are signed
/// out; every change bumps the revision, so an import's undo keeps an agent changed since.
async fn apply(tx: &mut Tx<'_>, action: BulkAction, ids: &[Id], at: i64) -> Result<()> {
    if matches!(action, BulkAction::Disable) || action.deletes() {
        let sql = format!(
            "DELETE FROM sessions WHERE kind = 'agent' AND principal_id IN ({})",
            placeholders(1, ids.len())
        );
        bind_ids(sqlx::query(&sql), ids).execute(&mut **tx).await?;
    }
    if action.deletes() {
        let sql = format!(
            "DELETE FROM agents WHERE id IN ({})",
            placeholders(1, ids.len())
        );
        bind_ids(sqlx::query(&sql), ids).execute(&mut **tx).await?;
        return Ok(());
    }
    let (column, value) = match action {
        BulkAction::Move { to } => ("group_id", to),
        BulkAction::Enable => ("enabled", 1),
        BulkAction::Disable => ("enabled", 0),
        BulkAction::RequirePasswordChange => ("must_change_password", 1),
        BulkAction::Delete | BulkAction::DeleteGroup { .. } => unreachable!("deleted above"),
    };
    let sql = format!(
        "UPDATE agents SET {column} = $1, updated_at = $2, revision = revision + 1 \
         WHERE id IN ({})",
        placeholders(3, ids.len())
    );
    let query = sqlx::query(&sql).bind(value).bind(at);
    bind_ids(query, ids).execute(&mut **tx).await?;
    Ok(())
}

fn bind_ids<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ids: &[Id],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for id in ids {
        query = query.bind(*id);
    }
    query
}

/// One audit event per changed agent, in statements of many rows: the actor's five values are
/// shared, each event adds its subject, group, agent and detail.
async fn record_changes(
    tx: &mut Tx<'_>,
    job: &BulkJob,
    changed: &[(&BulkAgent, String)],
    at: i64,
) -> Result<()> {
    const SHARED: usize = 5;
    const EACH: usize = 4;
    let action = match job.action.deletes() {
        true => AuditAction::AgentDeleted,
        false => AuditAction::AgentChanged,
    };
    let values: Vec<String> = (0..changed.len())
        .map(|n| {
            let own = placeholders(SHARED + 1 + n * EACH, EACH);
            format!("($1, $2, $3, $4, $5, {own})")
        })
        .collect();
    let sql = format!(
        "INSERT INTO audit_events (at, actor_id, actor, address, action, subject, group_id, \
                                   agent_id, detail) VALUES {}",
        values.join(", ")
    );
    let mut query = sqlx::query(&sql)
        .bind(at)
        .bind(job.actor.admin_id)
        .bind(&job.actor.name)
        .bind(&job.actor.address)
        .bind(action.as_str());
    for (agent, detail) in changed {
        // The event sits in the group the agent is in after the change, as the web's edit's.
        let group = match job.action {
            BulkAction::Move { to } => to,
            _ => agent.group_id,
        };
        query = query
            .bind(format!("{} <{}>", agent.name, agent.email))
            .bind(group)
            .bind(agent.id)
            .bind(detail.as_str());
    }
    query.execute(&mut **tx).await?;
    Ok(())
}
