//! Devices that receive push notifications, and topic subscriptions.
//!
//! Registering is an upsert keyed by the token: the same token is always the
//! same device, and a token registered by another account moves to it (the
//! phone changed hands, or someone signed in as someone else). Tokens are
//! secrets: responses show a short redacted form, logs never the token.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use runway_store::push::{Device, NewDevice};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult, Problem};
use crate::http::extract::{AppJson, CurrentUser};
use crate::push::token_hash;
use crate::routes::auth::rfc3339;
use crate::state::AppState;

/// Most devices listed for one account.
const MAX_DEVICES: u32 = 100;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebPushKeys {
    /// The browser's P-256 public key, base64url.
    pub p256dh: String,
    /// The 16-byte auth secret, base64url.
    pub auth: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterDevice {
    /// `ios`, `android` or `web`.
    #[schema(example = "ios")]
    pub platform: String,
    /// APNs device token (hex) or FCM registration token. For `web`, the
    /// subscription's `endpoint` (or pass `endpoint` and `keys`).
    pub token: Option<String>,
    /// Web Push: `PushSubscription.endpoint`.
    pub endpoint: Option<String>,
    /// Web Push: `PushSubscription.keys`.
    pub keys: Option<WebPushKeys>,
    /// iOS bundle id, when it differs from `push.apns_topic`.
    pub app_id: Option<String>,
    /// BCP 47 tag, e.g. `pt-BR`: picks `localized` text.
    pub locale: Option<String>,
    /// IANA zone, e.g. `Europe/Paris`: quiet hours are applied in it.
    pub timezone: Option<String>,
    /// `production` (default) or `sandbox` (APNs development builds).
    pub environment: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceView {
    pub id: Uuid,
    pub platform: String,
    /// The token, shortened: enough to tell devices apart, never usable.
    #[schema(example = "a1b2c3…(64)")]
    pub token_hint: String,
    pub app_id: Option<String>,
    pub locale: Option<String>,
    pub timezone: Option<String>,
    pub environment: String,
    /// RFC 3339.
    pub created_at: String,
    /// When the token was last registered (RFC 3339).
    pub updated_at: String,
}

impl From<&Device> for DeviceView {
    fn from(d: &Device) -> Self {
        DeviceView {
            id: d.id,
            platform: d.platform.clone(),
            token_hint: runway_push::redact(&d.token),
            app_id: d.app_id.clone(),
            locale: d.locale.clone(),
            timezone: d.timezone.clone(),
            environment: d.environment.clone(),
            created_at: rfc3339(d.created_at),
            updated_at: rfc3339(d.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceList {
    pub items: Vec<DeviceView>,
}

fn invalid(code: &'static str, detail: &str) -> ApiError {
    ApiError::unprocessable(code, detail.to_string())
}

fn check_optional(
    value: &Option<String>,
    field: &str,
    max: usize,
    ok: impl Fn(char) -> bool,
) -> ApiResult<()> {
    if let Some(v) = value
        && (v.is_empty() || v.len() > max || !v.chars().all(ok))
    {
        return Err(invalid(
            "invalid_device",
            &format!("{field} must be 1 to {max} characters of the allowed set"),
        ));
    }
    Ok(())
}

/// Register this device (or refresh its token).
#[utoipa::path(
    post, path = "/v1/devices", tag = "push",
    security(("bearer" = [])),
    request_body = RegisterDevice,
    responses(
        (status = 201, description = "Registered", body = DeviceView),
        (status = 200, description = "Already registered: refreshed (and now yours)", body = DeviceView),
        (status = 401, description = "`missing_token`, `invalid_token`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_platform`, `invalid_device_token`, `invalid_subscription`, `invalid_device`, `device_rejected` (SNS refused the token), `invalid_body`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`push_unavailable` (SNS endpoint could not be created)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn register_device(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    AppJson(req): AppJson<RegisterDevice>,
) -> ApiResult<(StatusCode, Json<DeviceView>)> {
    let platform = match req.platform.as_str() {
        "ios" => runway_push::Platform::Ios,
        "android" => runway_push::Platform::Android,
        "web" => runway_push::Platform::Web,
        _ => {
            return Err(invalid(
                "invalid_platform",
                "platform must be `ios`, `android` or `web`",
            ));
        }
    };
    let token = match (req.token, req.endpoint) {
        (Some(t), None) | (None, Some(t)) => t,
        (Some(t), Some(e)) if t == e => t,
        _ => {
            return Err(invalid(
                "invalid_device_token",
                "send the device token as `token` (for web, the subscription `endpoint`)",
            ));
        }
    };
    // One spelling per token, so the same device is never stored twice.
    let token = match platform {
        runway_push::Platform::Ios => token.trim().to_ascii_lowercase(),
        _ => token.trim().to_string(),
    };
    let web = match (&platform, req.keys) {
        (runway_push::Platform::Web, Some(k)) => Some(runway_push::WebSubscriptionKeys {
            p256dh: k.p256dh,
            auth: k.auth,
        }),
        (runway_push::Platform::Web, None) => {
            return Err(invalid(
                "invalid_subscription",
                "a web device needs the subscription `keys` (p256dh and auth)",
            ));
        }
        (_, Some(_)) => {
            return Err(invalid(
                "invalid_device",
                "`keys` only apply to web devices",
            ));
        }
        (_, None) => None,
    };
    runway_push::validate_token(platform, &token, web.as_ref()).map_err(|e| {
        // `invalid_token` is the access-token code; a device token gets its own.
        let code = match e.code() {
            "invalid_token" => "invalid_device_token",
            other => other,
        };
        invalid(code, &e.to_string())
    })?;
    if let Some(w) = &web {
        if w.p256dh.len() > 128 || w.auth.len() > 64 || token.len() > 2048 {
            return Err(invalid(
                "invalid_subscription",
                "the subscription's endpoint or keys are too long",
            ));
        }
        let host = url::Url::parse(&token)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
            .unwrap_or_default();
        let allowed = state
            .config
            .push
            .web_endpoint_hosts
            .iter()
            .any(|h| host == *h || host.ends_with(&format!(".{h}")));
        if !allowed {
            return Err(invalid(
                "invalid_subscription",
                "the subscription endpoint is not a known push service (push.web_endpoint_hosts)",
            ));
        }
    }
    let environment = match req.environment.as_deref() {
        None | Some("production") => "production",
        Some("sandbox") => "sandbox",
        Some(_) => {
            return Err(invalid(
                "invalid_device",
                "environment must be `production` or `sandbox`",
            ));
        }
    };
    check_optional(&req.app_id, "app_id", 255, |c| {
        c.is_ascii_alphanumeric() || "-._".contains(c)
    })?;
    check_optional(&req.locale, "locale", 35, |c| {
        c.is_ascii_alphanumeric() || c == '-' || c == '_'
    })?;
    if let Some(tz) = &req.timezone
        && (tz.len() > 64 || jiff::tz::TimeZone::get(tz).is_err())
    {
        return Err(invalid(
            "invalid_device",
            "timezone must be an IANA time zone name such as `Europe/Paris`",
        ));
    }
    let platform_name = req.platform.as_str();
    let hash = token_hash(platform_name, &token);
    let now = runway_store::now_ms();
    let existing = state.db.device_by_token_hash(&hash).await?;
    let mut device = state
        .db
        .upsert_device(&NewDevice {
            id: Uuid::now_v7(),
            user_id: user.id,
            platform: platform_name.to_string(),
            token_hash: hash,
            token: token.clone(),
            app_id: req.app_id,
            locale: req.locale,
            timezone: req.timezone,
            environment: environment.to_string(),
            web_p256dh: web.as_ref().map(|w| w.p256dh.clone()),
            web_auth: web.as_ref().map(|w| w.auth.clone()),
            now,
        })
        .await?;
    if state.push.uses_sns(platform_name)
        && let Some(sns) = &state.push.sns
    {
        let env = if environment == "sandbox" {
            runway_push::ApnsEnvironment::Sandbox
        } else {
            runway_push::ApnsEnvironment::Production
        };
        let arn = sns
            .register(
                platform,
                env,
                &token,
                device.sns_endpoint_arn.as_deref(),
                &device.user_id.to_string(),
            )
            .await
            .map_err(|e| match e {
                runway_push::PushError::Sns {
                    retryable: true, ..
                } => ApiError::unavailable("push_unavailable", e),
                other => invalid("device_rejected", &other.to_string()),
            })?;
        if device.sns_endpoint_arn.as_deref() != Some(arn.as_str()) {
            state
                .db
                .set_device_sns_endpoint(device.id, Some(&arn))
                .await?;
            device.sns_endpoint_arn = Some(arn);
        }
    }
    let status = if existing.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    tracing::info!(
        device_id = %device.id,
        platform = platform_name,
        moved = existing.is_some_and(|e| e.user_id != user.id),
        "device registered"
    );
    Ok((status, Json((&device).into())))
}

/// Your devices.
#[utoipa::path(
    get, path = "/v1/devices", tag = "push",
    security(("bearer" = [])),
    responses(
        (status = 200, body = DeviceList),
        (status = 401, description = "`missing_token`, `invalid_token`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_devices(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<Json<DeviceList>> {
    let devices = state.db.list_devices(user.id, MAX_DEVICES).await?;
    Ok(Json(DeviceList {
        items: devices.iter().map(DeviceView::from).collect(),
    }))
}

/// Unregister one of your devices.
#[utoipa::path(
    delete, path = "/v1/devices/{id}", tag = "push",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Device id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "`missing_token`, `invalid_token`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found` (also for other people's devices)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_device(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    let device = state
        .db
        .device_by_id(id)
        .await?
        .filter(|d| d.user_id == user.id)
        .ok_or_else(not_found)?;
    if !state.db.delete_device(user.id, id).await? {
        return Err(not_found());
    }
    crate::jobs::remove_sns_endpoint(&state, &device).await;
    Ok(StatusCode::NO_CONTENT)
}

fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        Some("no such device".into()),
    )
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TopicList {
    pub topics: Vec<String>,
}

/// Topic names: 1–128 of `A-Z a-z 0-9 - _ . ~ :`.
pub fn valid_topic(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.~:".contains(c))
}

fn check_topic(name: &str) -> ApiResult<()> {
    if valid_topic(name) {
        Ok(())
    } else {
        Err(invalid(
            "invalid_topic",
            "topic names are 1 to 128 characters of A-Z a-z 0-9 - _ . ~ :",
        ))
    }
}

/// Subscribe to a topic (idempotent).
#[utoipa::path(
    put, path = "/v1/me/topics/{name}", tag = "push",
    security(("bearer" = [])),
    params(("name" = String, Path, description = "Topic name")),
    responses(
        (status = 204, description = "Subscribed"),
        (status = 401, description = "`missing_token`, `invalid_token`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_topic`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn subscribe(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    check_topic(&name)?;
    state
        .db
        .subscribe_topic(user.id, &name, runway_store::now_ms())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unsubscribe from a topic.
#[utoipa::path(
    delete, path = "/v1/me/topics/{name}", tag = "push",
    security(("bearer" = [])),
    params(("name" = String, Path, description = "Topic name")),
    responses(
        (status = 204, description = "Unsubscribed"),
        (status = 401, description = "`missing_token`, `invalid_token`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: not subscribed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_topic`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn unsubscribe(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    check_topic(&name)?;
    if state.db.unsubscribe_topic(user.id, &name).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            Some("not subscribed to this topic".into()),
        ))
    }
}

/// Your topics.
#[utoipa::path(
    get, path = "/v1/me/topics", tag = "push",
    security(("bearer" = [])),
    responses(
        (status = 200, body = TopicList),
        (status = 401, description = "`missing_token`, `invalid_token`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_topics(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<Json<TopicList>> {
    Ok(Json(TopicList {
        topics: state.db.list_topics(user.id).await?,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebPushConfig {
    /// The VAPID application server key (base64url, uncompressed P-256
    /// point): pass it as `applicationServerKey` to
    /// `PushManager.subscribe`, then register the subscription with
    /// `POST /v1/devices` (`platform: web`).
    pub vapid_public_key: String,
}

/// What a browser needs to subscribe to Web Push.
#[utoipa::path(
    get, path = "/v1/push/web", tag = "push",
    responses(
        (status = 200, body = WebPushConfig),
        (status = 404, description = "`web_push_not_configured` (no `push.vapid_private_key`: browsers get no push)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn web_push_config(State(state): State<AppState>) -> ApiResult<Json<WebPushConfig>> {
    match &state.push.vapid_public_key {
        Some(key) => Ok(Json(WebPushConfig {
            vapid_public_key: key.clone(),
        })),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "web_push_not_configured",
            "this server has no VAPID key: Web Push is not available".to_string(),
        )),
    }
}
