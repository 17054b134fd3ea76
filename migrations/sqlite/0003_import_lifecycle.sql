-- The import lifecycle. A job knows what it does with agents that already exist (its mode),
-- whether it only checks the file (a dry run), and which administrator sent it (an email found
-- in another group is named only when they may see that group).
ALTER TABLE import_jobs ADD COLUMN mode TEXT NOT NULL DEFAULT 'create';
ALTER TABLE import_jobs ADD COLUMN dry_run INTEGER NOT NULL DEFAULT 0;
ALTER TABLE import_jobs ADD COLUMN submitted_by_id INTEGER;
-- Undo: an ended import becomes 'undoing' (a durable job, leased like an import) then 'undone';
-- its counts say how many agents it took back and how many it kept because they had changed.
ALTER TABLE import_jobs ADD COLUMN undo_requested_by TEXT;
ALTER TABLE import_jobs ADD COLUMN undone_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE import_jobs ADD COLUMN undo_kept_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE import_jobs ADD COLUMN undone_at INTEGER;

-- What a row did to which agent, for undo: the agent, its revision right after the import
-- wrote it (a later change bumps it, and undo then keeps the agent), and, for an update, the
-- values it had before. A row's group is where its agent goes (a Group column's subgroup).
ALTER TABLE import_rows ADD COLUMN group_id INTEGER;
ALTER TABLE import_rows ADD COLUMN agent_id INTEGER;
ALTER TABLE import_rows ADD COLUMN agent_revision INTEGER;
ALTER TABLE import_rows ADD COLUMN before_group_id INTEGER;
ALTER TABLE import_rows ADD COLUMN before_name TEXT;
ALTER TABLE import_rows ADD COLUMN before_nickname TEXT;
ALTER TABLE import_rows ADD COLUMN before_description TEXT;
ALTER TABLE import_rows ADD COLUMN before_password_hash TEXT;
-- NULL until undo reaches the row: 'reverted', or 'kept' (changed since the import, or gone).
ALTER TABLE import_rows ADD COLUMN undo TEXT;

-- Every write to an agent adds one: how undo tells an agent changed since the import.
ALTER TABLE agents ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
