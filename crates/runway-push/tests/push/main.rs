//! runway-push against local protocol fakes (runway-testkit::push) and moto.

mod apns;
mod fcm;
#[cfg(feature = "sns")]
mod sns;
mod webpush;

use std::time::Duration;

use runway_push::{Device, LogProvider, Message, Outcome, Platform, Provider};

/// A random 64-character APNs token.
pub fn hex_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// A random FCM registration token (163 characters, FCM's usual shape).
pub fn fcm_token() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{}:APA91b{}", &id[..22], format!("{id}-_.").repeat(4))
}

/// A message with a title and body.
pub fn message() -> Message {
    let mut m = Message::new(uuid::Uuid::new_v4());
    m.title = Some("Hello".into());
    m.body = Some("World".into());
    m
}

/// A loopback URL on which nothing listens.
pub fn closed_url(scheme: &str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("{scheme}://127.0.0.1:{port}")
}

/// Neither the outcome's reason nor its Debug form contains a secret.
#[track_caller]
pub fn assert_no_secret(outcome: &Outcome, secrets: &[&str]) {
    let debug = format!("{outcome:?}");
    for secret in secrets {
        assert!(!debug.contains(secret), "outcome leaks a secret: {debug}");
    }
}

#[track_caller]
pub fn assert_retry(outcome: &Outcome, reason: &str, after: Option<Duration>) {
    match outcome {
        Outcome::Retry {
            reason: r,
            after: a,
        } => {
            assert_eq!((r.as_str(), *a), (reason, after), "{outcome:?}")
        }
        other => panic!("expected Retry({reason}), got {other:?}"),
    }
}

#[track_caller]
pub fn assert_failed(outcome: &Outcome, reason: &str) {
    assert_eq!(
        outcome,
        &Outcome::Failed {
            reason: reason.into()
        }
    );
}

#[tokio::test]
async fn log_provider_reports_delivered_without_the_token() {
    let token = hex_token();
    let device = Device::new(Platform::Ios, token.clone());
    let m = message();
    let provider = LogProvider::new();
    assert_eq!(provider.name(), "log");
    let outcome = provider.send(&device, &m).await;
    assert_eq!(
        outcome,
        Outcome::Delivered {
            provider_id: Some(format!("log-{}", m.delivery_id))
        }
    );
    assert!(!format!("{device:?}").contains(&token));
}
