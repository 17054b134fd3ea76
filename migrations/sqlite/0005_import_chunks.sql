-- A validated import's pending rows in chunks, each claimed by one process at a time with a
-- lease of its own: on PostgreSQL every Roster process hashes and writes the chunks it claims,
-- so one import uses them all. A chunk covers the rows numbered first_row..=last_row; those
-- still without an outcome are its work. done_at is set when its last row is written, or when
-- the job ends (which closes every chunk, so a late writer writes nothing); done_by says which
-- process wrote it.
CREATE TABLE import_chunks (
    job_id      INTEGER NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
    chunk_no    INTEGER NOT NULL,
    first_row   INTEGER NOT NULL,
    last_row    INTEGER NOT NULL,
    owner       TEXT,
    lease_until INTEGER,
    attempts    INTEGER NOT NULL DEFAULT 0,
    done_at     INTEGER,
    done_by     TEXT,
    PRIMARY KEY (job_id, chunk_no)
);
CREATE INDEX import_chunks_open ON import_chunks (job_id, chunk_no) WHERE done_at IS NULL;
