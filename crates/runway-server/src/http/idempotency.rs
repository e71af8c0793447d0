//! `Idempotency-Key` on POST routes.
//!
//! Mobile clients retry on flaky networks. A POST carrying an
//! `Idempotency-Key` runs once; a retry with the same key and the same body
//! gets the stored response (with `Idempotent-Replayed: true`) and causes no
//! second side effect. The same key with a different body is 422
//! `idempotency_key_reused`; a retry while the first is still running is 409
//! `idempotency_in_flight`. Keys are scoped per user (or anonymous), method
//! and path. Server errors are not stored, so they can be retried.
//! If the cache is unavailable, requests proceed without the guarantee
//! rather than failing.
//!
//! Stored response bodies (which may hold tokens) are encrypted with
//! AES-256-GCM under a key derived from the server secret and the raw
//! idempotency key, which the cache never sees: reading the cache alone
//! reveals no response.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use runway_cache::{Begin, StoredResponse};
use sha2::{Digest, Sha256};

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Nonce};

use crate::error::ApiError;
use crate::state::AppState;

pub static IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
static REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// Response headers worth replaying.
const KEPT_HEADERS: [HeaderName; 3] = [header::CONTENT_TYPE, header::LOCATION, header::RETRY_AFTER];

pub async fn idempotency(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let Some(raw_key) = req.headers().get(&IDEMPOTENCY_KEY).cloned() else {
        return next.run(req).await;
    };
    let key = match raw_key.to_str() {
        Ok(k) if !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()) => {
            k.to_string()
        }
        _ => {
            return ApiError::bad_request(
                "invalid_idempotency_key",
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            )
            .into_response();
        }
    };

    let (parts, body) = req.into_parts();
    // Uploads may carry a photo; everything else the JSON limit.
    let limit = if parts.uri.path().starts_with("/v1/media") {
        let upload = usize::try_from(state.config.media.max_upload_bytes).unwrap_or(usize::MAX);
        state
            .config
            .http
            .body_limit_bytes
            .max(upload.saturating_add(64 * 1024))
    } else {
        state.config.http.body_limit_bytes
    };
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                Some("request body is too large".to_string()),
            )
            .into_response();
        }
    };
    // Scope by the token's subject even if it has expired since the first
    // attempt (a retry may arrive later); the handler still authorizes.
    // Server API keys (`rwk_…`) are scoped by their hash, so two backends
    // using the same Idempotency-Key never see each other's responses.
    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let principal = match bearer {
        Some(key) if key.starts_with("rwk_") => {
            format!("key-{}", crate::push::api_key_hash(key))
        }
        Some(t) => state
            .tokens
            .subject_ignoring_expiry(t)
            .map(|u| u.to_string())
            .unwrap_or_else(|| "anonymous".to_string()),
        None => "anonymous".to_string(),
    };
    let cipher = response_cipher(&state, &key);
    let scope = format!(
        "{principal}:{}:{}:{}",
        parts.method,
        parts.uri.path(),
        hex::encode(Sha256::digest(key.as_bytes()))
    );
    let fingerprint = hex::encode(Sha256::digest(&bytes));

    match state.idempotency.begin(&scope, &fingerprint).await {
        Ok(Begin::Proceed) => {}
        Ok(Begin::Replay(stored)) => return replay(stored, &cipher),
        Ok(Begin::InFlight) => {
            return ApiError::conflict(
                "idempotency_in_flight",
                "a request with this Idempotency-Key is still being processed",
            )
            .with_header(header::RETRY_AFTER, HeaderValue::from_static("1"))
            .into_response();
        }
        Ok(Begin::Mismatch) => {
            return ApiError::unprocessable(
                "idempotency_key_reused",
                "this Idempotency-Key was used with a different request",
            )
            .into_response();
        }
        Err(e) => {
            tracing::warn!(error = %e, "idempotency store unavailable; proceeding without it");
            return next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
        }
    }

    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let status = response.status();
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        if let Err(e) = state.idempotency.abandon(&scope).await {
            tracing::warn!(error = %e, "could not release idempotency key");
        }
        return response;
    }
    let (mut resp_parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            let _ = state.idempotency.abandon(&scope).await;
            return ApiError::internal(format!("response body: {e}")).into_response();
        }
    };
    let stored = StoredResponse {
        status: status.as_u16(),
        headers: KEPT_HEADERS
            .iter()
            .filter_map(|name| {
                resp_parts
                    .headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(|v| (name.as_str().to_string(), v.to_string()))
            })
            .collect(),
        body: seal(&cipher, &body),
    };
    if let Err(e) = state
        .idempotency
        .complete(&scope, &fingerprint, stored)
        .await
    {
        tracing::warn!(error = %e, "could not store idempotent response");
    }
    resp_parts
        .headers
        .insert(REPLAYED.clone(), HeaderValue::from_static("false"));
    Response::from_parts(resp_parts, Body::from(body))
}

fn response_cipher(state: &AppState, key: &str) -> Aes256Gcm {
    let k = crate::auth::tokens::derive_key(&state.response_key, key);
    Aes256Gcm::new_from_slice(&k).expect("32-byte key")
}

/// nonce (12 bytes) ‖ ciphertext.
fn seal(cipher: &Aes256Gcm, body: &[u8]) -> Vec<u8> {
    let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
    let mut out = nonce.to_vec();
    out.extend(cipher.encrypt(&nonce, body).expect("in-memory encryption"));
    out
}

fn open(cipher: &Aes256Gcm, sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < 12 {
        return None;
    }
    let (nonce, ct) = sealed.split_at(12);
    let nonce: [u8; 12] = nonce.try_into().ok()?;
    cipher.decrypt(&Nonce::from(nonce), ct).ok()
}

fn replay(stored: StoredResponse, cipher: &Aes256Gcm) -> Response {
    let Some(body) = open(cipher, &stored.body) else {
        // Only after the server secret changed.
        return ApiError::conflict(
            "idempotency_key_unreadable",
            "the stored response for this Idempotency-Key can no longer be read; use a new key",
        )
        .into_response();
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    for (name, value) in stored.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().insert(n, v);
        }
    }
    response
        .headers_mut()
        .insert(REPLAYED.clone(), HeaderValue::from_static("true"));
    response
}
