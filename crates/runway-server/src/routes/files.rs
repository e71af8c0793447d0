//! `/files/<key>`: runway serving stored media itself, in embedded mode
//! (local storage). With S3 these URLs are never handed out: clients get
//! CloudFront or presigned S3 URLs instead, and this route is 404.
//!
//! - `GET`/`HEAD` of a processed file (`private/…` with a valid signature,
//!   or `public/…`): strong `ETag` (the content hash in the key),
//!   `Cache-Control: public, max-age=31536000, immutable`, single byte
//!   ranges (206/416), `If-None-Match` (304), the stored `Content-Type` and
//!   `X-Content-Type-Options: nosniff`.
//! - `PUT` of a direct upload (`uploads/…`) with a signed URL: the signature
//!   covers the exact `Content-Type` and `Content-Length`, and the body is
//!   read up to that length and no further.

use std::time::SystemTime;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::BytesMut;
use http_body_util::BodyExt;
use runway_blob::SignedRequest;
use runway_store::media::Visibility;
use serde::Deserialize;

use crate::error::{ApiError, ApiResult};
use crate::media;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct Signature {
    expires: Option<u64>,
    signature: Option<String>,
}

fn forbidden(detail: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "invalid_signature",
        Some(detail.into()),
    )
}

/// GET or HEAD a processed file.
pub async fn get_file(
    State(state): State<AppState>,
    Path(key): Path<String>,
    sig: Result<Query<Signature>, QueryRejection>,
    method: Method,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let Some(local) = state.local_blobs.clone() else {
        return Err(ApiError::not_found());
    };
    let Query(sig) = sig.map_err(|_| forbidden("malformed signature parameters"))?;
    let Some((visibility, _, _)) = media::parse_file_key(&key) else {
        return Err(ApiError::not_found());
    };
    if visibility == Visibility::Private {
        let (Some(expires), Some(signature)) = (sig.expires, sig.signature.as_deref()) else {
            return Err(forbidden("private media need a signed URL"));
        };
        local
            .verify(
                &SignedRequest {
                    method: "GET",
                    key: &key,
                    expires,
                    signature,
                    content_type: None,
                    content_length: None,
                },
                SystemTime::now(),
            )
            .map_err(forbidden)?;
    }
    let etag = media::etag_of_key(&key);
    if let (Some(etag), Some(inm)) = (&etag, headers.get(header::IF_NONE_MATCH)) {
        let inm = inm.to_str().unwrap_or_default();
        if inm.trim() == "*"
            || inm
                .split(',')
                .any(|t| t.trim().trim_start_matches("W/") == etag)
        {
            let mut resp = StatusCode::NOT_MODIFIED.into_response();
            set_cache_headers(resp.headers_mut(), etag);
            return Ok(resp);
        }
    }
    let blob = state
        .blobs
        .get(&key)
        .await
        .map_err(|e| ApiError::unavailable("storage_unavailable", e))?
        .ok_or_else(ApiError::not_found)?;
    let len = blob.bytes.len() as u64;
    let content_type = blob
        .meta
        .content_type
        .clone()
        .unwrap_or_else(|| "application/octet-stream".into());
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|v| parse_range(v, len));
    let (status, body, content_range) = match range {
        None | Some(Range::Ignored) => (StatusCode::OK, blob.bytes, None),
        Some(Range::Unsatisfiable) => {
            let mut resp = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range_not_satisfiable",
                Some(format!("the file has {len} bytes")),
            )
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                resp.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return Ok(resp);
        }
        Some(Range::Bytes(start, end)) => (
            StatusCode::PARTIAL_CONTENT,
            blob.bytes.slice(start as usize..=end as usize),
            Some(format!("bytes {start}-{end}/{len}")),
        ),
    };
    let body_len = body.len();
    let mut resp = if method == Method::HEAD {
        Response::new(Body::empty())
    } else {
        Response::new(Body::from(body))
    };
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(body_len));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Some(cr) = content_range.and_then(|v| HeaderValue::from_str(&v).ok()) {
        h.insert(header::CONTENT_RANGE, cr);
    }
    if let Some(etag) = &etag {
        set_cache_headers(h, etag);
    }
    Ok(resp)
}

fn set_cache_headers(h: &mut HeaderMap, etag: &str) {
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(media::IMMUTABLE),
    );
}

#[derive(Debug, PartialEq, Eq)]
enum Range {
    /// Serve the whole file (not a single `bytes=` range we handle).
    Ignored,
    Unsatisfiable,
    /// Inclusive.
    Bytes(u64, u64),
}

/// One `bytes=` range (RFC 9110 §14.1.2). Several ranges, or another unit,
/// get the whole file, which the RFC allows.
fn parse_range(value: &str, len: u64) -> Range {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Range::Ignored;
    };
    if spec.contains(',') {
        return Range::Ignored;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Range::Ignored;
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        // Suffix: the last N bytes.
        return match last.parse::<u64>() {
            Ok(0) => Range::Unsatisfiable,
            Ok(n) if len > 0 => Range::Bytes(len.saturating_sub(n), len - 1),
            Ok(_) => Range::Unsatisfiable,
            Err(_) => Range::Ignored,
        };
    }
    let Ok(start) = first.parse::<u64>() else {
        return Range::Ignored;
    };
    let end = if last.is_empty() {
        len.saturating_sub(1)
    } else {
        match last.parse::<u64>() {
            Ok(e) if e >= start => e.min(len.saturating_sub(1)),
            _ => return Range::Ignored,
        }
    };
    if start >= len {
        return Range::Unsatisfiable;
    }
    Range::Bytes(start, end)
}

/// PUT a direct upload to a signed URL (embedded mode's stand-in for a
/// presigned S3 PUT).
pub async fn put_file(
    State(state): State<AppState>,
    Path(key): Path<String>,
    sig: Result<Query<Signature>, QueryRejection>,
    req: Request,
) -> ApiResult<Response> {
    let Some(local) = state.local_blobs.clone() else {
        return Err(ApiError::not_found());
    };
    let Query(sig) = sig.map_err(|_| forbidden("malformed signature parameters"))?;
    if !key.starts_with("uploads/") {
        return Err(ApiError::not_found());
    }
    let (Some(expires), Some(signature)) = (sig.expires, sig.signature.as_deref()) else {
        return Err(forbidden("uploads need a signed URL"));
    };
    let headers = req.headers();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let content_length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let grant = local
        .verify(
            &SignedRequest {
                method: "PUT",
                key: &key,
                expires,
                signature,
                content_type: content_type.as_deref(),
                content_length,
            },
            SystemTime::now(),
        )
        .map_err(forbidden)?;
    // Read exactly the signed length: never more, and fail if less.
    let mut body = req.into_body();
    let mut buf = BytesMut::with_capacity(grant.content_length.min(1 << 20) as usize);
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| ApiError::bad_request("invalid_body", format!("body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            if (buf.len() + data.len()) as u64 > grant.content_length {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too_large",
                    Some("the body is longer than the signed Content-Length".into()),
                ));
            }
            buf.extend_from_slice(&data);
        }
    }
    if buf.len() as u64 != grant.content_length {
        return Err(ApiError::bad_request(
            "length_mismatch",
            "the body is shorter than the signed Content-Length",
        ));
    }
    state
        .blobs
        .put(&key, buf.freeze(), &grant.content_type, None)
        .await
        .map_err(|e| ApiError::unavailable("storage_unavailable", e))?;
    Ok(StatusCode::OK.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Range::Bytes(0, 9));
        assert_eq!(parse_range("bytes=90-", 100), Range::Bytes(90, 99));
        assert_eq!(parse_range("bytes=90-500", 100), Range::Bytes(90, 99));
        assert_eq!(parse_range("bytes=-10", 100), Range::Bytes(90, 99));
        assert_eq!(parse_range("bytes=-500", 100), Range::Bytes(0, 99));
        assert_eq!(parse_range("bytes=100-", 100), Range::Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 100), Range::Unsatisfiable);
        assert_eq!(parse_range("bytes=5-1", 100), Range::Ignored);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), Range::Ignored);
        assert_eq!(parse_range("items=0-1", 100), Range::Ignored);
        assert_eq!(parse_range("bytes=x-1", 100), Range::Ignored);
        assert_eq!(parse_range("bytes=0-0", 0), Range::Unsatisfiable);
    }
}
