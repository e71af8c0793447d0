//! Probes and metrics.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness: the process is up and serving.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`, or why not: `shutting_down`, `database_unavailable`, `migrations_pending`.
    pub status: &'static str,
}

/// Readiness: the database answers and its schema is current, and the
/// process is not shutting down.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let not_ready = |status| (StatusCode::SERVICE_UNAVAILABLE, Json(Readiness { status }));
    if state.is_shutting_down() {
        return not_ready("shutting_down");
    }
    match state.db.migration_status().await {
        Ok(s) if s.up_to_date() => (StatusCode::OK, Json(Readiness { status: "ready" })),
        Ok(_) => not_ready("migrations_pending"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database unavailable");
            not_ready("database_unavailable")
        }
    }
}

/// Prometheus metrics (OpenMetrics text).
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, content_type = "application/openmetrics-text", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    match state.queue.stats().await {
        Ok(stats) => state.metrics.set_queue_stats(stats),
        Err(e) => tracing::warn!(error = %e, "metrics: queue stats unavailable"),
    }
    match state.metrics.encode() {
        Ok(body) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            body,
        )
            .into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}
