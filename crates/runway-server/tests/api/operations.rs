use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn health_and_readiness() {
    let app = TestApp::spawn().await;
    let health: Value = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health, json!({"status": "ok"}));
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(ready.json::<Value>().await.unwrap()["status"], "ready");
}

#[tokio::test]
async fn metrics_cover_requests_and_jobs() {
    let app = TestApp::spawn().await;
    app.client.get(app.url("/healthz")).send().await.unwrap();
    let reg = app.register("metrics@example.com").await;
    app.client
        .delete(app.url("/v1/me"))
        .bearer_auth(token(&reg, "access_token"))
        .send()
        .await
        .unwrap();
    let q = app.state.queue.clone();
    eventually("the deletion job", || {
        let q = q.clone();
        async move { q.stats().await.unwrap().depth == 0 }
    })
    .await;
    let resp = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = resp.text().await.unwrap();
    for needle in [
        r#"runway_http_requests_total{method="GET",route="/healthz",status="200"} 1"#,
        r#"runway_http_requests_total{method="POST",route="/v1/auth/register",status="201"} 1"#,
        r#"runway_http_request_duration_seconds_bucket{le="#,
        r#"runway_jobs_succeeded_total{kind="account.delete"} 1"#,
        "runway_jobs_queue_depth 0",
        "runway_jobs_oldest_age_seconds",
        "runway_jobs_dead_letter_count 0",
        // Every registered kind is exported from the start, at zero.
        r#"runway_jobs_retried_total{kind="account.delete"} 0"#,
        r#"runway_jobs_dead_lettered_total{kind="account.delete"} 0"#,
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
}

#[tokio::test]
async fn request_ids_and_security_headers() {
    let app = TestApp::spawn().await;
    let given = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "client-abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-request-id"], "client-abc-123");
    let bad = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "has spaces and <html>")
        .send()
        .await
        .unwrap();
    let replaced = bad.headers()["x-request-id"].to_str().unwrap();
    assert_ne!(replaced, "has spaces and <html>");
    assert_eq!(replaced.len(), 36);
    let none = app.client.get(app.url("/v1/nope")).send().await.unwrap();
    let h = none.headers();
    assert!(h.contains_key("x-request-id"));
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert!(h.contains_key("content-security-policy"));
    assert_eq!(h["cache-control"], "no-store");
    assert!(!h.contains_key("strict-transport-security"));
}

#[tokio::test]
async fn cors_is_off_by_default_and_configurable() {
    let off = TestApp::spawn().await;
    let resp = off
        .client
        .get(off.url("/healthz"))
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert!(!resp.headers().contains_key("access-control-allow-origin"));

    let app = TestApp::spawn_with(
        |c| c.http.cors_allowed_origins = vec!["https://app.example.com".into()],
        |r| r,
    )
    .await;
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/v1/auth/login"))
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,idempotency-key",
        )
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let other = app
        .client
        .get(app.url("/healthz"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(!other.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn openapi_document_and_offline_docs_page() {
    let app = TestApp::spawn().await;
    let doc: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/v1/auth/register",
        "/v1/auth/login",
        "/v1/auth/refresh",
        "/v1/auth/logout",
        "/v1/me",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} undocumented");
    }
    assert!(doc["paths"]["/v1/me"].get("delete").is_some());
    assert!(doc["components"]["schemas"].get("Problem").is_some());

    let page = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"));
    assert!(
        !html.contains("https://"),
        "the docs page must not load remote assets"
    );
    for asset in [
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-ui.css",
        "/docs/init.js",
    ] {
        let resp = app.client.get(app.url(asset)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{asset}");
        assert!(resp.bytes().await.unwrap().len() > 100, "{asset}");
    }
}

/// `docs/openapi.json` is the committed contract. Regenerate it with
/// `RUNWAY_BLESS=1 cargo nextest run -p runway-server openapi_is_committed`.
#[test]
fn openapi_is_committed() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    let generated =
        serde_json::to_string_pretty(&runway_server::openapi::document()).unwrap() + "\n";
    if std::env::var_os("RUNWAY_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is stale; regenerate with RUNWAY_BLESS=1 cargo nextest run -p runway-server openapi_is_committed"
    );
}

/// The suite really runs where it says it does.
#[tokio::test]
async fn runs_on_the_selected_backends() {
    let app = TestApp::spawn().await;
    let s = &app.state;
    if production() {
        assert_eq!(s.db.dialect(), runway_store::Dialect::Mysql);
        assert_eq!(s.blobs.kind(), "s3");
        assert!(s.config.queue_url.starts_with("http"), "SQS queue URL");
        assert!(s.config.cache_url.is_some());
    } else {
        assert_eq!(s.db.dialect(), runway_store::Dialect::Sqlite);
        assert_eq!(s.blobs.kind(), "file");
        assert_eq!(s.config.queue_url, "db");
        assert!(s.config.cache_url.is_none());
    }
    // And each one answers.
    s.db.ping().await.unwrap();
    s.queue.stats().await.unwrap();
    s.kv.set("probe", b"1".to_vec(), std::time::Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(s.kv.get("probe").await.unwrap(), Some(b"1".to_vec()));
}
