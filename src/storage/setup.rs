//! One-time setup tokens for creating the first master administrator.

use super::{Result, Storage};

impl Storage {
    pub async fn add_setup_token(&self, token_hash: &str) -> Result<()> {
        sqlx::query("INSERT INTO setup_tokens (token_hash, created_at) VALUES ($1, $2)")
            .bind(token_hash)
            .bind(self.now())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn setup_token_exists(&self, token_hash: &str) -> Result<bool> {
        let found: Option<(String,)> =
            sqlx::query_as("SELECT token_hash FROM setup_tokens WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
        Ok(found.is_some())
    }

    /// Spends the token: true for exactly one caller, even when two submit the form at once.
    pub async fn take_setup_token(&self, token_hash: &str) -> Result<bool> {
        let deleted = sqlx::query("DELETE FROM setup_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(deleted.rows_affected() == 1)
    }

    /// Once a master administrator exists, every outstanding link dies.
    pub async fn clear_setup_tokens(&self) -> Result<()> {
        sqlx::query("DELETE FROM setup_tokens")
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
