//! Redis stops and comes back while clients keep using the API: no request
//! fails. (Rate limits and idempotency fail open while it is down.)

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn stopping_and_restarting_redis_fails_no_request() {
    let redis = runway_testkit::RedisServer::start();
    let url = redis.url();
    let app = TestApp::spawn_with(
        move |c| {
            c.cache_url = Some(runway_core::Secret::new(url));
            c.cache.timeout_ms = 200;
            // This test is about availability, not limits.
            c.rate_limit.auth_per_ip_per_minute = 1_000_000;
            c.rate_limit.auth_per_account_per_minute = 1_000_000;
        },
        |r| r,
    )
    .await;

    let mut statuses: Vec<(String, StatusCode)> = Vec::new();
    let mut stopped = false;
    let mut restarted = false;
    let started = Instant::now();
    let mut i = 0;
    while started.elapsed() < Duration::from_secs(4) || !restarted {
        let t = started.elapsed();
        if !stopped && t > Duration::from_millis(700) {
            redis.stop();
            stopped = true;
        }
        if stopped && !restarted && t > Duration::from_millis(2200) {
            redis.restart();
            restarted = true;
        }
        i += 1;
        let email = format!("outage{i}@example.com");
        let reg = app
            .client
            .post(app.url("/v1/auth/register"))
            .header("idempotency-key", format!("reg-{i}"))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        statuses.push(("register".into(), reg.status()));
        let reg: Value = reg.json().await.unwrap();
        let login = app
            .post(
                "/v1/auth/login",
                json!({"email": email, "password": PASSWORD}),
            )
            .await;
        statuses.push(("login".into(), login.status()));
        let me = app.get_authed("/v1/me", &token(&reg, "access_token")).await;
        statuses.push(("me".into(), me.status()));
        let refresh = app
            .client
            .post(app.url("/v1/auth/refresh"))
            .header("idempotency-key", format!("refresh-{i}"))
            .json(&json!({"refresh_token": token(&reg, "refresh_token")}))
            .send()
            .await
            .unwrap();
        statuses.push(("refresh".into(), refresh.status()));
    }
    let failed: Vec<_> = statuses.iter().filter(|(_, s)| !(s.is_success())).collect();
    assert!(failed.is_empty(), "failed requests: {failed:?}");
    assert!(statuses.len() >= 20, "only {} requests", statuses.len());
}
