-- Push notifications; same columns and meaning as
-- migrations/sqlite/0003_push.sql.
CREATE TABLE devices (
    id               VARCHAR(36) NOT NULL PRIMARY KEY,
    user_id          VARCHAR(36) NOT NULL,
    platform         VARCHAR(8) NOT NULL,
    token_hash       CHAR(64) NOT NULL,
    token            TEXT NOT NULL,
    app_id           VARCHAR(255) NULL,
    locale           VARCHAR(35) NULL,
    timezone         VARCHAR(64) NULL,
    environment      VARCHAR(16) NOT NULL,
    web_p256dh       VARCHAR(128) NULL,
    web_auth         VARCHAR(64) NULL,
    sns_endpoint_arn VARCHAR(512) NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    UNIQUE KEY devices_token (token_hash),
    KEY devices_user (user_id, id),
    KEY devices_updated (updated_at),
    CONSTRAINT devices_user_fk FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE topic_subscriptions (
    topic      VARCHAR(128) NOT NULL,
    user_id    VARCHAR(36) NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (topic, user_id),
    KEY topic_subscriptions_user (user_id),
    CONSTRAINT topic_subscriptions_user_fk FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE api_keys (
    id           VARCHAR(36) NOT NULL PRIMARY KEY,
    name         VARCHAR(128) NOT NULL,
    key_hash     CHAR(64) NOT NULL,
    scopes       VARCHAR(512) NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT NULL,
    revoked_at   BIGINT NULL,
    UNIQUE KEY api_keys_hash (key_hash)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE notifications (
    id           VARCHAR(36) NOT NULL PRIMARY KEY,
    api_key_id   VARCHAR(36) NOT NULL,
    target       MEDIUMTEXT NOT NULL,
    content      MEDIUMTEXT NOT NULL,
    send_at      BIGINT NULL,
    fanout_done  BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE deliveries (
    notification_id VARCHAR(36) NOT NULL,
    device_id       VARCHAR(36) NOT NULL,
    user_id         VARCHAR(36) NOT NULL,
    platform        VARCHAR(8) NOT NULL,
    status          VARCHAR(16) NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    provider        VARCHAR(16) NULL,
    reason          VARCHAR(255) NULL,
    provider_id     VARCHAR(255) NULL,
    not_before      BIGINT NULL,
    claimed_at      BIGINT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (notification_id, device_id),
    KEY deliveries_status (notification_id, status),
    KEY deliveries_user (user_id, status, updated_at),
    CONSTRAINT deliveries_notification_fk FOREIGN KEY (notification_id) REFERENCES notifications(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
