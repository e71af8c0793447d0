//! Push providers for runway: APNs, FCM HTTP v1, SNS mobile push, Web Push
//! and a log provider for local development, plus the device-token rules.
//!
//! This crate is the pure provider layer. It has no database and no HTTP
//! server: the caller (the worker's fan-out job) resolves the locale, renders
//! one [`Message`] per device and maps the [`Outcome`] to its own state
//! (delete the token, schedule a retry, mark the delivery failed).
//!
//! # Error and secrecy policy
//! - A send never returns an error: every result is an [`Outcome`]. Its
//!   `reason` is a short, stable code (an APNs/FCM reason such as
//!   `BadDeviceToken` or `UNREGISTERED`, or one of ours such as `timeout`,
//!   `connection_error`, `http_500`). Provider-supplied reasons are only
//!   passed through when they look like a code (letters, digits, `_`), so a
//!   reason can never carry a token, a key or a JWT.
//! - Device tokens are secrets. [`Device`]'s `Debug` shows [`redact`]ed
//!   tokens only, and log lines use [`redact`] too.
//! - Building a provider from bad configuration returns a typed
//!   [`PushError`] whose text names the problem, never the secret.
//!
//! # TLS
//! Both `ring` and `aws-lc-rs` are compiled into the runway binary, so this
//! crate never relies on rustls' process-level default provider: every
//! `ClientConfig` is built with an explicit aws-lc-rs provider (see `tls`).

mod apns;
mod clock;
mod error;
mod fcm;
pub mod http;
mod jwt;
mod log;
mod retry;
#[cfg(feature = "sns")]
mod sns;
mod tls;
mod token;
mod webpush;

use std::time::{Duration, SystemTime};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

pub use apns::{APNS_MAX_PAYLOAD, Apns, ApnsConfig};
pub use clock::Clock;
pub use error::PushError;
pub use fcm::{Fcm, FcmConfig};
pub use log::LogProvider;
pub use retry::{RetryAfter, backoff};
#[cfg(feature = "sns")]
pub use sns::{Sns, SnsConfig};
pub use token::{TokenError, redact, validate_token};
pub use webpush::{WEBPUSH_MAX_PLAINTEXT, WebPush, WebPushConfig, generate_vapid_key};

/// The kind of device a token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Ios,
    Android,
    Web,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Ios => "ios",
            Platform::Android => "android",
            Platform::Web => "web",
        }
    }
}

impl std::str::FromStr for Platform {
    type Err = TokenError;

    /// `ios`, `android` or `web`.
    fn from_str(s: &str) -> Result<Platform, TokenError> {
        match s {
            "ios" => Ok(Platform::Ios),
            "android" => Ok(Platform::Android),
            "web" => Ok(Platform::Web),
            _ => Err(TokenError::InvalidToken(
                "platform must be ios, android or web",
            )),
        }
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which APNs environment an iOS token was issued for (development builds
/// get sandbox tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApnsEnvironment {
    #[default]
    Production,
    Sandbox,
}

/// The keys of a browser's push subscription (`PushSubscription.getKey`),
/// base64url with or without padding.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebSubscriptionKeys {
    pub p256dh: String,
    pub auth: String,
}

impl std::fmt::Debug for WebSubscriptionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // p256dh is a public key; auth is the subscription's shared secret.
        f.debug_struct("WebSubscriptionKeys")
            .field("p256dh", &self.p256dh)
            .field("auth", &"[redacted]")
            .finish()
    }
}

/// What a provider needs to address one device.
#[derive(Clone)]
pub struct Device {
    pub platform: Platform,
    /// APNs hex token | FCM registration token | Web Push endpoint URL.
    pub token: SecretString,
    /// APNs topic (bundle id) override.
    pub app_id: Option<String>,
    pub environment: ApnsEnvironment,
    pub web: Option<WebSubscriptionKeys>,
    pub sns_endpoint_arn: Option<String>,
}

impl Device {
    /// A device with only a platform and a token (production environment,
    /// no overrides).
    pub fn new(platform: Platform, token: impl Into<String>) -> Device {
        Device {
            platform,
            token: SecretString::from(token.into()),
            app_id: None,
            environment: ApnsEnvironment::Production,
            web: None,
            sns_endpoint_arn: None,
        }
    }
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("platform", &self.platform)
            .field("token", &redact(self.token.expose_secret()))
            .field("app_id", &self.app_id)
            .field("environment", &self.environment)
            .field("web", &self.web)
            .field("sns_endpoint_arn", &self.sns_endpoint_arn)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    #[default]
    High,
    Normal,
}

/// One rendered notification for one device (locale already resolved by the
/// caller).
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Stable per (notification, device): used as `apns-id` and in log lines.
    pub delivery_id: uuid::Uuid,
    pub title: Option<String>,
    pub body: Option<String>,
    pub data: serde_json::Map<String, serde_json::Value>,
    pub badge: Option<u32>,
    pub sound: Option<String>,
    pub category: Option<String>,
    pub thread_id: Option<String>,
    pub collapse_key: Option<String>,
    pub ttl: Option<Duration>,
    pub priority: Priority,
    /// Silent / data-only when true and there is no title or body.
    pub content_available: bool,
}

impl Message {
    /// A message with the given delivery id and nothing else set.
    pub fn new(delivery_id: uuid::Uuid) -> Message {
        Message {
            delivery_id,
            title: None,
            body: None,
            data: serde_json::Map::new(),
            badge: None,
            sound: None,
            category: None,
            thread_id: None,
            collapse_key: None,
            ttl: None,
            priority: Priority::High,
            content_available: false,
        }
    }

    /// True for a background (silent, data-only) notification.
    /// Silent: nothing to show. Data-only messages (no title, body, badge
    /// or sound) are background pushes too, as Apple requires priority 5
    /// and `content-available` for anything that does not alert.
    pub fn is_background(&self) -> bool {
        self.title.is_none()
            && self.body.is_none()
            && (self.content_available || (self.badge.is_none() && self.sound.is_none()))
    }

    /// The key under which a newer copy replaces an older one on the
    /// device (`apns-collapse-id`, Web Push `Topic`, the notification tag):
    /// the caller's `collapse_key`, else the delivery id, so that a retry
    /// whose first try arrived after all shows once. Not used for FCM's
    /// `android.collapse_key`, where every distinct key takes one of only
    /// four slots an offline device keeps: that is set only when given.
    pub fn replace_key(&self) -> String {
        self.collapse_key
            .clone()
            .unwrap_or_else(|| self.delivery_id.simple().to_string())
    }
}

/// What happened to one send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered {
        provider_id: Option<String>,
    },
    /// Transient (5xx, 429, timeouts, connection errors); `after` comes from
    /// `Retry-After` when the provider sent one.
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    /// Permanent: never retried.
    Failed {
        reason: String,
    },
    /// The token is dead: delete it. `at` is APNs' 410 timestamp.
    Unregistered {
        reason: String,
        at: Option<SystemTime>,
    },
}

impl Outcome {
    pub(crate) fn retry(reason: impl Into<String>, after: Option<Duration>) -> Outcome {
        Outcome::Retry {
            reason: reason.into(),
            after,
        }
    }

    pub(crate) fn failed(reason: impl Into<String>) -> Outcome {
        Outcome::Failed {
            reason: reason.into(),
        }
    }

    pub(crate) fn unregistered(reason: impl Into<String>, at: Option<SystemTime>) -> Outcome {
        Outcome::Unregistered {
            reason: reason.into(),
            at,
        }
    }

    /// The reason code, if any (None for `Delivered`).
    pub fn reason(&self) -> Option<&str> {
        match self {
            Outcome::Delivered { .. } => None,
            Outcome::Retry { reason, .. }
            | Outcome::Failed { reason }
            | Outcome::Unregistered { reason, .. } => Some(reason),
        }
    }
}

/// A push provider. Implementations are cheap to share (`Arc<dyn Provider>`)
/// and safe to call concurrently.
#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    /// "apns" | "fcm" | "sns" | "webpush" | "log"
    fn name(&self) -> &'static str;
    async fn send(&self, device: &Device, message: &Message) -> Outcome;
}

/// A provider-supplied reason, kept only if it looks like a code
/// (`BadDeviceToken`, `UNREGISTERED`): never free text that could echo input.
pub(crate) fn reason_code(raw: Option<&str>, status: u16) -> String {
    match raw {
        Some(r)
            if !r.is_empty()
                && r.len() <= 64
                && r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
        {
            r.to_string()
        }
        _ => format!("http_{status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_codes_only_pass_codes_through() {
        assert_eq!(reason_code(Some("BadDeviceToken"), 400), "BadDeviceToken");
        assert_eq!(reason_code(Some("UNREGISTERED"), 404), "UNREGISTERED");
        assert_eq!(reason_code(Some("token abc is bad"), 400), "http_400");
        assert_eq!(reason_code(Some(""), 500), "http_500");
        assert_eq!(reason_code(None, 503), "http_503");
        assert_eq!(reason_code(Some(&"A".repeat(65)), 400), "http_400");
    }

    #[test]
    fn device_debug_redacts_token_and_auth() {
        let token = "a".repeat(40) + &"f".repeat(24);
        let mut device = Device::new(Platform::Ios, token.clone());
        device.web = Some(WebSubscriptionKeys {
            p256dh: "BPUBLIC".into(),
            auth: "sekrit-auth-value".into(),
        });
        let debug = format!("{device:?}");
        assert!(!debug.contains(&token), "{debug}");
        assert!(!debug.contains("sekrit-auth-value"), "{debug}");
        assert!(debug.contains("(64)"), "{debug}");
    }

    #[test]
    fn platform_serde_is_lowercase() {
        assert_eq!(serde_json::to_string(&Platform::Ios).unwrap(), "\"ios\"");
        assert_eq!(
            serde_json::from_str::<Platform>("\"android\"").unwrap(),
            Platform::Android
        );
        assert_eq!(
            serde_json::to_string(&ApnsEnvironment::Sandbox).unwrap(),
            "\"sandbox\""
        );
        assert!(serde_json::from_str::<Platform>("\"Ios\"").is_err());
        assert_eq!("web".parse::<Platform>().unwrap(), Platform::Web);
        assert_eq!(
            "Web".parse::<Platform>().unwrap_err().code(),
            "invalid_token"
        );
    }
}
