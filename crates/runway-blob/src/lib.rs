//! Object storage for media: a local directory (embedded mode) or a private
//! S3 bucket, behind one [`BlobStore`] trait that both implementations pass
//! the same behaviour suite for (`tests/blob.rs`).
//!
//! Reads reach clients as presigned URLs or CloudFront URLs
//! ([`cloudfront`]); direct uploads use presigned PUTs that sign the exact
//! content type and length.

pub mod cloudfront;
pub mod events;
mod local;
mod s3;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;

pub use local::{LocalBlobStore, LocalUploadGrant, SignedRequest};
pub use s3::S3BlobStore;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("invalid object key: {0}")]
    InvalidKey(String),
    #[error("storage backend: {0}")]
    Backend(String),
    #[error("storage configuration: {0}")]
    Config(String),
}

/// Headers stored with an object and sent back when it is read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectMeta {
    pub content_type: Option<String>,
    pub cache_control: Option<String>,
    pub size: u64,
}

#[derive(Debug, Clone)]
pub struct Blob {
    pub bytes: Bytes,
    pub meta: ObjectMeta,
}

/// An HTTP request a client can make without credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedRequest {
    pub method: String,
    pub url: String,
    /// Headers the client must send exactly (they are signed).
    pub headers: Vec<(String, String)>,
    pub expires_at: SystemTime,
}

#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    async fn put(
        &self,
        key: &str,
        bytes: Bytes,
        content_type: &str,
        cache_control: Option<&str>,
    ) -> Result<(), BlobError>;
    /// `None` if there is no such object (an outage is an `Err`, never `None`).
    async fn get(&self, key: &str) -> Result<Option<Blob>, BlobError>;
    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, BlobError>;
    /// Idempotent: deleting a missing object succeeds.
    async fn delete(&self, key: &str) -> Result<(), BlobError>;
    /// Keys under `prefix`, sorted.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, BlobError>;
    /// Delete every object under `prefix` (account deletion); returns how many.
    async fn delete_prefix(&self, prefix: &str) -> Result<u64, BlobError>;
    /// A PUT a client can make directly, valid for `ttl`, that only accepts
    /// exactly `content_type` and `content_length` bytes.
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        ttl: Duration,
    ) -> Result<PresignedRequest, BlobError>;
    /// A GET a client can make directly, valid for `ttl`.
    async fn presign_get(&self, key: &str, ttl: Duration) -> Result<PresignedRequest, BlobError>;
    /// `file` or `s3`, for logs and metrics.
    fn kind(&self) -> &'static str;
}

/// Object keys are relative paths of `[A-Za-z0-9._-]` segments separated
/// by `/`: no empty segments and none starting with `.` (so no `..`, and
/// nothing reaching the local store's `.meta`/`.tmp`), at most 512 bytes.
/// The same rule holds for both backends.
pub fn validate_key(key: &str) -> Result<(), BlobError> {
    let ok = !key.is_empty()
        && key.len() <= 512
        && key.split('/').all(|seg| {
            !seg.is_empty()
                && !seg.starts_with('.')
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        });
    if ok {
        Ok(())
    } else {
        Err(BlobError::InvalidKey(key.chars().take(80).collect()))
    }
}

/// Prefixes follow the key rule, with an optional trailing `/`; empty is the whole store.
pub fn validate_prefix(prefix: &str) -> Result<(), BlobError> {
    if prefix.is_empty() {
        return Ok(());
    }
    validate_key(prefix.trim_end_matches('/'))
}

/// The bucket and key prefix of `s3://bucket/optional/prefix`, the prefix
/// as the S3 store uses it (empty, or ending in `/`). `None` for other URLs
/// or a missing bucket.
pub fn s3_location(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("s3://")?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    (!bucket.is_empty()).then(|| (bucket.to_string(), s3::normalize_prefix(prefix)))
}

/// Open the store named by a storage URL: `file:///abs/dir`, `file://rel/dir`
/// or `s3://bucket/optional/prefix`. `local_signing_key` and
/// `local_public_url` serve the local store's presigned URLs.
pub async fn open(
    url: &str,
    local_signing_key: &[u8],
    local_public_url: &str,
) -> Result<Arc<dyn BlobStore>, BlobError> {
    if let Some(path) = url.strip_prefix("file://") {
        return Ok(Arc::new(LocalBlobStore::new(
            path,
            local_signing_key.to_vec(),
            local_public_url,
        )?));
    }
    if url.starts_with("s3://") {
        let (bucket, prefix) = s3_location(url)
            .ok_or_else(|| BlobError::Config("s3:// URL without a bucket".into()))?;
        return Ok(Arc::new(S3BlobStore::from_env(&bucket, &prefix).await?));
    }
    Err(BlobError::Config(
        "storage URL must be file://DIR or s3://BUCKET[/PREFIX]".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        for ok in ["a", "media/u1/abc.webp", "x-y_z.0/1"] {
            validate_key(ok).unwrap();
        }
        for bad in [
            "", "/abs", "a//b", "../x", "a/../b", "a/./b", "sp ace", "ü", "a/",
        ] {
            assert!(validate_key(bad).is_err(), "{bad}");
        }
        assert!(validate_key(&"a".repeat(513)).is_err());
        validate_prefix("media/u1/").unwrap();
        validate_prefix("").unwrap();
        assert!(validate_prefix("../").is_err());
    }
}
