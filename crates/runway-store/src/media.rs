//! Photos: one row per upload, recording where its bytes and variants live
//! in object storage and how far processing got.
//!
//! Every state change is a conditional `UPDATE … WHERE status = …`, so a
//! job that runs twice (after a crash, or a duplicate delivery) cannot move a
//! record backwards or overwrite another run's result.

use std::collections::BTreeMap;

use runway_core::domain::UserId;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use uuid::Uuid;

use crate::{Db, StoreError, opt_text_column, text_column};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaStatus {
    /// A direct upload was granted; the client has not confirmed the bytes.
    AwaitingUpload,
    /// The bytes are stored and the processing job owns the record.
    Processing,
    Ready,
    /// Processing refused the image; `error` says why. Never retried.
    Failed,
}

impl MediaStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaStatus::AwaitingUpload => "awaiting_upload",
            MediaStatus::Processing => "processing",
            MediaStatus::Ready => "ready",
            MediaStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<MediaStatus> {
        Some(match s {
            "awaiting_upload" => MediaStatus::AwaitingUpload,
            "processing" => MediaStatus::Processing,
            "ready" => MediaStatus::Ready,
            "failed" => MediaStatus::Failed,
            _ => return None,
        })
    }
}

pub use runway_core::domain::Visibility;

/// One stored file: the processed original or a variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFile {
    /// Object key in the blob store.
    pub key: String,
    pub width: u32,
    pub height: u32,
    pub content_type: String,
    pub bytes: u64,
}

/// What processing produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processed {
    pub width: u32,
    pub height: u32,
    /// Base64 thumbhash.
    pub thumbhash: String,
    /// `#rrggbb`.
    pub dominant_color: String,
    pub original: StoredFile,
    pub variants: BTreeMap<String, StoredFile>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    pub id: Uuid,
    pub user_id: UserId,
    pub status: MediaStatus,
    pub visibility: Visibility,
    /// The sniffed type once known; before that, the declared one.
    pub content_type: String,
    /// Size of the upload as received (or declared, before it arrives).
    pub bytes: u64,
    /// Where the upload as received is staged until processing ends.
    pub upload_key: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub thumbhash: Option<String>,
    pub dominant_color: Option<String>,
    pub original: Option<StoredFile>,
    pub variants: BTreeMap<String, StoredFile>,
    /// (code, detail) when `Failed`.
    pub error: Option<(String, String)>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A record to create.
#[derive(Debug, Clone)]
pub struct NewMedia {
    pub id: Uuid,
    pub user_id: UserId,
    pub status: MediaStatus,
    pub visibility: Visibility,
    pub content_type: String,
    pub bytes: u64,
    pub upload_key: String,
    pub created_at: i64,
}

fn corrupt(column: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(
        format!("{column} holds an invalid value: {e}").into(),
    ))
}

fn dim(row: &sqlx::any::AnyRow, column: &str) -> Result<Option<u32>, StoreError> {
    let v: Option<i64> = row.try_get(column)?;
    v.map(|v| u32::try_from(v).map_err(|e| corrupt(column, e)))
        .transpose()
}

fn media_from_row(row: &sqlx::any::AnyRow) -> Result<Media, StoreError> {
    let id = text_column(row, "id")?;
    let user_id = text_column(row, "user_id")?;
    let status = text_column(row, "status")?;
    let visibility = text_column(row, "visibility")?;
    let variants = text_column(row, "variants")?;
    let original = match opt_text_column(row, "original_key")? {
        Some(key) => Some(StoredFile {
            key,
            width: dim(row, "width")?.unwrap_or(0),
            height: dim(row, "height")?.unwrap_or(0),
            content_type: opt_text_column(row, "original_content_type")?.unwrap_or_default(),
            bytes: row
                .try_get::<Option<i64>, _>("original_bytes")?
                .unwrap_or(0)
                .max(0) as u64,
        }),
        None => None,
    };
    let error = match opt_text_column(row, "error_code")? {
        Some(code) => Some((
            code,
            opt_text_column(row, "error_detail")?.unwrap_or_default(),
        )),
        None => None,
    };
    Ok(Media {
        id: Uuid::parse_str(&id).map_err(|e| corrupt("media.id", e))?,
        user_id: UserId::parse(&user_id).map_err(|e| corrupt("media.user_id", e))?,
        status: MediaStatus::parse(&status).ok_or_else(|| corrupt("media.status", &status))?,
        visibility: Visibility::parse(&visibility)
            .ok_or_else(|| corrupt("media.visibility", &visibility))?,
        content_type: text_column(row, "content_type")?,
        bytes: row.try_get::<i64, _>("bytes")?.max(0) as u64,
        upload_key: text_column(row, "upload_key")?,
        width: dim(row, "width")?,
        height: dim(row, "height")?,
        thumbhash: opt_text_column(row, "thumbhash")?,
        dominant_color: opt_text_column(row, "dominant_color")?,
        original,
        variants: serde_json::from_str(&variants).map_err(|e| corrupt("media.variants", e))?,
        error,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

const COLUMNS: &str = "id, user_id, status, visibility, content_type, bytes, upload_key, width, \
     height, thumbhash, dominant_color, original_key, original_content_type, original_bytes, \
     variants, error_code, error_detail, created_at, updated_at";

impl Db {
    /// Create a record, unless the owner's stored bytes plus this one would
    /// exceed `quota_bytes` (0: no limit). Returns false when over quota.
    ///
    /// The check and the insert are one statement, so concurrent uploads by
    /// the same account cannot together overshoot the quota: SQLite runs it
    /// under its write lock, and InnoDB locks the owner's index range while
    /// reading it (a conflicting insert deadlocks and is retried).
    pub async fn insert_media(&self, m: &NewMedia, quota_bytes: u64) -> Result<bool, StoreError> {
        let limit = if quota_bytes == 0 {
            i64::MAX
        } else {
            i64::try_from(quota_bytes).unwrap_or(i64::MAX)
        };
        let bytes = i64::try_from(m.bytes).unwrap_or(i64::MAX);
        let inserted = crate::db::retry_conflicts(|| async {
            sqlx::query(
                "INSERT INTO media (id, user_id, status, visibility, content_type, bytes, \
                 upload_key, variants, created_at, updated_at) \
                 SELECT ?, ?, ?, ?, ?, ?, ?, '{}', ?, ? \
                 WHERE (SELECT COALESCE(SUM(bytes), 0) FROM media WHERE user_id = ?) <= ? - ?",
            )
            .bind(m.id.to_string())
            .bind(m.user_id.to_string())
            .bind(m.status.as_str())
            .bind(m.visibility.as_str())
            .bind(&m.content_type)
            .bind(bytes)
            .bind(&m.upload_key)
            .bind(m.created_at)
            .bind(m.created_at)
            .bind(m.user_id.to_string())
            .bind(limit)
            .bind(bytes)
            .execute(self.pool())
            .await
            .map(|r| r.rows_affected())
        })
        .await
        .map_err(|e| StoreError::unique(e, "media"))?;
        Ok(inserted == 1)
    }

    pub async fn media_by_id(&self, id: Uuid) -> Result<Option<Media>, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM media WHERE id = ?"))
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(media_from_row).transpose()
    }

    /// An account's media, newest first, strictly older than `before` when
    /// given (ids are UUIDv7, so their order is creation order).
    pub async fn list_media(
        &self,
        user: UserId,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<Media>, StoreError> {
        let rows = match before {
            Some(before) => {
                sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM media WHERE user_id = ? AND id < ? \
                     ORDER BY id DESC LIMIT ?"
                ))
                .bind(user.to_string())
                .bind(before.to_string())
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM media WHERE user_id = ? ORDER BY id DESC LIMIT ?"
                ))
                .bind(user.to_string())
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?
            }
        };
        rows.iter().map(media_from_row).collect()
    }

    /// Bytes of uploads an account holds (what the quota counts).
    pub async fn media_usage_bytes(&self, user: UserId) -> Result<u64, StoreError> {
        // MySQL's SUM of a BIGINT is a DECIMAL; the cast makes it an integer
        // on both backends (SQLite gives the name NUMERIC affinity).
        let n: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(bytes), 0) AS SIGNED) FROM media WHERE user_id = ?",
        )
        .bind(user.to_string())
        .fetch_one(self.pool())
        .await?;
        Ok(n.max(0) as u64)
    }

    /// `AwaitingUpload` -> `Processing` once the bytes are confirmed, with
    /// their real size. False if the record is not awaiting its upload.
    pub async fn mark_media_uploaded(
        &self,
        id: Uuid,
        bytes: u64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE media SET status = 'processing', bytes = ?, updated_at = ? \
             WHERE id = ? AND status = 'awaiting_upload'",
        )
        .bind(i64::try_from(bytes).unwrap_or(i64::MAX))
        .bind(now)
        .bind(id.to_string())
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// The placeholder and size of a record still `processing` (known
    /// before its variants). False if it is not processing any more.
    pub async fn set_media_placeholder(
        &self,
        id: Uuid,
        width: u32,
        height: u32,
        thumbhash: &str,
        dominant_color: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE media SET width = ?, height = ?, thumbhash = ?, dominant_color = ?, \
             updated_at = ? WHERE id = ? AND status = 'processing'",
        )
        .bind(i64::from(width))
        .bind(i64::from(height))
        .bind(thumbhash)
        .bind(dominant_color)
        .bind(now)
        .bind(id.to_string())
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// `Processing` -> `Ready`. Also from `AwaitingUpload`: the thumbnail
    /// Lambda can report on a direct upload before the client confirms it.
    /// False if the record is gone or was already finished (by an earlier
    /// run of the same job).
    pub async fn mark_media_ready(
        &self,
        id: Uuid,
        content_type: &str,
        p: &Processed,
        now: i64,
    ) -> Result<bool, StoreError> {
        let variants = serde_json::to_string(&p.variants).map_err(|e| corrupt("variants", e))?;
        let n = sqlx::query(
            "UPDATE media SET status = 'ready', content_type = ?, width = ?, height = ?, \
             thumbhash = ?, dominant_color = ?, original_key = ?, original_content_type = ?, \
             original_bytes = ?, variants = ?, error_code = NULL, error_detail = NULL, \
             updated_at = ? WHERE id = ? AND status IN ('processing', 'awaiting_upload')",
        )
        .bind(content_type)
        .bind(i64::from(p.width))
        .bind(i64::from(p.height))
        .bind(&p.thumbhash)
        .bind(&p.dominant_color)
        .bind(&p.original.key)
        .bind(&p.original.content_type)
        .bind(i64::try_from(p.original.bytes).unwrap_or(i64::MAX))
        .bind(variants)
        .bind(now)
        .bind(id.to_string())
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// `Processing` (or `AwaitingUpload`, as for ready) -> `Failed` with a
    /// stable code. False if the record is gone or already finished.
    pub async fn mark_media_failed(
        &self,
        id: Uuid,
        code: &str,
        detail: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE media SET status = 'failed', error_code = ?, error_detail = ?, updated_at = ? \
             WHERE id = ? AND status IN ('processing', 'awaiting_upload')",
        )
        .bind(code)
        .bind(detail)
        .bind(now)
        .bind(id.to_string())
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Record one more variant (an on-demand size) on a ready record. Uses
    /// compare-and-set on the variants column, so two sizes rendered at once
    /// both end up recorded. False if the record is gone or not ready.
    pub async fn add_media_variant(
        &self,
        id: Uuid,
        name: &str,
        file: &StoredFile,
        now: i64,
    ) -> Result<bool, StoreError> {
        for _ in 0..10 {
            let Some(current) = self.media_by_id(id).await? else {
                return Ok(false);
            };
            if current.status != MediaStatus::Ready {
                return Ok(false);
            }
            let old =
                serde_json::to_string(&current.variants).map_err(|e| corrupt("variants", e))?;
            let mut variants = current.variants;
            variants.insert(name.to_string(), file.clone());
            let new = serde_json::to_string(&variants).map_err(|e| corrupt("variants", e))?;
            let n = sqlx::query(
                "UPDATE media SET variants = ?, updated_at = ? \
                 WHERE id = ? AND status = 'ready' AND variants = ?",
            )
            .bind(new)
            .bind(now)
            .bind(id.to_string())
            .bind(old)
            .execute(self.pool())
            .await?
            .rows_affected();
            if n == 1 {
                return Ok(true);
            }
        }
        Err(StoreError::Database(sqlx::Error::Protocol(
            "media variants kept changing; gave up after 10 tries".into(),
        )))
    }

    /// Records still `processing` and untouched since `before`: their job
    /// was dead-lettered (a long outage) or lost; recovery enqueues again.
    pub async fn stalled_media(&self, before: i64, limit: u32) -> Result<Vec<Uuid>, StoreError> {
        let rows = sqlx::query(
            "SELECT id FROM media WHERE status = 'processing' AND updated_at < ? \
             ORDER BY updated_at LIMIT ?",
        )
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let id = text_column(r, "id")?;
                Uuid::parse_str(&id).map_err(|e| corrupt("media.id", e))
            })
            .collect()
    }

    /// Remove a record. Idempotent; returns whether a row was removed.
    pub async fn delete_media(&self, id: Uuid) -> Result<bool, StoreError> {
        let n = sqlx::query("DELETE FROM media WHERE id = ?")
            .bind(id.to_string())
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(n == 1)
    }
}
