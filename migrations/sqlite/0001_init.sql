-- Roster schema, SQLite dialect. Integers are INTEGER (64-bit); times are unix seconds (UTC).
-- Case-insensitive uniqueness uses *_key columns folded in Rust, because SQLite's lower() only
-- folds ASCII and the two backends must agree.

CREATE TABLE admins (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT    NOT NULL,
    email_key     TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    is_master     INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

CREATE TABLE agent_groups (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    parent_id   INTEGER REFERENCES agent_groups (id),
    name        TEXT    NOT NULL,
    name_key    TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    enabled     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX agent_groups_sibling_name ON agent_groups (COALESCE(parent_id, 0), name_key);
CREATE INDEX agent_groups_parent ON agent_groups (parent_id);

CREATE TABLE admin_groups (
    admin_id INTEGER NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    group_id INTEGER NOT NULL REFERENCES agent_groups (id) ON DELETE CASCADE,
    PRIMARY KEY (admin_id, group_id)
);

CREATE TABLE agents (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id      INTEGER NOT NULL REFERENCES agent_groups (id),
    name          TEXT    NOT NULL,
    nickname      TEXT    NOT NULL DEFAULT '',
    email         TEXT    NOT NULL,
    email_key     TEXT    NOT NULL UNIQUE,
    description   TEXT    NOT NULL DEFAULT '',
    enabled       INTEGER NOT NULL DEFAULT 1,
    password_hash TEXT    NOT NULL,
    import_job_id INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX agents_group_name ON agents (group_id, name, id);

-- The session token itself is never stored: only its SHA-256, so a copy of the database
-- cannot be replayed as cookies.
CREATE TABLE sessions (
    token_hash   TEXT    PRIMARY KEY,
    kind         TEXT    NOT NULL,
    principal_id INTEGER NOT NULL,
    csrf_token   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX sessions_principal ON sessions (kind, principal_id);

CREATE TABLE setup_tokens (
    token_hash TEXT    PRIMARY KEY,
    created_at INTEGER NOT NULL
);

CREATE TABLE import_jobs (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id          INTEGER NOT NULL REFERENCES agent_groups (id) ON DELETE CASCADE,
    submitted_by      TEXT    NOT NULL,
    file_name         TEXT    NOT NULL,
    upload            BLOB,
    state             TEXT    NOT NULL,
    total_rows        INTEGER,
    done_rows         INTEGER NOT NULL DEFAULT 0,
    created_count     INTEGER NOT NULL DEFAULT 0,
    failed_count      INTEGER NOT NULL DEFAULT 0,
    error             TEXT,
    owner             TEXT,
    lease_until       INTEGER,
    attempts          INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    started_at        INTEGER,
    finished_at       INTEGER,
    result            BLOB,
    result_expires_at INTEGER
);
CREATE INDEX import_jobs_state ON import_jobs (state, id);
CREATE INDEX import_jobs_group ON import_jobs (group_id, id);

-- One row per data row of the sheet, written when the job validates the file; outcome stays
-- NULL until the row's agent is created (or refused), so a resumed job knows where to go on.
CREATE TABLE import_rows (
    job_id  INTEGER NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
    row_no  INTEGER NOT NULL,
    outcome TEXT,
    PRIMARY KEY (job_id, row_no)
);
