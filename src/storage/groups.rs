use super::{Result, Storage, StorageError, duplicate_or};
use crate::domain::{Description, GroupName, Id};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupRecord {
    pub id: Id,
    pub parent_id: Option<Id>,
    pub name: String,
    pub description: String,
    pub enabled: i64,
    pub agent_count: i64,
}

impl GroupRecord {
    pub fn is_enabled(&self) -> bool {
        self.enabled != 0
    }
}

pub struct GroupUpdate<'a> {
    pub name: &'a GroupName,
    pub description: &'a Description,
    pub enabled: bool,
    pub parent_id: Option<Id>,
}

impl Storage {
    /// Every group with its number of agents. Even a large account has about a thousand groups,
    /// so the tree and the rights are computed from this one list.
    pub async fn all_groups(&self) -> Result<Vec<GroupRecord>> {
        Ok(sqlx::query_as(
            "SELECT g.id, g.parent_id, g.name, g.description, g.enabled, \
                    COALESCE(c.agent_count, 0) AS agent_count \
             FROM agent_groups g \
             LEFT JOIN (SELECT group_id, COUNT(*) AS agent_count FROM agents GROUP BY group_id) c \
                    ON c.group_id = g.id \
             ORDER BY g.name_key, g.id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn create_group(
        &self,
        parent_id: Option<Id>,
        name: &GroupName,
        description: &Description,
    ) -> Result<Id> {
        self.create_group_enabled(parent_id, name, description, true)
            .await
    }

    /// A new group, disabled from the start when `enabled` is false (the API may ask for it).
    pub(crate) async fn create_group_enabled(
        &self,
        parent_id: Option<Id>,
        name: &GroupName,
        description: &Description,
        enabled: bool,
    ) -> Result<Id> {
        let (id,): (Id,) = sqlx::query_as(
            "INSERT INTO agent_groups (parent_id, name, name_key, description, enabled, created_at) \
             VALUES ($1, $2, $3, $4, $6, $5) RETURNING id",
        )
        .bind(parent_id)
        .bind(name.as_str())
        .bind(name.key())
        .bind(description.as_str())
        .bind(self.now())
        .bind(i64::from(enabled))
        .fetch_one(&self.pool)
        .await
        .map_err(duplicate_or)?;
        Ok(id)
    }

    /// The caller has checked that the new parent is not the group itself or below it.
    pub(crate) async fn update_group(&self, id: Id, update: GroupUpdate<'_>) -> Result<()> {
        let updated = sqlx::query(
            "UPDATE agent_groups SET name = $1, name_key = $2, description = $3, enabled = $4, parent_id = $5 \
             WHERE id = $6",
        )
        .bind(update.name.as_str())
        .bind(update.name.key())
        .bind(update.description.as_str())
        .bind(i64::from(update.enabled))
        .bind(update.parent_id)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(duplicate_or)?;
        if updated.rows_affected() == 0 {
            return Err(StorageError::NotFound);
        }
        if !update.enabled {
            self.end_agent_sessions_below(id).await?;
        }
        Ok(())
    }

    /// Whether a group and every group above it are enabled: agents sign in only then.
    pub(crate) async fn group_chain_enabled(&self, id: Id) -> Result<bool> {
        let disabled: i64 = sqlx::query_scalar(
            "WITH RECURSIVE chain (id, parent_id, enabled) AS (                  SELECT id, parent_id, enabled FROM agent_groups WHERE id = $1                  UNION ALL                  SELECT g.id, g.parent_id, g.enabled FROM agent_groups g JOIN chain c ON g.id = c.parent_id              ) SELECT COUNT(*) FROM chain WHERE enabled = 0",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        Ok(disabled == 0)
    }

    /// Ends the sessions of every agent in a group and the groups below it (it was disabled).
    async fn end_agent_sessions_below(&self, id: Id) -> Result<()> {
        sqlx::query(
            "WITH RECURSIVE below (id) AS (                  SELECT id FROM agent_groups WHERE id = $1                  UNION ALL                  SELECT g.id FROM agent_groups g JOIN below b ON g.parent_id = b.id              ) DELETE FROM sessions WHERE kind = 'agent' AND principal_id IN                (SELECT a.id FROM agents a JOIN below b ON a.group_id = b.id)",
        )
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Deletes an empty group. The emptiness test is part of the statement, so an agent added
    /// meanwhile by another request keeps the group alive. Returns false when not empty.
    pub async fn delete_empty_group(&self, id: Id) -> Result<bool> {
        let deleted = sqlx::query(
            "DELETE FROM agent_groups WHERE id = $1 \
             AND NOT EXISTS (SELECT 1 FROM agents WHERE group_id = $1) \
             AND NOT EXISTS (SELECT 1 FROM agent_groups c WHERE c.parent_id = $1)",
        )
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(deleted.rows_affected() == 1)
    }
}
