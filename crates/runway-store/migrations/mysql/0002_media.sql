-- Photos and their variants; same columns and meaning as
-- migrations/sqlite/0002_media.sql.
CREATE TABLE media (
    id                    VARCHAR(36) NOT NULL PRIMARY KEY,
    user_id               VARCHAR(36) NOT NULL,
    status                VARCHAR(16) NOT NULL,
    visibility            VARCHAR(8) NOT NULL,
    content_type          VARCHAR(64) NOT NULL,
    bytes                 BIGINT NOT NULL,
    upload_key            VARCHAR(512) NOT NULL,
    width                 BIGINT NULL,
    height                BIGINT NULL,
    thumbhash             VARCHAR(64) NULL,
    dominant_color        VARCHAR(16) NULL,
    original_key          VARCHAR(512) NULL,
    original_content_type VARCHAR(64) NULL,
    original_bytes        BIGINT NULL,
    variants              MEDIUMTEXT NOT NULL,
    error_code            VARCHAR(64) NULL,
    error_detail          TEXT NULL,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    KEY media_user (user_id, id),
    CONSTRAINT media_user_fk FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
