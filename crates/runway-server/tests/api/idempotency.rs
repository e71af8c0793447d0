use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn a_retried_post_replays_the_response_without_a_second_effect() {
    let app = TestApp::spawn().await;
    let body = json!({"email": "idem@example.com", "password": PASSWORD});
    let send = |key: &'static str, body: Value| {
        app.client
            .post(app.url("/v1/auth/register"))
            .header("idempotency-key", key)
            .json(&body)
            .send()
    };
    let first = send("signup-1", body.clone()).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    assert_eq!(first.headers()["idempotent-replayed"], "false");
    let first: Value = first.json().await.unwrap();

    let retry = send("signup-1", body.clone()).await.unwrap();
    assert_eq!(retry.status(), StatusCode::CREATED, "not 409 email_taken");
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(
        retry.headers()["content-type"],
        "application/json",
        "headers replayed"
    );
    let retry: Value = retry.json().await.unwrap();
    assert_eq!(retry, first);

    // Without the key, the same request is a new attempt: the account exists.
    let again = app.post("/v1/auth/register", body.clone()).await;
    assert_problem(again, StatusCode::CONFLICT, "email_taken").await;

    // Same key, different body.
    let other = send(
        "signup-1",
        json!({"email": "other@example.com", "password": PASSWORD}),
    )
    .await
    .unwrap();
    assert_problem(
        other,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
}

#[tokio::test]
async fn a_retried_refresh_returns_the_same_tokens_instead_of_tripping_reuse() {
    let app = TestApp::spawn().await;
    let reg = app.register("mobile@example.com").await;
    let body = json!({"refresh_token": token(&reg, "refresh_token")});
    let send = || {
        app.client
            .post(app.url("/v1/auth/refresh"))
            .header("idempotency-key", "refresh-7")
            .json(&body)
            .send()
    };
    let a: Value = send().await.unwrap().json().await.unwrap();
    let b = send().await.unwrap();
    assert_eq!(b.status(), StatusCode::OK);
    let b: Value = b.json().await.unwrap();
    assert_eq!(a["refresh_token"], b["refresh_token"]);
    // The family is intact: the new token works.
    let next = app
        .post(
            "/v1/auth/refresh",
            json!({"refresh_token": token(&b, "refresh_token")}),
        )
        .await;
    assert_eq!(next.status(), StatusCode::OK);
}

#[tokio::test]
async fn keys_are_scoped_per_user() {
    let app = TestApp::spawn().await;
    let a = app.register("scope-a@example.com").await;
    let b = app.register("scope-b@example.com").await;
    // Both users log out with the same key and different bodies: no clash.
    for user in [&a, &b] {
        let resp = app
            .client
            .post(app.url("/v1/auth/logout"))
            .bearer_auth(token(user, "access_token"))
            .header("idempotency-key", "same-key")
            .json(&json!({"refresh_token": token(user, "refresh_token")}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    }
}
