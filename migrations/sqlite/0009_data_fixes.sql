-- Fixes to stored data that need the application's own rules (done once, then recorded here):
-- 'idna_email_keys' recomputes email keys with the domain in its IDNA ASCII form.
CREATE TABLE data_fixes (
    name       TEXT PRIMARY KEY,
    applied_at BIGINT NOT NULL
);
