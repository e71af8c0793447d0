//! Web Push: RFC 8030 delivery, RFC 8291 message encryption (aes128gcm,
//! RFC 8188), RFC 8292 VAPID authentication.
//!
//! The encryption is hand-written on RustCrypto (p256 ECDH, hkdf, aes-gcm):
//! the Web Push crates either need OpenSSL or lag behind RFC 8291, and the
//! whole scheme is a page of code. The test suite decrypts with an
//! independent implementation (runway-testkit) and checks the RFC 8291
//! Appendix A vector.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aes_gcm::aead::{Aead, KeyInit, OsRng};
use aes_gcm::{Aes128Gcm, Nonce};
use bytes::Bytes;
use hkdf::Hkdf;
use http_body_util::Full;
use p256::ecdsa::SigningKey;
use p256::elliptic_curve::rand_core::RngCore;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use crate::http::HttpClient;
use crate::jwt::{b64url, p256_from_pem, sign_es256};
use crate::token::{decode_b64_any, parse_endpoint};
use crate::{
    Clock, Device, Message, Outcome, Platform, Priority, Provider, PushError, RetryAfter, redact,
    validate_token,
};

/// Record size written in the aes128gcm header (one record per message).
const RECORD_SIZE: u32 = 4096;
/// Header: salt (16) + rs (4) + idlen (1) + key id (65).
const HEADER_LEN: usize = 86;
/// Push services need only accept 4096-byte bodies (RFC 8291 §4): minus the
/// header, the padding delimiter and the AEAD tag that leaves 3993 bytes.
pub const WEBPUSH_MAX_PLAINTEXT: usize = 4096 - HEADER_LEN - 1 - 16;
/// TTL when the message has none: four weeks.
const DEFAULT_TTL: Duration = Duration::from_secs(28 * 24 * 3600);
/// VAPID tokens are valid for 12 hours and reused until 1 hour is left.
const VAPID_LIFETIME: u64 = 12 * 3600;
const VAPID_REUSE_MARGIN: u64 = 3600;
const VAPID_CACHE_MAX: usize = 1024;

/// Configuration of the Web Push provider.
#[derive(Clone)]
pub struct WebPushConfig {
    /// The VAPID private key: PEM (PKCS#8 or SEC1), or base64url of the raw
    /// 32-byte scalar (what [`generate_vapid_key`] returns).
    pub vapid_private_key_pem_or_b64: SecretString,
    /// Contact for the push service: `mailto:` or `https:` URI.
    pub subject: String,
    pub request_timeout: Duration,
    /// An extra root CA (PEM) to trust, for tests.
    pub ca_pem: Option<String>,
}

impl WebPushConfig {
    pub fn new(vapid_private_key_pem_or_b64: SecretString, subject: impl Into<String>) -> Self {
        WebPushConfig {
            vapid_private_key_pem_or_b64,
            subject: subject.into(),
            request_timeout: Duration::from_secs(30),
            ca_pem: None,
        }
    }
}

impl std::fmt::Debug for WebPushConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebPushConfig")
            .field("vapid_private_key_pem_or_b64", &"[redacted]")
            .field("subject", &self.subject)
            .field("request_timeout", &self.request_timeout)
            .field("ca_pem", &self.ca_pem.as_ref().map(|_| "[set]"))
            .finish()
    }
}

/// A new VAPID key pair: (private key as base64url of the 32-byte scalar,
/// public key as base64url of the 65-byte uncompressed point, i.e. the
/// browser's `applicationServerKey`).
pub fn generate_vapid_key() -> (String, String) {
    let secret = p256::SecretKey::random(&mut OsRng);
    let public = secret.public_key().to_encoded_point(false);
    (b64url(secret.to_bytes()), b64url(public.as_bytes()))
}

/// The Web Push provider. Cheap to clone.
#[derive(Clone)]
pub struct WebPush {
    inner: Arc<Inner>,
}

struct Inner {
    key: SigningKey,
    public_b64: String,
    subject: String,
    http: HttpClient,
    vapid: std::sync::Mutex<HashMap<String, (Arc<str>, u64)>>,
    clock: Clock,
}

fn parse_vapid_key(raw: &str) -> Result<SigningKey, PushError> {
    let raw = raw.trim();
    if raw.starts_with("-----BEGIN") {
        return p256_from_pem(raw, "VAPID");
    }
    let invalid = PushError::InvalidKey {
        what: "VAPID",
        reason: "not a PEM key or the base64url of a 32-byte P-256 private key",
    };
    let bytes = decode_b64_any(raw).ok_or(invalid)?;
    let secret = if bytes.len() == 32 {
        p256::SecretKey::from_slice(&bytes).ok()
    } else {
        use p256::pkcs8::DecodePrivateKey;
        p256::SecretKey::from_pkcs8_der(&bytes)
            .ok()
            .or_else(|| p256::SecretKey::from_sec1_der(&bytes).ok())
    };
    secret.map(SigningKey::from).ok_or(PushError::InvalidKey {
        what: "VAPID",
        reason: "not a valid P-256 private key",
    })
}

impl WebPush {
    pub fn new(config: WebPushConfig) -> Result<WebPush, PushError> {
        let key = parse_vapid_key(config.vapid_private_key_pem_or_b64.expose_secret())?;
        let subject = config.subject.trim().to_string();
        if !(subject.starts_with("mailto:") || subject.starts_with("https:")) {
            return Err(PushError::InvalidConfig(
                "the VAPID subject must be a mailto: or https: URI".into(),
            ));
        }
        let public_b64 = b64url(key.verifying_key().to_encoded_point(false).as_bytes());
        Ok(WebPush {
            inner: Arc::new(Inner {
                key,
                public_b64,
                subject,
                http: HttpClient::new(config.ca_pem.as_deref(), config.request_timeout)?,
                vapid: std::sync::Mutex::new(HashMap::new()),
                clock: Clock::system(),
            }),
        })
    }

    /// Use another clock for VAPID token lifetimes (tests).
    pub fn with_clock(self, clock: Clock) -> WebPush {
        let mut inner = Arc::try_unwrap(self.inner)
            .unwrap_or_else(|_| panic!("with_clock must be called before the provider is shared"));
        inner.clock = clock;
        WebPush {
            inner: Arc::new(inner),
        }
    }

    /// The VAPID public key (base64url, uncompressed point): the browser's
    /// `applicationServerKey`.
    pub fn vapid_public_key(&self) -> String {
        self.inner.public_b64.clone()
    }
}

impl Inner {
    /// `Authorization: vapid t=<jwt>, k=<public key>`, with the JWT cached
    /// per push-service origin.
    fn authorization(&self, origin: &str) -> String {
        let now = self.clock.unix();
        let mut cache = self.vapid.lock().unwrap_or_else(|e| e.into_inner());
        let jwt = match cache.get(origin) {
            Some((jwt, exp)) if *exp > now + VAPID_REUSE_MARGIN => jwt.clone(),
            _ => {
                let exp = now + VAPID_LIFETIME;
                let jwt: Arc<str> = sign_es256(
                    &serde_json::json!({"typ": "JWT", "alg": "ES256"}),
                    &serde_json::json!({"aud": origin, "exp": exp, "sub": self.subject}),
                    &self.key,
                )
                .into();
                if cache.len() >= VAPID_CACHE_MAX {
                    cache.clear();
                }
                cache.insert(origin.to_string(), (jwt.clone(), exp));
                jwt
            }
        };
        format!("vapid t={jwt}, k={}", self.public_b64)
    }

    async fn deliver(&self, device: &Device, message: &Message) -> Outcome {
        if device.platform != Platform::Web {
            return Outcome::failed("unsupported_platform");
        }
        let endpoint = device.token.expose_secret();
        let (Some(keys), Some(url)) = (device.web.as_ref(), parse_endpoint(endpoint)) else {
            return Outcome::failed("invalid_subscription");
        };
        if validate_token(Platform::Web, endpoint, Some(keys)).is_err() {
            return Outcome::failed("invalid_subscription");
        }
        let (Some(p256dh), Some(auth)) = (decode_b64_any(&keys.p256dh), decode_b64_any(&keys.auth))
        else {
            return Outcome::failed("invalid_subscription");
        };
        let Ok(ua_public) = p256::PublicKey::from_sec1_bytes(&p256dh) else {
            return Outcome::failed("invalid_subscription");
        };
        let plaintext = payload(message);
        if plaintext.len() > WEBPUSH_MAX_PLAINTEXT {
            return Outcome::failed("PayloadTooLarge");
        }
        let mut salt = [0u8; 16];
        OsRng.fill_bytes(&mut salt);
        let ephemeral = p256::SecretKey::random(&mut OsRng);
        let body = encrypt(&plaintext, &ua_public, &auth, &ephemeral, &salt);

        let origin = url.origin().ascii_serialization();
        let ttl = message.ttl.unwrap_or(DEFAULT_TTL).as_secs();
        let mut request = http::Request::post(endpoint)
            .header(http::header::AUTHORIZATION, self.authorization(&origin))
            .header("TTL", ttl.to_string())
            .header(
                "Urgency",
                match message.priority {
                    Priority::High => "high",
                    Priority::Normal => "normal",
                },
            )
            .header(http::header::CONTENT_ENCODING, "aes128gcm")
            .header(http::header::CONTENT_TYPE, "application/octet-stream");
        let topic = message.replace_key();
        if valid_topic(&topic) {
            request = request.header("Topic", topic);
        }
        let Ok(request) = request.body(Full::new(Bytes::from(body))) else {
            return Outcome::failed("invalid_subscription");
        };
        let response = match self.http.request(request).await {
            Ok(r) => r,
            Err(e) => return Outcome::retry(e.reason(), None),
        };
        let status = response.status;
        match status {
            200..=202 => Outcome::Delivered {
                provider_id: response
                    .headers
                    .get(http::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string),
            },
            404 | 410 => Outcome::unregistered(format!("http_{status}"), None),
            413 => Outcome::failed("PayloadTooLarge"),
            429 | 500..=599 => Outcome::retry(
                format!("http_{status}"),
                RetryAfter::from_headers(&response.headers, self.clock.now()),
            ),
            _ => Outcome::failed(format!("http_{status}")),
        }
    }
}

/// RFC 8030 §5.4: a topic is at most 32 characters of the base64url alphabet.
fn valid_topic(topic: &str) -> bool {
    !topic.is_empty()
        && topic.len() <= 32
        && topic
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The JSON the service worker receives.
pub(crate) fn payload(message: &Message) -> Vec<u8> {
    let mut out = serde_json::Map::new();
    if let Some(title) = &message.title {
        out.insert("title".into(), title.clone().into());
    }
    if let Some(body) = &message.body {
        out.insert("body".into(), body.clone().into());
    }
    out.insert("data".into(), message.data.clone().into());
    if let Some(badge) = message.badge {
        out.insert("badge".into(), badge.into());
    }
    out.insert("tag".into(), message.replace_key().into());
    out.insert("id".into(), message.delivery_id.to_string().into());
    serde_json::to_vec(&out).unwrap_or_default()
}

/// RFC 8291 encryption of one message into a single aes128gcm record
/// (padding: only the 0x02 delimiter). `as_secret` is the ephemeral
/// application-server key; `salt` must be random per message.
pub(crate) fn encrypt(
    plaintext: &[u8],
    ua_public: &p256::PublicKey,
    auth_secret: &[u8],
    as_secret: &p256::SecretKey,
    salt: &[u8; 16],
) -> Vec<u8> {
    let ua_public_bytes = ua_public.to_encoded_point(false);
    let as_public_bytes = as_secret.public_key().to_encoded_point(false);
    let shared = p256::ecdh::diffie_hellman(as_secret.to_nonzero_scalar(), ua_public.as_affine());

    // IKM = HKDF(salt = auth_secret, ikm = ecdh_secret,
    //            info = "WebPush: info" 0x00 ua_public as_public, L = 32)
    let mut key_info = Vec::with_capacity(14 + 65 + 65);
    key_info.extend_from_slice(b"WebPush: info\0");
    key_info.extend_from_slice(ua_public_bytes.as_bytes());
    key_info.extend_from_slice(as_public_bytes.as_bytes());
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(auth_secret), &shared.raw_secret_bytes()[..])
        .expand(&key_info, &mut ikm)
        .expect("32 bytes is a valid HKDF-SHA256 length");

    // RFC 8188: CEK and NONCE from PRK = HKDF-Extract(salt, IKM).
    let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
    let mut cek = [0u8; 16];
    let mut nonce = [0u8; 12];
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek)
        .expect("16 bytes is a valid HKDF-SHA256 length");
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce)
        .expect("12 bytes is a valid HKDF-SHA256 length");

    let mut record = Vec::with_capacity(plaintext.len() + 1);
    record.extend_from_slice(plaintext);
    record.push(0x02); // delimiter of the last (only) record
    let ciphertext = Aes128Gcm::new(&cek.into())
        .encrypt(&Nonce::from(nonce), record.as_slice())
        .expect("AES-GCM encryption of a bounded record cannot fail");

    let mut out = Vec::with_capacity(HEADER_LEN + ciphertext.len());
    out.extend_from_slice(salt);
    out.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    out.push(65);
    out.extend_from_slice(as_public_bytes.as_bytes());
    out.extend_from_slice(&ciphertext);
    out
}

#[async_trait::async_trait]
impl Provider for WebPush {
    fn name(&self) -> &'static str {
        "webpush"
    }

    async fn send(&self, device: &Device, message: &Message) -> Outcome {
        let outcome = self.inner.deliver(device, message).await;
        if !matches!(outcome, Outcome::Delivered { .. }) {
            tracing::info!(
                provider = "webpush",
                delivery_id = %message.delivery_id,
                endpoint = %redact(device.token.expose_secret()),
                outcome = ?outcome,
                "Web Push send not delivered"
            );
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Vec<u8> {
        decode_b64_any(s).unwrap()
    }

    // RFC 8291 Appendix A.
    const PLAINTEXT: &str = "When I grow up, I want to be a watermelon";
    const AS_PRIVATE: &str = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
    const AS_PUBLIC: &str =
        "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8";
    const UA_PUBLIC: &str =
        "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";
    const SALT: &str = "DGv6ra1nlYgDCS1FRnbzlw";
    const BODY: &str = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN";

    #[test]
    fn rfc8291_appendix_a_vector() {
        let as_secret = p256::SecretKey::from_slice(&b(AS_PRIVATE)).unwrap();
        assert_eq!(
            as_secret.public_key().to_encoded_point(false).as_bytes(),
            b(AS_PUBLIC).as_slice()
        );
        let ua_public = p256::PublicKey::from_sec1_bytes(&b(UA_PUBLIC)).unwrap();
        let salt: [u8; 16] = b(SALT).try_into().unwrap();
        let body = encrypt(
            PLAINTEXT.as_bytes(),
            &ua_public,
            &b(AUTH),
            &as_secret,
            &salt,
        );
        assert_eq!(b64url(&body), BODY);
    }

    #[test]
    fn vapid_keys_round_trip() {
        let (private, public) = generate_vapid_key();
        let key = parse_vapid_key(&private).unwrap();
        assert_eq!(
            b64url(key.verifying_key().to_encoded_point(false).as_bytes()),
            public
        );
        assert_eq!(b(&public).len(), 65);
        // PEM forms are accepted too.
        use p256::pkcs8::EncodePrivateKey;
        let secret = p256::SecretKey::from_slice(&b(&private)).unwrap();
        let pem = secret.to_pkcs8_pem(Default::default()).unwrap();
        assert!(parse_vapid_key(&pem).is_ok());
        let sec1 = secret.to_sec1_pem(Default::default()).unwrap();
        assert!(parse_vapid_key(&sec1).is_ok());
        let err = parse_vapid_key("c2VjcmV0").unwrap_err().to_string();
        assert!(!err.contains("c2VjcmV0"), "{err}");
    }

    #[test]
    fn topics() {
        assert!(valid_topic("room-42_x"));
        assert!(valid_topic(&"a".repeat(32)));
        assert!(!valid_topic(&"a".repeat(33)));
        assert!(!valid_topic("room 42"));
        assert!(!valid_topic("a/b"));
        assert!(!valid_topic(""));
    }

    #[test]
    fn payload_shape() {
        let mut m = Message::new(uuid::Uuid::nil());
        m.title = Some("T".into());
        m.badge = Some(1);
        m.collapse_key = Some("c".into());
        m.data.insert("k".into(), 1.into());
        let v: serde_json::Value = serde_json::from_slice(&payload(&m)).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"title": "T", "data": {"k": 1}, "badge": 1, "tag": "c",
                               "id": "00000000-0000-0000-0000-000000000000"})
        );
    }
}
