use std::time::Duration;

use runway_push::{
    Clock, Device, Outcome, Platform, Priority, Provider, WebPush, WebPushConfig,
    WebSubscriptionKeys, generate_vapid_key,
};
use runway_testkit::push::{FakePushService, WebPushReply, WebPushSubscriber};
use secrecy::SecretString;

use crate::{assert_failed, assert_no_secret, assert_retry, message};

fn provider() -> WebPush {
    let (private, _public) = generate_vapid_key();
    WebPush::new(WebPushConfig::new(
        SecretString::from(private),
        "mailto:ops@example.com",
    ))
    .unwrap()
}

fn device(subscriber: &WebPushSubscriber) -> Device {
    let mut d = Device::new(Platform::Web, subscriber.endpoint.clone());
    d.web = Some(WebSubscriptionKeys {
        p256dh: subscriber.p256dh.clone(),
        auth: subscriber.auth.clone(),
    });
    d
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn the_subscriber_decrypts_what_was_sent() {
    let service = FakePushService::start().await;
    let subscriber = service.subscribe();
    let webpush = provider();
    assert_eq!(webpush.name(), "webpush");
    let mut m = message();
    m.badge = Some(3);
    m.collapse_key = Some("room-7".into());
    m.ttl = Some(Duration::from_secs(600));
    m.priority = Priority::Normal;
    m.data.insert("room".into(), 7.into());

    let outcome = webpush.send(&device(&subscriber), &m).await;
    let Outcome::Delivered {
        provider_id: Some(location),
    } = &outcome
    else {
        panic!("{outcome:?}");
    };
    assert!(location.starts_with(&format!("{}/message/", service.origin())));

    let received = service.received();
    assert_eq!(received.len(), 1);
    let r = &received[0];
    assert_eq!(r.status, 201);
    assert_eq!(r.subscription, subscriber.id());
    assert_eq!(r.header("ttl"), Some("600"));
    assert_eq!(r.header("urgency"), Some("normal"));
    assert_eq!(r.header("topic"), Some("room-7"));
    assert_eq!(r.header("content-encoding"), Some("aes128gcm"));
    let authorization = r.header("authorization").unwrap();
    assert!(
        authorization.ends_with(&format!(", k={}", webpush.vapid_public_key())),
        "{authorization}"
    );
    let claims = r.vapid_claims.as_ref().expect("VAPID verified");
    assert_eq!(claims["aud"], service.origin().as_str());
    assert_eq!(claims["sub"], "mailto:ops@example.com");
    let exp = claims["exp"].as_u64().unwrap();
    assert!((now() + 12 * 3600 - 60..=now() + 12 * 3600).contains(&exp));

    let plaintext = subscriber.decrypt(&r.body).expect("decrypts");
    let json: serde_json::Value = serde_json::from_slice(&plaintext).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"title": "Hello", "body": "World", "data": {"room": 7}, "badge": 3,
                           "tag": "room-7", "id": m.delivery_id.to_string()})
    );
    // Every message is encrypted afresh (new salt and key).
    assert!(matches!(
        webpush.send(&device(&subscriber), &m).await,
        Outcome::Delivered { .. }
    ));
    let bodies: Vec<Vec<u8>> = service.received().into_iter().map(|r| r.body).collect();
    assert_ne!(bodies[0][..16], bodies[1][..16]);
    assert_eq!(subscriber.decrypt(&bodies[1]).unwrap(), plaintext);
}

#[tokio::test]
async fn default_ttl_high_urgency_and_no_invalid_topic() {
    let service = FakePushService::start().await;
    let subscriber = service.subscribe();
    let webpush = provider();
    let mut m = message();
    m.collapse_key = Some("not a topic!".into());
    assert!(matches!(
        webpush.send(&device(&subscriber), &m).await,
        Outcome::Delivered { .. }
    ));
    let r = &service.received()[0];
    assert_eq!(r.header("ttl"), Some("2419200"));
    assert_eq!(r.header("urgency"), Some("high"));
    assert_eq!(r.header("topic"), None);
}

#[tokio::test]
async fn vapid_tokens_are_cached_per_origin_and_renewed() {
    let first = FakePushService::start().await;
    let second = FakePushService::start().await;
    let a = first.subscribe();
    let b = second.subscribe();
    let clock = Clock::offset();
    let webpush = provider().with_clock(clock.clone());
    let jwt = |service: &FakePushService, i: usize| {
        service.received()[i]
            .header("authorization")
            .unwrap()
            .to_string()
    };
    for _ in 0..2 {
        assert!(matches!(
            webpush.send(&device(&a), &message()).await,
            Outcome::Delivered { .. }
        ));
    }
    assert!(matches!(
        webpush.send(&device(&b), &message()).await,
        Outcome::Delivered { .. }
    ));
    assert_eq!(jwt(&first, 0), jwt(&first, 1));
    assert_ne!(jwt(&first, 0), jwt(&second, 0));

    clock.advance(Duration::from_secs(11 * 3600 + 60));
    first.advance_clock(Duration::from_secs(11 * 3600 + 60));
    assert!(matches!(
        webpush.send(&device(&a), &message()).await,
        Outcome::Delivered { .. }
    ));
    assert_ne!(jwt(&first, 1), jwt(&first, 2), "renewed with < 1 h left");
}

#[tokio::test]
async fn maps_push_service_answers() {
    let service = FakePushService::start().await;
    let webpush = provider();
    let cases: Vec<(WebPushReply, Outcome)> = vec![
        (
            WebPushReply::status(200),
            Outcome::Delivered { provider_id: None },
        ),
        (
            WebPushReply::status(202),
            Outcome::Delivered { provider_id: None },
        ),
        (
            WebPushReply::gone(),
            Outcome::Unregistered {
                reason: "http_410".into(),
                at: None,
            },
        ),
        (
            WebPushReply::status(404),
            Outcome::Unregistered {
                reason: "http_404".into(),
                at: None,
            },
        ),
        (
            WebPushReply::status(429).retry_after("12"),
            Outcome::Retry {
                reason: "http_429".into(),
                after: Some(Duration::from_secs(12)),
            },
        ),
        (
            WebPushReply::status(503),
            Outcome::Retry {
                reason: "http_503".into(),
                after: None,
            },
        ),
        (
            WebPushReply::status(413),
            Outcome::Failed {
                reason: "PayloadTooLarge".into(),
            },
        ),
        (
            WebPushReply::status(400),
            Outcome::Failed {
                reason: "http_400".into(),
            },
        ),
    ];
    for (reply, want) in cases {
        let subscriber = service.subscribe();
        service.script(&subscriber, reply.clone());
        let got = webpush.send(&device(&subscriber), &message()).await;
        // 200/202 carry a Location from the fake; compare the kind only.
        match (&got, &want) {
            (Outcome::Delivered { .. }, Outcome::Delivered { .. }) => {}
            _ => assert_eq!(got, want, "for {reply:?}"),
        }
        assert_no_secret(
            &got,
            &[&subscriber.endpoint, &subscriber.id(), &subscriber.auth],
        );
    }
}

#[tokio::test]
async fn the_push_service_rejects_a_token_for_another_origin() {
    let service = FakePushService::start().await;
    let subscriber = service.subscribe();
    // Same server, reached as "localhost": the VAPID aud no longer matches.
    let mut d = device(&subscriber);
    d.token = SecretString::from(subscriber.endpoint.replace("127.0.0.1", "localhost"));
    let outcome = provider().send(&d, &message()).await;
    assert_failed(&outcome, "http_403");
    assert_eq!(service.received()[0].status, 403);
}

#[tokio::test]
async fn oversized_payloads_and_incomplete_subscriptions_are_not_sent() {
    let service = FakePushService::start().await;
    let subscriber = service.subscribe();
    let webpush = provider();
    let mut big = message();
    big.body = Some("x".repeat(4000));
    assert_failed(
        &webpush.send(&device(&subscriber), &big).await,
        "PayloadTooLarge",
    );
    let mut fits = message();
    fits.body = Some("x".repeat(3800));
    assert!(matches!(
        webpush.send(&device(&subscriber), &fits).await,
        Outcome::Delivered { .. }
    ));
    let mut no_keys = device(&subscriber);
    no_keys.web = None;
    assert_failed(
        &webpush.send(&no_keys, &message()).await,
        "invalid_subscription",
    );
    let mut plain_http = device(&subscriber);
    plain_http.token = SecretString::from("http://push.example.com/push/x".to_string());
    assert_failed(
        &webpush.send(&plain_http, &message()).await,
        "invalid_subscription",
    );
    assert_eq!(service.received().len(), 1);
    assert!(service.received()[0].body.len() <= 4096);
}

#[tokio::test]
async fn unreachable_push_service_is_retried() {
    let subscriber_service = FakePushService::start().await;
    let subscriber = subscriber_service.subscribe();
    let mut d = device(&subscriber);
    d.token = SecretString::from(format!("{}/push/x", crate::closed_url("http")));
    assert_retry(
        &provider().send(&d, &message()).await,
        "connection_error",
        None,
    );
}

#[test]
fn vapid_keys_and_configuration() {
    let (private, public) = generate_vapid_key();
    let webpush = WebPush::new(WebPushConfig::new(
        SecretString::from(private.clone()),
        "https://example.com/contact",
    ))
    .unwrap();
    assert_eq!(webpush.vapid_public_key(), public);
    let err = WebPush::new(WebPushConfig::new(
        SecretString::from(private),
        "ops@example.com",
    ))
    .err()
    .unwrap();
    assert!(err.to_string().contains("subject"), "{err}");
    let err = WebPush::new(WebPushConfig::new(
        SecretString::from("bm90LWEta2V5".to_string()),
        "mailto:ops@example.com",
    ))
    .err()
    .unwrap();
    assert!(!err.to_string().contains("bm90LWEta2V5"), "{err}");
}
