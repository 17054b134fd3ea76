-- A row's outcome becomes a code ('success', 'error', 'not_imported') and a message, instead of
-- the Result cell's text; a job records what it is doing (its phase), how many rows it never
-- reached, and how many attempts in a row made no progress (the limit counts only those); the
-- lifecycle's counts (updated, skipped, kept from an earlier result).
ALTER TABLE import_rows ADD COLUMN message TEXT;
UPDATE import_rows SET message = substr(outcome, 8), outcome = 'error' WHERE outcome LIKE 'Error: %';
UPDATE import_rows SET message = '', outcome = 'success' WHERE outcome = 'Success';
UPDATE import_rows SET message = outcome, outcome = 'error' WHERE outcome NOT IN ('success', 'error');
CREATE INDEX import_rows_outcome ON import_rows (job_id, outcome, row_no);

ALTER TABLE import_jobs ADD COLUMN phase TEXT;
ALTER TABLE import_jobs ADD COLUMN not_imported_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE import_jobs ADD COLUMN stalled_attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE import_jobs ADD COLUMN updated_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE import_jobs ADD COLUMN skipped_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE import_jobs ADD COLUMN kept_count BIGINT NOT NULL DEFAULT 0;
-- An administrator asked to cancel: the job stops after its batch (state 'cancelled').
ALTER TABLE import_jobs ADD COLUMN cancel_requested BIGINT NOT NULL DEFAULT 0;
