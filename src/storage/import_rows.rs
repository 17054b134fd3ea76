//! An import's ledger: one row per data row of its file, with that row's outcome.
//!
//! Exactly-once rests on one rule: a row's agent and the row's outcome are written in the same
//! transaction, and that transaction first re-checks that this process still holds the row's
//! chunk (`import_chunks`). A process that lost its chunk writes nothing; the next holder
//! starts from the chunk's rows whose outcome is still NULL.

use std::collections::HashMap;

use super::{
    Result, Storage, StorageError,
    import_chunks::{Chunk, close_chunks},
    placeholders,
};
use crate::domain::{Email, Id, natural_key};

/// Which kind of end a row came to; with its message, the Result cell (`import::RowOutcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeKind {
    Success,
    Updated,
    Skipped,
    Error,
    NotImported,
    Kept,
    WouldCreate,
    WouldUpdate,
    WouldSkip,
}

impl OutcomeKind {
    fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::Success => "success",
            OutcomeKind::Updated => "updated",
            OutcomeKind::Skipped => "skipped",
            OutcomeKind::Error => "error",
            OutcomeKind::NotImported => "not_imported",
            OutcomeKind::Kept => "kept",
            OutcomeKind::WouldCreate => "would_create",
            OutcomeKind::WouldUpdate => "would_update",
            OutcomeKind::WouldSkip => "would_skip",
        }
    }

    fn parse(text: &str) -> Result<OutcomeKind> {
        Ok(match text {
            "success" => OutcomeKind::Success,
            "updated" => OutcomeKind::Updated,
            "skipped" => OutcomeKind::Skipped,
            "error" => OutcomeKind::Error,
            "not_imported" => OutcomeKind::NotImported,
            "kept" => OutcomeKind::Kept,
            "would_create" => OutcomeKind::WouldCreate,
            "would_update" => OutcomeKind::WouldUpdate,
            "would_skip" => OutcomeKind::WouldSkip,
            other => return Err(StorageError::unknown("import_rows.outcome", other)),
        })
    }

    /// The job's counter this kind of outcome adds to. A check counts what would happen as if
    /// it had: "would create" in `created_count`, and so on.
    fn counter(self) -> &'static str {
        match self {
            OutcomeKind::Success | OutcomeKind::WouldCreate => "created_count",
            OutcomeKind::Updated | OutcomeKind::WouldUpdate => "updated_count",
            OutcomeKind::Skipped | OutcomeKind::WouldSkip => "skipped_count",
            OutcomeKind::Error => "failed_count",
            OutcomeKind::NotImported => "not_imported_count",
            OutcomeKind::Kept => "kept_count",
        }
    }
}

/// A row's outcome as stored: a code and a message (empty for a success).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOutcome {
    pub kind: OutcomeKind,
    pub message: String,
}

/// A data row as the validation step leaves it: no outcome means "write this agent" — create
/// one in `group_id`, or update `agent_id` when it is set.
pub struct NewImportRow {
    pub row_no: i64,
    pub outcome: Option<StoredOutcome>,
    pub group_id: Option<Id>,
    pub agent_id: Option<Id>,
}

impl NewImportRow {
    /// A row decided at validation (an error, a skip, a check's verdict).
    pub fn decided(row_no: i64, outcome: StoredOutcome) -> NewImportRow {
        NewImportRow {
            row_no,
            outcome: Some(outcome),
            group_id: None,
            agent_id: None,
        }
    }
}

/// A row still waiting for its agent to be written, as validation planned it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingRow {
    pub row_no: i64,
    pub group_id: Option<Id>,
    /// Set when the row updates this agent; None creates one.
    pub agent_id: Option<Id>,
}

/// A validated row with its password already hashed, ready to write.
pub struct PendingAgent {
    pub row_no: i64,
    pub group_id: Id,
    pub name: String,
    pub email: Email,
    /// None keeps the agent's password (an update whose Password cell was blank).
    pub password_hash: Option<String>,
    /// None: the file has no such column, so an update leaves the agent's own.
    pub nickname: Option<String>,
    pub description: Option<String>,
    /// Some: update this agent instead of creating one.
    pub update: Option<Id>,
    /// Set the agent's "must change password at next sign-in" (never cleared by an import).
    pub must_change_password: bool,
}

/// What [`Storage::apply_batch`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BatchWritten {
    pub created: usize,
    pub updated: usize,
    /// Rows that failed at write time: an email taken meanwhile, an agent deleted meanwhile.
    pub refused: usize,
}

/// The Result cells of rows refused at write time, by what happened meanwhile.
pub struct WriteRefusals {
    /// The email was taken by another agent after the check.
    pub taken: StoredOutcome,
    /// The agent to update was deleted after the check.
    pub vanished: StoredOutcome,
}

type OutcomeRow = (i64, Option<String>, Option<String>);

fn decode(kind: Option<String>, message: Option<String>) -> Result<Option<StoredOutcome>> {
    kind.map(|kind| {
        Ok(StoredOutcome {
            kind: OutcomeKind::parse(&kind)?,
            message: message.unwrap_or_default(),
        })
    })
    .transpose()
}

impl Storage {
    /// Stores the outcome of validating every row, all at once: a job either has its full row
    /// list or none. Returns false when the lease was lost.
    pub async fn record_validation(
        &self,
        job_id: Id,
        owner: &str,
        rows: &[NewImportRow],
    ) -> Result<bool> {
        let decided = rows.iter().filter(|row| row.outcome.is_some()).count() as i64;
        let count = |kinds: &[OutcomeKind]| {
            rows.iter()
                .filter(|row| {
                    row.outcome
                        .as_ref()
                        .is_some_and(|o| kinds.contains(&o.kind))
                })
                .count() as i64
        };
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE import_jobs SET total_rows = $1, done_rows = $2, failed_count = $3, \
                    not_imported_count = $4, kept_count = $5, skipped_count = $6, \
                    created_count = $7, updated_count = $8, stalled_attempts = 0 \
             WHERE id = $9 AND owner = $10 AND state = 'running' AND total_rows IS NULL",
        )
        .bind(rows.len() as i64)
        .bind(decided)
        .bind(count(&[OutcomeKind::Error]))
        .bind(count(&[OutcomeKind::NotImported]))
        .bind(count(&[OutcomeKind::Kept]))
        .bind(count(&[OutcomeKind::Skipped, OutcomeKind::WouldSkip]))
        .bind(count(&[OutcomeKind::WouldCreate]))
        .bind(count(&[OutcomeKind::WouldUpdate]))
        .bind(job_id)
        .bind(owner)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Ok(false);
        }
        // 500 rows a statement: measured on 100,000 rows, 5,000-row statements made SQLite
        // 2.5x slower (binding cost grows faster than the row count) and PostgreSQL only 10%
        // faster.
        for chunk in rows.chunks(500) {
            let values = (0..chunk.len())
                .map(|i| format!("($1, {})", placeholders(2 + 5 * i, 5)))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO import_rows (job_id, row_no, outcome, message, group_id, agent_id) VALUES {values}"
            );
            let mut query = sqlx::query(&sql).bind(job_id);
            for row in chunk {
                let outcome = row.outcome.as_ref();
                query = query
                    .bind(row.row_no)
                    .bind(outcome.map(|o| o.kind.as_str()))
                    .bind(outcome.map(|o| o.message.as_str()))
                    .bind(row.group_id)
                    .bind(row.agent_id);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Rows still waiting for their agent, in row order.
    pub async fn pending_rows(&self, job_id: Id) -> Result<Vec<PendingRow>> {
        let rows: Vec<(i64, Option<Id>, Option<Id>)> = sqlx::query_as(
            "SELECT row_no, group_id, agent_id FROM import_rows \
             WHERE job_id = $1 AND outcome IS NULL ORDER BY row_no",
        )
        .bind(job_id)
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

    /// Writes a batch of agents — creates and updates — and records each row's outcome, with
    /// what undo needs (the agent, its revision, an updated agent's earlier values), in one
    /// transaction. A row refused meanwhile (its email taken, its agent deleted) gets its
    /// refusal instead of failing the batch. The chunk's lease is renewed on the way. Returns
    /// None when the chunk was lost (taken over, or its job ended), having written nothing.
    ///
    /// Locks are taken in one order — the chunk, the rows, then the job — as every other
    /// statement touching them does, so processes writing one job never deadlock.
    pub async fn apply_batch(
        &self,
        chunk: &Chunk,
        owner: &str,
        lease_seconds: i64,
        agents: &[PendingAgent],
        refusals: &WriteRefusals,
    ) -> Result<Option<BatchWritten>> {
        let at = self.now();
        let job_id = chunk.job_id;
        let mut tx = self.pool.begin().await?;
        let ours = sqlx::query(
            "UPDATE import_chunks SET lease_until = $1 \
             WHERE job_id = $2 AND chunk_no = $3 AND owner = $4 AND done_at IS NULL",
        )
        .bind(at + lease_seconds)
        .bind(job_id)
        .bind(chunk.chunk_no)
        .bind(owner)
        .execute(&mut *tx)
        .await?;
        if ours.rows_affected() == 0 {
            return Ok(None);
        }
        let mut written = BatchWritten::default();
        let (creates, updates): (Vec<&PendingAgent>, Vec<&PendingAgent>) =
            agents.iter().partition(|agent| agent.update.is_none());
        let created = insert_agents(&mut tx, job_id, at, &creates).await?;
        for agent in &creates {
            match created.get(agent.email.key()) {
                Some(agent_id) => {
                    written.created += 1;
                    let outcome = OutcomeKind::Success;
                    record_write(&mut tx, job_id, agent.row_no, outcome, *agent_id, None).await?;
                }
                None => {
                    written.refused += 1;
                    set_outcomes(&mut tx, job_id, &refusals.taken, &[agent.row_no]).await?;
                }
            }
        }
        for agent in updates {
            match update_agent(&mut tx, at, agent).await? {
                Some((agent_id, before)) => {
                    written.updated += 1;
                    let outcome = OutcomeKind::Updated;
                    let before = Some(&before);
                    record_write(&mut tx, job_id, agent.row_no, outcome, agent_id, before).await?;
                }
                None => {
                    written.refused += 1;
                    set_outcomes(&mut tx, job_id, &refusals.vanished, &[agent.row_no]).await?;
                }
            }
        }
        count_rows(&mut tx, job_id, OutcomeKind::Success, written.created).await?;
        count_rows(&mut tx, job_id, OutcomeKind::Updated, written.updated).await?;
        // Whoever wrote it, the job got further: its crashes so far are not held against it.
        sqlx::query("UPDATE import_jobs SET stalled_attempts = 0 WHERE id = $1")
            .bind(job_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(written))
    }

    /// Gives every row still waiting the same outcome (a job ending before its last row),
    /// having first closed the job's chunks: a batch in flight in another process is waited
    /// for, and none is written afterwards. Returns false when the lease was lost.
    pub async fn settle_pending_rows(
        &self,
        job_id: Id,
        owner: &str,
        outcome: &StoredOutcome,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        // The chunks before the job, in the order batches lock them.
        close_chunks(&mut tx, job_id, self.now()).await?;
        let ours = sqlx::query(
            "UPDATE import_jobs SET stalled_attempts = 0 WHERE id = $1 AND owner = $2 AND state = 'running'",
        )
        .bind(job_id)
        .bind(owner)
        .execute(&mut *tx)
        .await?;
        if ours.rows_affected() == 0 {
            return Ok(false);
        }
        let settled = sqlx::query(
            "UPDATE import_rows SET outcome = $1, message = $2 WHERE job_id = $3 AND outcome IS NULL",
        )
        .bind(outcome.kind.as_str())
        .bind(outcome.message.as_str())
        .bind(job_id)
        .execute(&mut *tx)
        .await?
        .rows_affected() as i64;
        let sql = format!(
            "UPDATE import_jobs SET done_rows = done_rows + $1, {0} = {0} + $1 WHERE id = $2",
            outcome.kind.counter()
        );
        sqlx::query(&sql)
            .bind(settled)
            .bind(job_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The first failed rows, in row order: shown while the job still creates agents.
    pub async fn row_errors(&self, job_id: Id, limit: i64) -> Result<Vec<(i64, StoredOutcome)>> {
        let rows: Vec<OutcomeRow> = sqlx::query_as(
            "SELECT row_no, outcome, message FROM import_rows \
             WHERE job_id = $1 AND outcome = 'error' ORDER BY row_no LIMIT $2",
        )
        .bind(job_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .filter_map(|(row_no, kind, message)| {
                decode(kind, message)
                    .transpose()
                    .map(|outcome| outcome.map(|o| (row_no, o)))
            })
            .collect()
    }

    /// Every row's outcome (None: not reached yet), in row order, for the result file.
    pub async fn row_outcomes(&self, job_id: Id) -> Result<Vec<(i64, Option<StoredOutcome>)>> {
        let rows: Vec<OutcomeRow> = sqlx::query_as(
            "SELECT row_no, outcome, message FROM import_rows WHERE job_id = $1 ORDER BY row_no",
        )
        .bind(job_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(row_no, kind, message)| Ok((row_no, decode(kind, message)?)))
            .collect()
    }
}

/// Inserts the agents to create; returns the id of each created one by email key (an email
/// taken meanwhile is missing).
async fn insert_agents(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    job_id: Id,
    at: i64,
    agents: &[&PendingAgent],
) -> Result<HashMap<String, Id>> {
    if agents.is_empty() {
        return Ok(HashMap::new());
    }
    const COLUMNS: usize = 11;
    let values = (0..agents.len())
        .map(|i| {
            let first = 1 + COLUMNS * i;
            // created_at doubles as updated_at: the last placeholder of the row.
            format!(
                "({}, 1, ${})",
                placeholders(first, COLUMNS),
                first + COLUMNS - 1
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "INSERT INTO agents (group_id, name, email, email_key, password_hash, nickname, description, \
                             import_job_id, must_change_password, sort_key, created_at, enabled, updated_at) \
         VALUES {values} ON CONFLICT (email_key) DO NOTHING RETURNING email_key, id"
    );
    let mut insert = sqlx::query_as::<_, (String, Id)>(&sql);
    for agent in agents {
        insert = insert
            .bind(agent.group_id)
            .bind(agent.name.as_str())
            .bind(agent.email.as_str())
            .bind(agent.email.key())
            .bind(agent.password_hash.as_deref().unwrap_or_default())
            .bind(agent.nickname.as_deref().unwrap_or_default())
            .bind(agent.description.as_deref().unwrap_or_default())
            .bind(job_id)
            .bind(i64::from(agent.must_change_password))
            .bind(natural_key(agent.name.as_str()))
            .bind(at);
    }
    Ok(insert.fetch_all(&mut **tx).await?.into_iter().collect())
}

/// An agent's values before an import updated it: what undo puts back.
#[derive(sqlx::FromRow)]
struct Before {
    group_id: Id,
    name: String,
    nickname: String,
    description: String,
    password_hash: String,
    must_change_password: i64,
    revision: i64,
}

/// Updates one agent from its row, if it still exists; returns its id and earlier values. The
/// update repeats the revision it read, so an edit between the two is never overwritten
/// unseen: the row is then refused like a vanished agent. A new password ends the agent's
/// sessions, as any password change does.
async fn update_agent(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    at: i64,
    agent: &PendingAgent,
) -> Result<Option<(Id, Before)>> {
    let Some(agent_id) = agent.update else {
        return Ok(None);
    };
    let before: Option<Before> = sqlx::query_as(
        "SELECT group_id, name, nickname, description, password_hash, must_change_password, revision \
         FROM agents WHERE id = $1",
    )
    .bind(agent_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(before) = before else {
        return Ok(None);
    };
    let updated = sqlx::query(
        "UPDATE agents SET name = $1, sort_key = $9, nickname = COALESCE($2, nickname), \
                description = COALESCE($3, description), \
                password_hash = COALESCE($4, password_hash), updated_at = $5, revision = revision + 1, \
                must_change_password = CASE WHEN $8 = 1 THEN 1 ELSE must_change_password END \
         WHERE id = $6 AND revision = $7",
    )
    .bind(agent.name.as_str())
    .bind(agent.nickname.as_deref())
    .bind(agent.description.as_deref())
    .bind(agent.password_hash.as_deref())
    .bind(at)
    .bind(agent_id)
    .bind(before.revision)
    .bind(i64::from(agent.must_change_password))
    .bind(natural_key(agent.name.as_str()))
    .execute(&mut **tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Ok(None);
    }
    if agent.password_hash.is_some() {
        sqlx::query("DELETE FROM sessions WHERE kind = 'agent' AND principal_id = $1")
            .bind(agent_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(Some((agent_id, before)))
}

/// A row whose agent was written: its outcome, the agent, the agent's revision right after
/// (created agents start at 0; an update adds one), and an updated agent's earlier values.
/// The job's counts are the caller's ([`count_rows`], once a batch).
async fn record_write(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    job_id: Id,
    row_no: i64,
    kind: OutcomeKind,
    agent_id: Id,
    before: Option<&Before>,
) -> Result<()> {
    sqlx::query(
        "UPDATE import_rows SET outcome = $1, message = '', agent_id = $2, agent_revision = $3, \
                before_group_id = $4, before_name = $5, before_nickname = $6, \
                before_description = $7, before_password_hash = $8, \
                before_must_change_password = $9 \
         WHERE job_id = $10 AND row_no = $11",
    )
    .bind(kind.as_str())
    .bind(agent_id)
    .bind(before.map_or(0, |b| b.revision + 1))
    .bind(before.map(|b| b.group_id))
    .bind(before.map(|b| b.name.as_str()))
    .bind(before.map(|b| b.nickname.as_str()))
    .bind(before.map(|b| b.description.as_str()))
    .bind(before.map(|b| b.password_hash.as_str()))
    .bind(before.map(|b| b.must_change_password))
    .bind(job_id)
    .bind(row_no)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Adds `rows` rows of this kind to the job's counts.
async fn count_rows(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    job_id: Id,
    kind: OutcomeKind,
    rows: usize,
) -> Result<()> {
    if rows == 0 {
        return Ok(());
    }
    let sql = format!(
        "UPDATE import_jobs SET done_rows = done_rows + $1, {0} = {0} + $1 WHERE id = $2",
        kind.counter()
    );
    sqlx::query(&sql)
        .bind(rows as i64)
        .bind(job_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Sets the outcome of `rows` and adds them to the job's counts, inside the batch's
/// transaction.
async fn set_outcomes(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    job_id: Id,
    outcome: &StoredOutcome,
    rows: &[i64],
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE import_rows SET outcome = $1, message = $2 WHERE job_id = $3 AND row_no IN ({})",
        placeholders(4, rows.len())
    );
    let mut update = sqlx::query(&sql)
        .bind(outcome.kind.as_str())
        .bind(outcome.message.as_str())
        .bind(job_id);
    for row in rows {
        update = update.bind(*row);
    }
    update.execute(&mut **tx).await?;
    count_rows(tx, job_id, outcome.kind, rows.len()).await
}
