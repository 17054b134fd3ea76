-- What an undo gives back includes "must change password at next sign-in" (NULL for rows
-- written before: the undo then leaves the flag as it is).
ALTER TABLE import_rows ADD COLUMN before_must_change_password BIGINT;
