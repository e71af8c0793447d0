//! HTTP routes, one module per resource. `router` assembles them with the
//! OpenAPI description collected from the handlers' annotations.

pub mod app;
pub mod auth;
pub mod devices;
pub mod docs;
pub mod events;
pub mod files;
pub mod health;
pub mod me;
pub mod media;
pub mod notifications;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

use crate::state::AppState;

/// Every documented route, with its OpenAPI description.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(crate::openapi::base())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(health::metrics))
        .routes(routes!(auth::register))
        .routes(routes!(auth::login))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::logout))
        .routes(routes!(me::get_me, me::delete_me))
        // Uploads read their own bodies up to `media.max_upload_bytes`.
        .routes(unlimited_body(routes!(media::upload, media::list_media)))
        .routes(routes!(media::create_upload))
        .routes(routes!(media::complete))
        .routes(routes!(media::get_media, media::delete_media))
        .routes(routes!(media::get_size))
        .routes(routes!(devices::register_device, devices::list_devices))
        .routes(routes!(devices::delete_device))
        .routes(routes!(devices::list_topics))
        .routes(routes!(devices::subscribe, devices::unsubscribe))
        .routes(routes!(devices::web_push_config))
        .routes(routes!(notifications::send))
        .routes(routes!(notifications::status))
        .routes(routes!(notifications::inbox))
        .routes(routes!(events::ticket))
        .routes(routes!(events::stream))
}

/// A page request: `cursor` (the last id of the previous page) and
/// `limit` (1 to 100, default 20), with 400 `invalid_query` /
/// `invalid_cursor` for bad values.
pub(crate) fn page(
    cursor: Option<&str>,
    limit: Option<u32>,
) -> crate::error::ApiResult<(Option<uuid::Uuid>, u32)> {
    use crate::error::ApiError;
    const MAX_PAGE: u32 = 100;
    let limit = limit.unwrap_or(20);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("limit must be 1 to {MAX_PAGE}"),
        ));
    }
    let before = match cursor {
        None | Some("") => None,
        Some(c) => Some(
            uuid::Uuid::parse_str(c)
                .map_err(|_| ApiError::bad_request("invalid_cursor", "unknown cursor"))?,
        ),
    };
    Ok((before, limit))
}

/// Lift the global body limit on a route that enforces its own.
fn unlimited_body(
    (schemas, paths, router): UtoipaMethodRouter<AppState>,
) -> UtoipaMethodRouter<AppState> {
    (schemas, paths, router.layer(DefaultBodyLimit::disable()))
}

/// `/files/…`: stored media served (and direct uploads received) by runway
/// itself in embedded mode.
pub fn files() -> Router<AppState> {
    Router::new().route(
        "/files/{*key}",
        get(files::get_file)
            .put(files::put_file)
            .layer(DefaultBodyLimit::disable()),
    )
}

/// Probes and metrics alone: what a worker-only process serves.
pub fn operations() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
}

/// The mobile web app (PWA), at `/app/`.
pub fn web_app() -> Router<AppState> {
    Router::new()
        .route("/app", get(app::redirect))
        .route("/app/", get(app::index))
        .route("/app/{file}", get(app::file))
}

/// Routes that serve the documentation itself.
pub fn docs() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(docs::openapi_json))
        .route("/docs", get(docs::page))
        .route("/docs/", get(docs::page))
        .route("/docs/swagger-ui-bundle.js", get(docs::bundle_js))
        .route("/docs/swagger-ui.css", get(docs::css))
        .route("/docs/init.js", get(docs::init_js))
}
