//! Fixes to stored data that need the application's rules, not SQL: each runs once, after the
//! migrations, and is recorded in `data_fixes`. Running one twice (two processes starting at
//! once) changes nothing more.

use super::{Result, Storage};
use crate::domain::Email;

const IDNA_EMAIL_KEYS: &str = "idna_email_keys";

impl Storage {
    pub(super) async fn apply_data_fixes(&self) -> Result<()> {
        if !self.data_fix_applied(IDNA_EMAIL_KEYS).await? {
            for table in ["agents", "admins"] {
                self.rekey_emails(table).await?;
            }
            self.record_data_fix(IDNA_EMAIL_KEYS).await?;
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
}
