-- Photos and their variants. One row per upload; the bytes live in object
-- storage under the keys recorded here.
--
-- status: 'awaiting_upload' (direct upload granted, bytes not confirmed),
-- 'processing' (bytes stored, the media.process job owns it), 'ready',
-- 'failed' (error_code says why; never retried).
-- variants: JSON object name -> {key, width, height, content_type, bytes}.
CREATE TABLE media (
    id                    TEXT PRIMARY KEY NOT NULL,
    user_id               TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    status                TEXT NOT NULL,
    visibility            TEXT NOT NULL,
    content_type          TEXT NOT NULL,
    bytes                 INTEGER NOT NULL,
    upload_key            TEXT NOT NULL,
    width                 INTEGER,
    height                INTEGER,
    thumbhash             TEXT,
    dominant_color        TEXT,
    original_key          TEXT,
    original_content_type TEXT,
    original_bytes        INTEGER,
    variants              TEXT NOT NULL,
    error_code            TEXT,
    error_detail          TEXT,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
CREATE INDEX media_user ON media(user_id, id);
