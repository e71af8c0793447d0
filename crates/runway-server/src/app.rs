//! Assembling runway from configuration, and running it.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::from_fn_with_state;
use runway_blob::cloudfront::{Cdn, CloudFrontSigner};
use runway_blob::{BlobStore, LocalBlobStore};
use runway_cache::{KeyValue, MemoryKv, RedisKv, RedisOptions};
use runway_core::Config;
use runway_jobs::{Backoff, DbQueue, Job, Queue, Registry, SqsQueue, Worker, WorkerConfig};
use runway_store::{Db, DbOptions};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::auth::tokens::{Tokens, derive_key};
use crate::http::idempotency::{IDEMPOTENCY_KEY, idempotency};
use crate::http::middleware::{
    X_REQUEST_ID, method_not_allowed, not_found, observe, panic_response, security_headers, timeout,
};
use crate::metrics::{JobMetrics, Metrics};
use crate::state::AppState;

/// What a `serve` process runs besides the API.
#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    /// Run job workers in this process (`serve`), or only the API
    /// (`serve --no-workers`, for API pods).
    pub workers: bool,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions { workers: true }
    }
}

/// A configured runway instance: backends connected, schema migrated.
pub struct Runway {
    state: AppState,
    registry: Registry<AppState>,
}

impl Runway {
    /// Connect the backends named by `config` and apply migrations.
    pub async fn build(config: Config) -> anyhow::Result<Runway> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating data dir {}", config.data_dir.display()))?;
        let db = Db::connect(
            &config.database_url(),
            &DbOptions {
                max_connections: config.database_max_connections,
                ..DbOptions::default()
            },
        )
        .await
        .context("connecting to the database")?;
        db.migrate().await.context("applying database migrations")?;

        let queue: Arc<dyn Queue> = if config.queue_url == "db" {
            Arc::new(DbQueue::new(db.clone(), "default"))
        } else {
            Arc::new(
                SqsQueue::from_env(&config.queue_url)
                    .await
                    .with_wait(Duration::from_secs(config.jobs.sqs_wait_secs)),
            )
        };

        let kv: Arc<dyn KeyValue> = match config.cache_url.as_ref().map(|u| u.expose()) {
            Some(url) if !url.is_empty() => Arc::new(
                RedisKv::new(
                    url,
                    RedisOptions {
                        key_prefix: config.cache.key_prefix.clone(),
                        op_timeout: Duration::from_millis(config.cache.timeout_ms),
                        ..RedisOptions::default()
                    },
                )
                .context("cache_url")?,
            ),
            _ => Arc::new(MemoryKv::new(config.cache.max_entries)),
        };

        let secret = Tokens::load_secret(&config.auth, &config.data_dir)
            .context("loading the signing key")?;
        let tokens = Tokens::from_secret(&secret, &config.auth);
        let storage_url = config.storage_url();
        let blob_key = derive_key(&secret, "runway local blob URLs");
        let (blobs, local_blobs): (Arc<dyn BlobStore>, _) =
            if let Some(dir) = storage_url.strip_prefix("file://") {
                let local = Arc::new(
                    LocalBlobStore::new(dir, blob_key, &config.public_url())
                        .context("opening object storage")?,
                );
                (local.clone(), Some(local))
            } else {
                let store = runway_blob::open(&storage_url, &blob_key, &config.public_url())
                    .await
                    .context("opening object storage")?;
                (store, None)
            };
        let cdn = match &config.cdn.base_url {
            Some(base) => Some(Arc::new(Cdn {
                base_url: base.clone(),
                signer: match (&config.cdn.key_pair_id, &config.cdn.private_key) {
                    (Some(id), Some(pem)) => Some(
                        CloudFrontSigner::from_pem(id, pem.expose()).context("cdn.private_key")?,
                    ),
                    _ => None,
                },
            })),
            None => None,
        };
        tracing::info!(
            database = ?db.dialect(),
            queue = if config.queue_url == "db" { "db" } else { "sqs" },
            cache = if config.cache_url.as_ref().is_some_and(|u| !u.expose().is_empty()) { "redis" } else { "memory" },
            storage = blobs.kind(),
            cdn = cdn.is_some(),
            "backends ready"
        );
        let push = crate::push::Push::from_config(&config)
            .await
            .context("configuring push providers")?;
        let state = AppState::new(
            Arc::new(config),
            db,
            queue,
            kv,
            blobs,
            local_blobs,
            cdn,
            tokens,
            derive_key(&secret, "runway idempotent responses"),
            Arc::new(Metrics::new()),
            push,
        );
        Ok(Runway {
            state,
            registry: crate::jobs::registry(),
        })
    }

    /// Add a job kind (for embedders and tests); built-in kinds are already registered.
    pub fn register_job<J: Job<Context = AppState>>(mut self) -> Self {
        self.registry = self.registry.register::<J>();
        self
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn router(&self) -> Router {
        router(self.state.clone())
    }

    /// Background loops of worker processes (each safe to run in every
    /// worker): housekeeping on a timer (stalled-work recovery, device-token
    /// aging) and, with `media.processor = "lambda"`, recording the
    /// thumbnail Lambda's reports.
    fn start_periodic(&self, cancel: &CancellationToken) {
        tokio::spawn(crate::jobs::housekeeping(
            self.state.clone(),
            cancel.clone(),
        ));
        if self.state.config.media.processor == "lambda" {
            tokio::spawn(crate::thumbnail_reports::consume(
                self.state.clone(),
                cancel.clone(),
            ));
        }
    }

    fn worker(&self) -> Worker<AppState> {
        let jobs = &self.state.config.jobs;
        for kind in self.registry.kinds() {
            self.state.metrics.register_job_kind(kind);
        }
        Worker::new(
            self.state.queue.clone(),
            self.registry.clone(),
            self.state.clone(),
            WorkerConfig {
                concurrency: jobs.concurrency,
                poll_interval: Duration::from_millis(jobs.poll_interval_ms),
                lease: Duration::from_secs(jobs.lease_secs),
                max_attempts: jobs.max_attempts,
                backoff: Backoff {
                    base: Duration::from_millis(jobs.backoff_base_ms),
                    max: Duration::from_secs(jobs.backoff_max_secs),
                },
                shutdown_grace: Duration::from_secs(self.state.config.http.shutdown_grace_secs),
                job_timeout: Duration::from_secs(jobs.timeout_secs),
            },
        )
        .with_events(Arc::new(JobMetrics(self.state.metrics.clone())))
    }

    /// Serve the API on `listener` (and run workers unless disabled) until
    /// `shutdown` resolves. Then: readiness fails at once, the listener
    /// closes, in-flight requests and running jobs get up to
    /// `http.shutdown_grace_secs` to finish, and this returns `Ok`.
    pub async fn serve(
        self,
        listener: TcpListener,
        options: ServeOptions,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let grace = Duration::from_secs(self.state.config.http.shutdown_grace_secs);
        let cancel = CancellationToken::new();
        if options.workers {
            self.start_periodic(&cancel);
        }
        // Events written by any process reach this one's streams.
        tokio::spawn(self.state.events.clone().follow(cancel.clone()));
        let worker = options.workers.then(|| {
            let worker = self.worker();
            tokio::spawn(worker.run(cancel.clone()))
        });
        let addr = listener.local_addr()?;
        tracing::info!(%addr, workers = options.workers, "runway listening on http://{addr}");

        let state = self.state.clone();
        let draining = CancellationToken::new();
        let on_signal = {
            let draining = draining.clone();
            let cancel = cancel.clone();
            async move {
                shutdown.await;
                tracing::info!("shutdown requested: draining requests and jobs");
                state.begin_shutdown();
                cancel.cancel();
                draining.cancel();
            }
        };
        let app = self
            .router()
            .into_make_service_with_connect_info::<SocketAddr>();
        let server = axum::serve(listener, app).with_graceful_shutdown(on_signal);
        tokio::select! {
            result = server => result.context("HTTP server")?,
            _ = async { draining.cancelled().await; tokio::time::sleep(grace).await } => {
                tracing::warn!("shutdown grace elapsed; closing remaining connections");
            }
        }
        if let Some(worker) = worker {
            worker.await.context("worker task")?;
        }
        // Connections still checked out by abandoned requests are not waited for.
        if tokio::time::timeout(Duration::from_secs(2), self.state.db.close())
            .await
            .is_err()
        {
            tracing::warn!("database pool did not close in time");
        }
        tracing::info!("shutdown complete");
        Ok(())
    }

    /// Run only the job workers until `shutdown` resolves, then drain. With
    /// a listener, also serve `/healthz`, `/readyz` and `/metrics` on it
    /// (readiness turns 503 as soon as shutdown begins).
    pub async fn work(
        self,
        listener: Option<TcpListener>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let cancel = CancellationToken::new();
        self.start_periodic(&cancel);
        let worker = tokio::spawn(self.worker().run(cancel.clone()));
        tracing::info!(kinds = ?self.registry.kinds().collect::<Vec<_>>(), "runway worker started");
        let http = listener.map(|listener| {
            let app = crate::routes::operations()
                .layer(from_fn_with_state(self.state.clone(), observe))
                .with_state(self.state.clone());
            let stop = cancel.clone();
            if let Ok(addr) = listener.local_addr() {
                tracing::info!(%addr, "worker probes and metrics on http://{addr}");
            }
            tokio::spawn(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move { stop.cancelled().await })
                    .await
            })
        });
        shutdown.await;
        tracing::info!("shutdown requested: draining jobs");
        self.state.begin_shutdown();
        cancel.cancel();
        worker.await.context("worker task")?;
        if let Some(http) = http {
            http.await
                .context("worker HTTP task")?
                .context("worker HTTP")?;
        }
        self.state.db.close().await;
        Ok(())
    }

    /// Run every due job now, in this task (tests and tooling).
    pub async fn run_pending_jobs(&self) -> anyhow::Result<usize> {
        Ok(self.worker().run_until_idle().await?)
    }
}

/// The whole HTTP app with its middleware.
pub fn router(state: AppState) -> Router {
    let config = state.config.clone();
    let (api, _) = crate::routes::api().split_for_parts();
    let mut app = api
        .merge(crate::routes::docs())
        .merge(crate::routes::files())
        .merge(crate::routes::web_app())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(state.clone(), idempotency))
        .layer(DefaultBodyLimit::max(config.http.body_limit_bytes))
        .layer(from_fn_with_state(state.clone(), timeout));
    if let Some(cors) = cors(&config.http.cors_allowed_origins) {
        app = app.layer(cors);
    }
    app.layer(from_fn_with_state(state.clone(), security_headers))
        .layer(from_fn_with_state(state.clone(), observe))
        .layer(CatchPanicLayer::custom(panic_response))
        .with_state(state)
}

fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok()),
        )
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                IDEMPOTENCY_KEY.clone(),
                X_REQUEST_ID.clone(),
            ])
            .expose_headers([
                X_REQUEST_ID.clone(),
                header::RETRY_AFTER,
                HeaderName::from_static("idempotent-replayed"),
            ])
            .max_age(Duration::from_secs(600)),
    )
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGTERM");
            std::future::pending::<()>().await;
            unreachable!()
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
