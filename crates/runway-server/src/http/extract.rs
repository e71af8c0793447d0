//! Extractors that reject with runway's problem+json shape.

use std::net::{IpAddr, SocketAddr};

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;
use runway_core::domain::UserId;
use runway_store::users::User;

/// `axum::Json`, with rejections mapped to problem+json:
/// - malformed JSON: 400 `malformed_json`;
/// - wrong types, missing or unknown fields: 422 `invalid_body`;
/// - no JSON content type: 415 `unsupported_media_type`;
/// - body over the limit: 413 `payload_too_large`.
pub struct AppJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for AppJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(AppJson(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(r: JsonRejection) -> ApiError {
    match r {
        JsonRejection::JsonDataError(e) => ApiError::unprocessable("invalid_body", e.body_text()),
        JsonRejection::JsonSyntaxError(e) => ApiError::bad_request("malformed_json", e.body_text()),
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            Some("expected Content-Type: application/json".to_string()),
        ),
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                Some("request body is too large".to_string()),
            )
        }
        other => ApiError::bad_request("invalid_body", other.body_text()),
    }
}

/// The client address: the socket peer, or behind a trusted proxy (ALB) the
/// last `X-Forwarded-For` hop, which is the one the proxy itself added.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // Only the last hop counts: earlier ones are whatever the client
        // sent. If the last one does not parse, fall back to the peer.
        if state.config.http.trust_forwarded_for
            && let Some(ip) = parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .next_back()
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|s| s.trim().parse::<IpAddr>().ok())
        {
            return Ok(ClientIp(ip));
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        Ok(ClientIp(peer))
    }
}

/// The signed-in user: a valid access token for an account that still exists.
pub struct CurrentUser(pub User);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let id = bearer_user(parts, state)?;
        match state.db.user_by_id(id).await? {
            Some(user) => Ok(CurrentUser(user)),
            None => Err(ApiError::unauthorized(
                "invalid_token",
                "the account no longer exists",
            )),
        }
    }
}

/// The user id in a valid bearer token, without a database lookup.
pub fn bearer_user(parts: &Parts, state: &AppState) -> Result<UserId, ApiError> {
    bearer_user_until(&parts.headers, state).map(|(user, _)| user)
}

/// The user of a valid bearer token and the token's expiry (Unix s).
pub fn bearer_user_until(
    headers: &axum::http::HeaderMap,
    state: &AppState,
) -> Result<(UserId, u64), ApiError> {
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing_token", "an access token is required"))?;
    let value = header
        .to_str()
        .map_err(|_| ApiError::unauthorized("invalid_token", "malformed Authorization header"))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .ok_or_else(|| ApiError::unauthorized("invalid_token", "expected a Bearer token"))?;
    state
        .tokens
        .verify_access_until(token.trim())
        .map_err(|reason| ApiError::unauthorized("invalid_token", reason))
}
