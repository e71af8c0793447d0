use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn auth_routes_are_limited_per_address() {
    let app = TestApp::spawn_with(
        |c| {
            c.rate_limit.auth_per_ip_per_minute = 5;
            c.rate_limit.auth_per_account_per_minute = 100;
        },
        |r| r,
    )
    .await;
    let mut statuses = Vec::new();
    for i in 0..12 {
        let resp = app
            .post(
                "/v1/auth/login",
                json!({"email": format!("u{i}@example.com"), "password": "wrong password"}),
            )
            .await;
        statuses.push(resp.status());
        if resp.status() == StatusCode::TOO_MANY_REQUESTS {
            let retry: u64 = resp.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=60).contains(&retry));
            assert_problem(resp, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
        }
    }
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    // 5 per minute; a minute boundary inside the loop allows at most 5 more.
    assert!(limited >= 2, "{statuses:?}");
    assert!(statuses[..5].iter().all(|s| *s == StatusCode::UNAUTHORIZED));
}

#[tokio::test]
async fn logins_are_limited_per_account() {
    let app = TestApp::spawn_with(
        |c| {
            c.rate_limit.auth_per_ip_per_minute = 1000;
            c.rate_limit.auth_per_account_per_minute = 3;
        },
        |r| r,
    )
    .await;
    let mut victim = Vec::new();
    for _ in 0..8 {
        let resp = app
            .post(
                "/v1/auth/login",
                json!({"email": "Victim@example.com", "password": "guess guess guess"}),
            )
            .await;
        victim.push(resp.status());
    }
    assert!(
        victim.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{victim:?}"
    );
    // Another account is not affected.
    let other = app
        .post(
            "/v1/auth/login",
            json!({"email": "bystander@example.com", "password": "guess guess guess"}),
        )
        .await;
    assert_eq!(other.status(), StatusCode::UNAUTHORIZED);
}

/// With Redis, the limit holds across instances: two servers sharing one
/// Redis (and key prefix) count the same client together.
#[tokio::test]
async fn limits_hold_across_instances_sharing_redis() {
    let prefix = runway_testkit::unique("runway-test:") + ":";
    let configure = |prefix: String| {
        move |c: &mut runway_core::Config| {
            c.cache_url = Some(runway_core::Secret::new(runway_testkit::redis_url()));
            c.cache.key_prefix = prefix;
            c.rate_limit.auth_per_ip_per_minute = 4;
            c.rate_limit.auth_per_account_per_minute = 1000;
        }
    };
    let a = TestApp::spawn_with(configure(prefix.clone()), |r| r).await;
    let b = TestApp::spawn_with(configure(prefix), |r| r).await;
    let mut statuses = Vec::new();
    for i in 0..10 {
        let app = if i % 2 == 0 { &a } else { &b };
        let resp = app
            .post(
                "/v1/auth/login",
                json!({"email": format!("x{i}@example.com"), "password": "wrong password"}),
            )
            .await;
        statuses.push(resp.status());
    }
    // 4 per minute in total (a minute boundary may allow 4 more), not 4 each.
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(limited >= 2, "{statuses:?}");
    assert!(statuses[..4].iter().all(|s| *s == StatusCode::UNAUTHORIZED));
}
