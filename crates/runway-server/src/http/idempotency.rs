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

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use runway_cache::{Begin, StoredResponse};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::http::extract::bearer_user;
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
    let limit = state.config.http.body_limit_bytes;
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
    let principal = bearer_user(&parts, &state)
        .map(|u| u.to_string())
        .unwrap_or_else(|_| "anonymous".to_string());
    let scope = format!(
        "{principal}:{}:{}:{}",
        parts.method,
        parts.uri.path(),
        hex::encode(Sha256::digest(key.as_bytes()))
    );
    let fingerprint = hex::encode(Sha256::digest(&bytes));

    match state.idempotency.begin(&scope, &fingerprint).await {
        Ok(Begin::Proceed) => {}
        Ok(Begin::Replay(stored)) => return replay(stored),
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
        body: body.to_vec(),
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

fn replay(stored: StoredResponse) -> Response {
    let mut response = Response::new(Body::from(stored.body));
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
