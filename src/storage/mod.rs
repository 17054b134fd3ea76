//! The only place that knows SQL. One [`Storage`] over sqlx's `Any` driver: the same statements
//! (with `$1` placeholders) run on SQLite and PostgreSQL, and the few places where the dialects
//! differ branch on [`Backend`]. Queries are checked at run time, so building needs no database.

mod admins;
mod agents;
mod audit;
mod bulk_jobs;
mod data_fixes;
mod groups;
mod import_chunks;
mod import_jobs;
mod import_rows;
mod import_undo;
mod job_types;
mod sessions;
mod setup;
mod sign_in_failures;
mod undo_batch;

use std::{str::FromStr, time::Duration};

use sqlx::{
    AnyPool, Executor,
    any::{AnyConnectOptions, AnyPoolOptions},
};

use crate::domain::Clock;

pub use admins::{AdminRecord, NewAdmin};
pub use agents::{AgentCursor, AgentRecord, AgentUpdate, ExistingAgent, ExportRow, NewAgent};
pub use audit::{
    AgentOrigin, AuditAction, AuditActor, AuditEvent, AuditKind, AuditQuery, NewAuditEvent,
};
pub use bulk_jobs::{
    AgentChange, BULK_BATCH, BulkAction, BulkAgent, BulkBatch, BulkEnd, BulkJob, BulkState,
    NewBulkJob,
};
pub use groups::{GroupRecord, GroupUpdate};
pub use import_chunks::Chunk;
pub use import_jobs::NewImport;
pub use import_rows::{
    BatchWritten, NewImportRow, OutcomeKind, PendingAgent, PendingRow, StoredOutcome, WriteRefusals,
};
pub use import_undo::{KeptAgent, KeptBecause, UndoPreview, UndoRequest};
pub use job_types::{
    CancelRequest, CheckCounts, ClaimedJob, ImportJob, ImportMode, ImportOptions, JobEnd, JobPhase,
    JobState, UnknownMode,
};
pub use sessions::{SessionExpiry, SessionKind, SessionRecord};
pub(crate) use sign_in_failures::FailureScope;
pub use undo_batch::UndoBatch;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A uniqueness rule said no: the caller turns it into a message about the field.
    #[error("already exists")]
    Duplicate,
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A stored value this version does not know: a newer version wrote it, or it was edited
    /// by hand. Never guessed at.
    #[error("unknown value {value:?} in {column}")]
    Unknown { column: &'static str, value: String },
}

impl StorageError {
    fn unknown(column: &'static str, value: &str) -> StorageError {
        StorageError::Unknown {
            column,
            value: value.to_owned(),
        }
    }
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// Maps a unique-constraint violation to [`StorageError::Duplicate`], anything else to itself.
fn duplicate_or(error: sqlx::Error) -> StorageError {
    match error.as_database_error() {
        Some(db) if db.is_unique_violation() => StorageError::Duplicate,
        _ => StorageError::Database(error),
    }
}

#[derive(Clone)]
pub struct Storage {
    pool: AnyPool,
    backend: Backend,
    clock: Clock,
}

impl Storage {
    pub async fn connect(url: &str) -> Result<Storage> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        let options = AnyConnectOptions::from_str(url)?;
        let pool = match backend {
            // WAL lets the page read while an import writes; the busy timeout makes a second
            // writer wait instead of failing; synchronous=NORMAL is safe under WAL;
            // secure_delete zeroes what is deleted, such as an erased upload's passwords.
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(8)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; \
                                 PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
                                 PRAGMA secure_delete = ON;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await?
            }
        };
        Ok(Storage {
            pool,
            backend,
            clock: Clock::system(),
        })
    }

    pub async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        self.apply_data_fixes().await
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The same storage reading another clock: tests move time with it.
    pub fn with_clock(mut self, clock: Clock) -> Storage {
        self.clock = clock;
        self
    }

    /// The clock every lease, session and expiry of this storage reads.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    fn now(&self) -> i64 {
        self.clock.now()
    }

    /// For `/readyz`: the database answers a trivial query.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// After an upload is erased. On SQLite its bytes live on in the write-ahead log until
    /// that is overwritten; a truncating checkpoint ends them (secure_delete has zeroed the
    /// pages). PostgreSQL keeps dead row versions until (auto)vacuum reclaims them.
    async fn forget_erased(&self) {
        if self.backend != Backend::Sqlite {
            return;
        }
        let checkpoint: Result<(i64, i64, i64), _> =
            sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(&self.pool)
                .await;
        match checkpoint {
            Ok((0, _, _)) => {}
            Ok(_) => {
                tracing::warn!("the write-ahead log was busy; an erased upload leaves it later")
            }
            Err(error) => tracing::warn!(%error, "checkpoint after erasing an upload failed"),
        }
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Placeholders `$first, $first+1, …` for `count` values: the `Any` driver takes `$n` on both
/// backends, and batch statements need them numbered.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}
