//! Fixes to stored data that need the application's rules, not SQL: each runs once, after the
//! migrations, and is recorded in `data_fixes`. Running one twice (two processes starting at
//! once) changes nothing more.

use super::{Result, Storage};
use crate::domain::{Email, Id, natural_key};

const IDNA_EMAIL_KEYS: &str = "idna_email_keys";
const AGENT_SORT_KEYS: &str = "agent_sort_keys";

/// Agents keyed by one statement: three bound values each, well below SQLite's limit.
const SORT_KEY_BATCH: i64 = 500;

impl Storage {
    pub(super) async fn apply_data_fixes(&self) -> Result<()> {
        if !self.data_fix_applied(IDNA_EMAIL_KEYS).await? {
            for table in ["agents", "admins"] {
                self.rekey_emails(table).await?;
            }
            self.record_data_fix(IDNA_EMAIL_KEYS).await?;
        }
        if !self.data_fix_applied(AGENT_SORT_KEYS).await? {
            self.key_agent_names().await?;
            self.record_data_fix(AGENT_SORT_KEYS).await?;
        }
        Ok(())
    }

    async fn data_fix_applied(&self, name: &str) -> Result<bool> {
        let found: Option<String> =
            sqlx::query_scalar("SELECT name FROM data_fixes WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
        Ok(found.is_some())
    }

    async fn record_data_fix(&self, name: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO data_fixes (name, applied_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(self.now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Email keys written before domains were compared in their ASCII form: only a key with a
    /// character outside ASCII can differ, so only those are rewritten. A key another account
    /// holds already (the same address stored in both forms) is left, and logged.
    async fn rekey_emails(&self, table: &str) -> Result<()> {
        let rows: Vec<(i64, String, String)> =
            sqlx::query_as(&format!("SELECT id, email, email_key FROM {table}"))
                .fetch_all(&self.pool)
                .await?;
        for (id, email, key) in rows.into_iter().filter(|(_, _, key)| !key.is_ascii()) {
            let Ok(parsed) = Email::parse(&email) else {
                continue;
            };
            if parsed.key() == key {
                continue;
            }
            let sql = format!("UPDATE {table} SET email_key = $1 WHERE id = $2");
            let updated = sqlx::query(&sql)
                .bind(parsed.key())
                .bind(id)
                .execute(&self.pool)
                .await;
            if let Err(error) = updated {
                tracing::warn!(table, id, %error, "an email key could not be rewritten in its ASCII form");
            }
        }
        Ok(())
    }

    /// Agents stored before names had sort keys (migration 0013 gave them ''; a name is never
    /// empty, so no written key is): each gets its name's key, a batch at a time by id, so a
    /// million agents are never in memory at once nor written one statement each. A name
    /// changed meanwhile by another process keeps the key written with it.
    async fn key_agent_names(&self) -> Result<()> {
        let mut after = Id::MIN;
        loop {
            let agents: Vec<(Id, String)> = sqlx::query_as(
                "SELECT id, name FROM agents WHERE sort_key = '' AND id > $1 ORDER BY id LIMIT $2",
            )
            .bind(after)
            .bind(SORT_KEY_BATCH)
            .fetch_all(&self.pool)
            .await?;
            let Some(&(last, _)) = agents.last() else {
                return Ok(());
            };
            // VALUES names its columns column1, column2… on both backends; the casts give
            // PostgreSQL the types it cannot guess for parameters in a VALUES list.
            let values = (0..agents.len())
                .map(|i| {
                    let first = 1 + 3 * i;
                    format!(
                        "(CAST(${first} AS BIGINT), CAST(${} AS TEXT), CAST(${} AS TEXT))",
                        first + 1,
                        first + 2
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "UPDATE agents SET sort_key = keyed.column2 FROM (VALUES {values}) AS keyed \
                 WHERE agents.id = keyed.column1 AND agents.name = keyed.column3"
            );
            let mut update = sqlx::query(&sql);
            for (id, name) in &agents {
                update = update.bind(*id).bind(natural_key(name)).bind(name.as_str());
            }
            update.execute(&self.pool).await?;
            after = last;
        }
    }
}
