use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use runway_blob::cloudfront::Cdn;
use runway_blob::{BlobStore, LocalBlobStore};
use runway_cache::{Idempotency, KeyValue, RateLimiter};
use runway_core::Config;
use runway_jobs::Queue;
use runway_store::Db;

use crate::auth::password::Passwords;
use crate::auth::tokens::Tokens;
use crate::metrics::Metrics;

/// Everything a handler or a job needs. Cheap to clone: all fields are shared.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub queue: Arc<dyn Queue>,
    pub kv: Arc<dyn KeyValue>,
    pub blobs: Arc<dyn BlobStore>,
    /// The same store when it is local: runway then serves `/files/…` itself.
    pub local_blobs: Option<Arc<LocalBlobStore>>,
    /// CloudFront delivery of media, when configured.
    pub cdn: Option<Arc<Cdn>>,
    pub rate_limiter: RateLimiter,
    pub idempotency: Idempotency,
    pub tokens: Arc<Tokens>,
    pub passwords: Passwords,
    pub metrics: Arc<Metrics>,
    /// Key under which stored idempotent responses are encrypted (derived
    /// from the server secret).
    pub response_key: Arc<Vec<u8>>,
    /// Bounds how many images this process decodes at once.
    pub media_permits: Arc<tokio::sync::Semaphore>,
    /// Limits and presets of the image pipeline, from `media.*`.
    pub media_settings: Arc<runway_thumbnail::Settings>,
    /// Realtime events (`GET /v1/events`).
    pub events: Arc<crate::events::Events>,
    /// Push providers, one per platform.
    pub push: Arc<crate::push::Push>,
    shutting_down: Arc<AtomicBool>,
}

impl AppState {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        config: Arc<Config>,
        db: Db,
        queue: Arc<dyn Queue>,
        kv: Arc<dyn KeyValue>,
        blobs: Arc<dyn BlobStore>,
        local_blobs: Option<Arc<LocalBlobStore>>,
        cdn: Option<Arc<Cdn>>,
        tokens: Tokens,
        response_key: Vec<u8>,
        metrics: Arc<Metrics>,
        push: crate::push::Push,
    ) -> Self {
        let idempotency = Idempotency::new(
            kv.clone(),
            std::time::Duration::from_secs(config.idempotency.ttl_secs),
            std::time::Duration::from_secs(config.http.request_timeout_secs + 5),
        );
        let media_concurrency = config.media.processing_concurrency;
        let events = Arc::new(crate::events::Events::new(
            db.clone(),
            std::time::Duration::from_millis(config.events.poll_interval_ms),
        ));
        AppState {
            rate_limiter: RateLimiter::new(kv.clone()),
            idempotency,
            db,
            queue,
            kv,
            blobs,
            local_blobs,
            cdn,
            tokens: Arc::new(tokens),
            passwords: Passwords::new(),
            metrics,
            response_key: Arc::new(response_key),
            media_permits: Arc::new(tokio::sync::Semaphore::new(match media_concurrency {
                0 => std::thread::available_parallelism().map_or(1, usize::from),
                n => n,
            })),
            media_settings: Arc::new(runway_thumbnail::Settings::from_config(&config.media)),
            events,
            push: Arc::new(push),
            config,
            shutting_down: Arc::new(AtomicBool::new(false)),
        }
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    pub(crate) fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
    }
}
