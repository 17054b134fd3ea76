-- Failed sign-ins, for throttling: in the database so that every Roster process on it counts
-- the same attempts. Only failures are kept, and only for as long as the throttle looks back.
-- account_key is the normalised email the lookup uses (one shared key for input that is not
-- an email); address is the client's, '' when unknown.
CREATE TABLE sign_in_failures (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_key TEXT NOT NULL,
    address     TEXT NOT NULL,
    failed_at   BIGINT NOT NULL
);
CREATE INDEX sign_in_failures_account ON sign_in_failures (account_key, failed_at);
CREATE INDEX sign_in_failures_address ON sign_in_failures (address, failed_at);
