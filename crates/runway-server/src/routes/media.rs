//! Photos: upload (through the API or directly to storage), read, list,
//! delete, and allow-listed extra sizes.
//!
//! Every upload ends in the same place whatever the path: a `processing`
//! record whose bytes sit under `uploads/<user>/<media>`, and a durable
//! `media.process` job. Only the owner sees private media; anyone signed in
//! may read a public record. Other people's private media are 404, never
//! 403, so ids reveal nothing.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::BytesMut;
use runway_jobs::Job;
use runway_store::media::{Media, MediaStatus, NewMedia, Visibility};
use runway_store::now_ms;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult, Problem};
use crate::http::extract::{AppJson, CurrentUser};
use crate::jobs::ProcessMedia;
use crate::media::{self, FileView, MediaView};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// Wait up to this long for processing (`5s`, `2500ms` or seconds);
    /// capped at `media.max_wait_secs`. Ready in time: 201.
    #[param(example = "5s")]
    pub wait: Option<String>,
    /// `private` (default) or `public`.
    pub visibility: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WaitParams {
    /// Wait up to this long for processing (`5s`, `2500ms` or seconds).
    #[param(example = "5s")]
    pub wait: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 20).
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MediaPage {
    pub items: Vec<MediaView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadRequest {
    /// The type of the file to upload: `image/jpeg`, `image/png`,
    /// `image/webp`, `image/gif`, `image/heic` or `image/heif`.
    #[schema(example = "image/heic")]
    pub content_type: String,
    /// Exact size of the file in bytes; the upload URL accepts no other.
    pub bytes: u64,
    /// `private` (default) or `public`.
    pub visibility: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UploadGrant {
    pub media_id: Uuid,
    /// Send the file's bytes here, with `method` and exactly `headers`.
    pub upload_url: String,
    #[schema(example = "PUT")]
    pub method: String,
    /// Headers the upload must carry exactly (they are signed).
    pub headers: BTreeMap<String, String>,
    /// RFC 3339; the URL stops working then.
    pub expires_at: String,
}

fn query_error(e: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request("invalid_query", e.to_string())
}

fn parse_visibility(v: Option<&str>) -> ApiResult<Visibility> {
    match v {
        None | Some("private") => Ok(Visibility::Private),
        Some("public") => Ok(Visibility::Public),
        Some(_) => Err(ApiError::unprocessable(
            "invalid_visibility",
            "visibility must be `private` or `public`",
        )),
    }
}

/// `5s`, `2500ms`, `5` (seconds), capped at `max`.
fn parse_wait(raw: Option<&str>, max: Duration) -> ApiResult<Duration> {
    let Some(raw) = raw else {
        return Ok(Duration::ZERO);
    };
    let bad = || ApiError::bad_request("invalid_query", "wait must look like `5s` or `2500ms`");
    let d = if let Some(ms) = raw.strip_suffix("ms") {
        Duration::from_millis(ms.parse().map_err(|_| bad())?)
    } else {
        let s = raw.strip_suffix('s').unwrap_or(raw);
        Duration::from_secs_f64(
            s.parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s >= 0.0)
                .ok_or_else(bad)?
                .min(3600.0),
        )
    };
    Ok(d.min(max))
}

/// Map a pipeline rejection to the HTTP edge, keeping its stable code.
pub fn pipeline_error(e: &runway_media::Error) -> ApiError {
    use runway_media::Error as E;
    let status = match e {
        E::UnsupportedType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        E::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    ApiError::new(status, e.code(), Some(e.to_string()))
}

fn too_large(max: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        Some(format!("the file is larger than the limit of {max} bytes")),
    )
}

fn quota_exceeded(state: &AppState) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "quota_exceeded",
        Some(format!(
            "this upload would exceed your storage quota of {} bytes; delete some media first",
            state.config.media.quota_bytes_per_user
        )),
    )
}

/// A record the caller may read: their own, or public.
async fn readable(
    state: &AppState,
    user: &runway_store::users::User,
    id: Uuid,
) -> ApiResult<Media> {
    match state.db.media_by_id(id).await? {
        Some(m) if m.user_id == user.id || m.visibility == Visibility::Public => Ok(m),
        _ => Err(ApiError::not_found()),
    }
}

/// A record the caller owns.
async fn owned(state: &AppState, user: &runway_store::users::User, id: Uuid) -> ApiResult<Media> {
    match state.db.media_by_id(id).await? {
        Some(m) if m.user_id == user.id => Ok(m),
        _ => Err(ApiError::not_found()),
    }
}

async fn view(state: &AppState, m: &Media) -> ApiResult<MediaView> {
    media::view(state, m)
        .await
        .map_err(|e| ApiError::unavailable("storage_unavailable", e))
}

/// Poll until the record leaves `processing` or `wait` passes. Works
/// whichever process runs the job.
async fn wait_for(state: &AppState, id: Uuid, wait: Duration) -> ApiResult<Option<Media>> {
    let deadline = Instant::now() + wait;
    let mut m = state.db.media_by_id(id).await?;
    while matches!(&m, Some(r) if r.status == MediaStatus::Processing) && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
        m = state.db.media_by_id(id).await?;
    }
    Ok(m)
}

/// The response for a record that was just submitted for processing.
async fn submitted(state: &AppState, id: Uuid, wait: Duration) -> ApiResult<Response> {
    let Some(m) = wait_for(state, id, wait).await? else {
        return Err(ApiError::not_found());
    };
    if m.status == MediaStatus::Failed {
        let (code, detail) = m.error.clone().unwrap_or_default();
        let code = runway_media_code(&code);
        return Err(ApiError::unprocessable(
            code,
            format!("media {}: {detail}", m.id),
        ));
    }
    let status = if m.status == MediaStatus::Ready && !wait.is_zero() {
        StatusCode::CREATED
    } else {
        StatusCode::ACCEPTED
    };
    let location =
        HeaderValue::from_str(&format!("/v1/media/{}", m.id)).map_err(ApiError::internal)?;
    Ok((
        status,
        [(header::LOCATION, location)],
        Json(view(state, &m).await?),
    )
        .into_response())
}

/// A stored failure code as the `'static` string the error edge needs.
fn runway_media_code(code: &str) -> &'static str {
    runway_media::Error::CODES
        .into_iter()
        .chain(["upload_missing"])
        .find(|c| *c == code)
        .unwrap_or("processing_failed")
}

/// Create a record for `bytes` of `content_type`, within the owner's quota.
async fn create_record(
    state: &AppState,
    user: &runway_store::users::User,
    status: MediaStatus,
    visibility: Visibility,
    content_type: &str,
    bytes: u64,
) -> ApiResult<NewMedia> {
    let id = Uuid::now_v7();
    let record = NewMedia {
        id,
        user_id: user.id,
        status,
        visibility,
        content_type: content_type.to_string(),
        bytes,
        upload_key: media::upload_key(user.id, visibility, id),
        created_at: now_ms(),
    };
    if !state
        .db
        .insert_media(&record, state.config.media.quota_bytes_per_user)
        .await?
    {
        return Err(quota_exceeded(state));
    }
    Ok(record)
}

/// Hand an upload to processing. With `media.processor = "lambda"` the S3
/// event of the upload already did (the Lambda reports back over SQS), so
/// nothing is queued here; `jobs::recover` still processes it in this
/// process if no report ever arrives.
async fn enqueue(state: &AppState, id: Uuid) -> ApiResult<()> {
    if state.config.media.processor == "lambda" {
        return Ok(());
    }
    ProcessMedia { media_id: id }
        .enqueue(state.queue.as_ref())
        .await?;
    Ok(())
}

/// Upload a photo.
///
/// Multipart form with the file in the field `file`. The type is sniffed
/// from the bytes (the file name and declared type are ignored): JPEG, PNG,
/// WebP, GIF or HEIC/HEIF. Dimensions are checked from the header before
/// anything is decoded. Processing (variants, placeholder, metadata
/// removal) runs as a durable job: 202 with a `processing` record, or with
/// `?wait=5s`, 201 with the `ready` record if it finishes in time.
#[utoipa::path(
    post, path = "/v1/media", tag = "media",
    security(("bearer" = [])),
    params(UploadParams),
    request_body(content_type = "multipart/form-data", description = "Field `file`: the image."),
    responses(
        (status = 201, description = "Processed within `wait`", body = MediaView),
        (status = 202, description = "Accepted; processing", body = MediaView),
        (status = 400, description = "`invalid_multipart`, `invalid_query`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`missing_token`, `invalid_token`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`too_large`, `quota_exceeded`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_type`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`missing_file`, `too_many_pixels`, `dimensions_too_large`, `too_many_frames`, `truncated`, `corrupt`, `decode_failed`, `invalid_visibility`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn upload(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    params: Result<Query<UploadParams>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    let Query(params) = params.map_err(query_error)?;
    let config = &state.config.media;
    let wait = parse_wait(
        params.wait.as_deref(),
        Duration::from_secs(config.max_wait_secs),
    )?;
    let visibility = parse_visibility(params.visibility.as_deref())?;
    let max = config.max_upload_bytes;
    // Refuse an oversized body before reading it when its length is declared
    // (the multipart framing adds a little).
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > max + 64 * 1024
    {
        return Err(too_large(max));
    }
    let mut multipart =
        multipart.map_err(|e| ApiError::bad_request("invalid_multipart", e.body_text()))?;
    let mut file = None;
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| ApiError::bad_request("invalid_multipart", e.body_text()))?
    {
        if field.name() != Some("file") {
            continue;
        }
        let mut buf = BytesMut::new();
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| ApiError::bad_request("invalid_multipart", e.body_text()))?
        {
            if (buf.len() + chunk.len()) as u64 > max {
                return Err(too_large(max));
            }
            buf.extend_from_slice(&chunk);
        }
        file = Some(buf.freeze());
        break;
    }
    let Some(bytes) = file else {
        return Err(ApiError::unprocessable(
            "missing_file",
            "the multipart form has no `file` field",
        ));
    };
    // Stages 1 and 2 (sniff, header limits) cost a few header reads: refuse
    // bad input now, with its code, instead of failing in the job.
    let info =
        runway_media::inspect(&bytes, &media::limits(&state)).map_err(|e| pipeline_error(&e))?;

    let record = create_record(
        &state,
        &user,
        MediaStatus::Processing,
        visibility,
        info.kind.mime(),
        bytes.len() as u64,
    )
    .await?;
    let id = record.id;
    let stored = state
        .blobs
        .put(&record.upload_key, bytes, info.kind.mime(), None)
        .await;
    let queued = match stored {
        Ok(()) => enqueue(&state, id).await,
        Err(e) => Err(ApiError::unavailable("storage_unavailable", e)),
    };
    if let Err(e) = queued {
        // Nothing will process it: take the record back so it neither
        // lingers in `processing` nor counts against the quota.
        let _ = state.blobs.delete(&record.upload_key).await;
        let _ = state.db.delete_media(id).await;
        return Err(e);
    }
    tracing::info!(media_id = %id, kind = info.kind.mime(), bytes = record.bytes, "media uploaded");
    submitted(&state, id, wait).await
}

/// Start a direct upload.
///
/// Returns a URL the client sends the file to itself (a presigned S3 PUT,
/// or runway's own signed endpoint in embedded mode), valid for
/// `media.upload_url_ttl_secs` and only for exactly the declared type and
/// size. Then call `POST /v1/media/{id}/complete`.
#[utoipa::path(
    post, path = "/v1/media/uploads", tag = "media",
    security(("bearer" = [])),
    request_body = UploadRequest,
    responses(
        (status = 201, body = UploadGrant),
        (status = 401, description = "`missing_token`, `invalid_token`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`too_large`, `quota_exceeded`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_type`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_body`, `invalid_size`, `invalid_visibility`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_upload(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    AppJson(req): AppJson<UploadRequest>,
) -> ApiResult<(StatusCode, Json<UploadGrant>)> {
    let config = &state.config.media;
    let content_type = req.content_type.trim().to_ascii_lowercase();
    if !media::ACCEPTED_TYPES.contains(&content_type.as_str()) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_type",
            Some(format!(
                "content_type must be one of {}",
                media::ACCEPTED_TYPES.join(", ")
            )),
        ));
    }
    if req.bytes == 0 {
        return Err(ApiError::unprocessable(
            "invalid_size",
            "bytes must be positive",
        ));
    }
    if req.bytes > config.max_upload_bytes {
        return Err(too_large(config.max_upload_bytes));
    }
    let visibility = parse_visibility(req.visibility.as_deref())?;
    let record = create_record(
        &state,
        &user,
        MediaStatus::AwaitingUpload,
        visibility,
        &content_type,
        req.bytes,
    )
    .await?;
    let id = record.id;
    let presigned = state
        .blobs
        .presign_put(
            &record.upload_key,
            &content_type,
            req.bytes,
            Duration::from_secs(config.upload_url_ttl_secs),
        )
        .await
        .map_err(|e| ApiError::unavailable("storage_unavailable", e))?;
    let expires_ms = presigned
        .expires_at
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    Ok((
        StatusCode::CREATED,
        Json(UploadGrant {
            media_id: id,
            upload_url: presigned.url,
            method: presigned.method,
            headers: presigned.headers.into_iter().collect(),
            expires_at: crate::routes::auth::rfc3339(expires_ms),
        }),
    ))
}

/// Finish a direct upload: check the bytes arrived, then process them.
///
/// Safe to repeat: completing an upload that is already processing or done
/// returns the record.
#[utoipa::path(
    post, path = "/v1/media/{id}/complete", tag = "media",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Media id"), WaitParams),
    responses(
        (status = 201, description = "Processed within `wait`", body = MediaView),
        (status = 202, description = "Accepted; processing", body = MediaView),
        (status = 200, description = "Already finished", body = MediaView),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`upload_missing`: the bytes have not been uploaded", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`too_large`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn complete(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<Uuid>,
    params: Result<Query<WaitParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(params) = params.map_err(query_error)?;
    let config = &state.config.media;
    let wait = parse_wait(
        params.wait.as_deref(),
        Duration::from_secs(config.max_wait_secs),
    )?;
    let m = owned(&state, &user, id).await?;
    match m.status {
        MediaStatus::AwaitingUpload => {}
        MediaStatus::Processing => return submitted(&state, id, wait).await,
        MediaStatus::Ready | MediaStatus::Failed => {
            return Ok((StatusCode::OK, Json(view(&state, &m).await?)).into_response());
        }
    }
    let meta = state
        .blobs
        .head(&m.upload_key)
        .await
        .map_err(|e| ApiError::unavailable("storage_unavailable", e))?;
    let Some(meta) = meta else {
        // With the Lambda processor the upload may already be processed,
        // recorded and removed: then the record is final.
        if let Some(done) = state.db.media_by_id(id).await?
            && matches!(done.status, MediaStatus::Ready | MediaStatus::Failed)
        {
            return Ok((StatusCode::OK, Json(view(&state, &done).await?)).into_response());
        }
        return Err(ApiError::conflict(
            "upload_missing",
            "no file has been uploaded for this media yet",
        ));
    };
    // The signed URL only accepts the declared size; checked again here in
    // case storage was written some other way.
    if meta.size > config.max_upload_bytes || meta.size > m.bytes {
        let _ = state.blobs.delete(&m.upload_key).await;
        return Err(too_large(config.max_upload_bytes.min(m.bytes)));
    }
    // Enqueue before marking: if marking fails, the job finds the record
    // still awaiting and does nothing; a retried complete enqueues again
    // (deduplicated while pending).
    enqueue(&state, id).await?;
    state
        .db
        .mark_media_uploaded(id, meta.size, now_ms())
        .await?;
    // A job that ran between the two statements saw `awaiting_upload` and
    // did nothing; make sure one runs now. Deduplicated while pending.
    enqueue(&state, id).await?;
    submitted(&state, id, wait).await
}

/// One photo: yours, or a public one.
#[utoipa::path(
    get, path = "/v1/media/{id}", tag = "media",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Media id")),
    responses(
        (status = 200, body = MediaView),
        (status = 401, description = "`missing_token`, `invalid_token`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found` (also for other people's private media)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_media(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<MediaView>> {
    let m = readable(&state, &user, id).await?;
    Ok(Json(view(&state, &m).await?))
}

/// Your photos, newest first.
#[utoipa::path(
    get, path = "/v1/media", tag = "media",
    security(("bearer" = [])),
    params(ListParams),
    responses(
        (status = 200, body = MediaPage),
        (status = 400, description = "`invalid_query`, `invalid_cursor`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`missing_token`, `invalid_token`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_media(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<MediaPage>> {
    let Query(params) = params.map_err(query_error)?;
    let (before, limit) = crate::routes::page(params.cursor.as_deref(), params.limit)?;
    let mut rows = state.db.list_media(user.id, before, limit + 1).await?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|m| m.id.to_string())
    } else {
        None
    };
    let mut items = Vec::with_capacity(rows.len());
    for m in &rows {
        items.push(view(&state, m).await?);
    }
    Ok(Json(MediaPage { items, next_cursor }))
}

/// Delete a photo, its original and every variant.
#[utoipa::path(
    delete, path = "/v1/media/{id}", tag = "media",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Media id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "`missing_token`, `invalid_token`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_media(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    let m = owned(&state, &user, id).await?;
    // Files first: if this fails the record stays and the delete can be
    // retried; the reverse could orphan files nobody can find.
    let storage = |e| ApiError::unavailable("storage_unavailable", e);
    state
        .blobs
        .delete_prefix(&media::files_prefix(m.visibility, m.user_id, m.id))
        .await
        .map_err(storage)?;
    state.blobs.delete(&m.upload_key).await.map_err(storage)?;
    state.db.delete_media(id).await?;
    // A run that finished in between (the thumbnail Lambda, or a worker)
    // may have written files after the first pass; its report will find the
    // record gone and remove its own files too. Best effort: the record is
    // already gone.
    if let Err(e) = state
        .blobs
        .delete_prefix(&media::files_prefix(m.visibility, m.user_id, m.id))
        .await
    {
        tracing::warn!(media_id = %id, error = %e, "second pass over a deleted media's files failed");
    }
    tracing::info!(media_id = %id, "media deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// An extra size of a photo, rendered on first request, then stored.
///
/// Only sizes in `media.on_demand_sizes` are rendered (fit within
/// `WIDTHxHEIGHT`, never upscaled); any other is refused, so this is not a
/// general resizing service.
#[utoipa::path(
    get, path = "/v1/media/{id}/sizes/{size}", tag = "media",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Media id"),
        ("size" = String, Path, description = "`WIDTHxHEIGHT`, e.g. `1080x1080`"),
    ),
    responses(
        (status = 200, body = FileView),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`not_ready`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`size_not_allowed`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_size(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, size)): Path<(Uuid, String)>,
) -> ApiResult<Json<FileView>> {
    let config = &state.config.media;
    let allowed = config.on_demand().unwrap_or_default();
    let wanted = allowed
        .iter()
        .copied()
        .find(|(w, h)| format!("{w}x{h}") == size)
        .ok_or_else(|| {
            ApiError::unprocessable(
                "size_not_allowed",
                format!("size must be one of: {}", config.on_demand_sizes.join(", ")),
            )
        })?;
    let m = readable(&state, &user, id).await?;
    if m.status != MediaStatus::Ready {
        return Err(ApiError::conflict(
            "not_ready",
            "the media has not finished processing",
        ));
    }
    let file = match m.variants.get(&size) {
        Some(f) => f.clone(),
        None => {
            let original = m.original.as_ref().ok_or_else(|| {
                ApiError::conflict("not_ready", "the media has no stored original")
            })?;
            let blob = state
                .blobs
                .get(&original.key)
                .await
                .map_err(|e| ApiError::unavailable("storage_unavailable", e))?
                .ok_or_else(|| ApiError::internal("stored original is missing"))?;
            let limits = media::limits(&state);
            let preset = media::on_demand_preset(config, wanted.0, wanted.1);
            let rendered = media::run_blocking(&state, move || {
                runway_media::process(&blob.bytes, &limits, &[preset])
            })
            .await
            .map_err(ApiError::internal)?
            .map_err(|e| pipeline_error(&e))?;
            let v = rendered
                .variants
                .into_iter()
                .next()
                .ok_or_else(|| ApiError::internal("pipeline returned no variant"))?;
            let out = media::Output {
                name: size.clone(),
                width: v.width,
                height: v.height,
                content_type: v.content_type.to_string(),
                bytes: v.bytes.into(),
            };
            let prefix = media::files_prefix(m.visibility, m.user_id, m.id);
            let stored = media::store(&state, &prefix, &out)
                .await
                .map_err(|e| ApiError::unavailable("storage_unavailable", e))?;
            if !state
                .db
                .add_media_variant(id, &size, &stored, now_ms())
                .await?
            {
                return Err(ApiError::not_found());
            }
            stored
        }
    };
    let url = media::url_for(&state, m.visibility, &file.key)
        .await
        .map_err(|e| ApiError::unavailable("storage_unavailable", e))?;
    Ok(Json(FileView {
        url,
        width: file.width,
        height: file.height,
        content_type: file.content_type,
        bytes: file.bytes,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_values() {
        let max = Duration::from_secs(15);
        assert_eq!(parse_wait(None, max).unwrap(), Duration::ZERO);
        assert_eq!(parse_wait(Some("5s"), max).unwrap(), Duration::from_secs(5));
        assert_eq!(parse_wait(Some("5"), max).unwrap(), Duration::from_secs(5));
        assert_eq!(
            parse_wait(Some("2500ms"), max).unwrap(),
            Duration::from_millis(2500)
        );
        assert_eq!(parse_wait(Some("99s"), max).unwrap(), max);
        for bad in ["", "x", "-1s", "NaNs", "5m", "infs"] {
            assert_eq!(
                parse_wait(Some(bad), max).unwrap_err().code,
                "invalid_query",
                "{bad}"
            );
        }
    }

    #[test]
    fn every_pipeline_code_is_known_to_the_edge() {
        use runway_media::Error as E;
        for e in [
            E::UnsupportedType,
            E::Truncated,
            E::Corrupt("x"),
            E::TooLarge { bytes: 2, max: 1 },
            E::TooManyPixels { pixels: 2, max: 1 },
            E::TooManyFrames { frames: 2, max: 1 },
            E::DecodeFailed("x".into()),
            E::EncodeFailed("x".into()),
            E::InvalidPreset("x".into()),
        ] {
            assert_eq!(runway_media_code(e.code()), e.code());
            assert!(pipeline_error(&e).status.is_client_error());
        }
    }
}
