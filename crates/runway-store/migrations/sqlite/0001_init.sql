-- Accounts, refresh-token families and the durable job queue.
-- Times are Unix milliseconds (INTEGER), ids are UUID strings: the same
-- representation works on every backend runway supports.

CREATE TABLE users (
    id            TEXT PRIMARY KEY NOT NULL,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    deleted_at    INTEGER
);

CREATE TABLE refresh_tokens (
    id          TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    family_id   TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    revoked_at  INTEGER
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens(user_id);

-- state: 'queued' (runs at run_at), 'running' (leased until lease_until;
-- claimable again once the lease expires), 'dead' (dead-lettered).
-- Acknowledged jobs are deleted, as an SQS message is.
CREATE TABLE jobs (
    id           TEXT PRIMARY KEY NOT NULL,
    queue        TEXT NOT NULL,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    state        TEXT NOT NULL,
    run_at       INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    lease_token  TEXT,
    lease_until  INTEGER,
    last_error   TEXT,
    dedup_key    TEXT UNIQUE,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX jobs_ready ON jobs(queue, state, run_at);
CREATE INDEX jobs_lease ON jobs(queue, state, lease_until);
