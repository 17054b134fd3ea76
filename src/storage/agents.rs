use super::{Result, Storage, StorageError, duplicate_or, placeholders};
use crate::domain::{AgentName, Description, Email, Id, Nickname, natural_key};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AgentRecord {
    pub id: Id,
    pub group_id: Id,
    pub name: String,
    pub nickname: String,
    pub email: String,
    pub description: String,
    pub enabled: i64,
    pub password_hash: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub must_change_password: i64,
    /// The name's [`natural_key`], as stored: what a page of agents goes on from.
    pub sort_key: String,
}

impl AgentRecord {
    pub fn is_enabled(&self) -> bool {
        self.enabled != 0
    }

    /// Signed in, the agent reaches only the page that changes their password.
    pub fn must_change_password(&self) -> bool {
        self.must_change_password != 0
    }
}

/// Where a page of agents in natural order goes on from: the sort key and id of the last
/// agent of the page before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentCursor {
    pub sort_key: String,
    pub id: Id,
}

impl AgentCursor {
    pub fn after(agent: &AgentRecord) -> AgentCursor {
        AgentCursor {
            sort_key: agent.sort_key.clone(),
            id: agent.id,
        }
    }
}

pub struct NewAgent<'a> {
    pub group_id: Id,
    pub name: &'a AgentName,
    pub nickname: &'a Nickname,
    pub email: &'a Email,
    pub description: &'a Description,
    pub password_hash: &'a str,
    pub enabled: bool,
    pub must_change_password: bool,
}

pub struct AgentUpdate<'a> {
    pub group_id: Id,
    pub name: &'a AgentName,
    pub nickname: &'a Nickname,
    pub email: &'a Email,
    pub description: &'a Description,
    pub enabled: bool,
    pub must_change_password: bool,
}

/// An agent found by email: where it is, for an import deciding what its row does.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ExistingAgent {
    pub id: Id,
    pub group_id: Id,
    pub email_key: String,
}

/// One line of `roster export`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExportRow {
    pub group_id: Id,
    pub name: String,
    pub email: String,
    pub nickname: String,
    pub description: String,
    pub enabled: i64,
    pub created_at: i64,
    pub last_sign_in_at: Option<i64>,
}

const AGENT_COLUMNS: &str = "id, group_id, name, nickname, email, description, enabled, password_hash, created_at, updated_at, must_change_password, sort_key";

impl Storage {
    pub async fn create_agent(&self, agent: NewAgent<'_>) -> Result<Id> {
        let at = self.now();
        let (id,): (Id,) = sqlx::query_as(
            "INSERT INTO agents (group_id, name, nickname, email, email_key, description, enabled, \
                                 password_hash, created_at, updated_at, must_change_password, sort_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $11, $7, $8, $8, $9, $10) RETURNING id",
        )
        .bind(agent.group_id)
        .bind(agent.name.as_str())
        .bind(agent.nickname.as_str())
        .bind(agent.email.as_str())
        .bind(agent.email.key())
        .bind(agent.description.as_str())
        .bind(agent.password_hash)
        .bind(at)
        .bind(i64::from(agent.must_change_password))
        .bind(natural_key(agent.name.as_str()))
        .bind(i64::from(agent.enabled))
        .fetch_one(&self.pool)
        .await
        .map_err(duplicate_or)?;
        Ok(id)
    }

    pub async fn agent_by_id(&self, id: Id) -> Result<Option<AgentRecord>> {
        let sql = format!("SELECT {AGENT_COLUMNS} FROM agents WHERE id = $1");
        Ok(sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn agent_by_email(&self, email: &Email) -> Result<Option<AgentRecord>> {
        let sql = format!("SELECT {AGENT_COLUMNS} FROM agents WHERE email_key = $1");
        Ok(sqlx::query_as(&sql)
            .bind(email.key())
            .fetch_optional(&self.pool)
            .await?)
    }

    /// One page of a group's agents, in natural order, after `after` (the last of the page
    /// before): a group may hold 100,000 agents, and a deep page costs what the first one
    /// does, through the index on (group_id, sort_key, id).
    pub async fn agents_in_group(
        &self,
        group_id: Id,
        limit: i64,
        after: Option<&AgentCursor>,
    ) -> Result<Vec<AgentRecord>> {
        let keyset = match after {
            Some(_) => "AND (sort_key, id) > ($3, $4)",
            None => "",
        };
        let sql = format!(
            "SELECT {AGENT_COLUMNS} FROM agents WHERE group_id = $1 {keyset} \
             ORDER BY sort_key, id LIMIT $2"
        );
        let mut query = sqlx::query_as(&sql).bind(group_id).bind(limit);
        if let Some(after) = after {
            query = query.bind(after.sort_key.as_str()).bind(after.id);
        }
        Ok(query.fetch_all(&self.pool).await?)
    }

    /// Agents whose name or email contains `needle` (already lower-cased) literally, within the
    /// groups given: `ann_lee` finds `ann_lee` only, `50%` finds `50%`. At most `limit` of
    /// them, in natural order, and how many match in all.
    pub async fn search_agents(
        &self,
        group_ids: &[Id],
        needle: &str,
        limit: i64,
    ) -> Result<(Vec<AgentRecord>, i64)> {
        if group_ids.is_empty() {
            return Ok((Vec::new(), 0));
        }
        let matching = format!(
            "FROM agents WHERE (lower(name) LIKE $1 ESCAPE '\\' OR email_key LIKE $1 ESCAPE '\\') \
               AND group_id IN ({})",
            placeholders(3, group_ids.len())
        );
        let pattern = format!("%{}%", escape_like(needle));
        let sql = format!("SELECT {AGENT_COLUMNS} {matching} ORDER BY sort_key, id LIMIT $2");
        let mut query = sqlx::query_as(&sql).bind(&pattern).bind(limit);
        // The count takes the same parameters: $2 is there, unused, to keep the numbering.
        let count_sql = format!("SELECT COUNT(*) {matching} AND $2 = $2");
        let mut count = sqlx::query_scalar(&count_sql).bind(&pattern).bind(limit);
        for id in group_ids {
            query = query.bind(*id);
            count = count.bind(*id);
        }
        let agents = query.fetch_all(&self.pool).await?;
        let total: i64 = count.fetch_one(&self.pool).await?;
        Ok((agents, total))
    }

    pub async fn update_agent(&self, id: Id, update: AgentUpdate<'_>) -> Result<()> {
        let updated = sqlx::query(
            "UPDATE agents SET group_id = $1, name = $2, nickname = $3, email = $4, email_key = $5, \
                               description = $6, enabled = $7, updated_at = $8, must_change_password = $9, \
                               sort_key = $11, revision = revision + 1 WHERE id = $10",
        )
        .bind(update.group_id)
        .bind(update.name.as_str())
        .bind(update.nickname.as_str())
        .bind(update.email.as_str())
        .bind(update.email.key())
        .bind(update.description.as_str())
        .bind(i64::from(update.enabled))
        .bind(self.now())
        .bind(i64::from(update.must_change_password))
        .bind(id)
        .bind(natural_key(update.name.as_str()))
        .execute(&self.pool)
        .await
        .map_err(duplicate_or)?;
        if updated.rows_affected() == 0 {
            return Err(StorageError::NotFound);
        }
        if !update.enabled {
            self.delete_agent_sessions(id).await?;
        }
        Ok(())
    }

    /// An agent signed in just now.
    pub(crate) async fn note_agent_sign_in(&self, id: Id) -> Result<()> {
        sqlx::query("UPDATE agents SET last_sign_in_at = $1 WHERE id = $2")
            .bind(self.now())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Sets an agent's password and whether they must change it at their next sign-in, and
    /// ends their sessions but `keep` (the session of an agent changing their own).
    pub(crate) async fn set_agent_password(
        &self,
        id: Id,
        password_hash: &str,
        must_change: bool,
        keep: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE agents SET password_hash = $1, must_change_password = $2, updated_at = $3, \
             revision = revision + 1 WHERE id = $4",
        )
        .bind(password_hash)
        .bind(i64::from(must_change))
        .bind(self.now())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM sessions WHERE kind = 'agent' AND principal_id = $1 AND token_hash <> $2",
        )
        .bind(id)
        .bind(keep.unwrap_or_default())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn delete_agent(&self, id: Id) -> Result<()> {
        self.delete_agent_sessions(id).await?;
        let deleted = sqlx::query("DELETE FROM agents WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        if deleted.rows_affected() == 0 {
            return Err(StorageError::NotFound);
        }
        Ok(())
    }

    /// The agents that already have these email keys, with their groups.
    pub async fn agents_by_email_keys(&self, keys: &[&str]) -> Result<Vec<ExistingAgent>> {
        let mut found = Vec::new();
        // Measured on 100,000 emails: PostgreSQL takes 0.2 s in statements of 10,000 keys
        // (0.5 s in statements of 1,000); SQLite, whose limit is 32,766 bound values, is
        // five times slower with 10,000 than with 1,000.
        let chunk_size = match self.backend {
            super::Backend::Postgres => 10_000,
            super::Backend::Sqlite => 1_000,
        };
        for chunk in keys.chunks(chunk_size) {
            let sql = format!(
                "SELECT id, group_id, email_key FROM agents WHERE email_key IN ({})",
                placeholders(1, chunk.len())
            );
            let mut query = sqlx::query_as::<_, ExistingAgent>(&sql);
            for key in chunk {
                query = query.bind(*key);
            }
            found.extend(query.fetch_all(&self.pool).await?);
        }
        Ok(found)
    }

    /// Which of these email keys already belong to an agent.
    pub async fn existing_agent_emails(&self, keys: &[&str]) -> Result<Vec<String>> {
        let mut found = Vec::new();
        // SQLite allows at most 32,766 bound values per statement; stay well below.
        for chunk in keys.chunks(1000) {
            let sql = format!(
                "SELECT email_key FROM agents WHERE email_key IN ({})",
                placeholders(1, chunk.len())
            );
            let mut query = sqlx::query_as::<_, (String,)>(&sql);
            for key in chunk {
                query = query.bind(*key);
            }
            found.extend(
                query
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(|(key,)| key),
            );
        }
        Ok(found)
    }

    pub(crate) async fn export_agents(&self, group_ids: &[Id]) -> Result<Vec<ExportRow>> {
        let mut rows = Vec::new();
        for chunk in group_ids.chunks(1000) {
            let sql = format!(
                "SELECT group_id, name, email, nickname, description, enabled, created_at, last_sign_in_at \
                 FROM agents \
                 WHERE group_id IN ({}) \
                 ORDER BY group_id, sort_key, id",
                placeholders(1, chunk.len())
            );
            let mut query = sqlx::query_as(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            rows.extend(query.fetch_all(&self.pool).await?);
        }
        Ok(rows)
    }
}

/// `needle` as a LIKE pattern that matches itself only: `%`, `_` and the escape character are
/// escaped with `\`, which both backends accept as the `ESCAPE` character.
fn escape_like(needle: &str) -> String {
    let mut pattern = String::with_capacity(needle.len());
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(escape_like("ann_lee"), "ann\\_lee");
        assert_eq!(escape_like("50%"), "50\\%");
        assert_eq!(escape_like("a\\b"), "a\\\\b");
        assert_eq!(escape_like("plain"), "plain");
    }
}
