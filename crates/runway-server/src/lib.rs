//! runway's server: the HTTP API and the in-process job workers.
//!
//! Start with [`Runway::build`] (connects the configured backends), then
//! [`Runway::serve`] on a listener with a shutdown future, or
//! [`Runway::work`] for a worker-only process. [`run`] does both for the
//! common case.

mod app;
pub mod auth;
pub mod error;
pub mod events;
pub mod http;
pub mod jobs;
pub mod media;
pub mod metrics;
pub mod openapi;
pub mod push;
pub mod routes;
pub mod state;
pub mod telemetry;
pub mod thumbnail_reports;

pub use app::{Runway, ServeOptions, router, shutdown_signal};
pub use state::AppState;

use std::future::Future;

use runway_core::Config;
use tokio::net::TcpListener;

/// Build runway from `config` and serve on `listener` until `shutdown`.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    Runway::build(config)
        .await?
        .serve(listener, ServeOptions::default(), shutdown)
        .await
}
