//! The signed-in user's realtime events as Server-Sent Events, and the
//! tickets browsers authenticate the stream with (see `crate::events`).

use std::collections::HashSet;
use std::time::Duration;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use runway_core::domain::UserId;
use runway_store::events::StoredEvent;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, Problem};
use crate::http::extract::CurrentUser;
use crate::state::AppState;

/// Most events replayed after `Last-Event-ID` in one connection.
const MAX_REPLAY: u32 = 1000;

#[derive(Debug, Serialize, ToSchema)]
pub struct Ticket {
    /// Put it in the stream URL: `/v1/events?ticket=…`. Reusable until it
    /// expires (EventSource reconnects with the same URL).
    pub ticket: String,
    /// RFC 3339.
    pub expires_at: String,
}

/// A ticket for the event stream.
///
/// Browsers' `EventSource` cannot send an `Authorization` header, so a
/// signed-in app asks for a short-lived ticket (`events.ticket_ttl_secs`)
/// and opens `GET /v1/events?ticket=…`. A ticket is good only for the event
/// stream, and only for its owner's events.
#[utoipa::path(
    post, path = "/v1/events/tickets", tag = "events",
    security(("bearer" = [])),
    responses(
        (status = 201, body = Ticket),
        (status = 401, description = "`missing_token`, `invalid_token`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn ticket(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<(StatusCode, Json<Ticket>)> {
    let ttl = Duration::from_secs(state.config.events.ticket_ttl_secs);
    let (ticket, exp) = state
        .tokens
        .issue_ticket(user.id, ttl)
        .map_err(ApiError::internal)?;
    Ok((
        StatusCode::CREATED,
        Json(Ticket {
            ticket,
            expires_at: crate::routes::auth::rfc3339(exp as i64 * 1000),
        }),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct StreamParams {
    /// From `POST /v1/events/tickets`; instead of an `Authorization` header.
    pub ticket: Option<String>,
    /// Resume after this event id (as the `Last-Event-ID` header does; for
    /// clients that open a new EventSource).
    pub last_event_id: Option<String>,
}

/// The stream's user and when its credential expires (Unix s).
fn stream_user(
    headers: &HeaderMap,
    params: &StreamParams,
    state: &AppState,
) -> ApiResult<(UserId, u64)> {
    match &params.ticket {
        Some(ticket) => state
            .tokens
            .verify_ticket(ticket)
            .map_err(|reason| ApiError::unauthorized("invalid_ticket", reason)),
        None => crate::http::extract::bearer_user_until(headers, state),
    }
}

fn to_event(e: &StoredEvent) -> Event {
    Event::default()
        .id(e.id.to_string())
        .event(e.kind.as_str())
        .data(e.data.as_str())
}

/// Your events, as they happen (`text/event-stream`).
///
/// Event types: `media.processing` (the placeholder and size are known,
/// variants follow), `media.ready` and `media.failed` (each
/// `{"media": Media}`),
/// `notification.received` (a push delivered to one of your devices through
/// the `log` provider, or in-app: `{"notification_id", "device_id",
/// "title", "body", "data"}`) and `device.pruned` (`{"device_id",
/// "platform", "reason"}`). Each has an `id`; reconnecting with
/// `Last-Event-ID` (EventSource does it by itself) replays what was missed
/// in the last `events.retention_secs`. Authenticate with a bearer token or
/// `?ticket=`. Comments keep the connection alive every 15 s; the stream
/// ends when the server shuts down (clients reconnect).
#[utoipa::path(
    get, path = "/v1/events", tag = "events",
    security(("bearer" = []), ("ticket" = [])),
    params(StreamParams, ("Last-Event-ID" = Option<String>, Header, description = "Resume after this event id")),
    responses(
        (status = 200, description = "The event stream", content_type = "text/event-stream", body = String),
        (status = 400, description = "`invalid_last_event_id`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`missing_token`, `invalid_token`, `invalid_ticket`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn stream(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Query<StreamParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<impl IntoResponse> {
    let Query(params) =
        params.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let (user, expires) = stream_user(&headers, &params, &state)?;
    if state.db.user_by_id(user).await?.is_none() {
        return Err(ApiError::unauthorized(
            "invalid_token",
            "the account no longer exists",
        ));
    }
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or(params.last_event_id.clone())
        .filter(|v| !v.trim().is_empty());
    let after = match last {
        None => None,
        Some(v) => Some(v.trim().parse::<i64>().map_err(|_| {
            ApiError::bad_request("invalid_last_event_id", "Last-Event-ID must be an event id")
        })?),
    };
    // Subscribe before reading the replay, so nothing falls between them.
    let mut live = state.events.subscribe();
    let (replay, start) = match after {
        Some(after) => {
            let since = runway_store::now_ms() - state.config.events.retention_secs as i64 * 1000;
            let replay = state
                .db
                .user_events_after(user, after, since, MAX_REPLAY)
                .await?;
            (replay, after)
        }
        // A fresh stream starts at the log's end; that id is sent first so a
        // reconnect always has a Last-Event-ID to resume from.
        None => (Vec::new(), state.db.last_event_id().await?),
    };
    // More than one page missed: send this page and end; the client
    // reconnects from its last id for the next.
    let truncated = replay.len() >= MAX_REPLAY as usize;
    let replayed: HashSet<i64> = replay.iter().map(|e| e.id).collect();
    // The credential's lifetime bounds the stream's: a revoked or leaked
    // ticket does not listen forever. Clients reconnect with a fresh one.
    let lifetime = Duration::from_secs(
        expires.saturating_sub(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        ),
    );
    let state = state.clone();
    let stream = async_stream::stream! {
        let mut hello = Event::default().retry(Duration::from_secs(2)).comment("runway events");
        if after.is_none() {
            hello = hello.id(start.to_string());
        }
        yield Ok::<Event, std::convert::Infallible>(hello);
        for e in &replay {
            yield Ok(to_event(e));
        }
        if truncated {
            return;
        }
        let deadline = tokio::time::Instant::now() + lifetime;
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                received = live.recv() => match received {
                    // Every id reaches the broadcast once; ids may arrive out
                    // of order (several writers), so only the replay and what
                    // the client had before reconnecting are skipped.
                    Ok(e) => {
                        if e.user_id == user && e.id > start && !replayed.contains(&e.id) {
                            yield Ok(to_event(&e));
                        }
                    }
                    // Too slow to keep up: end; the client reconnects with
                    // Last-Event-ID and replays from the log.
                    Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => break,
                },
                _ = tokio::time::sleep_until(deadline) => break,
                _ = tick.tick() => {
                    if state.is_shutting_down() {
                        break;
                    }
                }
            }
        }
    };
    // Reverse proxies (nginx) must pass events on as they come.
    Ok((
        [("x-accel-buffering", "no")],
        Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))),
    ))
}
