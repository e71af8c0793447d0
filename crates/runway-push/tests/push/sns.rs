//! SNS against moto (`AWS_ENDPOINT_URL`; `scripts/services` starts it).

use std::time::Duration;

use runway_push::{
    ApnsEnvironment, Device, Outcome, Platform, Priority, Provider, PushError, Sns, SnsConfig,
};
use runway_testkit::push::{
    SnsApplications, moto_sns_endpoint, sns_client, sns_platform_applications,
};

use crate::{assert_failed, fcm_token, hex_token, message};

async fn sns() -> (Sns, SnsApplications) {
    let apps = sns_platform_applications().await;
    let sns = Sns::new(SnsConfig {
        ios_application_arn: apps.ios.clone(),
        ios_sandbox_application_arn: Some(apps.ios_sandbox.clone()),
        android_application_arn: apps.android.clone(),
        client: sns_client().await,
    });
    (sns, apps)
}

fn device(platform: Platform, token: &str, arn: &str) -> Device {
    let mut d = Device::new(platform, token);
    d.sns_endpoint_arn = Some(arn.to_string());
    d
}

/// The one message published to `arn`, as JSON, with the platform value
/// parsed from its string.
async fn published(arn: &str, key: &str) -> (serde_json::Value, serde_json::Value) {
    let endpoint = moto_sns_endpoint(arn).await.expect("endpoint exists");
    assert_eq!(endpoint.messages.len(), 1, "{:?}", endpoint.messages);
    let body: serde_json::Value = serde_json::from_str(&endpoint.messages[0]).unwrap();
    let platform: serde_json::Value =
        serde_json::from_str(body[key].as_str().expect("platform value is a string")).unwrap();
    (body, platform)
}

#[tokio::test]
async fn registers_and_publishes_per_platform_json() {
    let (sns, apps) = sns().await;
    assert_eq!(sns.name(), "sns");

    let ios_token = hex_token();
    let ios_arn = sns
        .register(
            Platform::Ios,
            ApnsEnvironment::Production,
            &ios_token,
            None,
            "user-1",
        )
        .await
        .unwrap();
    assert!(ios_arn.contains(&apps.ios.rsplit('/').next().unwrap().to_string()));
    let endpoint = moto_sns_endpoint(&ios_arn).await.unwrap();
    assert_eq!(endpoint.token, ios_token);
    assert_eq!(endpoint.custom_user_data.as_deref(), Some("user-1"));

    let mut m = message();
    m.badge = Some(2);
    m.ttl = Some(Duration::from_secs(300));
    m.data.insert("room".into(), "7".into());
    let outcome = sns
        .send(&device(Platform::Ios, &ios_token, &ios_arn), &m)
        .await;
    assert!(
        matches!(
            &outcome,
            Outcome::Delivered {
                provider_id: Some(_)
            }
        ),
        "{outcome:?}"
    );
    let (body, aps) = published(&ios_arn, "APNS").await;
    assert_eq!(body["default"], "World");
    assert!(body.get("GCM").is_none() && body.get("APNS_SANDBOX").is_none());
    assert_eq!(
        aps,
        serde_json::json!({"aps": {"alert": {"title": "Hello", "body": "World"}, "badge": 2}, "room": "7"})
    );

    let android_token = fcm_token();
    let android_arn = sns
        .register(
            Platform::Android,
            ApnsEnvironment::Production,
            &android_token,
            None,
            "user-2",
        )
        .await
        .unwrap();
    let mut m = message();
    m.priority = Priority::Normal;
    m.data.insert("n".into(), 1.into());
    assert!(matches!(
        sns.send(&device(Platform::Android, &android_token, &android_arn), &m)
            .await,
        Outcome::Delivered { .. }
    ));
    let (_, gcm) = published(&android_arn, "GCM").await;
    assert_eq!(
        gcm,
        serde_json::json!({"fcmV1Message": {"message": {
            "notification": {"title": "Hello", "body": "World"},
            "data": {"n": "1"},
            "android": {"priority": "NORMAL",
                        "notification": {"tag": m.delivery_id.simple().to_string()}}
        }}})
    );

    let sandbox_token = hex_token();
    let sandbox_arn = sns
        .register(
            Platform::Ios,
            ApnsEnvironment::Sandbox,
            &sandbox_token,
            None,
            "",
        )
        .await
        .unwrap();
    assert!(sandbox_arn.contains("/APNS_SANDBOX/"), "{sandbox_arn}");
    let mut d = device(Platform::Ios, &sandbox_token, &sandbox_arn);
    d.environment = ApnsEnvironment::Sandbox;
    assert!(matches!(
        sns.send(&d, &message()).await,
        Outcome::Delivered { .. }
    ));
    let (body, _) = published(&sandbox_arn, "APNS_SANDBOX").await;
    assert!(body.get("APNS").is_none());
}

#[tokio::test]
async fn registration_is_idempotent_and_follows_token_changes() {
    let (sns, _) = sns().await;
    let token = fcm_token();
    let arn = sns
        .register(
            Platform::Android,
            ApnsEnvironment::Production,
            &token,
            None,
            "u",
        )
        .await
        .unwrap();
    let again = sns
        .register(
            Platform::Android,
            ApnsEnvironment::Production,
            &token,
            None,
            "u",
        )
        .await
        .unwrap();
    assert_eq!(arn, again);

    // The app reports a new token: the same endpoint is updated.
    let new_token = fcm_token();
    let updated = sns
        .register(
            Platform::Android,
            ApnsEnvironment::Production,
            &new_token,
            Some(&arn),
            "u",
        )
        .await
        .unwrap();
    assert_eq!(updated, arn);
    assert_eq!(moto_sns_endpoint(&arn).await.unwrap().token, new_token);

    // The endpoint was deleted behind our back: it is recreated.
    sns.unregister(&arn).await.unwrap();
    // (moto's data.json keeps deleted endpoints; ask the API.)
    let lookup = sns_client()
        .await
        .get_endpoint_attributes()
        .endpoint_arn(&arn)
        .send()
        .await;
    assert!(lookup.is_err(), "endpoint still exists");
    sns.unregister(&arn).await.unwrap(); // idempotent
    let recreated = sns
        .register(
            Platform::Android,
            ApnsEnvironment::Production,
            &new_token,
            Some(&arn),
            "u",
        )
        .await
        .unwrap();
    assert_ne!(recreated, arn);
    assert_eq!(
        moto_sns_endpoint(&recreated).await.unwrap().token,
        new_token
    );
}

#[tokio::test]
async fn disabled_endpoints_are_unregistered_until_registered_again() {
    let (sns, _) = sns().await;
    let token = hex_token();
    let arn = sns
        .register(
            Platform::Ios,
            ApnsEnvironment::Production,
            &token,
            None,
            "u",
        )
        .await
        .unwrap();
    // SNS disables an endpoint when APNs/FCM report the token dead.
    sns_client()
        .await
        .set_endpoint_attributes()
        .endpoint_arn(&arn)
        .attributes("Enabled", "false")
        .send()
        .await
        .unwrap();
    let outcome = sns
        .send(&device(Platform::Ios, &token, &arn), &message())
        .await;
    assert_eq!(
        outcome,
        Outcome::Unregistered {
            reason: "EndpointDisabled".into(),
            at: None
        }
    );
    // Registering the same token again (without the ARN) finds the disabled
    // endpoint through SNS' "already exists" answer and enables it.
    let again = sns
        .register(
            Platform::Ios,
            ApnsEnvironment::Production,
            &token,
            None,
            "u",
        )
        .await
        .unwrap();
    assert_eq!(again, arn);
    assert!(moto_sns_endpoint(&arn).await.unwrap().enabled);
    assert!(matches!(
        sns.send(&device(Platform::Ios, &token, &arn), &message())
            .await,
        Outcome::Delivered { .. }
    ));

    sns.unregister(&arn).await.unwrap();
    let gone = sns
        .send(&device(Platform::Ios, &token, &arn), &message())
        .await;
    // The endpoint is gone, not necessarily the token: retry (the caller
    // makes a new endpoint first).
    assert_eq!(
        gone,
        Outcome::Retry {
            reason: "NotFound".into(),
            after: None
        }
    );
}

#[tokio::test]
async fn web_devices_and_missing_arns_are_failures() {
    let (sns, _) = sns().await;
    let err = sns
        .register(
            Platform::Web,
            ApnsEnvironment::Production,
            "https://push.example.com/x",
            None,
            "",
        )
        .await
        .err()
        .unwrap();
    // Web tokens fail validation (no keys) before SNS is asked.
    assert!(
        matches!(
            err,
            PushError::InvalidToken(_) | PushError::NotConfigured { .. }
        ),
        "{err:?}"
    );
    assert_failed(
        &sns.send(&Device::new(Platform::Ios, hex_token()), &message())
            .await,
        "no_endpoint_arn",
    );
    assert_failed(
        &sns.send(
            &device(
                Platform::Web,
                "https://push.example.com/x",
                "arn:aws:sns:us-east-1:1:endpoint/x",
            ),
            &message(),
        )
        .await,
        "unsupported_platform",
    );
    let err = sns
        .register(Platform::Ios, ApnsEnvironment::Production, "zz", None, "")
        .await
        .err()
        .unwrap();
    assert!(matches!(err, PushError::InvalidToken(_)), "{err:?}");
    assert!(!err.to_string().contains("zz"));
}

#[tokio::test]
async fn sandbox_falls_back_to_the_production_application_and_missing_ones_are_typed_errors() {
    let apps = sns_platform_applications().await;
    let ios_app = apps.ios.rsplit('/').next().unwrap().to_string();
    let sns = Sns::new(SnsConfig {
        ios_application_arn: apps.ios,
        ios_sandbox_application_arn: None,
        android_application_arn: String::new(),
        client: sns_client().await,
    });
    // No sandbox application: sandbox devices use the production one.
    let arn = sns
        .register(
            Platform::Ios,
            ApnsEnvironment::Sandbox,
            &hex_token(),
            None,
            "",
        )
        .await
        .unwrap();
    assert!(arn.contains(&format!("/{ios_app}/")), "{arn}");
    let err = sns
        .register(
            Platform::Android,
            ApnsEnvironment::Production,
            &fcm_token(),
            None,
            "",
        )
        .await
        .err()
        .unwrap();
    assert!(matches!(err, PushError::NotConfigured { .. }), "{err:?}");
}
