//! Failed sign-ins, counted by the throttle: who was tried (the normalised email), from where,
//! and when.

use super::{Result, Storage};

/// Whose failures a throttle allowance counts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FailureScope<'a> {
    /// One account, tried from anywhere.
    Account(&'a str),
    /// One account, tried from one address.
    AccountFrom(&'a str, &'a str),
    /// Any account, tried from one address.
    Address(&'a str),
}

impl Storage {
    /// The times of the scope's most recent failures after `since`, newest first, at most
    /// `limit` of them.
    pub(crate) async fn recent_sign_in_failures(
        &self,
        scope: FailureScope<'_>,
        since: i64,
        limit: i64,
    ) -> Result<Vec<i64>> {
        let query = match scope {
            FailureScope::Account(account) => sqlx::query_scalar(
                "SELECT failed_at FROM sign_in_failures WHERE account_key = $1 AND failed_at > $2 \
                 ORDER BY failed_at DESC LIMIT $3",
            )
            .bind(account),
            FailureScope::AccountFrom(account, address) => sqlx::query_scalar(
                "SELECT failed_at FROM sign_in_failures \
                 WHERE account_key = $1 AND address = $2 AND failed_at > $3 \
                 ORDER BY failed_at DESC LIMIT $4",
            )
            .bind(account)
            .bind(address),
            FailureScope::Address(address) => sqlx::query_scalar(
                "SELECT failed_at FROM sign_in_failures WHERE address = $1 AND failed_at > $2 \
                 ORDER BY failed_at DESC LIMIT $3",
            )
            .bind(address),
        };
        let query = query.bind(since).bind(limit);
        Ok(query.fetch_all(&self.pool).await?)
    }

    pub(crate) async fn record_sign_in_failure(
        &self,
        account: &str,
        address: &str,
        at: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO sign_in_failures (account_key, address, failed_at) VALUES ($1, $2, $3)",
        )
        .bind(account)
        .bind(address)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A sign-in succeeded: the account's failures from that address are forgiven.
    pub(crate) async fn forget_sign_in_failures(&self, account: &str, address: &str) -> Result<()> {
        sqlx::query("DELETE FROM sign_in_failures WHERE account_key = $1 AND address = $2")
            .bind(account)
            .bind(address)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Failures the throttle no longer looks at; answers how many were deleted.
    pub(crate) async fn delete_sign_in_failures_before(&self, before: i64) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM sign_in_failures WHERE failed_at < $1")
                .bind(before)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }
}
