-- Realtime events; same columns and meaning as
-- migrations/sqlite/0004_events.sql.
CREATE TABLE events (
    id         BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id    VARCHAR(36) NOT NULL,
    kind       VARCHAR(64) NOT NULL,
    data       MEDIUMTEXT NOT NULL,
    created_at BIGINT NOT NULL,
    KEY events_user (user_id, id),
    KEY events_created (created_at),
    CONSTRAINT events_user_fk FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
