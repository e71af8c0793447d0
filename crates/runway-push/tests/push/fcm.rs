use std::time::Duration;

use runway_push::{Clock, Device, Fcm, FcmConfig, Outcome, Platform, Priority, Provider};
use runway_testkit::push::{FakeFcm, FcmReply};
use secrecy::SecretString;

use crate::{assert_failed, assert_no_secret, assert_retry, closed_url, fcm_token, message};

fn config(fake: &FakeFcm) -> FcmConfig {
    let mut c = FcmConfig::new(SecretString::from(fake.service_account_json()));
    c.base_url = fake.url();
    c.request_timeout = Duration::from_secs(10);
    c
}

fn device(token: &str) -> Device {
    Device::new(Platform::Android, token)
}

#[tokio::test]
async fn sends_v1_messages_with_one_cached_access_token() {
    let fake = FakeFcm::start().await;
    let fcm = Fcm::new(config(&fake)).unwrap();
    assert_eq!(fcm.name(), "fcm");
    assert_eq!(fcm.project_id(), fake.project_id());
    let mut m = message();
    m.data.insert("room".into(), "7".into());
    m.data.insert("count".into(), 3.into());
    m.data
        .insert("nested".into(), serde_json::json!({"a": true}));
    m.sound = Some("ping".into());
    m.collapse_key = Some("room-7".into());
    m.ttl = Some(Duration::from_secs(120));
    m.priority = Priority::Normal;

    let tokens: Vec<String> = (0..12).map(|_| fcm_token()).collect();
    let devices: Vec<Device> = tokens.iter().map(|t| device(t)).collect();
    let outcomes = futures::future::join_all(devices.iter().map(|d| fcm.send(d, &m))).await;
    for outcome in &outcomes {
        match outcome {
            Outcome::Delivered {
                provider_id: Some(name),
            } => assert!(
                name.starts_with(&format!("projects/{}/messages/", fake.project_id())),
                "{name}"
            ),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(fake.token_requests(), 1, "the access token is shared");
    assert_eq!(fcm.token_requests(), 1);
    assert_eq!(fake.rejected_assertions(), 0);

    let received = fake.received();
    assert_eq!(received.len(), 12);
    let r = received.iter().find(|r| r.token == tokens[0]).unwrap();
    assert!(!r.validate_only);
    assert_eq!(
        r.message,
        serde_json::json!({
            "token": tokens[0],
            "notification": {"title": "Hello", "body": "World"},
            "data": {"room": "7", "count": "3", "nested": "{\"a\":true}"},
            "android": {"priority": "NORMAL", "ttl": "120s", "collapse_key": "room-7",
                        "notification": {"sound": "ping", "tag": "room-7"}}
        })
    );
}

#[tokio::test]
async fn data_only_messages_have_no_notification() {
    let fake = FakeFcm::start().await;
    let fcm = Fcm::new(config(&fake)).unwrap();
    let mut m = runway_push::Message::new(uuid::Uuid::new_v4());
    m.content_available = true;
    m.data.insert("sync".into(), "inbox".into());
    let token = fcm_token();
    assert!(matches!(
        fcm.send(&device(&token), &m).await,
        Outcome::Delivered { .. }
    ));
    assert_eq!(
        fake.received()[0].message,
        serde_json::json!({"token": token, "data": {"sync": "inbox"}, "android": {"priority": "HIGH"}})
    );
}

#[tokio::test]
async fn access_token_is_refreshed_shortly_before_it_expires() {
    let fake = FakeFcm::start().await;
    fake.set_token_ttl(Duration::from_secs(600));
    let clock = Clock::offset();
    let fcm = Fcm::new(config(&fake)).unwrap().with_clock(clock.clone());
    let advance = |by: Duration| {
        clock.advance(by);
        fake.advance_clock(by);
    };
    let send = || async { fcm.send(&device(&fcm_token()), &message()).await };
    assert!(matches!(send().await, Outcome::Delivered { .. }));
    advance(Duration::from_secs(500));
    assert!(matches!(send().await, Outcome::Delivered { .. }));
    assert_eq!(fake.token_requests(), 1);
    // 600 s tokens are renewed 60 s early.
    advance(Duration::from_secs(50));
    assert!(matches!(send().await, Outcome::Delivered { .. }));
    assert_eq!(fake.token_requests(), 2);
    assert_eq!(fake.unauthorized_requests(), 0);
}

#[tokio::test]
async fn unauthorized_drops_the_token_once_and_retries() {
    let fake = FakeFcm::start().await;
    let fcm = Fcm::new(config(&fake)).unwrap();
    let token = fcm_token();
    assert!(matches!(
        fcm.send(&device(&token), &message()).await,
        Outcome::Delivered { .. }
    ));
    fake.revoke_tokens();
    let m = message();
    let devices: Vec<Device> = (0..5).map(|_| device(&token)).collect();
    let outcomes = futures::future::join_all(devices.iter().map(|d| fcm.send(d, &m))).await;
    for outcome in &outcomes {
        assert_retry(outcome, "UNAUTHENTICATED", None);
    }
    assert!(matches!(
        fcm.send(&device(&token), &message()).await,
        Outcome::Delivered { .. }
    ));
    assert_eq!(fake.token_requests(), 2, "one refresh for all the 401s");
}

#[tokio::test]
async fn unregistered_is_confirmed_with_a_validate_only_send() {
    let fake = FakeFcm::start().await;
    let fcm = Fcm::new(config(&fake)).unwrap();
    let token = fcm_token();
    fake.script(&token, FcmReply::Unregistered { confirm: true });
    let outcome = fcm.send(&device(&token), &message()).await;
    assert_eq!(
        outcome,
        Outcome::Unregistered {
            reason: "UNREGISTERED".into(),
            at: None
        }
    );
    assert_no_secret(&outcome, &[&token]);
    let received = fake.received();
    assert_eq!(received.len(), 2);
    assert!(!received[0].validate_only);
    assert!(received[1].validate_only);
    assert_eq!(received[0].message, received[1].message);
}

#[tokio::test]
async fn unconfirmed_unregistered_is_retried_not_deleted() {
    let fake = FakeFcm::start().await;
    let fcm = Fcm::new(config(&fake)).unwrap();
    let token = fcm_token();
    fake.script(&token, FcmReply::Unregistered { confirm: false });
    let outcome = fcm.send(&device(&token), &message()).await;
    assert_retry(&outcome, "unregistered_unconfirmed", None);
    let received = fake.received();
    assert_eq!(received.len(), 2);
    assert!(received[1].validate_only);
}

#[tokio::test]
async fn maps_fcm_errors() {
    let fake = FakeFcm::start().await;
    let fcm = Fcm::new(config(&fake)).unwrap();
    let cases: Vec<(FcmReply, Outcome)> = vec![
        (
            FcmReply::InvalidArgument,
            Outcome::Failed {
                reason: "INVALID_ARGUMENT".into(),
            },
        ),
        (
            FcmReply::SenderIdMismatch,
            Outcome::Failed {
                reason: "SENDER_ID_MISMATCH".into(),
            },
        ),
        (
            FcmReply::QuotaExceeded {
                retry_after: Some(42),
            },
            Outcome::Retry {
                reason: "QUOTA_EXCEEDED".into(),
                after: Some(Duration::from_secs(42)),
            },
        ),
        (
            FcmReply::Unavailable {
                retry_after: Some(7),
            },
            Outcome::Retry {
                reason: "UNAVAILABLE".into(),
                after: Some(Duration::from_secs(7)),
            },
        ),
        (
            FcmReply::Unavailable { retry_after: None },
            Outcome::Retry {
                reason: "UNAVAILABLE".into(),
                after: None,
            },
        ),
        (
            FcmReply::Internal,
            Outcome::Retry {
                reason: "INTERNAL".into(),
                after: None,
            },
        ),
    ];
    for (reply, want) in cases {
        let token = fcm_token();
        fake.script(&token, reply.clone());
        let got = fcm.send(&device(&token), &message()).await;
        assert_eq!(got, want, "for {reply:?}");
        assert_no_secret(&got, &[&token]);
    }
    // None of these was a confirmation candidate.
    assert!(fake.received().iter().all(|r| !r.validate_only));
}

#[tokio::test]
async fn a_key_google_does_not_know_fails_at_the_token_endpoint() {
    let fake = FakeFcm::start().await;
    let other = FakeFcm::start().await;
    let mut account: serde_json::Value =
        serde_json::from_str(&fake.service_account_json()).unwrap();
    let other_account: serde_json::Value =
        serde_json::from_str(&other.service_account_json()).unwrap();
    account["private_key"] = other_account["private_key"].clone();
    let mut c = config(&fake);
    c.service_account_json = SecretString::from(account.to_string());
    let fcm = Fcm::new(c).unwrap();
    let outcome = fcm.send(&device(&fcm_token()), &message()).await;
    assert_failed(&outcome, "oauth_invalid_grant");
    assert_eq!(fake.rejected_assertions(), 1);
    assert!(fake.received().is_empty());
}

#[tokio::test]
async fn unreachable_endpoints_are_retried() {
    let fake = FakeFcm::start().await;
    let mut c = config(&fake);
    c.token_url = Some(format!("{}/token", closed_url("http")));
    let fcm = Fcm::new(c).unwrap();
    assert_retry(
        &fcm.send(&device(&fcm_token()), &message()).await,
        "oauth_connection_error",
        None,
    );
    let mut c = config(&fake);
    c.base_url = closed_url("http");
    let fcm = Fcm::new(c).unwrap();
    assert_retry(
        &fcm.send(&device(&fcm_token()), &message()).await,
        "connection_error",
        None,
    );
}

#[tokio::test]
async fn malformed_tokens_and_other_platforms_are_not_sent() {
    let fake = FakeFcm::start().await;
    let fcm = Fcm::new(config(&fake)).unwrap();
    assert_eq!(
        fcm.send(&device("short"), &message()).await,
        Outcome::Unregistered {
            reason: "invalid_token".into(),
            at: None
        }
    );
    assert_failed(
        &fcm.send(&Device::new(Platform::Ios, fcm_token()), &message())
            .await,
        "unsupported_platform",
    );
    assert!(fake.received().is_empty());
}

#[tokio::test]
async fn a_bare_404_never_unregisters_tokens() {
    let fake = FakeFcm::start().await;
    let mut c = config(&fake);
    // A wrong base URL: 404 without FCM's error body.
    c.base_url = format!("{}/wrong-prefix", fake.url());
    let fcm = Fcm::new(c).unwrap();
    assert_failed(
        &fcm.send(&device(&fcm_token()), &message()).await,
        "http_404",
    );
    assert!(fake.received().is_empty());
}
