-- Who changed what, when and from where: every change to agents, groups and administrators,
-- every password set (never its value), every import started, ended, cancelled or undone.
-- Names are kept as they were at the time: the log outlives what it names.
CREATE TABLE audit_events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    at            BIGINT NOT NULL,
    -- The administrator who acted (NULL: the command line, or an import's own job).
    actor_id      BIGINT,
    actor         TEXT NOT NULL,
    address       TEXT NOT NULL DEFAULT '',
    action        TEXT NOT NULL,
    -- What it was done to, as shown ("Ann Lee <ann@example.com>", "Support/Tier 1").
    subject       TEXT NOT NULL,
    -- The group it happened in (an administrator sees the events of their groups), and the
    -- agent and import it concerns, if any.
    group_id      BIGINT,
    agent_id      BIGINT,
    import_job_id BIGINT,
    detail        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_group ON audit_events (group_id, id);
CREATE INDEX audit_events_agent ON audit_events (agent_id, id);
CREATE INDEX audit_events_actor ON audit_events (actor_id, id);
