//! Push notifications, server side: which provider serves which platform,
//! what a notification says (and how it is rendered for one device), quiet
//! hours, and server API keys.
//!
//! The providers themselves (APNs, FCM, SNS, Web Push, log) live in
//! `runway-push`; the durable fan-out and delivery are the
//! `notification.fanout` and `push.deliver` jobs (`jobs/`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use base64::Engine as _;
use runway_core::Config;
use runway_push::Provider;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

/// The providers of this process, one per platform.
pub struct Push {
    ios: Arc<dyn Provider>,
    android: Arc<dyn Provider>,
    web: Arc<dyn Provider>,
    /// SNS mobile push, when iOS or Android is routed through it: devices
    /// then need a platform endpoint, made at registration.
    pub sns: Option<Arc<runway_push::Sns>>,
    /// The VAPID application server key browsers subscribe with (base64url
    /// P-256 point), when Web Push is configured.
    pub vapid_public_key: Option<String>,
}

impl Push {
    pub async fn from_config(config: &Config) -> anyhow::Result<Push> {
        let p = &config.push;
        let timeout = Duration::from_secs(p.request_timeout_secs);
        let ca_pem = match &p.ca_file {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .with_context(|| format!("push.ca_file: reading {}", path.display()))?,
            ),
            None => None,
        };
        let log: Arc<dyn Provider> = Arc::new(runway_push::LogProvider);
        let needs_sns = p.provider_for("ios") == "sns" || p.provider_for("android") == "sns";
        let sns = if needs_sns {
            let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
            Some(Arc::new(runway_push::Sns::new(runway_push::SnsConfig {
                ios_application_arn: p.sns_ios_application_arn.clone(),
                ios_sandbox_application_arn: non_empty(&p.sns_ios_sandbox_application_arn),
                android_application_arn: p.sns_android_application_arn.clone(),
                client: aws_sdk_sns::Client::new(&aws),
            })))
        } else {
            None
        };
        let ios: Arc<dyn Provider> = match p.provider_for("ios") {
            "apns" => Arc::new(
                runway_push::Apns::new(runway_push::ApnsConfig {
                    key_pem: p
                        .apns_key
                        .as_ref()
                        .map(|k| k.expose().to_string())
                        .unwrap_or_default()
                        .into(),
                    key_id: p.apns_key_id.clone(),
                    team_id: p.apns_team_id.clone(),
                    topic: p.apns_topic.clone(),
                    production_url: p.apns_url.clone(),
                    sandbox_url: p.apns_sandbox_url.clone(),
                    connections: p.apns_connections,
                    request_timeout: timeout,
                    ca_pem: ca_pem.clone(),
                })
                .context("push.apns_key")?,
            ),
            "sns" => sns.clone().context("SNS provider")?,
            _ => log.clone(),
        };
        let android: Arc<dyn Provider> = match p.provider_for("android") {
            "fcm" => Arc::new(
                runway_push::Fcm::new(runway_push::FcmConfig {
                    service_account_json: p
                        .fcm_service_account
                        .as_ref()
                        .map(|k| k.expose().to_string())
                        .unwrap_or_default()
                        .into(),
                    base_url: p.fcm_url.clone(),
                    token_url: non_empty(&p.fcm_token_url),
                    request_timeout: timeout,
                    ca_pem: ca_pem.clone(),
                })
                .context("push.fcm_service_account")?,
            ),
            "sns" => sns.clone().context("SNS provider")?,
            _ => log.clone(),
        };
        let mut vapid_public_key = None;
        let web: Arc<dyn Provider> = match p.provider_for("web") {
            "webpush" => {
                let wp = runway_push::WebPush::new(runway_push::WebPushConfig {
                    vapid_private_key_pem_or_b64: p
                        .vapid_private_key
                        .as_ref()
                        .map(|k| k.expose().to_string())
                        .unwrap_or_default()
                        .into(),
                    subject: p.vapid_subject.clone(),
                    request_timeout: timeout,
                    ca_pem: ca_pem.clone(),
                })
                .context("push.vapid_private_key")?;
                vapid_public_key = Some(wp.vapid_public_key());
                Arc::new(wp)
            }
            _ => log.clone(),
        };
        tracing::info!(
            ios = ios.name(),
            android = android.name(),
            web = web.name(),
            "push providers ready"
        );
        Ok(Push {
            ios,
            android,
            web,
            sns,
            vapid_public_key,
        })
    }

    pub fn provider(&self, platform: &str) -> &Arc<dyn Provider> {
        match platform {
            "ios" => &self.ios,
            "android" => &self.android,
            _ => &self.web,
        }
    }

    /// Whether devices of `platform` are reached through SNS.
    pub fn uses_sns(&self, platform: &str) -> bool {
        self.provider(platform).name() == "sns"
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// The uniqueness key of a device token: hex SHA-256 of `platform:token`.
pub fn token_hash(platform: &str, token: &str) -> String {
    hex::encode(Sha256::digest(format!("{platform}:{token}")))
}

// ------------------------------------------------------------ content

/// Per-locale text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocalizedText {
    pub title: Option<String>,
    pub body: Option<String>,
}

/// `HH:MM`–`HH:MM` in each device's own time zone; sends that fall inside
/// wait for its end. The window may wrap midnight (`22:00`–`07:00`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    #[schema(example = "22:00")]
    pub start: String,
    #[schema(example = "07:00")]
    pub end: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PriorityName {
    #[default]
    High,
    Normal,
}

/// What a notification says; stored with it and rendered per device.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Content {
    pub title: Option<String>,
    pub body: Option<String>,
    pub data: serde_json::Map<String, serde_json::Value>,
    pub badge: Option<u32>,
    pub sound: Option<String>,
    pub category: Option<String>,
    pub thread_id: Option<String>,
    pub collapse_key: Option<String>,
    pub ttl: Option<u64>,
    pub priority: PriorityName,
    pub content_available: bool,
    /// Locale (`pt-BR`, `pt`) -> overrides of title and body.
    pub localized: BTreeMap<String, LocalizedText>,
    pub quiet_hours: Option<QuietHours>,
}

impl Content {
    /// The message for one device: its locale's text (exact tag, then
    /// language), everything else as sent. Without a collapse key, the
    /// providers use the delivery id to replace copies (see
    /// `runway_push::Message::replace_key`).
    pub fn render(&self, delivery_id: Uuid, locale: Option<&str>) -> runway_push::Message {
        let mut title = self.title.clone();
        let mut body = self.body.clone();
        if let Some(text) = locale.and_then(|l| self.localized_for(l)) {
            if text.title.is_some() {
                title = text.title.clone();
            }
            if text.body.is_some() {
                body = text.body.clone();
            }
        }
        runway_push::Message {
            delivery_id,
            title,
            body,
            data: self.data.clone(),
            badge: self.badge,
            sound: self.sound.clone(),
            category: self.category.clone(),
            thread_id: self.thread_id.clone(),
            collapse_key: self.collapse_key.clone(),
            ttl: self.ttl.map(Duration::from_secs),
            priority: match self.priority {
                PriorityName::High => runway_push::Priority::High,
                PriorityName::Normal => runway_push::Priority::Normal,
            },
            content_available: self.content_available,
        }
    }

    fn localized_for(&self, locale: &str) -> Option<&LocalizedText> {
        let wanted = locale.replace('_', "-").to_ascii_lowercase();
        let language = wanted.split('-').next().unwrap_or_default().to_string();
        let mut by_language = None;
        for (tag, text) in &self.localized {
            let tag = tag.replace('_', "-").to_ascii_lowercase();
            if tag == wanted {
                return Some(text);
            }
            if tag == language {
                by_language = Some(text);
            }
        }
        by_language
    }
}

/// `HH:MM` -> minutes after midnight.
pub fn parse_hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// When a send at `now_ms` to a device in `timezone` may go out: `None`
/// if now, else the end of the quiet window (Unix ms). Devices without a
/// (known) time zone are never held.
pub fn quiet_until(quiet: &QuietHours, timezone: Option<&str>, now_ms: i64) -> Option<i64> {
    let tz = jiff::tz::TimeZone::get(timezone?).ok()?;
    let (start, end) = (parse_hhmm(&quiet.start)?, parse_hhmm(&quiet.end)?);
    if start == end {
        return None;
    }
    let now = jiff::Timestamp::from_millisecond(now_ms).ok()?;
    let local = now.to_zoned_datetime(tz.clone());
    let minute = u32::try_from(local.hour()).ok()? * 60 + u32::try_from(local.minute()).ok()?;
    let inside = if start < end {
        minute >= start && minute < end
    } else {
        minute >= start || minute < end
    };
    if !inside {
        return None;
    }
    // The end of the window: today at `end`, or tomorrow when it wraps.
    let mut day = local.date();
    if minute >= end {
        day = day.tomorrow().ok()?;
    }
    let end_time = jiff::civil::time((end / 60) as i8, (end % 60) as i8, 0, 0);
    let end_local = day.to_datetime(end_time).to_zoned_datetime(tz).ok()?;
    Some(end_local.timestamp().as_millisecond())
}

// ------------------------------------------------------------ API keys

/// Scopes a server API key may carry.
pub const SCOPES: &[&str] = &["notifications:send"];

/// A new API key: the secret (shown once) and the hash stored.
pub fn generate_api_key() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::Rng::fill(&mut rand::rng(), &mut bytes);
    let key = format!(
        "rwk_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let hash = api_key_hash(&key);
    (key, hash)
}

/// Keys are 256 random bits, so a plain SHA-256 is enough to store them
/// (no password-style stretching needed).
pub fn api_key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> i64 {
        s.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn quiet_hours_wrap_midnight_in_the_device_zone() {
        let q = QuietHours {
            start: "22:00".into(),
            end: "07:00".into(),
        };
        // 23:30 in Paris (UTC+1 in January) -> held until 07:00 Paris next day.
        assert_eq!(
            quiet_until(&q, Some("Europe/Paris"), at("2026-01-10T22:30:00Z")),
            Some(at("2026-01-11T06:00:00Z"))
        );
        // 03:00 Paris -> held until 07:00 the same day.
        assert_eq!(
            quiet_until(&q, Some("Europe/Paris"), at("2026-01-10T02:00:00Z")),
            Some(at("2026-01-10T06:00:00Z"))
        );
        // 12:00 Paris -> now.
        assert_eq!(
            quiet_until(&q, Some("Europe/Paris"), at("2026-01-10T11:00:00Z")),
            None
        );
        // The same instant is daytime in Tokyo's evening? 22:30 UTC = 07:30 Tokyo: not quiet.
        assert_eq!(
            quiet_until(&q, Some("Asia/Tokyo"), at("2026-01-10T22:30:00Z")),
            None
        );
        // No or unknown zone: never held.
        assert_eq!(quiet_until(&q, None, at("2026-01-10T22:30:00Z")), None);
        assert_eq!(
            quiet_until(&q, Some("Mars/Olympus"), at("2026-01-10T22:30:00Z")),
            None
        );
    }

    #[test]
    fn quiet_hours_within_one_day() {
        let q = QuietHours {
            start: "12:00".into(),
            end: "14:00".into(),
        };
        assert_eq!(
            quiet_until(&q, Some("UTC"), at("2026-03-01T13:15:00Z")),
            Some(at("2026-03-01T14:00:00Z"))
        );
        assert_eq!(
            quiet_until(&q, Some("UTC"), at("2026-03-01T14:00:00Z")),
            None
        );
    }

    #[test]
    fn locale_overrides_pick_exact_tag_then_language() {
        let mut c = Content {
            title: Some("Hello".into()),
            body: Some("Body".into()),
            ..Content::default()
        };
        c.localized.insert(
            "pt".into(),
            LocalizedText {
                title: Some("Olá".into()),
                body: None,
            },
        );
        c.localized.insert(
            "pt-BR".into(),
            LocalizedText {
                title: Some("Oi".into()),
                body: Some("Corpo".into()),
            },
        );
        let d = Uuid::now_v7();
        let m = c.render(d, Some("pt_BR"));
        assert_eq!(
            (m.title.as_deref(), m.body.as_deref()),
            (Some("Oi"), Some("Corpo"))
        );
        let m = c.render(d, Some("pt-PT"));
        assert_eq!(
            (m.title.as_deref(), m.body.as_deref()),
            (Some("Olá"), Some("Body"))
        );
        let m = c.render(d, Some("de"));
        assert_eq!(m.title.as_deref(), Some("Hello"));
        assert_eq!(m.collapse_key, None);
    }

    #[test]
    fn api_keys_are_random_and_hashed() {
        let (a, ha) = generate_api_key();
        let (b, _) = generate_api_key();
        assert_ne!(a, b);
        assert!(a.starts_with("rwk_") && a.len() > 40);
        assert_eq!(ha, api_key_hash(&a));
        assert!(!ha.contains(&a[4..]));
    }
}
