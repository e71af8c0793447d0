//! Sending push notifications (server-to-server, with an API key), their
//! status, and a signed-in user's inbox of what reached their devices.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use runway_core::domain::UserId;
use runway_jobs::Job;
use runway_store::push::{ApiKey, Audience, Notification};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult, Problem};
use crate::http::extract::{AppJson, CurrentUser};
use crate::jobs::FanOut;
use crate::push::{Content, LocalizedText, PriorityName, QuietHours, api_key_hash, parse_hhmm};
use crate::routes::auth::rfc3339;
use crate::routes::devices::valid_topic;
use crate::state::AppState;

/// Most user or device ids in one request (use a topic for more).
const MAX_IDS: usize = 1000;
/// Largest `data` object, serialized (APNs allows 4 KiB for everything).
const MAX_DATA_BYTES: usize = 3072;
/// Furthest `send_at` in the future.
const MAX_SCHEDULE_DAYS: i64 = 30;

/// A server API key with the `notifications:send` scope, sent as
/// `Authorization: Bearer rwk_…`. Made by `runway admin create-key`.
pub struct SendKey(pub ApiKey);

impl FromRequestParts<AppState> for SendKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let missing = || ApiError::unauthorized("missing_api_key", "an API key is required");
        let value = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(missing)?
            .to_str()
            .map_err(|_| ApiError::unauthorized("invalid_api_key", "malformed Authorization"))?;
        let key = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|k| k.starts_with("rwk_"))
            .ok_or_else(missing)?;
        let key = state
            .db
            .api_key_by_hash(&api_key_hash(key))
            .await?
            .ok_or_else(|| {
                ApiError::unauthorized("invalid_api_key", "unknown or revoked API key")
            })?;
        if !key.scopes.iter().any(|s| s == "notifications:send") {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                Some("this key lacks the notifications:send scope".into()),
            ));
        }
        Ok(SendKey(key))
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendNotification {
    /// Target: every device of these accounts.
    pub user_ids: Option<Vec<Uuid>>,
    /// Target: every device of the accounts subscribed to this topic.
    pub topic: Option<String>,
    /// Target: these devices.
    pub device_ids: Option<Vec<Uuid>>,
    pub title: Option<String>,
    pub body: Option<String>,
    /// Custom key/values delivered with the notification.
    #[schema(value_type = Object)]
    pub data: Option<serde_json::Map<String, serde_json::Value>>,
    pub badge: Option<u32>,
    pub sound: Option<String>,
    pub category: Option<String>,
    pub thread_id: Option<String>,
    /// A newer notification with the same key replaces this one on the
    /// device. Default: the notification id.
    pub collapse_key: Option<String>,
    /// Seconds the providers keep trying to reach an offline device (0:
    /// now or never).
    pub ttl: Option<u64>,
    #[schema(value_type = Option<String>, example = "high")]
    pub priority: Option<PriorityName>,
    /// Silent / data-only: wake the app without showing anything.
    pub content_available: Option<bool>,
    /// Locale (`pt-BR`, `pt`) -> title/body overrides, matched against
    /// each device's locale.
    pub localized: Option<BTreeMap<String, LocalizedText>>,
    /// RFC 3339; send then instead of now (at most 30 days ahead).
    pub send_at: Option<String>,
    pub quiet_hours: Option<QuietHours>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    Users { ids: Vec<UserId> },
    Topic { name: String },
    Devices { ids: Vec<Uuid> },
}

impl Target {
    pub fn audience(&self) -> Audience {
        match self {
            Target::Users { ids } => Audience::Users(ids.clone()),
            Target::Topic { name } => Audience::Topic(name.clone()),
            Target::Devices { ids } => Audience::Devices(ids.clone()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationAccepted {
    pub id: Uuid,
    /// `scheduled` or `queued`.
    pub status: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryCountsView {
    /// Devices the fan-out reached.
    pub targeted: u64,
    pub pending: u64,
    pub sent: u64,
    pub failed: u64,
    /// Tokens the provider reported dead, deleted.
    pub pruned: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryFailureView {
    pub device_id: Uuid,
    pub platform: String,
    /// `failed` or `pruned`.
    pub status: String,
    /// The provider's reason, e.g. `BadDeviceToken`, `UNREGISTERED`.
    pub reason: Option<String>,
    pub attempts: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationStatus {
    pub id: Uuid,
    /// `scheduled`, `sending` or `completed`.
    pub status: &'static str,
    pub counts: DeliveryCountsView,
    /// Devices that were not reached (first 1000).
    pub failures: Vec<DeliveryFailureView>,
    pub send_at: Option<String>,
    pub created_at: String,
}

fn invalid(code: &'static str, detail: impl Into<String>) -> ApiError {
    ApiError::unprocessable(code, detail.into())
}

fn check_len(field: &str, v: &Option<String>, max: usize) -> ApiResult<()> {
    if let Some(v) = v
        && v.len() > max
    {
        return Err(invalid(
            "invalid_notification",
            format!("{field} is longer than {max} bytes"),
        ));
    }
    Ok(())
}

fn validate(req: SendNotification, now: i64) -> ApiResult<(Target, Content, Option<i64>)> {
    let target = match (req.user_ids, req.topic, req.device_ids) {
        (Some(ids), None, None) => {
            if ids.is_empty() || ids.len() > MAX_IDS {
                return Err(invalid(
                    "invalid_target",
                    format!("user_ids must hold 1 to {MAX_IDS} ids (use a topic for more)"),
                ));
            }
            Target::Users {
                ids: ids.into_iter().map(UserId).collect(),
            }
        }
        (None, Some(name), None) => {
            if !valid_topic(&name) {
                return Err(invalid(
                    "invalid_topic",
                    "topic names are 1 to 128 characters of A-Z a-z 0-9 - _ . ~ :",
                ));
            }
            Target::Topic { name }
        }
        (None, None, Some(ids)) => {
            if ids.is_empty() || ids.len() > MAX_IDS {
                return Err(invalid(
                    "invalid_target",
                    format!("device_ids must hold 1 to {MAX_IDS} ids"),
                ));
            }
            Target::Devices { ids }
        }
        _ => {
            return Err(invalid(
                "invalid_target",
                "give exactly one of user_ids, topic or device_ids",
            ));
        }
    };
    let content_available = req.content_available.unwrap_or(false);
    let data = req.data.unwrap_or_default();
    if req.title.is_none() && req.body.is_none() && !content_available && data.is_empty() {
        return Err(invalid(
            "invalid_notification",
            "a notification needs a title, a body, data, or content_available",
        ));
    }
    check_len("title", &req.title, 256)?;
    check_len("body", &req.body, 2048)?;
    check_len("sound", &req.sound, 128)?;
    check_len("category", &req.category, 128)?;
    check_len("thread_id", &req.thread_id, 128)?;
    if let Some(k) = &req.collapse_key
        && (k.is_empty()
            || k.len() > 32
            || !k
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    {
        return Err(invalid(
            "invalid_notification",
            "collapse_key is 1 to 32 characters of A-Z a-z 0-9 - _ (the Web Push limit)",
        ));
    }
    if serde_json::to_vec(&data).map_or(0, |v| v.len()) > MAX_DATA_BYTES {
        return Err(invalid(
            "invalid_notification",
            format!("data is larger than {MAX_DATA_BYTES} bytes once serialized"),
        ));
    }
    if data.contains_key("aps") {
        return Err(invalid("invalid_notification", "`aps` is reserved in data"));
    }
    let localized = req.localized.unwrap_or_default();
    if localized.len() > 100 {
        return Err(invalid("invalid_notification", "at most 100 locales"));
    }
    for (tag, text) in &localized {
        if tag.is_empty()
            || tag.len() > 35
            || !tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(invalid(
                "invalid_notification",
                "localized keys are BCP 47 tags such as `pt-BR`",
            ));
        }
        check_len("localized title", &text.title, 256)?;
        check_len("localized body", &text.body, 2048)?;
    }
    if let Some(q) = &req.quiet_hours
        && (parse_hhmm(&q.start).is_none() || parse_hhmm(&q.end).is_none())
    {
        return Err(invalid(
            "invalid_notification",
            "quiet_hours start and end are HH:MM (24-hour)",
        ));
    }
    if let Some(ttl) = req.ttl
        && ttl > 28 * 24 * 3600
    {
        return Err(invalid(
            "invalid_notification",
            "ttl is at most 28 days (2419200 seconds)",
        ));
    }
    // The smallest provider limit is Web Push's 3993 bytes of plaintext
    // (APNs and FCM allow 4096): refuse now what no provider would take,
    // rather than accept it and fail every delivery. Estimated on the
    // longest text variant plus the fixed fields and JSON framing.
    let data_bytes = serde_json::to_vec(&data).map_or(0, |v| v.len());
    let fixed = data_bytes
        + [&req.sound, &req.category, &req.thread_id, &req.collapse_key]
            .iter()
            .map(|v| v.as_ref().map_or(0, |s| s.len()))
            .sum::<usize>()
        + 200;
    let text = |t: &Option<String>, b: &Option<String>| {
        t.as_ref().map_or(0, |s| s.len()) + b.as_ref().map_or(0, |s| s.len())
    };
    let longest = localized
        .values()
        .map(|l| {
            text(
                if l.title.is_some() {
                    &l.title
                } else {
                    &req.title
                },
                if l.body.is_some() { &l.body } else { &req.body },
            )
        })
        .chain([text(&req.title, &req.body)])
        .max()
        .unwrap_or(0);
    if fixed + longest > runway_push::WEBPUSH_MAX_PLAINTEXT {
        return Err(invalid(
            "payload_too_large",
            format!(
                "title, body and data come to about {} bytes; push payloads are limited to {} bytes",
                fixed + longest,
                runway_push::WEBPUSH_MAX_PLAINTEXT
            ),
        ));
    }
    let send_at = match req.send_at.as_deref() {
        None => None,
        Some(s) => {
            let t: jiff::Timestamp = s
                .parse()
                .map_err(|_| invalid("invalid_notification", "send_at must be an RFC 3339 time"))?;
            let ms = t.as_millisecond();
            if ms > now + MAX_SCHEDULE_DAYS * 24 * 3600 * 1000 {
                return Err(invalid(
                    "invalid_notification",
                    format!("send_at is at most {MAX_SCHEDULE_DAYS} days ahead"),
                ));
            }
            (ms > now).then_some(ms)
        }
    };
    Ok((
        target,
        Content {
            title: req.title,
            body: req.body,
            data,
            badge: req.badge,
            sound: req.sound,
            category: req.category,
            thread_id: req.thread_id,
            collapse_key: req.collapse_key,
            ttl: req.ttl,
            priority: req.priority.unwrap_or_default(),
            content_available,
            localized,
            quiet_hours: req.quiet_hours,
        },
        send_at,
    ))
}

/// Send a push notification (API key with `notifications:send`).
///
/// Accepted at once; a durable job fans it out to the target's devices in
/// batches and delivers through each platform's provider, with retries.
/// Poll `GET /v1/notifications/{id}` for the outcome.
#[utoipa::path(
    post, path = "/v1/notifications", tag = "push",
    security(("api_key" = [])),
    request_body = SendNotification,
    responses(
        (status = 202, body = NotificationAccepted),
        (status = 401, description = "`missing_api_key`, `invalid_api_key`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`insufficient_scope`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_target`, `invalid_topic`, `invalid_notification`, `payload_too_large`, `invalid_body`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn send(
    State(state): State<AppState>,
    SendKey(key): SendKey,
    AppJson(req): AppJson<SendNotification>,
) -> ApiResult<(StatusCode, Json<NotificationAccepted>)> {
    let now = runway_store::now_ms();
    let (target, content, send_at) = validate(req, now)?;
    let id = Uuid::now_v7();
    state
        .db
        .insert_notification(&Notification {
            id,
            api_key_id: key.id,
            target: to_json(&target)?,
            content: to_json(&content)?,
            send_at,
            fanout_done: false,
            created_at: now,
        })
        .await?;
    let job = FanOut {
        notification_id: id,
        after: None,
    };
    let queued = match send_at {
        Some(at) => {
            let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(at as u64);
            job.enqueue_at(state.queue.as_ref(), at).await
        }
        None => job.enqueue(state.queue.as_ref()).await,
    };
    if let Err(e) = queued {
        // Not accepted: leave no record that housekeeping would later send
        // (the caller retries and would get it twice).
        if let Err(d) = state.db.delete_notification(id).await {
            tracing::error!(notification_id = %id, error = %d, "could not remove an unqueued notification");
        }
        return Err(e.into());
    }
    tracing::info!(notification_id = %id, api_key_id = %key.id, "notification accepted");
    Ok((
        StatusCode::ACCEPTED,
        Json(NotificationAccepted {
            id,
            status: if send_at.is_some() {
                "scheduled"
            } else {
                "queued"
            },
        }),
    ))
}

fn to_json<T: Serialize>(v: &T) -> ApiResult<String> {
    serde_json::to_string(v).map_err(ApiError::internal)
}

/// Where a notification stands (API key with `notifications:send`).
#[utoipa::path(
    get, path = "/v1/notifications/{id}", tag = "push",
    security(("api_key" = [])),
    params(("id" = Uuid, Path, description = "Notification id")),
    responses(
        (status = 200, body = NotificationStatus),
        (status = 401, description = "`missing_api_key`, `invalid_api_key`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn status(
    State(state): State<AppState>,
    SendKey(_key): SendKey,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<NotificationStatus>> {
    let n = state
        .db
        .notification_by_id(id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let counts = state.db.delivery_counts(id).await?;
    let failures = state.db.delivery_failures(id, 1000).await?;
    let now = runway_store::now_ms();
    let status = if n.send_at.is_some_and(|at| at > now) && counts.targeted == 0 {
        "scheduled"
    } else if n.fanout_done && counts.pending == 0 {
        "completed"
    } else {
        "sending"
    };
    Ok(Json(NotificationStatus {
        id,
        status,
        counts: DeliveryCountsView {
            targeted: counts.targeted,
            pending: counts.pending,
            sent: counts.sent,
            failed: counts.failed,
            pruned: counts.pruned,
        },
        failures: failures
            .into_iter()
            .map(|f| DeliveryFailureView {
                device_id: f.device_id,
                platform: f.platform,
                status: f.status,
                reason: f.reason,
                attempts: f.attempts,
            })
            .collect(),
        send_at: n.send_at.map(rfc3339),
        created_at: rfc3339(n.created_at),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxParams {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 20).
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InboxItem {
    pub id: Uuid,
    pub title: Option<String>,
    pub body: Option<String>,
    #[schema(value_type = Object)]
    pub data: serde_json::Map<String, serde_json::Value>,
    pub created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Inbox {
    pub items: Vec<InboxItem>,
    pub next_cursor: Option<String>,
}

/// Notifications delivered to your devices, newest first.
///
/// Text is rendered for the first of your devices' locales that the
/// notification has an override for.
#[utoipa::path(
    get, path = "/v1/me/notifications", tag = "push",
    security(("bearer" = [])),
    params(InboxParams),
    responses(
        (status = 200, body = Inbox),
        (status = 400, description = "`invalid_query`, `invalid_cursor`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`missing_token`, `invalid_token`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn inbox(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    params: Result<Query<InboxParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Inbox>> {
    let Query(params) =
        params.map_err(|e| ApiError::bad_request("invalid_query", e.to_string()))?;
    let (before, limit) = crate::routes::page(params.cursor.as_deref(), params.limit)?;
    let locale = state
        .db
        .list_devices(user.id, 100)
        .await?
        .into_iter()
        .find_map(|d| d.locale);
    let mut rows = state.db.inbox(user.id, before, limit + 1).await?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|n| n.id.to_string())
    } else {
        None
    };
    let items = rows
        .into_iter()
        .map(|n| {
            let content: Content = serde_json::from_str(&n.content).unwrap_or_default();
            let m = content.render(n.id, locale.as_deref());
            InboxItem {
                id: n.id,
                title: m.title,
                body: m.body,
                data: m.data,
                created_at: rfc3339(n.created_at),
            }
        })
        .collect();
    Ok(Json(Inbox { items, next_cursor }))
}
