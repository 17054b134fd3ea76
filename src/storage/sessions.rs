//! Sessions live in the database so that every Roster process behind a load balancer shares
//! them. Only the SHA-256 of a session token is stored.

use super::{Result, Storage};
use crate::domain::Id;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// A signed-in administrator in a browser.
    Admin,
    /// A signed-in agent in a browser.
    Agent,
    /// An administrator's API token (sent as `Authorization: Bearer`).
    Api,
}

impl SessionKind {
    fn as_str(self) -> &'static str {
        match self {
            SessionKind::Admin => "admin",
            SessionKind::Agent => "agent",
            SessionKind::Api => "api",
        }
    }
}

/// Which sessions have expired, as times: anything last seen or created before them.
#[derive(Debug, Clone, Copy)]
pub struct SessionExpiry {
    pub idle_before: i64,
    pub created_before: i64,
    pub token_idle_before: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRecord {
    pub kind: String,
    pub principal_id: Id,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
}

impl SessionRecord {
    pub fn kind(&self) -> Option<SessionKind> {
        [SessionKind::Admin, SessionKind::Agent, SessionKind::Api]
            .into_iter()
            .find(|kind| kind.as_str() == self.kind)
    }
}

impl Storage {
    pub async fn create_session(
        &self,
        token_hash: &str,
        kind: SessionKind,
        principal_id: Id,
        csrf_token: &str,
        at: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, kind, principal_id, csrf_token, created_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(token_hash)
        .bind(kind.as_str())
        .bind(principal_id)
        .bind(csrf_token)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>> {
        Ok(sqlx::query_as(
            "SELECT kind, principal_id, csrf_token, created_at, last_seen_at FROM sessions WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub(crate) async fn touch_session(&self, token_hash: &str, at: i64) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
            .bind(at)
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(crate) async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Ends an agent's sessions, e.g. when the agent is disabled or deleted.
    pub(crate) async fn delete_agent_sessions(&self, agent_id: Id) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE kind = 'agent' AND principal_id = $1")
            .bind(agent_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Housekeeping: browser sessions idle since `idle_before` or created before
    /// `created_before`; API tokens unused since `token_idle_before` (they have no maximum
    /// age: a script's token lasts while the script runs).
    pub async fn delete_expired_sessions(&self, expiry: SessionExpiry) -> Result<u64> {
        let deleted = sqlx::query(
            "DELETE FROM sessions WHERE \
             (kind <> 'api' AND (last_seen_at < $1 OR created_at < $2)) \
             OR (kind = 'api' AND last_seen_at < $3)",
        )
        .bind(expiry.idle_before)
        .bind(expiry.created_before)
        .bind(expiry.token_idle_before)
        .execute(&self.pool)
        .await?;
        Ok(deleted.rows_affected())
    }
}
