//! Push through the API: devices and topics (two users), server API keys,
//! durable fan-out in batches, the `log` provider's deliveries visible in
//! the status and the inbox. Runs on the embedded and production backends.
//! The protocol providers (APNs over HTTP/2 + TLS, FCM) are exercised end to
//! end in `push_providers.rs` against the fakes in runway-testkit.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

pub const IOS_TOKEN_A: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
pub const IOS_TOKEN_B: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

/// An FCM-shaped registration token (152 characters), distinct per `n`.
pub fn android_token(n: u32) -> String {
    let mut t = format!("dK{n:06}:APA91b");
    while t.len() < 152 {
        t.push_str("Hx9_-Qz");
    }
    t.truncate(152);
    t
}

pub async fn post_authed(app: &TestApp, path: &str, token: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

pub async fn register_device(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    let resp = post_authed(app, "/v1/devices", token, body).await;
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

/// A server API key made the way `runway admin create-key` makes one.
pub async fn api_key(app: &TestApp) -> String {
    let (key, hash) = runway_server::push::generate_api_key();
    app.state
        .db
        .insert_api_key(
            uuid::Uuid::now_v7(),
            "test",
            &hash,
            &["notifications:send".to_string()],
            runway_store::now_ms(),
        )
        .await
        .unwrap();
    key
}

/// Poll the notification until it is `completed`; returns its status.
pub async fn completed(app: &TestApp, key: &str, id: &str) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let resp = app
            .client
            .get(app.url(&format!("/v1/notifications/{id}")))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let status: Value = resp.json().await.unwrap();
        if status["status"] == "completed" {
            return status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "notification not completed: {status}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn devices_are_upserted_by_token_and_owned_by_whoever_registered_last() {
    let app = TestApp::spawn().await;
    let alice = token(&app.register("alice@example.com").await, "access_token");
    let bob = token(&app.register("bob@example.com").await, "access_token");

    let (status, first) = register_device(
        &app,
        &alice,
        json!({"platform": "ios", "token": IOS_TOKEN_A, "locale": "pt-BR", "timezone": "America/Sao_Paulo"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["platform"], "ios");
    assert_eq!(first["environment"], "production");
    let hint = first["token_hint"].as_str().unwrap();
    assert!(!hint.contains(IOS_TOKEN_A) && hint.len() < 20, "{hint}");
    assert!(
        !first.to_string().contains(IOS_TOKEN_A),
        "the token is never echoed"
    );

    // The same token again: the same device, refreshed.
    let (status, again) = register_device(
        &app,
        &alice,
        json!({"platform": "ios", "token": IOS_TOKEN_A}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["id"], first["id"]);

    // Bob registers it (the phone changed hands): it moves to Bob.
    let (status, moved) =
        register_device(&app, &bob, json!({"platform": "ios", "token": IOS_TOKEN_A})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(moved["id"], first["id"]);
    let list: Value = app
        .get_authed("/v1/devices", &alice)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "{list}");
    let list: Value = app
        .get_authed("/v1/devices", &bob)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["id"], first["id"]);

    // Alice cannot delete Bob's device: 404, not 403.
    let id = first["id"].as_str().unwrap();
    let resp = app
        .client
        .delete(app.url(&format!("/v1/devices/{id}")))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_problem(resp, StatusCode::NOT_FOUND, "not_found").await;
    let resp = app
        .client
        .delete(app.url(&format!("/v1/devices/{id}")))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let list: Value = app
        .get_authed("/v1/devices", &bob)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn bad_device_registrations_get_stable_codes() {
    let app = TestApp::spawn().await;
    let t = token(&app.register("carol@example.com").await, "access_token");
    let cases = [
        (
            json!({"platform": "blackberry", "token": IOS_TOKEN_A}),
            "invalid_platform",
        ),
        (
            json!({"platform": "ios", "token": "not-hex"}),
            "invalid_device_token",
        ),
        (
            json!({"platform": "ios", "token": "abcd"}),
            "invalid_device_token",
        ),
        (
            json!({"platform": "android", "token": "short"}),
            "invalid_device_token",
        ),
        (json!({"platform": "ios"}), "invalid_device_token"),
        (
            json!({"platform": "web", "endpoint": "https://push.example.com/sub/1"}),
            "invalid_subscription",
        ),
        (
            json!({"platform": "web", "endpoint": "https://push.example.com/sub/1",
                   "keys": {"p256dh": "AAAA", "auth": "AAAA"}}),
            "invalid_subscription",
        ),
        (
            // Not a browser push service: the worker would POST anywhere.
            json!({"platform": "web", "endpoint": "https://169.254.169.254/latest/meta-data",
                   "keys": {"p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
                            "auth": "tBHItJI5svbpez7KI4CCXg"}}),
            "invalid_subscription",
        ),
        (
            json!({"platform": "ios", "token": IOS_TOKEN_B, "timezone": "Mars/Olympus"}),
            "invalid_device",
        ),
        (
            json!({"platform": "ios", "token": IOS_TOKEN_B, "environment": "staging"}),
            "invalid_device",
        ),
    ];
    for (body, code) in cases {
        let resp = post_authed(&app, "/v1/devices", &t, body.clone()).await;
        let problem = assert_problem(resp, StatusCode::UNPROCESSABLE_ENTITY, code).await;
        assert!(
            !problem.to_string().contains(IOS_TOKEN_B),
            "problem echoes the token: {problem}"
        );
    }
    let resp = post_authed(
        &app,
        "/v1/devices",
        &t,
        json!({"platform": "ios", "token": 5}),
    )
    .await;
    assert_problem(resp, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
    let resp = app
        .client
        .post(app.url("/v1/devices"))
        .json(&json!({"platform": "ios", "token": IOS_TOKEN_A}))
        .send()
        .await
        .unwrap();
    assert_problem(resp, StatusCode::UNAUTHORIZED, "missing_token").await;
}

#[tokio::test]
async fn topics_subscribe_list_unsubscribe() {
    let app = TestApp::spawn().await;
    let t = token(&app.register("dave@example.com").await, "access_token");
    let put = |name: &str| {
        app.client
            .put(app.url(&format!("/v1/me/topics/{name}")))
            .bearer_auth(&t)
            .send()
    };
    assert_eq!(put("news").await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(put("news").await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(
        put("sports.eu").await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    let resp = put("bad%20name").await.unwrap();
    assert_problem(resp, StatusCode::UNPROCESSABLE_ENTITY, "invalid_topic").await;
    let list: Value = app
        .get_authed("/v1/me/topics", &t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["topics"], json!(["news", "sports.eu"]));
    let del = || {
        app.client
            .delete(app.url("/v1/me/topics/news"))
            .bearer_auth(&t)
            .send()
    };
    assert_eq!(del().await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_problem(del().await.unwrap(), StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn sending_needs_a_server_api_key() {
    let app = TestApp::spawn().await;
    let user = app.register("erin@example.com").await;
    let jwt = token(&user, "access_token");
    let body = json!({"user_ids": [user["user"]["id"]], "title": "hi"});
    let resp = app.post("/v1/notifications", body.clone()).await;
    assert_problem(resp, StatusCode::UNAUTHORIZED, "missing_api_key").await;
    // A user's access token is not an API key.
    let resp = post_authed(&app, "/v1/notifications", &jwt, body.clone()).await;
    assert_problem(resp, StatusCode::UNAUTHORIZED, "missing_api_key").await;
    let resp = post_authed(&app, "/v1/notifications", "rwk_notakey", body.clone()).await;
    assert_problem(resp, StatusCode::UNAUTHORIZED, "invalid_api_key").await;
    // A revoked key stops working.
    let key = api_key(&app).await;
    let keys = app.state.db.list_api_keys().await.unwrap();
    assert!(app.state.db.revoke_api_key(keys[0].id, 1).await.unwrap());
    let resp = post_authed(&app, "/v1/notifications", &key, body).await;
    assert_problem(resp, StatusCode::UNAUTHORIZED, "invalid_api_key").await;
}

#[tokio::test]
async fn bad_notifications_get_stable_codes() {
    let app = TestApp::spawn().await;
    let key = api_key(&app).await;
    let uid = app.register("fay@example.com").await["user"]["id"].clone();
    let cases = [
        (json!({"title": "no target"}), "invalid_target"),
        (
            json!({"user_ids": [uid], "topic": "news", "title": "two"}),
            "invalid_target",
        ),
        (json!({"user_ids": [], "title": "empty"}), "invalid_target"),
        (json!({"topic": "bad topic", "title": "x"}), "invalid_topic"),
        (json!({"user_ids": [uid]}), "invalid_notification"),
        (
            json!({"user_ids": [uid], "title": "x", "send_at": "tomorrow"}),
            "invalid_notification",
        ),
        (
            json!({"user_ids": [uid], "title": "x", "send_at": "2099-01-01T00:00:00Z"}),
            "invalid_notification",
        ),
        (
            json!({"user_ids": [uid], "title": "x", "quiet_hours": {"start": "25:00", "end": "07:00"}}),
            "invalid_notification",
        ),
        (
            json!({"user_ids": [uid], "title": "x", "data": {"aps": 1}}),
            "invalid_notification",
        ),
        (
            json!({"user_ids": [uid], "title": "x", "data": {"blob": "x".repeat(5000)}}),
            "invalid_notification",
        ),
        (
            json!({"user_ids": [uid], "title": "x", "collapse_key": "has space"}),
            "invalid_notification",
        ),
        (
            json!({"user_ids": [uid], "title": "t".repeat(250), "body": "b".repeat(2000),
                   "data": {"blob": "x".repeat(2000)}}),
            "payload_too_large",
        ),
        (
            json!({"user_ids": [uid], "title": "x", "priority": "urgent"}),
            "invalid_body",
        ),
        (
            json!({"user_ids": ["not-a-uuid"], "title": "x"}),
            "invalid_body",
        ),
    ];
    for (body, code) in cases {
        let resp = post_authed(&app, "/v1/notifications", &key, body.clone()).await;
        assert_problem(resp, StatusCode::UNPROCESSABLE_ENTITY, code).await;
    }
    let resp = app
        .client
        .post(app.url("/v1/notifications"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_problem(resp, StatusCode::BAD_REQUEST, "malformed_json").await;
    let resp = app
        .client
        .get(app.url(&format!("/v1/notifications/{}", uuid::Uuid::now_v7())))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_problem(resp, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn a_notification_reaches_every_device_of_its_users_through_the_log_provider() {
    let app = TestApp::spawn().await;
    let key = api_key(&app).await;
    let gina = app.register("gina@example.com").await;
    let hank = app.register("hank@example.com").await;
    let gina_jwt = token(&gina, "access_token");
    let hank_jwt = token(&hank, "access_token");
    register_device(
        &app,
        &gina_jwt,
        json!({"platform": "ios", "token": IOS_TOKEN_A, "locale": "pt-BR"}),
    )
    .await;
    register_device(
        &app,
        &gina_jwt,
        json!({"platform": "android", "token": android_token(1), "locale": "pt-BR"}),
    )
    .await;
    register_device(
        &app,
        &hank_jwt,
        json!({"platform": "ios", "token": IOS_TOKEN_B}),
    )
    .await;

    let resp = post_authed(
        &app,
        "/v1/notifications",
        &key,
        json!({
            "user_ids": [gina["user"]["id"]],
            "title": "Your photo is ready",
            "body": "Tap to see it",
            "data": {"media_id": "m1"},
            "badge": 3,
            "localized": {"pt": {"title": "Sua foto está pronta"}},
        }),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let accepted: Value = resp.json().await.unwrap();
    assert_eq!(accepted["status"], "queued");
    let id = accepted["id"].as_str().unwrap().to_string();
    let status = completed(&app, &key, &id).await;
    assert_eq!(
        status["counts"],
        json!({"targeted": 2, "pending": 0, "sent": 2, "failed": 0, "pruned": 0}),
        "{status}"
    );
    assert_eq!(status["failures"], json!([]));

    // Delivered: in Gina's inbox, in her language; not in Hank's.
    let inbox: Value = app
        .get_authed("/v1/me/notifications", &gina_jwt)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(inbox["items"].as_array().unwrap().len(), 1, "{inbox}");
    assert_eq!(inbox["items"][0]["id"], id.as_str());
    assert_eq!(inbox["items"][0]["title"], "Sua foto está pronta");
    assert_eq!(inbox["items"][0]["body"], "Tap to see it");
    assert_eq!(inbox["items"][0]["data"]["media_id"], "m1");
    let inbox: Value = app
        .get_authed("/v1/me/notifications", &hank_jwt)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(inbox["items"], json!([]));
}

#[tokio::test]
async fn topic_fan_out_streams_in_batches_and_skips_unsubscribed_users() {
    // Batches of 2: seven subscribers take four fan-out steps.
    let app = TestApp::spawn_with(|c| c.push.batch_size = 2, |r| r).await;
    let key = api_key(&app).await;
    for n in 0..8u32 {
        let user = app.register(&format!("fan{n}@example.com")).await;
        let jwt = token(&user, "access_token");
        register_device(
            &app,
            &jwt,
            json!({"platform": "android", "token": android_token(100 + n)}),
        )
        .await;
        if n != 3 {
            let resp = app
                .client
                .put(app.url("/v1/me/topics/launch"))
                .bearer_auth(&jwt)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        }
    }
    let resp = post_authed(
        &app,
        "/v1/notifications",
        &key,
        json!({"topic": "launch", "title": "We are live"}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let id = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let status = completed(&app, &key, &id).await;
    assert_eq!(status["counts"]["targeted"], 7, "{status}");
    assert_eq!(status["counts"]["sent"], 7, "{status}");
}

#[tokio::test]
async fn a_scheduled_notification_waits_for_send_at() {
    let app = TestApp::spawn().await;
    let key = api_key(&app).await;
    let user = app.register("ivan@example.com").await;
    let jwt = token(&user, "access_token");
    register_device(&app, &jwt, json!({"platform": "ios", "token": IOS_TOKEN_A})).await;
    let at = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(2);
    let resp = post_authed(
        &app,
        "/v1/notifications",
        &key,
        json!({"user_ids": [user["user"]["id"]], "body": "later", "send_at": at.to_string()}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let accepted: Value = resp.json().await.unwrap();
    assert_eq!(accepted["status"], "scheduled");
    let id = accepted["id"].as_str().unwrap().to_string();
    let early: Value = app
        .client
        .get(app.url(&format!("/v1/notifications/{id}")))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(early["status"], "scheduled", "{early}");
    assert_eq!(early["counts"]["sent"], 0);
    let status = completed(&app, &key, &id).await;
    assert_eq!(status["counts"]["sent"], 1);
    assert!(jiff::Timestamp::now() >= at);
}

#[tokio::test]
async fn tokens_not_refreshed_for_the_ttl_age_out() {
    let app = TestApp::spawn().await;
    let key = api_key(&app).await;
    let user = app.register("judy@example.com").await;
    let jwt = token(&user, "access_token");
    let (_, old) =
        register_device(&app, &jwt, json!({"platform": "ios", "token": IOS_TOKEN_A})).await;
    let (_, fresh) = register_device(
        &app,
        &jwt,
        json!({"platform": "android", "token": android_token(7)}),
    )
    .await;
    // Last registered 271 days ago.
    let long_ago = runway_store::now_ms() - 271 * 24 * 3600 * 1000;
    runway_store::sqlx::query("UPDATE devices SET updated_at = ? WHERE id = ?")
        .bind(long_ago)
        .bind(old["id"].as_str().unwrap())
        .execute(app.state.db.pool())
        .await
        .unwrap();

    // Fan-out already skips it...
    let resp = post_authed(
        &app,
        "/v1/notifications",
        &key,
        json!({"user_ids": [user["user"]["id"]], "title": "hello"}),
    )
    .await;
    let id = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let status = completed(&app, &key, &id).await;
    assert_eq!(status["counts"]["targeted"], 1, "{status}");

    // ...and the sweep deletes it, keeping the fresh one.
    assert_eq!(
        runway_server::jobs::prune_stale_devices(&app.state)
            .await
            .unwrap(),
        1
    );
    let list: Value = app
        .get_authed("/v1/devices", &jwt)
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["id"])
        .collect();
    assert_eq!(ids, vec![&fresh["id"]]);
}
