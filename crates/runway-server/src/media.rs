//! Media glue between the HTTP routes, the processing job and the pure
//! pipeline (`runway-media`): object-key layout, pipeline settings from
//! configuration, running the pipeline off the async runtime, and turning a
//! record into what clients see (with signed or stable URLs).
//!
//! # Object keys
//!
//! - `uploads/<user>/<media>`: the upload as received, never served, deleted
//!   once processing ends (the S3 lifecycle rule expires leftovers).
//! - `private/<user>/<media>/<name>-<hash>.<ext>`: the processed original
//!   and each variant of private media, served only through expiring
//!   signed URLs.
//! - `public/<user>/<media>/<name>-<hash>.<ext>`: the same for public media,
//!   served at stable URLs.
//!
//! `<hash>` is a SHA-256 prefix of the file's bytes: content addressed, so
//! every file is immutable and cacheable for a year, and a job that runs
//! twice writes the same keys.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use runway_core::config::MediaConfig;
use runway_core::domain::UserId;
use runway_media::{Fit, Format, Limits, Preset};
use runway_store::media::{Media, StoredFile, Visibility};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::state::AppState;

/// `Cache-Control` of every processed file: content addressed, so immutable.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Content types a direct upload may declare (what the pipeline accepts).
pub const ACCEPTED_TYPES: [&str; 6] = [
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/gif",
    "image/heic",
    "image/heif",
];

pub fn upload_key(user: UserId, media: Uuid) -> String {
    format!("uploads/{user}/{media}")
}

/// Where the processed files of one media item live.
pub fn files_prefix(visibility: Visibility, user: UserId, media: Uuid) -> String {
    format!("{}/{user}/{media}/", visibility.as_str())
}

/// Every prefix holding an account's objects (account deletion).
pub fn account_prefixes(user: UserId) -> [String; 4] {
    [
        format!("uploads/{user}/"),
        format!("private/{user}/"),
        format!("public/{user}/"),
        // Layout of earlier versions.
        format!("users/{user}/"),
    ]
}

/// The content-addressed key of one processed file.
pub fn file_key(prefix: &str, name: &str, bytes: &[u8], content_type: &str) -> String {
    let hash = hex::encode(&Sha256::digest(bytes)[..8]);
    format!(
        "{prefix}{name}-{hash}.{}",
        runway_media::file_extension(content_type)
    )
}

/// Parse `<visibility>/<user>/<media>/<file>` (a processed file's key).
pub fn parse_file_key(key: &str) -> Option<(Visibility, UserId, Uuid)> {
    let mut parts = key.split('/');
    let visibility = match parts.next()? {
        "private" => Visibility::Private,
        "public" => Visibility::Public,
        _ => return None,
    };
    let user = UserId::parse(parts.next()?).ok()?;
    let media = Uuid::parse_str(parts.next()?).ok()?;
    let file = parts.next()?;
    if file.is_empty() || parts.next().is_some() {
        return None;
    }
    Some((visibility, user, media))
}

/// The content hash in a processed file's key (its strong ETag).
pub fn etag_of_key(key: &str) -> Option<String> {
    let file = key.rsplit('/').next()?;
    let stem = file.split('.').next()?;
    let hash = stem.rsplit('-').next()?;
    (hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit())).then(|| format!("\"{hash}\""))
}

/// The pipeline's limits from configuration.
pub fn limits(config: &MediaConfig) -> Limits {
    Limits {
        max_pixels: config.max_pixels,
        max_width: config.max_side,
        max_height: config.max_side,
        max_frames: config.max_frames,
        max_bytes: config.max_upload_bytes,
    }
}

fn format(config: &MediaConfig) -> Format {
    match config.variant_format.as_str() {
        "jpeg" => Format::Jpeg {
            quality: config.variant_quality,
        },
        _ => Format::WebP {
            quality: config.variant_quality,
        },
    }
}

/// `thumb`, `small` and `large` in the configured format.
pub fn presets(config: &MediaConfig) -> Vec<Preset> {
    let format = format(config);
    Preset::defaults()
        .into_iter()
        .map(|p| p.with_format(format))
        .collect()
}

/// The preset of an allowed on-demand size (fit within `w`×`h`).
pub fn on_demand_preset(config: &MediaConfig, w: u32, h: u32) -> Preset {
    Preset::new(
        format!("{w}x{h}"),
        Fit::Within {
            width: w,
            height: h,
        },
    )
    .with_format(format(config))
}

/// One file the pipeline made, ready to store.
pub struct Output {
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub content_type: String,
    pub bytes: Bytes,
}

/// Everything processing one upload produced.
pub struct Pipeline {
    pub content_type: &'static str,
    pub width: u32,
    pub height: u32,
    pub thumbhash: String,
    pub dominant_color: String,
    /// The original to keep (metadata removed unless configured otherwise).
    pub original: Output,
    pub variants: Vec<Output>,
}

/// Run the pipeline on `bytes`: every variant from one decode, plus the
/// original with its metadata removed. CPU-bound; call it through
/// [`run_blocking`].
pub fn run_pipeline(
    bytes: &[u8],
    limits: &Limits,
    presets: &[Preset],
    keep_original_metadata: bool,
) -> Result<Pipeline, runway_media::Error> {
    let processed = runway_media::process(bytes, limits, presets)?;
    let content_type = processed.kind.mime();
    let original = if keep_original_metadata {
        bytes.to_vec()
    } else {
        runway_media::strip_metadata(bytes, processed.kind)?
    };
    Ok(Pipeline {
        content_type,
        width: processed.width,
        height: processed.height,
        thumbhash: STANDARD.encode(&processed.placeholder.thumbhash),
        dominant_color: processed.placeholder.dominant_color.clone(),
        original: Output {
            name: "original".into(),
            width: processed.width,
            height: processed.height,
            content_type: content_type.to_string(),
            bytes: Bytes::from(original),
        },
        variants: processed
            .variants
            .into_iter()
            .map(|v| Output {
                name: v.name,
                width: v.width,
                height: v.height,
                content_type: v.content_type.to_string(),
                bytes: Bytes::from(v.bytes),
            })
            .collect(),
    })
}

/// Run CPU-bound image work on the blocking pool, at most
/// `media.processing_concurrency` at once per process.
pub async fn run_blocking<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    let _permit = state
        .media_permits
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| anyhow::anyhow!("media processing is shutting down"))?;
    Ok(tokio::task::spawn_blocking(work).await?)
}

/// Store one output under its content-addressed key.
pub async fn store(state: &AppState, prefix: &str, out: &Output) -> anyhow::Result<StoredFile> {
    let key = file_key(prefix, &out.name, &out.bytes, &out.content_type);
    state
        .blobs
        .put(&key, out.bytes.clone(), &out.content_type, Some(IMMUTABLE))
        .await?;
    Ok(StoredFile {
        key,
        width: out.width,
        height: out.height,
        content_type: out.content_type.clone(),
        bytes: out.bytes.len() as u64,
    })
}

/// A processed file as clients see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileView {
    /// Where to download it: an expiring signed URL for private media, a
    /// stable one for public media.
    pub url: String,
    pub width: u32,
    pub height: u32,
    pub content_type: String,
    pub bytes: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlaceholderView {
    /// Base64 ThumbHash (<https://evanw.github.io/thumbhash/>).
    pub thumbhash: String,
    /// `#rrggbb`.
    pub dominant_color: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorView {
    /// Stable code, e.g. `unsupported_type`, `too_many_pixels`, `decode_failed`.
    pub code: String,
    pub detail: String,
}

/// A photo and its variants.
#[derive(Debug, Serialize, ToSchema)]
pub struct MediaView {
    pub id: Uuid,
    /// `awaiting_upload` (direct upload not completed), `processing`, `ready` or `failed`.
    #[schema(example = "ready")]
    pub status: &'static str,
    /// `private` (signed, expiring URLs) or `public` (stable URLs).
    #[schema(example = "private")]
    pub visibility: &'static str,
    /// The real type, sniffed from the bytes once processed.
    #[schema(example = "image/jpeg")]
    pub content_type: String,
    /// Size of the upload.
    pub bytes: u64,
    /// Upright width, after orientation.
    pub width: Option<u32>,
    /// Upright height, after orientation.
    pub height: Option<u32>,
    pub placeholder: Option<PlaceholderView>,
    /// `thumb` (256×256 cover), `small` (fit 640), `large` (fit 1440), plus
    /// any on-demand sizes rendered so far.
    pub variants: BTreeMap<String, FileView>,
    /// The stored original, without location or other metadata.
    pub original: Option<FileView>,
    /// RFC 3339.
    pub created_at: String,
    pub error: Option<ErrorView>,
}

fn epoch_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The URL a client downloads `key` from.
///
/// Private files get signed URLs whose expiry is rounded up to a multiple
/// of a quarter of `cdn.url_ttl_secs`, so repeated reads of a record within
/// that window return the same URL and browsers and the CDN can cache it.
pub async fn url_for(
    state: &AppState,
    visibility: Visibility,
    key: &str,
) -> Result<String, runway_blob::BlobError> {
    let ttl = state.config.cdn.url_ttl_secs.max(60);
    let step = (ttl / 4).max(60);
    let now = epoch_secs(SystemTime::now());
    let expires = (now + ttl).div_ceil(step) * step;
    if let Some(cdn) = &state.cdn {
        match visibility {
            Visibility::Public => {
                return Ok(format!("{}/{key}", cdn.base_url.trim_end_matches('/')));
            }
            Visibility::Private if cdn.signer.is_some() => return Ok(cdn.url(key, expires)),
            // No signing key: private media are never served unsigned.
            Visibility::Private => {}
        }
    }
    if visibility == Visibility::Public && state.blobs.kind() == "file" {
        return Ok(format!("{}/files/{key}", state.config.public_url()));
    }
    // A private bucket without a CDN: presigned URLs (at most 7 days for
    // SigV4, which is what public media get there).
    let ttl = match visibility {
        Visibility::Private => Duration::from_secs(expires - now),
        Visibility::Public => Duration::from_secs(7 * 24 * 3600),
    };
    Ok(state.blobs.presign_get(key, ttl).await?.url)
}

/// What clients see of `m`.
pub async fn view(state: &AppState, m: &Media) -> Result<MediaView, runway_blob::BlobError> {
    let file = |f: &StoredFile, url: String| FileView {
        url,
        width: f.width,
        height: f.height,
        content_type: f.content_type.clone(),
        bytes: f.bytes,
    };
    let mut variants = BTreeMap::new();
    for (name, f) in &m.variants {
        let url = url_for(state, m.visibility, &f.key).await?;
        variants.insert(name.clone(), file(f, url));
    }
    let original = match &m.original {
        Some(f) => Some(file(f, url_for(state, m.visibility, &f.key).await?)),
        None => None,
    };
    Ok(MediaView {
        id: m.id,
        status: m.status.as_str(),
        visibility: m.visibility.as_str(),
        content_type: m.content_type.clone(),
        bytes: m.bytes,
        width: m.width,
        height: m.height,
        placeholder: match (&m.thumbhash, &m.dominant_color) {
            (Some(t), Some(c)) => Some(PlaceholderView {
                thumbhash: t.clone(),
                dominant_color: c.clone(),
            }),
            _ => None,
        },
        variants,
        original,
        created_at: crate::routes::auth::rfc3339(m.created_at),
        error: m.error.as_ref().map(|(code, detail)| ErrorView {
            code: code.clone(),
            detail: detail.clone(),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_keys_round_trip() {
        let user = UserId::new();
        let media = Uuid::now_v7();
        let prefix = files_prefix(Visibility::Private, user, media);
        let key = file_key(&prefix, "thumb", b"abc", "image/webp");
        assert!(key.ends_with(".webp"));
        assert_eq!(
            parse_file_key(&key),
            Some((Visibility::Private, user, media))
        );
        assert_eq!(etag_of_key(&key).unwrap().len(), 18);
        // Same bytes, same key; other bytes, another key.
        assert_eq!(key, file_key(&prefix, "thumb", b"abc", "image/webp"));
        assert_ne!(key, file_key(&prefix, "thumb", b"abd", "image/webp"));
        assert!(runway_blob::validate_key(&key).is_ok());
        assert!(parse_file_key(&upload_key(user, media)).is_none());
        assert!(parse_file_key(&format!("{prefix}a/b")).is_none());
        assert!(parse_file_key("private/x/y/z").is_none());
    }
}
