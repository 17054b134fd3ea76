-- An agent who must choose a new password at their next sign-in reaches only the page that
-- changes it. Set by an administrator (Properties, a password they set, an import's option).
ALTER TABLE agents ADD COLUMN must_change_password BIGINT NOT NULL DEFAULT 0;
-- The import's option: the agents it creates, and those whose password it sets, get the flag.
ALTER TABLE import_jobs ADD COLUMN must_change_password BIGINT NOT NULL DEFAULT 0;
