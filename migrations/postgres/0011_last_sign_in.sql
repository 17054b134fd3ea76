-- When an agent last signed in (NULL: never), for the export's "Last sign-in" column.
ALTER TABLE agents ADD COLUMN last_sign_in_at BIGINT;
