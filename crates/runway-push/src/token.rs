//! Device-token rules: what a well-formed token looks like per platform, and
//! how tokens appear in logs.

use std::net::IpAddr;

use crate::{Platform, WebSubscriptionKeys};

/// Longest Web Push endpoint URL accepted.
const MAX_ENDPOINT_LEN: usize = 2048;

/// Why a token was rejected. The text names the rule, never the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("invalid device token: {0}")]
    InvalidToken(&'static str),
    #[error("invalid web push subscription: {0}")]
    InvalidSubscription(&'static str),
}

impl TokenError {
    /// A stable code for API errors: `invalid_token` or `invalid_subscription`.
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::InvalidToken(_) => "invalid_token",
            TokenError::InvalidSubscription(_) => "invalid_subscription",
        }
    }

    /// The rule that was broken, as a human-readable phrase.
    pub fn detail(&self) -> &'static str {
        match self {
            TokenError::InvalidToken(d) | TokenError::InvalidSubscription(d) => d,
        }
    }
}

/// Check a device token (and, for Web Push, the subscription keys).
///
/// - iOS (APNs): 64 to 200 hexadecimal characters.
/// - Android (FCM): 100 to 4096 characters of `[A-Za-z0-9_:\-.]`.
/// - Web: an `https` endpoint URL (`http` only for loopback hosts, for local
///   development), with `p256dh` decoding to a 65-byte uncompressed P-256
///   point and `auth` to 16 bytes (base64url with or without padding; the
///   standard alphabet is accepted too).
pub fn validate_token(
    platform: Platform,
    token: &str,
    web: Option<&WebSubscriptionKeys>,
) -> Result<(), TokenError> {
    match platform {
        Platform::Ios => {
            if !(64..=200).contains(&token.len()) {
                return Err(TokenError::InvalidToken(
                    "APNs tokens are 64 to 200 hexadecimal characters",
                ));
            }
            if !token.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(TokenError::InvalidToken(
                    "APNs tokens contain only hexadecimal characters",
                ));
            }
            Ok(())
        }
        Platform::Android => {
            if !(100..=4096).contains(&token.len()) {
                return Err(TokenError::InvalidToken(
                    "FCM registration tokens are 100 to 4096 characters",
                ));
            }
            if !token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b':' | b'-' | b'.'))
            {
                return Err(TokenError::InvalidToken(
                    "FCM registration tokens contain only letters, digits and _ : - .",
                ));
            }
            Ok(())
        }
        Platform::Web => {
            validate_endpoint(token)?;
            let keys = web.ok_or(TokenError::InvalidSubscription(
                "a web push subscription needs its p256dh and auth keys",
            ))?;
            let p256dh = decode_b64_any(&keys.p256dh)
                .ok_or(TokenError::InvalidSubscription("p256dh is not base64url"))?;
            if p256dh.len() != 65 || p256dh[0] != 0x04 {
                return Err(TokenError::InvalidSubscription(
                    "p256dh is not a 65-byte uncompressed P-256 point",
                ));
            }
            if p256::PublicKey::from_sec1_bytes(&p256dh).is_err() {
                return Err(TokenError::InvalidSubscription(
                    "p256dh is not a point on P-256",
                ));
            }
            let auth = decode_b64_any(&keys.auth)
                .ok_or(TokenError::InvalidSubscription("auth is not base64url"))?;
            if auth.len() != 16 {
                return Err(TokenError::InvalidSubscription("auth is not 16 bytes"));
            }
            Ok(())
        }
    }
}

fn validate_endpoint(endpoint: &str) -> Result<url::Url, TokenError> {
    if endpoint.len() > MAX_ENDPOINT_LEN {
        return Err(TokenError::InvalidSubscription(
            "the endpoint URL is longer than 2048 characters",
        ));
    }
    let url = url::Url::parse(endpoint)
        .map_err(|_| TokenError::InvalidSubscription("the endpoint is not a URL"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(TokenError::InvalidSubscription(
            "the endpoint URL must not contain credentials",
        ));
    }
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => {
            return Err(TokenError::InvalidSubscription(
                "the endpoint URL has no host",
            ));
        }
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(TokenError::InvalidSubscription(
            "the endpoint must be https (http only for loopback hosts)",
        )),
        _ => Err(TokenError::InvalidSubscription(
            "the endpoint must be an https URL",
        )),
    }
}

/// The endpoint as a URL, if it passes the Web Push endpoint rules.
pub(crate) fn parse_endpoint(endpoint: &str) -> Option<url::Url> {
    validate_endpoint(endpoint).ok()
}

/// Decode base64url with or without padding (standard alphabet accepted).
pub(crate) fn decode_b64_any(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let trimmed = s.trim().trim_end_matches('=');
    let normalized: String = trimmed
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(normalized)
        .ok()
}

/// A token as it may appear in logs: its first 6 characters, an ellipsis and
/// its length (`a1b2c3…(64)`). Endpoint URLs show only scheme and host
/// (`https://fcm.googleapis.com/…(180)`): the path is the secret part. Short
/// tokens show fewer characters so most of a token is never printed.
pub fn redact(token: &str) -> String {
    let len = token.chars().count();
    if let Ok(url) = url::Url::parse(token)
        && matches!(url.scheme(), "http" | "https")
        && let Some(host) = url.host_str()
    {
        return format!("{}://{}/…({len})", url.scheme(), host);
    }
    let shown = 6.min(len / 4);
    let prefix: String = token.chars().take(shown).collect();
    format!("{prefix}…({len})")
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn keys() -> WebSubscriptionKeys {
        // RFC 8291 Appendix A user agent keys.
        WebSubscriptionKeys {
            p256dh: "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
                .into(),
            auth: "BTBZMqHH6r4Tts7J_aSIgg".into(),
        }
    }

    #[test]
    fn token_table() {
        let hex64 = "0123456789abcdef".repeat(4);
        let fcm = format!("{}:APA91b{}", "d".repeat(22), "x_-.".repeat(40));
        let k = keys();
        let padded = WebSubscriptionKeys {
            p256dh: format!("{}=", k.p256dh),
            auth: format!("{}==", k.auth),
        };
        let std_alphabet = WebSubscriptionKeys {
            p256dh: base64::engine::general_purpose::STANDARD
                .encode(decode_b64_any(&k.p256dh).unwrap()),
            auth: k.auth.clone(),
        };
        let short_auth = WebSubscriptionKeys {
            auth: "BTBZMqHH6r4Tts7J".into(),
            ..k.clone()
        };
        let compressed = WebSubscriptionKeys {
            p256dh: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode({
                let mut b = decode_b64_any(&k.p256dh).unwrap()[..33].to_vec();
                b[0] = 0x02;
                b
            }),
            ..k.clone()
        };
        let off_curve = WebSubscriptionKeys {
            p256dh: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode({
                let mut b = decode_b64_any(&k.p256dh).unwrap();
                b[64] ^= 1;
                b
            }),
            ..k.clone()
        };
        let cases: Vec<(Platform, String, Option<&WebSubscriptionKeys>, Option<&str>)> = vec![
            (Platform::Ios, hex64.clone(), None, None),
            (Platform::Ios, hex64.to_uppercase(), None, None),
            (Platform::Ios, "ab".repeat(100), None, None),
            (
                Platform::Ios,
                "ab".repeat(100) + "a",
                None,
                Some("invalid_token"),
            ),
            (
                Platform::Ios,
                hex64[..63].to_string(),
                None,
                Some("invalid_token"),
            ),
            (
                Platform::Ios,
                format!("{}g", &hex64[..63]),
                None,
                Some("invalid_token"),
            ),
            (Platform::Ios, String::new(), None, Some("invalid_token")),
            (Platform::Android, fcm.clone(), None, None),
            (
                Platform::Android,
                "a".repeat(99),
                None,
                Some("invalid_token"),
            ),
            (Platform::Android, "a".repeat(100), None, None),
            (Platform::Android, "a".repeat(4096), None, None),
            (
                Platform::Android,
                "a".repeat(4097),
                None,
                Some("invalid_token"),
            ),
            (
                Platform::Android,
                format!("{fcm} "),
                None,
                Some("invalid_token"),
            ),
            (
                Platform::Android,
                format!("{fcm}/"),
                None,
                Some("invalid_token"),
            ),
            (
                Platform::Web,
                "https://push.example.com/send/abc".into(),
                Some(&k),
                None,
            ),
            (
                Platform::Web,
                "https://push.example.com/send/abc".into(),
                Some(&padded),
                None,
            ),
            (
                Platform::Web,
                "https://push.example.com/send/abc".into(),
                Some(&std_alphabet),
                None,
            ),
            (
                Platform::Web,
                "http://127.0.0.1:8080/push/1".into(),
                Some(&k),
                None,
            ),
            (
                Platform::Web,
                "http://localhost:8080/push/1".into(),
                Some(&k),
                None,
            ),
            (
                Platform::Web,
                "http://[::1]:8080/push/1".into(),
                Some(&k),
                None,
            ),
            (
                Platform::Web,
                "http://push.example.com/x".into(),
                Some(&k),
                Some("invalid_subscription"),
            ),
            (
                Platform::Web,
                "ftp://push.example.com/x".into(),
                Some(&k),
                Some("invalid_subscription"),
            ),
            (
                Platform::Web,
                "not a url".into(),
                Some(&k),
                Some("invalid_subscription"),
            ),
            (
                Platform::Web,
                "https://u:p@push.example.com/x".into(),
                Some(&k),
                Some("invalid_subscription"),
            ),
            (
                Platform::Web,
                format!("https://push.example.com/{}", "a".repeat(2048)),
                Some(&k),
                Some("invalid_subscription"),
            ),
            (
                Platform::Web,
                "https://push.example.com/x".into(),
                None,
                Some("invalid_subscription"),
            ),
            (
                Platform::Web,
                "https://push.example.com/x".into(),
                Some(&short_auth),
                Some("invalid_subscription"),
            ),
            (
                Platform::Web,
                "https://push.example.com/x".into(),
                Some(&compressed),
                Some("invalid_subscription"),
            ),
            (
                Platform::Web,
                "https://push.example.com/x".into(),
                Some(&off_curve),
                Some("invalid_subscription"),
            ),
        ];
        for (platform, token, web, want) in cases {
            let got = validate_token(platform, &token, web);
            assert_eq!(
                got.as_ref().err().map(|e| e.code()),
                want,
                "{platform} token of length {} -> {got:?}",
                token.len()
            );
            if let Err(e) = got {
                let text = e.to_string();
                assert!(
                    token.len() < 8 || !text.contains(&token),
                    "error text contains the token: {text}"
                );
            }
        }
    }

    #[test]
    fn redact_hides_tokens() {
        let hex64 = "0123456789abcdef".repeat(4);
        assert_eq!(redact(&hex64), "012345…(64)");
        assert_eq!(redact("abcd"), "a…(4)");
        assert_eq!(redact(""), "…(0)");
        assert_eq!(
            redact("https://fcm.googleapis.com/fcm/send/secret-part"),
            "https://fcm.googleapis.com/…(47)"
        );
        assert!(!redact("https://x.example/secret").contains("secret"));
        // Multi-byte characters are not split.
        assert_eq!(redact("ééééééééé"), "éé…(9)");
    }
}
