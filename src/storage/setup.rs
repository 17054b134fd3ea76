//! One-time setup tokens for creating the first master administrator.

use super::{NewAdmin, Result, Storage};
use crate::domain::Id;

impl Storage {
    pub(crate) async fn add_setup_token(&self, token_hash: &str) -> Result<()> {
        sqlx::query("INSERT INTO setup_tokens (token_hash, created_at) VALUES ($1, $2)")
            .bind(token_hash)
            .bind(self.now())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(crate) async fn setup_token_exists(&self, token_hash: &str) -> Result<bool> {
        let found: Option<(String,)> =
            sqlx::query_as("SELECT token_hash FROM setup_tokens WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
        Ok(found.is_some())
    }

    /// Spends the token and creates the first master in one transaction: `None` when the token
    /// was already spent (two submits at once: exactly one wins). When the creation fails — the
    /// email belongs to an administrator already ([`super::StorageError::Duplicate`]) — the
    /// token is not spent, so the form can be corrected and sent again.
    pub(crate) async fn create_first_master(
        &self,
        token_hash: &str,
        admin: NewAdmin<'_>,
    ) -> Result<Option<Id>> {
        let mut tx = self.pool.begin().await?;
        let spent = sqlx::query("DELETE FROM setup_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&mut *tx)
            .await?;
        if spent.rows_affected() != 1 {
            return Ok(None);
        }
        let id = self
            .insert_admin(
                &mut tx,
                &NewAdmin {
                    is_master: true,
                    ..admin
                },
            )
            .await?;
        tx.commit().await?;
        Ok(Some(id))
    }
}
