use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn malformed_json_wrong_types_unknown_fields_and_missing_content_type() {
    let app = TestApp::spawn().await;
    let send = |body: &'static str, content_type: Option<&'static str>| {
        let mut req = app.client.post(app.url("/v1/auth/register")).body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        req.send()
    };
    let cases: Vec<(&str, Option<&str>, StatusCode, &str)> = vec![
        (
            "{\"email\": ",
            Some("application/json"),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "not json at all",
            Some("application/json"),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "{\"email\": 5, \"password\": \"x\"}",
            Some("application/json"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "{\"email\": \"a@example.com\"}",
            Some("application/json"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "{\"email\": \"a@example.com\", \"password\": \"correct horse battery\", \"admin\": true}",
            Some("application/json"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "[]",
            Some("application/json"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "{\"email\": \"a@example.com\", \"password\": \"correct horse battery\"}",
            None,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "{\"email\": \"a@example.com\", \"password\": \"correct horse battery\"}",
            Some("text/plain"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
    ];
    for (body, ct, status, code) in cases {
        let resp = send(body, ct).await.unwrap();
        assert_problem(resp, status, code).await;
    }
    // The unknown-field case names the field.
    let resp = app
        .post(
            "/v1/auth/login",
            json!({"email": "a@example.com", "password": "x", "remember_me": true}),
        )
        .await;
    let body = assert_problem(resp, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
    assert!(body["detail"].as_str().unwrap().contains("remember_me"));
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let app = TestApp::spawn_with(|c| c.http.body_limit_bytes = 2048, |r| r).await;
    let big = json!({"email": "a@example.com", "password": "x".repeat(10_000)});
    let resp = app.post("/v1/auth/register", big.clone()).await;
    assert_problem(resp, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    // Also when the idempotency layer reads the body first.
    let resp = app
        .client
        .post(app.url("/v1/auth/register"))
        .header("idempotency-key", "k-413")
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_problem(resp, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    // Streaming body without a length.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..10).map(|_| Ok(vec![b' '; 1024])).collect();
    let resp = app
        .client
        .post(app.url("/v1/auth/login"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_problem(resp, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = TestApp::spawn().await;
    let resp = app.client.get(app.url("/v1/nope")).send().await.unwrap();
    assert_problem(resp, StatusCode::NOT_FOUND, "not_found").await;
    let resp = app
        .client
        .put(app.url("/v1/auth/login"))
        .send()
        .await
        .unwrap();
    assert_problem(resp, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    let resp = app
        .client
        .post(app.url("/v1/auth/login"))
        .header("idempotency-key", "bad key with spaces")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_problem(resp, StatusCode::BAD_REQUEST, "invalid_idempotency_key").await;
}
