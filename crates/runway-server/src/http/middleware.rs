//! Request IDs, access logs, metrics, timeouts and security headers.

use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use crate::error::ApiError;
use crate::state::AppState;

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request's ID, from `x-request-id` when it is sane, otherwise new.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

fn acceptable_request_id(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    ok.then(|| s.to_string())
}

/// Outermost layer: assigns the request ID, opens the request's span, logs
/// the outcome and records metrics. Query strings are not logged (they may
/// carry tokens).
pub async fn observe(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(acceptable_request_id)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    if let Ok(v) = HeaderValue::from_str(&id) {
        req.headers_mut().insert(X_REQUEST_ID.clone(), v);
    }
    let method = req.method().clone();
    // Label values must stay bounded: any other method token is "OTHER".
    let method_label = match method.as_str() {
        "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" => method.as_str(),
        _ => "OTHER",
    };
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let span =
        tracing::info_span!("request", request_id = %id, method = %method_label, route = %route);
    let mut response = next.run(req).instrument(span.clone()).await;
    let status = response.status();
    let elapsed = started.elapsed();
    state
        .metrics
        .observe_request(method_label, &route, status.as_u16(), elapsed);
    span.in_scope(|| {
        tracing::info!(
            status = status.as_u16(),
            elapsed_ms = elapsed.as_secs_f64() * 1000.0,
            "request"
        )
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(X_REQUEST_ID.clone(), v);
    }
    response
}

/// A request that runs longer than the configured timeout gets 503
/// `request_timeout`; this also bounds how long shutdown can wait.
pub async fn timeout(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = Duration::from_secs(state.config.http.request_timeout_secs);
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "request_timeout",
            Some("the request took too long".to_string()),
        )
        .into_response(),
    }
}

/// Security headers on every response (a handler may set its own CSP).
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/v1/");
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert_with(|| HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"));
    if api {
        // Responses carry tokens and personal data.
        h.entry(header::CACHE_CONTROL)
            .or_insert_with(|| HeaderValue::from_static("no-store"));
    }
    if state.config.http.hsts {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

/// Unmatched paths.
pub async fn not_found() -> ApiError {
    ApiError::not_found()
}

/// A known path with the wrong method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", None)
}

/// A handler panicked: answer with a problem document instead of dropping
/// the connection. The panic message is logged, not sent.
pub fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let msg = err
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| err.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_string());
    ApiError::internal(format!("handler panicked: {msg}")).into_response()
}
