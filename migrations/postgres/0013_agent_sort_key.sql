-- Agents in natural order ("Agent 2" before "Agent 10", "anna" beside "Anna"): the key that
-- sorts so byte by byte, made from the name by the application (natural_key), written with
-- every name. Rows from before get theirs at start ('agent_sort_keys' in data_fixes).
-- Collation "C" compares bytes, as SQLite does: the database's default collation may order
-- the digits' length signs and punctuation otherwise.
ALTER TABLE agents ADD COLUMN sort_key TEXT COLLATE "C" NOT NULL DEFAULT '';
-- A group's agents, a page at a time by keyset; the index by name orders nothing any more.
CREATE INDEX agents_group_sort_key ON agents (group_id, sort_key, id);
DROP INDEX agents_group_name;
