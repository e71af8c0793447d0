//! Media glue between the HTTP routes, the processing job, the thumbnail
//! Lambda's reports and the database: running the pipeline off the async
//! runtime, recording a run's [`Report`], and turning a record into what
//! clients see (with signed or stable URLs).
//!
//! The object-key layout and the job itself live in `runway-thumbnail`,
//! shared with the Lambda.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use runway_core::domain::UserId;
use runway_media::Limits;
use runway_store::media::{Media, MediaStatus, Processed, StoredFile, Visibility};
use runway_thumbnail::{File, Outcome, Report, Upload};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::state::AppState;

pub use runway_thumbnail::keys::{account_prefixes, etag_of_key, files_prefix, parse_file_key};
pub use runway_thumbnail::{IMMUTABLE, Output, on_demand_preset};

/// Content types a direct upload may declare (what the pipeline accepts).
pub const ACCEPTED_TYPES: [&str; 6] = [
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/gif",
    "image/heic",
    "image/heif",
];

/// The staged upload of a media record.
pub fn upload_of(m: &Media) -> Upload {
    Upload {
        key: m.upload_key.clone(),
        user_id: m.user_id,
        media_id: m.id,
        visibility: m.visibility,
    }
}

/// Where a new upload of `media` is staged.
pub fn upload_key(user: UserId, visibility: Visibility, media: Uuid) -> String {
    Upload::new(user, visibility, media).key
}

/// The pipeline's limits from configuration.
pub fn limits(state: &AppState) -> Limits {
    state.media_settings.limits
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

/// Run the thumbnail job on `upload` in this process, within
/// `media.processing_concurrency`.
pub async fn process_here(
    state: &AppState,
    upload: &Upload,
) -> Result<Report, runway_thumbnail::Error> {
    let _permit = state
        .media_permits
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| runway_thumbnail::Error::Aborted("shutting down".into()))?;
    // The placeholder is recorded (and announced as `media.processing`) as
    // soon as the image is decoded, while the variants are still being made.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<runway_thumbnail::Early>();
    let early = {
        let state = state.clone();
        let id = upload.media_id;
        tokio::spawn(async move {
            if let Some(e) = rx.recv().await {
                let now = runway_store::now_ms();
                match state
                    .db
                    .set_media_placeholder(
                        id,
                        e.width,
                        e.height,
                        &e.thumbhash,
                        &e.dominant_color,
                        now,
                    )
                    .await
                {
                    Ok(true) => crate::events::media_changed(&state, id).await,
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, "recording the placeholder failed"),
                }
            }
        })
    };
    let report = runway_thumbnail::process_staged(
        state.blobs.as_ref(),
        &state.media_settings,
        upload,
        Some(tx),
    )
    .await;
    // Let the early update land before the final one.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), early).await;
    report
}

/// Store one output under its content-addressed key.
pub async fn store(state: &AppState, prefix: &str, out: &Output) -> anyhow::Result<StoredFile> {
    Ok(stored(
        runway_thumbnail::store_one(state.blobs.as_ref(), prefix, out).await?,
    ))
}

fn stored(f: File) -> StoredFile {
    StoredFile {
        key: f.key,
        width: f.width,
        height: f.height,
        content_type: f.content_type,
        bytes: f.bytes,
    }
}

/// What recording a report did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    Ready,
    Failed,
    /// The record was already final (a duplicate or late report).
    AlreadyFinal,
    /// The media was deleted; the report's files were removed.
    Gone,
    /// The report does not match the record (another upload, or files
    /// outside the media's prefix): ignored.
    Mismatch,
}

/// Record the result of one run of the thumbnail job, from this process or
/// from the Lambda. Idempotent: a second report for the same media finds
/// the record final and only cleans up. The staged upload is deleted once
/// the record is final.
pub async fn record(state: &AppState, report: &Report) -> anyhow::Result<Recorded> {
    let Some(m) = state.db.media_by_id(report.media_id).await? else {
        // Deleted before or while it was processed: its delete removed what
        // existed then; remove what this run wrote, but only keys that are
        // this media's own (a stray report must not delete anything else).
        let own = Upload::parse(&report.upload_key).filter(|u| {
            u.media_id == report.media_id
                && u.user_id == report.user_id
                && report.files_belong_to(u)
        });
        if own.is_none() {
            tracing::warn!(media_id = %report.media_id, "ignoring a thumbnail report for unknown media with foreign keys");
            return Ok(Recorded::Mismatch);
        }
        remove_written(state, report).await?;
        return Ok(Recorded::Gone);
    };
    let upload = upload_of(&m);
    if m.user_id != report.user_id
        || m.upload_key != report.upload_key
        || !report.files_belong_to(&upload)
    {
        tracing::warn!(media_id = %m.id, "ignoring a thumbnail report that does not match its media");
        return Ok(Recorded::Mismatch);
    }
    if matches!(m.status, MediaStatus::Ready | MediaStatus::Failed) {
        discard_unreferenced(state, &m, report).await?;
        state.blobs.delete(&m.upload_key).await?;
        return Ok(Recorded::AlreadyFinal);
    }
    let now = runway_store::now_ms();
    let recorded = match &report.outcome {
        Outcome::Ready {
            content_type,
            width,
            height,
            thumbhash,
            dominant_color,
            original,
            variants,
        } => {
            let processed = Processed {
                width: *width,
                height: *height,
                thumbhash: thumbhash.clone(),
                dominant_color: dominant_color.clone(),
                original: stored(original.clone()),
                variants: variants
                    .iter()
                    .map(|(name, f)| (name.clone(), stored(f.clone())))
                    .collect(),
            };
            let done = state
                .db
                .mark_media_ready(m.id, content_type, &processed, now)
                .await?;
            if !done && state.db.media_by_id(m.id).await?.is_none() {
                // Deleted between the two reads: remove what this run wrote.
                remove_written(state, report).await?;
                return Ok(Recorded::Gone);
            }
            if done {
                Recorded::Ready
            } else {
                if let Some(now_final) = state.db.media_by_id(m.id).await? {
                    discard_unreferenced(state, &now_final, report).await?;
                }
                Recorded::AlreadyFinal
            }
        }
        Outcome::Failed { code, detail } => {
            if state.db.mark_media_failed(m.id, code, detail, now).await? {
                Recorded::Failed
            } else {
                Recorded::AlreadyFinal
            }
        }
    };
    state.blobs.delete(&m.upload_key).await?;
    if matches!(recorded, Recorded::Ready | Recorded::Failed) {
        crate::events::media_changed(state, m.id).await;
    }
    Ok(recorded)
}

/// Remove what a run wrote, and its upload (its media is gone).
async fn remove_written(state: &AppState, report: &Report) -> anyhow::Result<()> {
    for f in report.files() {
        state.blobs.delete(&f.key).await?;
    }
    state.blobs.delete(&report.upload_key).await?;
    Ok(())
}

/// A late or duplicate report may name files the final record does not
/// (another run's bytes, or a second upload to a still-valid upload URL):
/// delete those, so nothing is stored that no record points at.
async fn discard_unreferenced(state: &AppState, m: &Media, report: &Report) -> anyhow::Result<()> {
    let kept: std::collections::HashSet<&str> = m
        .variants
        .values()
        .chain(m.original.iter())
        .map(|f| f.key.as_str())
        .collect();
    for f in report.files() {
        if !kept.contains(f.key.as_str()) {
            state.blobs.delete(&f.key).await?;
        }
    }
    Ok(())
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
    /// The ThumbHash already decoded: a tiny blurred PNG (`data:` URL, about
    /// 1 KB) to show stretched to the photo's aspect ratio while it loads,
    /// for clients without a ThumbHash decoder.
    pub data_url: Option<String>,
}

/// The ThumbHash decoded to a PNG `data:` URL.
pub fn placeholder_data_url(thumbhash: &str) -> Option<String> {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use image::ImageEncoder;
    let hash = STANDARD.decode(thumbhash).ok()?;
    let (w, h, rgba) = thumbhash::thumb_hash_to_rgba(&hash).ok()?;
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(
            &rgba,
            u32::try_from(w).ok()?,
            u32::try_from(h).ok()?,
            image::ExtendedColorType::Rgba8,
        )
        .ok()?;
    Some(format!("data:image/png;base64,{}", STANDARD.encode(png)))
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
                data_url: placeholder_data_url(t),
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
