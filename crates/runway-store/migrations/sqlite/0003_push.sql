-- Push notifications: devices, topic subscriptions, server API keys,
-- notifications and one delivery row per (notification, device).
--
-- devices.token_hash: hex SHA-256 of '<platform>:<token>'; unique, so the
--   same token is always the same device (it moves to whoever registers it
--   last). updated_at is when the token was last registered or refreshed:
--   APNs 410 timestamps are compared with it, and tokens not refreshed in
--   push.token_ttl_days age out.
-- deliveries.status: 'pending' -> 'sending' (claimed by a delivery job,
--   claimed_at set) -> 'sent' | 'failed' | 'pruned'. A retry puts the row
--   back to 'pending' with not_before. A claim left by a crashed job is
--   recorded 'failed' (reason 'interrupted') once it is older than the
--   provider timeout: the send may have gone out, so it is never repeated.
CREATE TABLE devices (
    id               TEXT PRIMARY KEY NOT NULL,
    user_id          TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    platform         TEXT NOT NULL,
    token_hash       TEXT NOT NULL UNIQUE,
    token            TEXT NOT NULL,
    app_id           TEXT,
    locale           TEXT,
    timezone         TEXT,
    environment      TEXT NOT NULL,
    web_p256dh       TEXT,
    web_auth         TEXT,
    sns_endpoint_arn TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX devices_user ON devices(user_id, id);
CREATE INDEX devices_updated ON devices(updated_at);

CREATE TABLE topic_subscriptions (
    topic      TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (topic, user_id)
);
CREATE INDEX topic_subscriptions_user ON topic_subscriptions(user_id);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

CREATE TABLE notifications (
    id           TEXT PRIMARY KEY NOT NULL,
    api_key_id   TEXT NOT NULL,
    target       TEXT NOT NULL,
    content      TEXT NOT NULL,
    send_at      INTEGER,
    fanout_done  INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

CREATE TABLE deliveries (
    notification_id TEXT NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
    device_id       TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    platform        TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    provider        TEXT,
    reason          TEXT,
    provider_id     TEXT,
    not_before      INTEGER,
    claimed_at      INTEGER,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (notification_id, device_id)
);
CREATE INDEX deliveries_status ON deliveries(notification_id, status);
CREATE INDEX deliveries_user ON deliveries(user_id, status, updated_at);
