use sqlx::{Any, Transaction};

use super::{Result, Storage, StorageError, duplicate_or};
use crate::domain::{AgentName, Email, Id};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AdminRecord {
    pub id: Id,
    pub email: String,
    pub name: String,
    pub is_master: i64,
    pub password_hash: String,
    pub created_at: i64,
}

impl AdminRecord {
    pub(crate) fn is_master(&self) -> bool {
        self.is_master != 0
    }
}

pub struct NewAdmin<'a> {
    pub email: &'a Email,
    pub name: &'a AgentName,
    pub password_hash: &'a str,
    pub is_master: bool,
    pub group_ids: &'a [Id],
}

const ADMIN_COLUMNS: &str = "id, email, name, is_master, password_hash, created_at";

impl Storage {
    /// A new master also kills every outstanding setup link, in the same transaction: once a
    /// master exists, no link may make another.
    pub async fn create_admin(&self, admin: NewAdmin<'_>) -> Result<Id> {
        let mut tx = self.pool.begin().await?;
        let id = self.insert_admin(&mut tx, &admin).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The insert shared by [`Storage::create_admin`] and the setup link's first master.
    pub(super) async fn insert_admin(
        &self,
        tx: &mut Transaction<'_, Any>,
        admin: &NewAdmin<'_>,
    ) -> Result<Id> {
        let (id,): (Id,) = sqlx::query_as(
            "INSERT INTO admins (email, email_key, name, password_hash, is_master, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(admin.email.as_str())
        .bind(admin.email.key())
        .bind(admin.name.as_str())
        .bind(admin.password_hash)
        .bind(i64::from(admin.is_master))
        .bind(self.now())
        .fetch_one(&mut **tx)
        .await
        .map_err(duplicate_or)?;
        for group_id in admin.group_ids {
            sqlx::query("INSERT INTO admin_groups (admin_id, group_id) VALUES ($1, $2)")
                .bind(id)
                .bind(group_id)
                .execute(&mut **tx)
                .await?;
        }
        if admin.is_master {
            sqlx::query("DELETE FROM setup_tokens")
                .execute(&mut **tx)
                .await?;
        }
        Ok(id)
    }

    pub async fn admin_by_email(&self, email: &Email) -> Result<Option<AdminRecord>> {
        let sql = format!("SELECT {ADMIN_COLUMNS} FROM admins WHERE email_key = $1");
        Ok(sqlx::query_as(&sql)
            .bind(email.key())
            .fetch_optional(&self.pool)
            .await?)
    }

    pub(crate) async fn admin_by_id(&self, id: Id) -> Result<Option<AdminRecord>> {
        let sql = format!("SELECT {ADMIN_COLUMNS} FROM admins WHERE id = $1");
        Ok(sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn list_admins(&self) -> Result<Vec<AdminRecord>> {
        let sql = format!("SELECT {ADMIN_COLUMNS} FROM admins ORDER BY is_master DESC, name, id");
        Ok(sqlx::query_as(&sql).fetch_all(&self.pool).await?)
    }

    pub async fn master_admin_exists(&self) -> Result<bool> {
        let found: Option<(Id,)> =
            sqlx::query_as("SELECT id FROM admins WHERE is_master = 1 LIMIT 1")
                .fetch_optional(&self.pool)
                .await?;
        Ok(found.is_some())
    }

    /// The groups assigned to an administrator (not those below them).
    pub async fn admin_group_ids(&self, admin_id: Id) -> Result<Vec<Id>> {
        let rows: Vec<(Id,)> = sqlx::query_as(
            "SELECT group_id FROM admin_groups WHERE admin_id = $1 ORDER BY group_id",
        )
        .bind(admin_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// A taken email answers [`StorageError::Duplicate`] and changes nothing.
    pub async fn update_admin(
        &self,
        id: Id,
        email: &Email,
        name: &AgentName,
        is_master: bool,
        group_ids: &[Id],
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE admins SET email = $1, email_key = $2, name = $3, is_master = $4 WHERE id = $5",
        )
        .bind(email.as_str())
        .bind(email.key())
        .bind(name.as_str())
        .bind(i64::from(is_master))
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(duplicate_or)?;
        if updated.rows_affected() == 0 {
            return Err(StorageError::NotFound);
        }
        sqlx::query("DELETE FROM admin_groups WHERE admin_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if !group_ids.is_empty() {
            let values = (0..group_ids.len())
                .map(|i| format!("($1, ${})", i + 2))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!("INSERT INTO admin_groups (admin_id, group_id) VALUES {values}");
            let mut query = sqlx::query(&sql).bind(id);
            for group_id in group_ids {
                query = query.bind(*group_id);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Sets an administrator's password and, in the same step, ends their sessions and API
    /// tokens but `keep` (the session of an administrator changing their own).
    pub(crate) async fn set_admin_password(
        &self,
        id: Id,
        password_hash: &str,
        keep: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query("UPDATE admins SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if updated.rows_affected() == 0 {
            return Err(StorageError::NotFound);
        }
        sqlx::query(
            "DELETE FROM sessions WHERE kind <> 'agent' AND principal_id = $1 AND token_hash <> $2",
        )
        .bind(id)
        .bind(keep.unwrap_or_default())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes the administrator and ends their sessions in one step.
    pub(crate) async fn delete_admin(&self, id: Id) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM sessions WHERE kind <> 'agent' AND principal_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let deleted = sqlx::query("DELETE FROM admins WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if deleted.rows_affected() == 0 {
            return Err(StorageError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }
}
