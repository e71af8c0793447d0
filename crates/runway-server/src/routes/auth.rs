//! Accounts: register, login, refresh, logout.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use runway_cache::Decision;
use runway_core::domain::{Email, PasswordPolicy};
use runway_store::tokens::{NewRefreshToken, Rotation};
use runway_store::users::User;
use runway_store::{StoreError, now_ms};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::tokens::{hash_refresh_token, new_refresh_token};
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::extract::{AppJson, ClientIp};
use crate::state::AppState;

/// Public view of an account.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: uuid::Uuid,
    pub email: String,
    /// RFC 3339.
    pub created_at: String,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        UserView {
            id: u.id.0,
            email: u.email.to_string(),
            created_at: rfc3339(u.created_at),
        }
    }
}

pub fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    #[schema(example = "alice@example.com")]
    pub email: String,
    #[schema(example = "correct horse battery staple", format = Password)]
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Serialize, ToSchema)]
pub struct AuthResponse {
    pub user: UserView,
    /// JWT to send as `Authorization: Bearer …`.
    pub access_token: String,
    /// Opaque; single use. Each refresh returns a new one.
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

const MINUTE: Duration = Duration::from_secs(60);

/// Per-address limit on every auth route, and per-account limit where an
/// email is given. If the cache is down the limit is skipped, not the request.
async fn rate_limit(state: &AppState, ip: &ClientIp, email: Option<&Email>) -> ApiResult<()> {
    let limits = &state.config.rate_limit;
    let mut checks = vec![(format!("auth:ip:{}", ip.0), limits.auth_per_ip_per_minute)];
    if let Some(email) = email {
        checks.push((
            format!("auth:account:{}", hash_refresh_token(email.as_str())),
            limits.auth_per_account_per_minute,
        ));
    }
    for (key, limit) in checks {
        match state.rate_limiter.check(&key, limit, MINUTE).await {
            Ok(Decision::Allowed { .. }) => {}
            Ok(Decision::Limited { retry_after }) => {
                return Err(ApiError::too_many_requests(retry_after));
            }
            Err(e) => tracing::warn!(error = %e, "rate limiter unavailable; not limiting"),
        }
    }
    Ok(())
}

/// Issue an access token and a refresh token in a new family.
async fn start_session(state: &AppState, user: &User) -> ApiResult<AuthResponse> {
    let refresh_token = new_refresh_token();
    let now = now_ms();
    state
        .db
        .insert_refresh_token(&NewRefreshToken {
            user_id: user.id,
            family_id: uuid::Uuid::now_v7(),
            token_hash: hash_refresh_token(&refresh_token),
            created_at: now,
            expires_at: now + state.tokens.refresh_ttl().as_millis() as i64,
        })
        .await?;
    session_response(state, user, refresh_token)
}

fn session_response(
    state: &AppState,
    user: &User,
    refresh_token: String,
) -> ApiResult<AuthResponse> {
    Ok(AuthResponse {
        user: user.into(),
        access_token: state
            .tokens
            .issue_access(user.id)
            .map_err(ApiError::internal)?,
        refresh_token,
        token_type: "Bearer",
        expires_in: state.tokens.access_ttl().as_secs(),
    })
}

/// Create an account and sign in.
#[utoipa::path(
    post, path = "/v1/auth/register", tag = "auth",
    request_body = Credentials,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses(
        (status = 201, description = "Account created", body = AuthResponse),
        (status = 409, description = "`email_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_email`, `weak_password`, `invalid_body`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn register(
    State(state): State<AppState>,
    ip: ClientIp,
    AppJson(req): AppJson<Credentials>,
) -> ApiResult<(StatusCode, Json<AuthResponse>)> {
    let email = Email::parse(&req.email)?;
    rate_limit(&state, &ip, Some(&email)).await?;
    PasswordPolicy {
        min_chars: state.config.auth.password_min_length,
    }
    .check(&req.password, &email)?;
    let hash = state
        .passwords
        .hash(req.password)
        .await
        .map_err(ApiError::internal)?;
    let refresh_token = new_refresh_token();
    let now = now_ms();
    let user = match state
        .db
        .create_user_with_session(
            &email,
            &hash,
            now,
            &hash_refresh_token(&refresh_token),
            now + state.tokens.refresh_ttl().as_millis() as i64,
        )
        .await
    {
        Ok(u) => u,
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::conflict(
                "email_taken",
                "an account with this email already exists",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(user_id = %user.id, "account created");
    Ok((
        StatusCode::CREATED,
        Json(start_session(&state, &user).await?),
    ))
}

/// Sign in with email and password.
#[utoipa::path(
    post, path = "/v1/auth/login", tag = "auth",
    request_body = Credentials,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses(
        (status = 200, description = "Signed in", body = AuthResponse),
        (status = 401, description = "`invalid_credentials` (the same whether or not the account exists)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    ip: ClientIp,
    AppJson(req): AppJson<Credentials>,
) -> ApiResult<Json<AuthResponse>> {
    let invalid = || ApiError::unauthorized("invalid_credentials", "email or password is wrong");
    // A malformed email cannot belong to an account: same answer as a wrong password.
    let email = Email::parse(&req.email).ok();
    rate_limit(&state, &ip, email.as_ref()).await?;
    let creds = match &email {
        Some(e) => state.db.credentials_by_email(e).await?,
        None => None,
    };
    let (user, hash) = match creds {
        Some(c) => (Some(c.user), Some(c.password_hash)),
        None => (None, None),
    };
    let ok = state
        .passwords
        .verify(req.password, hash)
        .await
        .map_err(ApiError::internal)?;
    match user {
        Some(user) if ok => Ok(Json(start_session(&state, &user).await?)),
        _ => Err(invalid()),
    }
}

/// Exchange a refresh token for new tokens. The presented token is spent;
/// presenting a spent token again revokes every token of its session.
#[utoipa::path(
    post, path = "/v1/auth/refresh", tag = "auth",
    request_body = RefreshRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Send one so a retried refresh returns the same tokens instead of tripping reuse detection")),
    responses(
        (status = 200, description = "New tokens", body = AuthResponse),
        (status = 401, description = "`invalid_refresh_token`, `refresh_token_reused`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn refresh(
    State(state): State<AppState>,
    ip: ClientIp,
    AppJson(req): AppJson<RefreshRequest>,
) -> ApiResult<Json<AuthResponse>> {
    rate_limit(&state, &ip, None).await?;
    let next = new_refresh_token();
    let now = now_ms();
    let rotation = state
        .db
        .rotate_refresh_token(
            &hash_refresh_token(&req.refresh_token),
            &hash_refresh_token(&next),
            now,
            now + state.tokens.refresh_ttl().as_millis() as i64,
        )
        .await?;
    let user_id = match rotation {
        Rotation::Rotated { user_id } => user_id,
        Rotation::Reused => {
            tracing::warn!("refresh token reuse detected; session revoked");
            return Err(ApiError::unauthorized(
                "refresh_token_reused",
                "this refresh token was already used; the session has been revoked",
            ));
        }
        Rotation::Expired | Rotation::Unknown => {
            return Err(ApiError::unauthorized(
                "invalid_refresh_token",
                "the refresh token is invalid or expired",
            ));
        }
    };
    let user = state.db.user_by_id(user_id).await?.ok_or_else(|| {
        ApiError::unauthorized("invalid_refresh_token", "the account no longer exists")
    })?;
    Ok(Json(session_response(&state, &user, next)?))
}

/// Sign out: revoke the refresh token's session. Always 204, so the endpoint
/// does not reveal which tokens exist.
#[utoipa::path(
    post, path = "/v1/auth/logout", tag = "auth",
    request_body = RefreshRequest,
    responses((status = 204, description = "Signed out"))
)]
pub async fn logout(
    State(state): State<AppState>,
    ip: ClientIp,
    AppJson(req): AppJson<RefreshRequest>,
) -> ApiResult<StatusCode> {
    rate_limit(&state, &ip, None).await?;
    state
        .db
        .revoke_refresh_family(&hash_refresh_token(&req.refresh_token), now_ms())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
