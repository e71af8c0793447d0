use std::time::{Duration, SystemTime};

use runway_push::{
    Apns, ApnsConfig, ApnsEnvironment, Clock, Device, Outcome, Platform, Priority, Provider,
    PushError,
};
use runway_testkit::push::{ApnsReply, FakeApns};
use secrecy::SecretString;

use crate::{assert_failed, assert_no_secret, assert_retry, closed_url, hex_token, message};

fn config(fake: &FakeApns) -> ApnsConfig {
    let mut c = ApnsConfig::new(
        SecretString::from(fake.key_pem()),
        fake.key_id(),
        fake.team_id(),
        "com.example.runway",
    );
    c.production_url = fake.url();
    c.sandbox_url = fake.url();
    c.ca_pem = Some(fake.ca_pem());
    c.request_timeout = Duration::from_secs(10);
    c
}

fn device(token: &str) -> Device {
    Device::new(Platform::Ios, token)
}

#[tokio::test]
async fn delivers_with_apns_headers_payload_and_a_valid_token() {
    let fake = FakeApns::start().await;
    let apns = Apns::new(config(&fake)).unwrap();
    assert_eq!(apns.name(), "apns");
    let token = hex_token();
    let mut m = message();
    m.badge = Some(4);
    m.sound = Some("chime.caf".into());
    m.category = Some("MESSAGE".into());
    m.thread_id = Some("room-7".into());
    m.collapse_key = Some("room-7-latest".into());
    m.ttl = Some(Duration::from_secs(3600));
    m.data.insert("room".into(), "7".into());
    m.data.insert("count".into(), 2.into());

    let before = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let outcome = apns.send(&device(&token), &m).await;
    assert_eq!(
        outcome,
        Outcome::Delivered {
            provider_id: Some(m.delivery_id.to_string())
        }
    );

    let received = fake.received();
    assert_eq!(received.len(), 1);
    let r = &received[0];
    assert_eq!(r.status, 200);
    assert_eq!(r.token, token);
    assert_eq!(r.header("apns-topic"), Some("com.example.runway"));
    assert_eq!(r.header("apns-push-type"), Some("alert"));
    assert_eq!(r.header("apns-priority"), Some("10"));
    assert_eq!(r.header("apns-collapse-id"), Some("room-7-latest"));
    assert_eq!(
        r.header("apns-id"),
        Some(m.delivery_id.to_string().as_str())
    );
    let expiration: u64 = r.header("apns-expiration").unwrap().parse().unwrap();
    assert!(
        (before + 3600..=before + 3605).contains(&expiration),
        "{expiration}"
    );
    assert_eq!(
        r.json,
        serde_json::json!({
            "aps": {"alert": {"title": "Hello", "body": "World"}, "badge": 4, "sound": "chime.caf",
                    "category": "MESSAGE", "thread-id": "room-7"},
            "room": "7", "count": 2
        })
    );
    let claims = r.jwt_claims().unwrap();
    assert_eq!(claims["iss"], fake.team_id().as_str());
    assert!(claims["iat"].as_u64().unwrap() >= before);
}

#[tokio::test]
async fn background_pushes_and_topic_override() {
    let fake = FakeApns::start().await;
    let apns = Apns::new(config(&fake)).unwrap();
    let mut d = device(&hex_token());
    d.app_id = Some("com.example.other".into());
    let mut m = runway_push::Message::new(uuid::Uuid::new_v4());
    m.content_available = true;
    m.priority = Priority::High;
    m.ttl = Some(Duration::ZERO);
    m.data.insert("sync".into(), "inbox".into());
    assert!(matches!(apns.send(&d, &m).await, Outcome::Delivered { .. }));

    let mut alert = message();
    alert.priority = Priority::Normal;
    assert!(matches!(
        apns.send(&device(&hex_token()), &alert).await,
        Outcome::Delivered { .. }
    ));

    let received = fake.received();
    let bg = &received[0];
    assert_eq!(bg.header("apns-topic"), Some("com.example.other"));
    assert_eq!(bg.header("apns-push-type"), Some("background"));
    assert_eq!(bg.header("apns-priority"), Some("5"));
    assert_eq!(bg.header("apns-expiration"), Some("0"));
    let replace_key = m.delivery_id.simple().to_string();
    assert_eq!(bg.header("apns-collapse-id"), Some(replace_key.as_str()));
    assert_eq!(
        bg.json,
        serde_json::json!({"aps": {"content-available": 1}, "sync": "inbox"})
    );
    let normal = &received[1];
    assert_eq!(normal.header("apns-push-type"), Some("alert"));
    assert_eq!(normal.header("apns-priority"), Some("5"));
    assert_eq!(normal.header("apns-expiration"), None);
}

#[tokio::test]
async fn sandbox_devices_go_to_the_sandbox_url() {
    let fake = FakeApns::start().await;
    let mut c = config(&fake);
    c.production_url = closed_url("https");
    let apns = Apns::new(c).unwrap();
    let mut sandbox = device(&hex_token());
    sandbox.environment = ApnsEnvironment::Sandbox;
    assert!(matches!(
        apns.send(&sandbox, &message()).await,
        Outcome::Delivered { .. }
    ));
    let production = apns.send(&device(&hex_token()), &message()).await;
    assert_retry(&production, "connection_error", None);
    assert_eq!(fake.received().len(), 1);
}

#[tokio::test]
async fn maps_every_apns_answer() {
    let fake = FakeApns::start().await;
    let apns = Apns::new(config(&fake)).unwrap();
    let ts = 1_700_000_000_123u64;
    let in_a_minute = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(61));
    let cases: Vec<(ApnsReply, Outcome)> = vec![
        (
            ApnsReply::bad_device_token(),
            Outcome::Unregistered {
                reason: "BadDeviceToken".into(),
                at: None,
            },
        ),
        (
            // Usually a wrong apns-topic in our configuration: never prune.
            ApnsReply::device_token_not_for_topic(),
            Outcome::Failed {
                reason: "DeviceTokenNotForTopic".into(),
            },
        ),
        (
            ApnsReply::unregistered(ts),
            Outcome::Unregistered {
                reason: "Unregistered".into(),
                at: Some(SystemTime::UNIX_EPOCH + Duration::from_millis(ts)),
            },
        ),
        (
            ApnsReply::too_many_requests().retry_after("30"),
            Outcome::Retry {
                reason: "TooManyRequests".into(),
                after: Some(Duration::from_secs(30)),
            },
        ),
        (
            ApnsReply::internal_server_error(),
            Outcome::Retry {
                reason: "InternalServerError".into(),
                after: None,
            },
        ),
        (
            ApnsReply::status(400, Some("TopicDisallowed")),
            Outcome::Failed {
                reason: "TopicDisallowed".into(),
            },
        ),
        (
            ApnsReply::status(413, Some("PayloadTooLarge")),
            Outcome::Failed {
                reason: "PayloadTooLarge".into(),
            },
        ),
        (
            ApnsReply::status(400, None),
            Outcome::Failed {
                reason: "http_400".into(),
            },
        ),
    ];
    for (reply, want) in cases {
        let token = hex_token();
        fake.script(&token, reply.clone());
        let got = apns.send(&device(&token), &message()).await;
        assert_eq!(got, want, "for {reply:?}");
        assert_no_secret(&got, &[&token]);
    }

    // An HTTP-date Retry-After becomes a delay.
    let token = hex_token();
    fake.script(
        &token,
        ApnsReply::service_unavailable().retry_after(in_a_minute),
    );
    match apns.send(&device(&token), &message()).await {
        Outcome::Retry {
            reason,
            after: Some(after),
        } => {
            assert_eq!(reason, "ServiceUnavailable");
            assert!(
                after > Duration::from_secs(50) && after <= Duration::from_secs(61),
                "{after:?}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn oversized_payloads_and_bad_tokens_are_not_sent() {
    let fake = FakeApns::start().await;
    let apns = Apns::new(config(&fake)).unwrap();
    let mut big = message();
    big.body = Some("x".repeat(4100));
    assert_failed(
        &apns.send(&device(&hex_token()), &big).await,
        "PayloadTooLarge",
    );
    let mut long_collapse = message();
    long_collapse.collapse_key = Some("c".repeat(65));
    assert_failed(
        &apns.send(&device(&hex_token()), &long_collapse).await,
        "BadCollapseId",
    );
    let bad = "not-a-hex-token/../../x";
    let outcome = apns.send(&device(bad), &message()).await;
    assert_eq!(
        outcome,
        Outcome::Unregistered {
            reason: "BadDeviceToken".into(),
            at: None
        }
    );
    assert!(fake.received().is_empty());
}

#[tokio::test]
async fn provider_token_is_cached_then_refreshed_after_50_minutes() {
    let fake = FakeApns::start().await;
    let clock = Clock::offset();
    let apns = Apns::new(config(&fake)).unwrap().with_clock(clock.clone());
    let advance = |by: Duration| {
        clock.advance(by);
        fake.advance_clock(by);
    };
    let send = || async { apns.send(&device(&hex_token()), &message()).await };

    assert!(matches!(send().await, Outcome::Delivered { .. }));
    advance(Duration::from_secs(30 * 60));
    assert!(matches!(send().await, Outcome::Delivered { .. }));
    advance(Duration::from_secs(21 * 60));
    assert!(matches!(send().await, Outcome::Delivered { .. }));

    let received = fake.received();
    let jwts: Vec<&str> = received.iter().map(|r| r.jwt().unwrap()).collect();
    assert_eq!(jwts[0], jwts[1], "reused within 50 minutes");
    assert_ne!(jwts[1], jwts[2], "re-signed after 50 minutes");
    let iat = |i: usize| received[i].jwt_claims().unwrap()["iat"].as_u64().unwrap();
    assert!(iat(2) >= iat(0) + 51 * 60);
    assert!(received.iter().all(|r| r.status == 200));
}

#[tokio::test]
async fn expired_provider_token_is_refreshed_at_once_and_retried() {
    let fake = FakeApns::start().await;
    let clock = Clock::offset();
    let apns = Apns::new(config(&fake)).unwrap().with_clock(clock.clone());
    let token = hex_token();
    assert!(matches!(
        apns.send(&device(&token), &message()).await,
        Outcome::Delivered { .. }
    ));
    // The provider thinks its token is 45 minutes old; APNs' clock says 61.
    clock.advance(Duration::from_secs(45 * 60));
    fake.advance_clock(Duration::from_secs(61 * 60));
    let outcome = apns.send(&device(&token), &message()).await;
    assert_retry(&outcome, "ExpiredProviderToken", None);
    assert!(matches!(
        apns.send(&device(&token), &message()).await,
        Outcome::Delivered { .. }
    ));
    let received = fake.received();
    assert_eq!(received.len(), 3);
    assert_eq!(received[1].reason.as_deref(), Some("ExpiredProviderToken"));
    assert_eq!(received[0].jwt(), received[1].jwt());
    assert_ne!(received[1].jwt(), received[2].jwt());
    assert_eq!(received[2].status, 200);
}

#[tokio::test]
async fn a_key_apns_does_not_know_fails() {
    let fake = FakeApns::start().await;
    let other = FakeApns::start().await;
    let mut c = config(&fake);
    c.key_pem = SecretString::from(other.key_pem());
    let apns = Apns::new(c).unwrap();
    let outcome = apns.send(&device(&hex_token()), &message()).await;
    assert_failed(&outcome, "InvalidProviderToken");
}

#[tokio::test]
async fn bad_configuration_is_a_typed_error_without_the_key() {
    let fake = FakeApns::start().await;
    let mut c = config(&fake);
    c.key_pem = SecretString::from(
        "-----BEGIN PRIVATE KEY-----\nbm90LWEta2V5\n-----END PRIVATE KEY-----".to_string(),
    );
    let err = Apns::new(c).err().unwrap();
    assert!(matches!(err, PushError::InvalidKey { .. }), "{err:?}");
    assert!(!err.to_string().contains("bm90LWEta2V5"));
    let mut c = config(&fake);
    c.production_url = "http://127.0.0.1:1".into();
    assert!(matches!(
        Apns::new(c).err().unwrap(),
        PushError::InvalidConfig(_)
    ));
    let mut c = config(&fake);
    c.ca_pem = Some("not a pem".into());
    assert!(matches!(
        Apns::new(c).err().unwrap(),
        PushError::InvalidConfig(_)
    ));
}

#[tokio::test]
async fn without_the_test_ca_the_server_is_not_trusted() {
    let fake = FakeApns::start().await;
    let mut c = config(&fake);
    c.ca_pem = None;
    let apns = Apns::new(c).unwrap();
    assert_retry(
        &apns.send(&device(&hex_token()), &message()).await,
        "tls_error",
        None,
    );
}

#[tokio::test]
async fn concurrent_sends_multiplex_one_connection_within_the_stream_limit() {
    let fake = FakeApns::start().await;
    fake.set_response_delay(Duration::from_millis(100));
    let apns = Apns::new(config(&fake)).unwrap();
    let devices: Vec<Device> = (0..40).map(|_| device(&hex_token())).collect();
    let m = message();
    let outcomes = futures::future::join_all(devices.iter().map(|d| apns.send(d, &m))).await;
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, Outcome::Delivered { .. })),
        "{outcomes:?}"
    );
    assert_eq!(fake.connections(), 1);
    assert_eq!(fake.stream_limit_violations(), 0);
    assert!(
        fake.max_concurrent_seen() > 1,
        "streams were not multiplexed: {}",
        fake.max_concurrent_seen()
    );
    assert_eq!(fake.received().len(), 40);
}

#[tokio::test]
async fn two_connections_are_used_round_robin() {
    let fake = FakeApns::start().await;
    let mut c = config(&fake);
    c.connections = 2;
    let apns = Apns::new(c).unwrap();
    let devices: Vec<Device> = (0..10).map(|_| device(&hex_token())).collect();
    let m = message();
    for d in &devices {
        assert!(matches!(apns.send(d, &m).await, Outcome::Delivered { .. }));
    }
    assert_eq!(fake.connections(), 2);
    let on_first = fake.received().iter().filter(|r| r.connection == 1).count();
    assert_eq!(on_first, 5);
}

#[tokio::test]
async fn reconnects_after_goaway() {
    let fake = FakeApns::start().await;
    let apns = Apns::new(config(&fake)).unwrap();
    assert!(matches!(
        apns.send(&device(&hex_token()), &message()).await,
        Outcome::Delivered { .. }
    ));
    fake.close_connections();
    for _ in 0..3 {
        let outcome = apns.send(&device(&hex_token()), &message()).await;
        assert!(matches!(outcome, Outcome::Delivered { .. }), "{outcome:?}");
    }
    assert_eq!(fake.connections(), 2);
    assert_eq!(fake.received().last().unwrap().connection, 2);
}

#[tokio::test]
async fn reconnects_after_the_connection_drops() {
    let fake = FakeApns::start().await;
    let apns = Apns::new(config(&fake)).unwrap();
    assert!(matches!(
        apns.send(&device(&hex_token()), &message()).await,
        Outcome::Delivered { .. }
    ));
    fake.kill_connections();
    let outcome = apns.send(&device(&hex_token()), &message()).await;
    assert!(matches!(outcome, Outcome::Delivered { .. }), "{outcome:?}");
    assert_eq!(fake.connections(), 2);
}

#[tokio::test]
async fn slow_answers_time_out_as_retry() {
    let fake = FakeApns::start().await;
    fake.set_response_delay(Duration::from_secs(3));
    let mut c = config(&fake);
    c.request_timeout = Duration::from_millis(300);
    let apns = Apns::new(c).unwrap();
    assert_retry(
        &apns.send(&device(&hex_token()), &message()).await,
        "timeout",
        None,
    );
}

#[tokio::test]
async fn device_debug_never_shows_the_token() {
    let token = hex_token();
    let mut d = device(&token);
    d.sns_endpoint_arn = Some("arn:aws:sns:us-east-1:1:endpoint/APNS/app/x".into());
    let debug = format!("{d:?}");
    assert!(!debug.contains(&token), "{debug}");
    assert!(!debug.contains(&token[6..30]), "{debug}");
}
