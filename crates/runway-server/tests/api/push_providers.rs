//! Push end to end through the real providers: `runway serve` configured
//! for APNs (HTTP/2 + TLS), FCM HTTP v1, SNS mobile push (moto) and Web
//! Push, against the protocol fakes in runway-testkit. Checks what reached
//! the peer, the token lifecycle (pruning, re-registration), retries with
//! `Retry-After`, dead-lettering, the status counts and the metrics.

use std::time::Duration;

use reqwest::StatusCode;
use runway_testkit::push::{ApnsReply, FakeApns, FakeFcm, FakePushService, FcmReply, WebPushReply};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::push::{
    IOS_TOKEN_A, IOS_TOKEN_B, android_token, api_key, completed, post_authed, register_device,
};

const IOS_TOKEN_C: &str = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";
const IOS_TOKEN_D: &str = "d00dfeedd00dfeedd00dfeedd00dfeedd00dfeedd00dfeedd00dfeedd00dfeed";

async fn send(app: &TestApp, key: &str, body: Value) -> String {
    let resp = post_authed(app, "/v1/notifications", key, body).await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn metrics(app: &TestApp) -> String {
    app.client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn failure<'a>(status: &'a Value, device_id: &Value) -> &'a Value {
    status["failures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| &f["device_id"] == device_id)
        .unwrap_or_else(|| panic!("no failure for {device_id} in {status}"))
}

/// `runway serve` sending iOS pushes to `apns` (its CA trusted through
/// `push.ca_file`, written to `ca`), plus `extra` settings.
async fn apns_app(
    apns: &FakeApns,
    ca: &tempfile::NamedTempFile,
    extra: impl FnOnce(&mut runway_core::Config),
) -> TestApp {
    std::fs::write(ca.path(), apns.ca_pem()).unwrap();
    TestApp::spawn_with(
        |c| {
            c.push.ios = "apns".into();
            c.push.apns_key = Some(runway_core::Secret::new(apns.key_pem()));
            c.push.apns_key_id = apns.key_id();
            c.push.apns_team_id = apns.team_id();
            c.push.apns_topic = "com.example.app".into();
            c.push.apns_url = apns.url();
            c.push.apns_sandbox_url = apns.url();
            c.push.ca_file = Some(ca.path().to_path_buf());
            c.push.retry_base_ms = 10;
            extra(c);
        },
        |r| r,
    )
    .await
}

#[tokio::test]
async fn apns_delivers_prunes_dead_tokens_and_gives_up_after_max_attempts() {
    let apns = FakeApns::start().await;
    let ca = tempfile::NamedTempFile::new().unwrap();
    let app = apns_app(&apns, &ca, |c| c.push.max_attempts = 2).await;
    let key = api_key(&app).await;
    let kim = app.register("kim@example.com").await;
    let lee = app.register("lee@example.com").await;
    let kim_jwt = token(&kim, "access_token");
    let lee_jwt = token(&lee, "access_token");
    let (_, ok) = register_device(
        &app,
        &kim_jwt,
        json!({"platform": "ios", "token": IOS_TOKEN_A, "locale": "fr-FR"}),
    )
    .await;
    let (_, dead) = register_device(
        &app,
        &kim_jwt,
        json!({"platform": "ios", "token": IOS_TOKEN_B}),
    )
    .await;
    let (_, busy) = register_device(
        &app,
        &lee_jwt,
        json!({"platform": "ios", "token": IOS_TOKEN_C}),
    )
    .await;
    let (_, reregistered) = register_device(
        &app,
        &lee_jwt,
        json!({"platform": "ios", "token": IOS_TOKEN_D}),
    )
    .await;

    let hour_from_now = (runway_store::now_ms() + 3_600_000) as u64;
    apns.script(IOS_TOKEN_B, ApnsReply::unregistered(hour_from_now));
    // APNs saw D die long ago; it was registered again since: keep it.
    apns.script(IOS_TOKEN_D, ApnsReply::unregistered(1_000));
    apns.script(IOS_TOKEN_C, ApnsReply::too_many_requests().retry_after("1"));

    let id = send(
        &app,
        &key,
        json!({
            "user_ids": [kim["user"]["id"], lee["user"]["id"]],
            "title": "Hello", "body": "World", "badge": 2, "sound": "default",
            "data": {"screen": "home"}, "thread_id": "t1", "ttl": 3600,
            "localized": {"fr": {"title": "Bonjour"}},
        }),
    )
    .await;
    let status = completed(&app, &key, &id).await;
    assert_eq!(
        status["counts"],
        json!({"targeted": 4, "pending": 0, "sent": 1, "failed": 2, "pruned": 1}),
        "{status}"
    );
    assert_eq!(failure(&status, &dead["id"])["status"], "pruned");
    assert_eq!(failure(&status, &dead["id"])["reason"], "Unregistered");
    let gave_up = failure(&status, &busy["id"]);
    assert_eq!(gave_up["attempts"], 2);
    assert!(
        gave_up["reason"]
            .as_str()
            .unwrap()
            .starts_with("TooManyRequests"),
        "{gave_up}"
    );
    let kept = failure(&status, &reregistered["id"]);
    assert!(kept["reason"].as_str().unwrap().contains("kept"), "{kept}");

    // The dead token is gone; the re-registered one stays.
    let kim_devices: Value = app
        .get_authed("/v1/devices", &kim_jwt)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(kim_devices["items"].as_array().unwrap().len(), 1);
    assert_eq!(kim_devices["items"][0]["id"], ok["id"]);
    let lee_devices: Value = app
        .get_authed("/v1/devices", &lee_jwt)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(lee_devices["items"].as_array().unwrap().len(), 2);

    // What APNs received for the good token.
    let received = apns.received();
    let sent = received.iter().find(|r| r.token == IOS_TOKEN_A).unwrap();
    assert_eq!(sent.status, 200);
    assert_eq!(sent.header("apns-topic"), Some("com.example.app"));
    assert_eq!(sent.header("apns-push-type"), Some("alert"));
    assert_eq!(sent.header("apns-priority"), Some("10"));
    // No collapse key given: the delivery id, so a repeat shows once.
    assert_eq!(
        sent.header("apns-collapse-id").map(str::to_string),
        sent.header("apns-id").map(|id| id.replace('-', ""))
    );
    assert!(
        sent.header("apns-expiration")
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    assert_eq!(sent.json["aps"]["alert"]["title"], "Bonjour");
    assert_eq!(sent.json["aps"]["alert"]["body"], "World");
    assert_eq!(sent.json["aps"]["badge"], 2);
    assert_eq!(sent.json["aps"]["thread-id"], "t1");
    assert_eq!(sent.json["screen"], "home");
    let claims = sent.jwt_claims().unwrap();
    assert_eq!(claims["iss"], apns.team_id());
    // The same apns-id on both attempts for one device: ids are per delivery.
    let busy_attempts: Vec<_> = received.iter().filter(|r| r.token == IOS_TOKEN_C).collect();
    assert_eq!(busy_attempts.len(), 2);
    assert_eq!(
        busy_attempts[0].header("apns-id"),
        busy_attempts[1].header("apns-id")
    );
    assert_eq!(apns.stream_limit_violations(), 0);

    let m = metrics(&app).await;
    assert!(
        m.contains(r#"runway_push_sent_total{provider="apns"} 1"#),
        "{m}"
    );
    assert!(
        m.contains(r#"runway_push_pruned_total{provider="apns"} 1"#),
        "{m}"
    );
    assert!(
        m.contains(r#"runway_push_failed_total{provider="apns",reason="TooManyRequests"} 2"#),
        "{m}"
    );
    // Tokens never reach the logs' metrics or the status.
    for t in [IOS_TOKEN_A, IOS_TOKEN_B, IOS_TOKEN_C, IOS_TOKEN_D] {
        assert!(!m.contains(t) && !status.to_string().contains(t));
    }
}

#[tokio::test]
async fn apns_retry_after_is_honoured_before_the_next_attempt() {
    let apns = FakeApns::start().await;
    let ca = tempfile::NamedTempFile::new().unwrap();
    let app = apns_app(&apns, &ca, |_| {}).await;
    let key = api_key(&app).await;
    let user = app.register("mia@example.com").await;
    let jwt = token(&user, "access_token");
    register_device(&app, &jwt, json!({"platform": "ios", "token": IOS_TOKEN_A})).await;
    // One 503 with Retry-After: 2, then success.
    apns.enqueue([ApnsReply::service_unavailable().retry_after("2")]);
    let started = std::time::Instant::now();
    let id = send(
        &app,
        &key,
        json!({"user_ids": [user["user"]["id"]], "body": "x"}),
    )
    .await;
    let status = completed(&app, &key, &id).await;
    assert_eq!(status["counts"]["sent"], 1, "{status}");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "retried before Retry-After"
    );
    assert_eq!(apns.received().len(), 2);
}

#[tokio::test]
async fn fcm_confirms_unregistered_before_pruning() {
    let fcm = FakeFcm::start().await;
    let app = TestApp::spawn_with(
        |c| {
            c.push.android = "fcm".into();
            c.push.fcm_service_account = Some(runway_core::Secret::new(fcm.service_account_json()));
            c.push.fcm_url = fcm.url();
            c.push.max_attempts = 2;
            c.push.retry_base_ms = 10;
        },
        |r| r,
    )
    .await;
    let key = api_key(&app).await;
    let user = app.register("ned@example.com").await;
    let jwt = token(&user, "access_token");
    let (good, dead, flaky) = (android_token(1), android_token(2), android_token(3));
    let (_, _) = register_device(&app, &jwt, json!({"platform": "android", "token": good})).await;
    let (_, dead_device) =
        register_device(&app, &jwt, json!({"platform": "android", "token": dead})).await;
    let (_, flaky_device) =
        register_device(&app, &jwt, json!({"platform": "android", "token": flaky})).await;
    fcm.script(&dead, FcmReply::Unregistered { confirm: true });
    fcm.script(&flaky, FcmReply::Unregistered { confirm: false });

    let id = send(
        &app,
        &key,
        json!({"user_ids": [user["user"]["id"]], "title": "Hi", "data": {"n": 5, "s": "x"},
               "collapse_key": "news", "priority": "normal"}),
    )
    .await;
    let status = completed(&app, &key, &id).await;
    assert_eq!(
        status["counts"],
        json!({"targeted": 3, "pending": 0, "sent": 1, "failed": 1, "pruned": 1}),
        "{status}"
    );
    assert_eq!(failure(&status, &dead_device["id"])["status"], "pruned");
    // Unconfirmed UNREGISTERED is treated as transient: retried, never pruned.
    assert_eq!(failure(&status, &flaky_device["id"])["status"], "failed");
    let devices: Value = app
        .get_authed("/v1/devices", &jwt)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(devices["items"].as_array().unwrap().len(), 2);

    let received = fcm.received();
    let sent = received
        .iter()
        .find(|r| r.token == good && !r.validate_only)
        .unwrap();
    assert_eq!(sent.message["notification"]["title"], "Hi");
    assert_eq!(
        sent.message["data"]["n"], "5",
        "FCM data values are strings"
    );
    assert_eq!(sent.message["android"]["collapse_key"], "news");
    assert_eq!(sent.message["android"]["priority"], "NORMAL");
    assert!(received.iter().any(|r| r.token == dead && r.validate_only));
    // One OAuth2 token served every send.
    assert_eq!(fcm.token_requests(), 1);
}

#[tokio::test]
async fn sns_mobile_push_creates_endpoints_publishes_and_prunes_disabled_ones() {
    let apps = runway_testkit::push::sns_platform_applications().await;
    let app = TestApp::spawn_with(
        |c| {
            c.push.ios = "sns".into();
            c.push.android = "sns".into();
            c.push.sns_ios_application_arn = apps.ios.clone();
            c.push.sns_ios_sandbox_application_arn = apps.ios_sandbox.clone();
            c.push.sns_android_application_arn = apps.android.clone();
            c.push.retry_base_ms = 10;
        },
        |r| r,
    )
    .await;
    let key = api_key(&app).await;
    let user = app.register("olga@example.com").await;
    let jwt = token(&user, "access_token");
    let (_, ios) =
        register_device(&app, &jwt, json!({"platform": "ios", "token": IOS_TOKEN_A})).await;
    let (_, android) = register_device(
        &app,
        &jwt,
        json!({"platform": "android", "token": android_token(9)}),
    )
    .await;
    let device = |v: &Value| uuid::Uuid::parse_str(v["id"].as_str().unwrap()).unwrap();
    let ios_arn = app
        .state
        .db
        .device_by_id(device(&ios))
        .await
        .unwrap()
        .unwrap()
        .sns_endpoint_arn
        .expect("an SNS endpoint at registration");
    assert!(ios_arn.contains(&apps.ios.rsplit('/').next().unwrap().to_string()));
    let endpoint = runway_testkit::push::moto_sns_endpoint(&ios_arn)
        .await
        .unwrap();
    assert_eq!(endpoint.token, IOS_TOKEN_A);

    let id = send(
        &app,
        &key,
        json!({"user_ids": [user["user"]["id"]], "title": "Via SNS", "body": "b"}),
    )
    .await;
    let status = completed(&app, &key, &id).await;
    assert_eq!(status["counts"]["sent"], 2, "{status}");
    let endpoint = runway_testkit::push::moto_sns_endpoint(&ios_arn)
        .await
        .unwrap();
    let published: Value = serde_json::from_str(&endpoint.messages[0]).unwrap();
    let aps: Value = serde_json::from_str(published["APNS"].as_str().unwrap()).unwrap();
    assert_eq!(aps["aps"]["alert"]["title"], "Via SNS");

    // SNS disables the endpoint when APNs rejects the token: pruned.
    let sns = runway_testkit::push::sns_client().await;
    sns.set_endpoint_attributes()
        .endpoint_arn(&ios_arn)
        .attributes("Enabled", "false")
        .send()
        .await
        .unwrap();
    let id = send(
        &app,
        &key,
        json!({"user_ids": [user["user"]["id"]], "title": "again"}),
    )
    .await;
    let status = completed(&app, &key, &id).await;
    assert_eq!(status["counts"]["pruned"], 1, "{status}");
    assert_eq!(failure(&status, &ios["id"])["reason"], "EndpointDisabled");
    assert!(
        sns.get_endpoint_attributes()
            .endpoint_arn(&ios_arn)
            .send()
            .await
            .is_err(),
        "the pruned device's endpoint is deleted"
    );

    // Deleting a device through the API deletes its endpoint too.
    let android_arn = app
        .state
        .db
        .device_by_id(device(&android))
        .await
        .unwrap()
        .unwrap()
        .sns_endpoint_arn
        .unwrap();
    let resp = app
        .client
        .delete(app.url(&format!("/v1/devices/{}", android["id"].as_str().unwrap())))
        .bearer_auth(&jwt)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(
        sns.get_endpoint_attributes()
            .endpoint_arn(&android_arn)
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn web_push_payloads_decrypt_with_the_subscribers_keys() {
    let service = FakePushService::start().await;
    let (vapid_private, vapid_public) = runway_push::generate_vapid_key();
    let app = TestApp::spawn_with(
        |c| {
            c.push.web = "webpush".into();
            c.push.vapid_private_key = Some(runway_core::Secret::new(vapid_private));
            c.push.vapid_subject = "mailto:ops@example.com".into();
            c.push.web_endpoint_hosts = vec!["127.0.0.1".into()];
        },
        |r| r,
    )
    .await;
    let key = api_key(&app).await;
    let user = app.register("pam@example.com").await;
    let jwt = token(&user, "access_token");
    let subscriber = service.subscribe();
    let gone = service.subscribe();
    service.script(&gone, WebPushReply::gone());
    for s in [&subscriber, &gone] {
        let (status, _) = register_device(
            &app,
            &jwt,
            json!({"platform": "web", "endpoint": s.endpoint,
                   "keys": {"p256dh": s.p256dh, "auth": s.auth}}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let id = send(
        &app,
        &key,
        json!({"user_ids": [user["user"]["id"]], "title": "In the browser", "body": "b",
               "data": {"k": "v"}}),
    )
    .await;
    let status = completed(&app, &key, &id).await;
    assert_eq!(status["counts"]["sent"], 1, "{status}");
    assert_eq!(status["counts"]["pruned"], 1, "{status}");
    let received = service.received();
    let delivered = received
        .iter()
        .find(|r| r.status == 201 && r.subscription == subscriber.id())
        .expect("a delivery to the live subscription");
    assert_eq!(delivered.header("content-encoding"), Some("aes128gcm"));
    let claims = delivered.vapid_claims.as_ref().unwrap();
    assert_eq!(claims["sub"], "mailto:ops@example.com");
    assert!(
        delivered
            .header("authorization")
            .unwrap()
            .contains(&vapid_public)
    );
    let plaintext = subscriber.decrypt(&delivered.body).unwrap();
    let payload: Value = serde_json::from_slice(&plaintext).unwrap();
    assert_eq!(payload["title"], "In the browser");
    assert_eq!(payload["data"]["k"], "v");
}
