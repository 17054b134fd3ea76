-- Bulk actions on many agents at once (move, enable, disable, must change password, delete)
-- and deleting a group with everything in it: a durable job that works through the agents
-- chosen when the administrator confirmed, a batch at a time, and goes on after a restart.
CREATE TABLE bulk_jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The group whose Properties show its progress (NULL: the top of the tree); no foreign
    -- keys, as a group's deletion is itself such a job and its record outlives the group.
    group_id        BIGINT,
    action          TEXT NOT NULL,
    -- Where agents move to, or the group being deleted.
    target_group_id BIGINT,
    -- queued | running | done | failed
    state           TEXT NOT NULL DEFAULT 'queued',
    total           BIGINT NOT NULL,
    done_count      BIGINT NOT NULL DEFAULT 0,
    changed_count   BIGINT NOT NULL DEFAULT 0,
    -- Who confirmed it, as the audit log names them (NULL: the command line).
    actor_id        BIGINT,
    actor           TEXT NOT NULL,
    address         TEXT NOT NULL DEFAULT '',
    -- What it was done to, as the page said at confirmation ("Support/Tier 1").
    subject         TEXT NOT NULL DEFAULT '',
    owner           TEXT,
    lease_until     BIGINT,
    created_at      BIGINT NOT NULL,
    finished_at     BIGINT,
    error           TEXT
);
CREATE INDEX bulk_jobs_state ON bulk_jobs (state, id);
CREATE INDEX bulk_jobs_group ON bulk_jobs (group_id, id);

-- The chosen agents not done yet: each batch strikes off those it did.
CREATE TABLE bulk_job_agents (
    job_id   BIGINT NOT NULL REFERENCES bulk_jobs (id) ON DELETE CASCADE,
    agent_id BIGINT NOT NULL,
    PRIMARY KEY (job_id, agent_id)
);
