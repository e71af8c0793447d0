-- Accounts, refresh-token families and the durable job queue (MySQL 8 /
-- MariaDB 10.6+ / Aurora MySQL). Same columns and meaning as
-- migrations/sqlite/0001_init.sql: times are Unix milliseconds, ids are
-- UUID strings. TEXT columns reach sqlx's Any driver as blobs; read them
-- with runway_store::text_column.

CREATE TABLE users (
    id            VARCHAR(36) NOT NULL PRIMARY KEY,
    email         VARCHAR(320) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    created_at    BIGINT NOT NULL,
    deleted_at    BIGINT NULL,
    UNIQUE KEY users_email (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE refresh_tokens (
    id          VARCHAR(36) NOT NULL PRIMARY KEY,
    user_id     VARCHAR(36) NOT NULL,
    family_id   VARCHAR(36) NOT NULL,
    token_hash  CHAR(64) NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT NULL,
    revoked_at  BIGINT NULL,
    UNIQUE KEY refresh_tokens_hash (token_hash),
    KEY refresh_tokens_family (family_id),
    KEY refresh_tokens_user (user_id),
    CONSTRAINT refresh_tokens_user_fk FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE jobs (
    id           VARCHAR(36) NOT NULL PRIMARY KEY,
    queue        VARCHAR(64) NOT NULL,
    kind         VARCHAR(128) NOT NULL,
    payload      MEDIUMTEXT NOT NULL,
    state        VARCHAR(16) NOT NULL,
    run_at       BIGINT NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    lease_token  VARCHAR(64) NULL,
    lease_until  BIGINT NULL,
    last_error   TEXT NULL,
    dedup_key    VARCHAR(255) NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE KEY jobs_dedup (dedup_key),
    KEY jobs_ready (queue, state, run_at),
    KEY jobs_lease (queue, state, lease_until),
    KEY jobs_lease_token (lease_token)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
