//! Realtime events for `GET /v1/events`: `media.ready`, `media.failed`,
//! `notification.received` and `device.pruned`, each for one user.
//!
//! Every event is first written to the database's `events` log
//! (`runway-store`), which gives it its id. Streams replay from that log
//! after `Last-Event-ID` (for `events.retention_secs`), and every API
//! process tails it every `events.poll_interval_ms`, so an event written by
//! any process (a worker recording a thumbnail or delivering a push)
//! reaches the user's streams on every instance; in embedded mode the same
//! code runs on SQLite. Events published in this process are also handed to
//! local streams at once.
//!
//! The tail tolerates ids that commit out of order (MySQL auto-increment
//! under concurrent inserts): it delivers every row it has not delivered
//! yet, and only moves its cursor over a gap once the gap is 5 s old.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use runway_core::domain::UserId;
use runway_store::Db;
use runway_store::events::StoredEvent;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

/// Event kinds, as the `event:` field of the stream.
pub const MEDIA_PROCESSING: &str = "media.processing";
pub const MEDIA_READY: &str = "media.ready";
pub const MEDIA_FAILED: &str = "media.failed";
pub const NOTIFICATION_RECEIVED: &str = "notification.received";
pub const DEVICE_PRUNED: &str = "device.pruned";

/// How long a gap in ids may stay open before the tail moves past it.
const GAP_PATIENCE: Duration = Duration::from_secs(5);

struct Tail {
    /// Every id up to here was delivered or skipped.
    cursor: i64,
    /// Delivered ids above the cursor.
    seen: BTreeSet<i64>,
    gap_since: Option<Instant>,
    started: bool,
}

pub struct Events {
    db: Db,
    tx: broadcast::Sender<Arc<StoredEvent>>,
    tail: Mutex<Tail>,
    poll: Duration,
}

impl Events {
    pub fn new(db: Db, poll: Duration) -> Events {
        let (tx, _) = broadcast::channel(4096);
        Events {
            db,
            tx,
            tail: Mutex::new(Tail {
                cursor: 0,
                seen: BTreeSet::new(),
                gap_since: None,
                started: false,
            }),
            poll,
        }
    }

    /// Record an event for `user` and hand it to this process's streams.
    /// Best effort for callers: an event is a notification about state that
    /// is already stored, so a failure is logged, never propagated.
    pub async fn publish(&self, user: UserId, kind: &str, data: serde_json::Value) {
        let now = runway_store::now_ms();
        let text = data.to_string();
        match self.db.insert_event(user, kind, &text, now).await {
            Ok(id) => self.deliver(Arc::new(StoredEvent {
                id,
                user_id: user,
                kind: kind.to_string(),
                data: text,
                created_at: now,
            })),
            Err(e) => tracing::warn!(kind, error = %e, "could not record an event"),
        }
    }

    /// Live events of every user (streams filter their own).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<StoredEvent>> {
        self.tx.subscribe()
    }

    fn deliver(&self, event: Arc<StoredEvent>) {
        let mut tail = self.tail.lock().unwrap_or_else(|p| p.into_inner());
        if !tail.started {
            // No tail in this process (a worker), or not yet: nothing to
            // de-duplicate against (the tail starts at the log's end).
            let _ = self.tx.send(event);
            return;
        }
        if event.id <= tail.cursor || !tail.seen.insert(event.id) {
            return;
        }
        // No receivers is fine: nobody is listening in this process.
        let _ = self.tx.send(event);
    }

    /// Move the cursor over delivered ids, and over gaps older than
    /// [`GAP_PATIENCE`].
    fn advance(&self) {
        let mut tail = self.tail.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let next = tail.cursor + 1;
            if tail.seen.remove(&next) {
                tail.cursor = next;
                tail.gap_since = None;
                continue;
            }
            let Some(&lowest) = tail.seen.iter().next() else {
                tail.gap_since = None;
                return;
            };
            // `next` is missing but later ids exist: a gap.
            let since = *tail.gap_since.get_or_insert_with(Instant::now);
            if since.elapsed() < GAP_PATIENCE {
                return;
            }
            tail.cursor = lowest - 1;
            tail.gap_since = None;
        }
    }

    /// Follow the log until `cancel`: what other processes write reaches
    /// this process's streams.
    pub async fn follow(self: Arc<Self>, cancel: CancellationToken) {
        loop {
            match self.db.last_event_id().await {
                Ok(id) => {
                    let mut tail = self.tail.lock().unwrap_or_else(|p| p.into_inner());
                    tail.cursor = id;
                    tail.seen.retain(|s| *s > id);
                    tail.started = true;
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "events: cannot read the log yet");
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
        }
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(self.poll) => {}
            }
            let cursor = self.tail.lock().unwrap_or_else(|p| p.into_inner()).cursor;
            match self.db.events_after(cursor, 1000).await {
                Ok(rows) => {
                    for row in rows {
                        self.deliver(Arc::new(row));
                    }
                    self.advance();
                }
                Err(e) => tracing::warn!(error = %e, "events: reading the log failed"),
            }
        }
    }
}

/// The media event for a record's current state: `media.processing` (its
/// placeholder and size are known, variants follow), `media.ready` or
/// `media.failed`, with the record as `GET /v1/media/{id}` shows it.
pub async fn media_changed(state: &crate::state::AppState, media_id: uuid::Uuid) {
    let m = match state.db.media_by_id(media_id).await {
        Ok(Some(m)) => m,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(error = %e, "media event: reading the record failed");
            return;
        }
    };
    let kind = match m.status {
        runway_store::media::MediaStatus::Ready => MEDIA_READY,
        runway_store::media::MediaStatus::Failed => MEDIA_FAILED,
        runway_store::media::MediaStatus::Processing => MEDIA_PROCESSING,
        runway_store::media::MediaStatus::AwaitingUpload => return,
    };
    match crate::media::view(state, &m).await {
        Ok(view) => {
            state
                .events
                .publish(m.user_id, kind, serde_json::json!({ "media": view }))
                .await
        }
        Err(e) => tracing::warn!(error = %e, "media event: signing URLs failed"),
    }
}

/// `notification.received`: a push reached one of the user's devices (and
/// so their inbox).
pub async fn notification_received(
    state: &crate::state::AppState,
    notification_id: uuid::Uuid,
    device: &runway_store::push::Device,
    message: &runway_push::Message,
) {
    let data = serde_json::json!({
        "notification_id": notification_id,
        "device_id": device.id,
        "platform": device.platform.as_str(),
        "title": message.title,
        "body": message.body,
        "data": message.data,
    });
    state
        .events
        .publish(device.user_id, NOTIFICATION_RECEIVED, data)
        .await;
}

/// `device.pruned`: a device's token was removed (the provider reported it
/// unregistered, or it aged out).
pub async fn device_pruned(
    state: &crate::state::AppState,
    device: &runway_store::push::Device,
    reason: &str,
) {
    let data = serde_json::json!({
        "device_id": device.id,
        "platform": device.platform.as_str(),
        "reason": reason,
    });
    state
        .events
        .publish(device.user_id, DEVICE_PRUNED, data)
        .await;
}
