//! An undo's run, batch by batch: each batch takes agents back and marks their rows in one
//! transaction that first re-checks the lease, so a process that lost it writes nothing and
//! the next owner starts from the rows whose `undo` is still NULL.

use super::{Result, Storage, import_undo::UNDOABLE, placeholders};
use crate::domain::{Id, natural_key};

/// What [`Storage::undo_batch`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UndoBatch {
    pub reverted: u64,
    pub kept: u64,
    /// Rows remain for another batch.
    pub left: bool,
}

/// The lease test of an undo's writes.
const HELD_UNDOING: &str = "id = $1 AND owner = $2 AND state = 'undoing'";

/// A row as undo reads it.
#[derive(sqlx::FromRow)]
struct UndoRow {
    row_no: i64,
    /// 1 for an update, 0 for a create.
    updated: i64,
    agent_id: Option<Id>,
    agent_revision: Option<i64>,
    before_group_id: Option<Id>,
    before_name: Option<String>,
    before_nickname: Option<String>,
    before_description: Option<String>,
    before_password_hash: Option<String>,
    before_must_change_password: Option<i64>,
}

/// An updated agent's values before the import, complete (a row missing any is not undoable).
struct Earlier<'a> {
    group_id: Id,
    name: &'a str,
    nickname: &'a str,
    description: &'a str,
    password_hash: &'a str,
    /// None for rows written before the flag was kept: the flag stays as it is.
    must_change_password: Option<i64>,
}

impl UndoRow {
    fn earlier(&self) -> Option<Earlier<'_>> {
        Some(Earlier {
            group_id: self.before_group_id?,
            name: self.before_name.as_deref()?,
            nickname: self.before_nickname.as_deref()?,
            description: self.before_description.as_deref()?,
            password_hash: self.before_password_hash.as_deref()?,
            must_change_password: self.before_must_change_password,
        })
    }
}

type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;

impl Storage {
    /// Takes back up to `limit` rows, in row order, in one transaction that first re-checks
    /// the lease (and renews it): a created agent is deleted and signed out, an updated one
    /// gets its earlier values — each only if its revision is still the one the import left,
    /// else it is kept. Marks each row and adds to the job's counts in the same transaction.
    /// Returns None when the lease was lost, having written nothing.
    pub async fn undo_batch(
        &self,
        job_id: Id,
        owner: &str,
        lease_seconds: i64,
        limit: i64,
    ) -> Result<Option<UndoBatch>> {
        let at = self.now();
        let mut tx = self.pool.begin().await?;
        let sql = format!(
            "UPDATE import_jobs SET lease_until = $3, stalled_attempts = 0 WHERE {HELD_UNDOING}"
        );
        let ours = sqlx::query(&sql)
            .bind(job_id)
            .bind(owner)
            .bind(at + lease_seconds)
            .execute(&mut *tx)
            .await?;
        if ours.rows_affected() == 0 {
            return Ok(None);
        }
        let sql = format!(
            "SELECT row_no, CASE WHEN outcome = 'updated' THEN 1 ELSE 0 END AS updated, agent_id, \
                    agent_revision, before_group_id, before_name, before_nickname, \
                    before_description, before_password_hash, before_must_change_password \
             FROM import_rows WHERE {UNDOABLE} ORDER BY row_no LIMIT $2"
        );
        let rows: Vec<UndoRow> = sqlx::query_as(&sql)
            .bind(job_id)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        let (mut reverted, mut kept) = (Vec::new(), Vec::new());
        for row in &rows {
            let taken_back = match (row.agent_id, row.agent_revision) {
                (Some(agent_id), Some(revision)) if row.updated == 0 => {
                    delete_created(&mut tx, agent_id, revision).await?
                }
                (Some(agent_id), Some(revision)) => match row.earlier() {
                    Some(earlier) => {
                        restore_updated(&mut tx, at, agent_id, revision, earlier).await?
                    }
                    None => false,
                },
                // Written before Roster recorded the agent: nothing tells which one it is.
                _ => false,
            };
            if taken_back {
                reverted.push(row.row_no);
            } else {
                kept.push(row.row_no);
            }
        }
        mark_rows(&mut tx, job_id, "reverted", &reverted).await?;
        mark_rows(&mut tx, job_id, "kept", &kept).await?;
        sqlx::query(
            "UPDATE import_jobs SET undone_count = undone_count + $1, \
                    undo_kept_count = undo_kept_count + $2 WHERE id = $3",
        )
        .bind(reverted.len() as i64)
        .bind(kept.len() as i64)
        .bind(job_id)
        .execute(&mut *tx)
        .await?;
        let left = if (rows.len() as i64) < limit {
            false
        } else {
            let sql = format!("SELECT row_no FROM import_rows WHERE {UNDOABLE} LIMIT 1");
            sqlx::query_as::<_, (i64,)>(&sql)
                .bind(job_id)
                .fetch_optional(&mut *tx)
                .await?
                .is_some()
        };
        tx.commit().await?;
        Ok(Some(UndoBatch {
            reverted: reverted.len() as u64,
            kept: kept.len() as u64,
            left,
        }))
    }

    /// Ends an undo that reached its last row; false when the lease was lost.
    pub async fn finish_undo(&self, job_id: Id, owner: &str) -> Result<bool> {
        let sql = format!(
            "UPDATE import_jobs SET state = 'undone', undone_at = $3, \
                    owner = NULL, lease_until = NULL, phase = NULL \
             WHERE {HELD_UNDOING}"
        );
        let updated = sqlx::query(&sql)
            .bind(job_id)
            .bind(owner)
            .bind(self.now())
            .execute(&self.pool)
            .await?;
        Ok(updated.rows_affected() == 1)
    }

    /// Ends an undo that stopped too often without getting further: the rows it never reached
    /// are kept (and listed so), and the job is undone with what was taken back. False when
    /// the lease was lost.
    pub async fn give_up_undo(&self, job_id: Id, owner: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let sql = format!(
            "UPDATE import_jobs SET state = 'undone', undone_at = $3, \
                    owner = NULL, lease_until = NULL, phase = NULL \
             WHERE {HELD_UNDOING}"
        );
        let ours = sqlx::query(&sql)
            .bind(job_id)
            .bind(owner)
            .bind(self.now())
            .execute(&mut *tx)
            .await?;
        if ours.rows_affected() == 0 {
            return Ok(false);
        }
        let sql = format!("UPDATE import_rows SET undo = 'kept' WHERE {UNDOABLE}");
        let unreached = sqlx::query(&sql)
            .bind(job_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("UPDATE import_jobs SET undo_kept_count = undo_kept_count + $1 WHERE id = $2")
            .bind(unreached as i64)
            .bind(job_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Lets go of an undo whose run panicked, so a process takes it again at once. Unlike a
    /// graceful [`Storage::release_job`] the attempt still counts as stalled: a panic that
    /// repeats reaches the give-up instead of looping.
    pub async fn abandon_undo(&self, job_id: Id, owner: &str) -> Result<bool> {
        let sql =
            format!("UPDATE import_jobs SET owner = NULL, lease_until = NULL WHERE {HELD_UNDOING}");
        let updated = sqlx::query(&sql)
            .bind(job_id)
            .bind(owner)
            .execute(&self.pool)
            .await?;
        Ok(updated.rows_affected() == 1)
    }
}

/// Deletes an agent the import created, if nothing changed it since, and ends its sessions.
async fn delete_created(tx: &mut Tx<'_>, agent_id: Id, revision: i64) -> Result<bool> {
    let deleted = sqlx::query("DELETE FROM agents WHERE id = $1 AND revision = $2")
        .bind(agent_id)
        .bind(revision)
        .execute(&mut **tx)
        .await?;
    if deleted.rows_affected() == 0 {
        return Ok(false);
    }
    end_sessions(tx, agent_id).await?;
    Ok(true)
}

/// Puts an updated agent's earlier values back, if nothing changed it since. The update
/// repeats the revision read, so an edit in between keeps the agent instead of being
/// overwritten. A password put back ends the agent's sessions, as any password change does.
async fn restore_updated(
    tx: &mut Tx<'_>,
    at: i64,
    agent_id: Id,
    revision: i64,
    earlier: Earlier<'_>,
) -> Result<bool> {
    let current: Option<(String,)> =
        sqlx::query_as("SELECT password_hash FROM agents WHERE id = $1 AND revision = $2")
            .bind(agent_id)
            .bind(revision)
            .fetch_optional(&mut **tx)
            .await?;
    let Some((current_hash,)) = current else {
        return Ok(false);
    };
    let restored = sqlx::query(
        "UPDATE agents SET group_id = $1, name = $2, sort_key = $10, nickname = $3, description = $4, \
                password_hash = $5, revision = revision + 1, updated_at = $6, \
                must_change_password = COALESCE($9, must_change_password) \
         WHERE id = $7 AND revision = $8",
    )
    .bind(earlier.group_id)
    .bind(earlier.name)
    .bind(earlier.nickname)
    .bind(earlier.description)
    .bind(earlier.password_hash)
    .bind(at)
    .bind(agent_id)
    .bind(revision)
    .bind(earlier.must_change_password)
    .bind(natural_key(earlier.name))
    .execute(&mut **tx)
    .await?;
    if restored.rows_affected() == 0 {
        return Ok(false);
    }
    if current_hash != earlier.password_hash {
        end_sessions(tx, agent_id).await?;
    }
    Ok(true)
}

async fn end_sessions(tx: &mut Tx<'_>, agent_id: Id) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE kind = 'agent' AND principal_id = $1")
        .bind(agent_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Sets `undo` of these rows (at most one batch: well below SQLite's bound-value limit).
async fn mark_rows(tx: &mut Tx<'_>, job_id: Id, undo: &str, rows: &[i64]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE import_rows SET undo = $1 WHERE job_id = $2 AND row_no IN ({})",
        placeholders(3, rows.len())
    );
    let mut update = sqlx::query(&sql).bind(undo).bind(job_id);
    for row in rows {
        update = update.bind(*row);
    }
    update.execute(&mut **tx).await?;
    Ok(())
}
