//! Apple Push Notification service: HTTP/2 over TLS with token (JWT) auth.
//!
//! The client is hand-written on `hyper::client::conn::http2` and
//! tokio-rustls because no maintained APNs crate lets the endpoint be
//! configured (they hard-code Apple's two hosts), and tests must point it at
//! a local fake. What it does:
//! - one long-lived HTTP/2 connection per endpoint (or `connections` of them,
//!   used round-robin), multiplexing concurrent requests. hyper/h2 queue new
//!   streams while the peer's SETTINGS_MAX_CONCURRENT_STREAMS is reached,
//!   and until the server's first SETTINGS arrive only one stream is opened
//!   (APNs starts connections at 1 and raises the limit after the first
//!   valid token);
//! - reconnects transparently: a closed connection (GOAWAY, reset) is
//!   replaced, and a request that failed on a reused connection is sent
//!   once more on a fresh one;
//! - the provider JWT (ES256) is cached and re-signed when older than 50
//!   minutes (APNs rejects tokens older than an hour and answers
//!   TooManyProviderTokenUpdates to more than one refresh per 20 minutes),
//!   and at once after a 403 ExpiredProviderToken.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use p256::ecdsa::SigningKey;
use rustls::pki_types::ServerName;
use secrecy::{ExposeSecret, SecretString};

use crate::jwt::{p256_from_pem, sign_es256};
use crate::{
    ApnsEnvironment, Clock, Device, Message, Outcome, Platform, Priority, Provider, PushError,
    RetryAfter, reason_code, redact, tls, validate_token,
};

/// APNs rejects payloads larger than this (bytes).
pub const APNS_MAX_PAYLOAD: usize = 4096;
/// Re-sign the provider token when it is this old (must stay within 20..60 min).
const JWT_REFRESH_AFTER: Duration = Duration::from_secs(50 * 60);
const MAX_RESPONSE_BODY: usize = 16 * 1024;

/// Configuration of the APNs provider (token-based authentication).
#[derive(Clone)]
pub struct ApnsConfig {
    /// The .p8 signing key from Apple (PKCS#8 PEM, P-256).
    pub key_pem: SecretString,
    /// The key's id (the JWT `kid`).
    pub key_id: String,
    /// The developer team id (the JWT `iss`).
    pub team_id: String,
    /// Default `apns-topic` (the app's bundle id); `Device::app_id` overrides it.
    pub topic: String,
    pub production_url: String,
    pub sandbox_url: String,
    /// HTTP/2 connections per endpoint, used round-robin (at least 1).
    pub connections: usize,
    /// Limit for one request: connecting, waiting for a stream, the response.
    pub request_timeout: Duration,
    /// An extra root CA (PEM) to trust, for tests; production uses webpki roots.
    pub ca_pem: Option<String>,
}

impl ApnsConfig {
    pub const PRODUCTION_URL: &'static str = "https://api.push.apple.com";
    pub const SANDBOX_URL: &'static str = "https://api.sandbox.push.apple.com";

    /// A config with Apple's endpoints, one connection and a 30 s timeout.
    pub fn new(
        key_pem: SecretString,
        key_id: impl Into<String>,
        team_id: impl Into<String>,
        topic: impl Into<String>,
    ) -> ApnsConfig {
        ApnsConfig {
            key_pem,
            key_id: key_id.into(),
            team_id: team_id.into(),
            topic: topic.into(),
            production_url: Self::PRODUCTION_URL.into(),
            sandbox_url: Self::SANDBOX_URL.into(),
            connections: 1,
            request_timeout: Duration::from_secs(30),
            ca_pem: None,
        }
    }
}

impl std::fmt::Debug for ApnsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApnsConfig")
            .field("key_pem", &"[redacted]")
            .field("key_id", &self.key_id)
            .field("team_id", &self.team_id)
            .field("topic", &self.topic)
            .field("production_url", &self.production_url)
            .field("sandbox_url", &self.sandbox_url)
            .field("connections", &self.connections)
            .field("request_timeout", &self.request_timeout)
            .field("ca_pem", &self.ca_pem.as_ref().map(|_| "[set]"))
            .finish()
    }
}

/// The APNs provider. Cheap to clone (shared connections and token).
#[derive(Clone)]
pub struct Apns {
    inner: Arc<Inner>,
}

struct Inner {
    signing_key: SigningKey,
    key_id: String,
    team_id: String,
    topic: String,
    production: Endpoint,
    sandbox: Endpoint,
    tls: tokio_rustls::TlsConnector,
    request_timeout: Duration,
    jwt: std::sync::Mutex<Option<CachedJwt>>,
    jwt_generation: AtomicU64,
    connection_ids: AtomicU64,
    clock: Clock,
}

struct CachedJwt {
    token: Arc<str>,
    issued_at: u64,
    generation: u64,
}

struct Endpoint {
    /// `https://host:port` plus any base path, without a trailing slash.
    base: String,
    host: String,
    port: u16,
    slots: Vec<tokio::sync::Mutex<Option<Conn>>>,
    next: AtomicUsize,
}

#[derive(Clone)]
struct Conn {
    id: u64,
    sender: SendRequest<Full<Bytes>>,
}

/// A connection handed to one request.
struct Lease {
    slot: usize,
    conn: Conn,
    /// Opened for this request (a failure on it is not a stale connection).
    fresh: bool,
}

impl Endpoint {
    fn parse(raw: &str, connections: usize) -> Result<Endpoint, PushError> {
        let url = url::Url::parse(raw)
            .map_err(|_| PushError::InvalidConfig(format!("APNs URL {raw:?} is not a URL")))?;
        if url.scheme() != "https" {
            return Err(PushError::InvalidConfig(format!(
                "APNs URL {raw:?} must be https (HTTP/2 over TLS)"
            )));
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) => d.to_string(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => {
                return Err(PushError::InvalidConfig(format!(
                    "APNs URL {raw:?} has no host"
                )));
            }
        };
        let port = url.port_or_known_default().unwrap_or(443);
        let base = format!(
            "https://{}{}",
            url.host_str().unwrap_or_default(),
            url.port().map(|p| format!(":{p}")).unwrap_or_default()
        ) + url.path().trim_end_matches('/');
        Ok(Endpoint {
            base,
            host,
            port,
            slots: (0..connections.max(1))
                .map(|_| tokio::sync::Mutex::new(None))
                .collect(),
            next: AtomicUsize::new(0),
        })
    }
}

impl Apns {
    pub fn new(config: ApnsConfig) -> Result<Apns, PushError> {
        let signing_key = p256_from_pem(config.key_pem.expose_secret(), "APNs")?;
        if config.key_id.is_empty() || config.team_id.is_empty() {
            return Err(PushError::InvalidConfig(
                "APNs key_id and team_id are required".into(),
            ));
        }
        if config.topic.is_empty() {
            return Err(PushError::InvalidConfig(
                "APNs topic (bundle id) is required".into(),
            ));
        }
        let tls = tls::client_config(config.ca_pem.as_deref(), &[b"h2"])?;
        Ok(Apns {
            inner: Arc::new(Inner {
                signing_key,
                key_id: config.key_id,
                team_id: config.team_id,
                topic: config.topic,
                production: Endpoint::parse(&config.production_url, config.connections)?,
                sandbox: Endpoint::parse(&config.sandbox_url, config.connections)?,
                tls: tokio_rustls::TlsConnector::from(Arc::new(tls)),
                request_timeout: config.request_timeout,
                jwt: std::sync::Mutex::new(None),
                jwt_generation: AtomicU64::new(0),
                connection_ids: AtomicU64::new(0),
                clock: Clock::system(),
            }),
        })
    }

    /// Use another clock for token lifetimes (tests).
    pub fn with_clock(self, clock: Clock) -> Apns {
        let mut inner = Arc::try_unwrap(self.inner)
            .unwrap_or_else(|_| panic!("with_clock must be called before the provider is shared"));
        inner.clock = clock;
        Apns {
            inner: Arc::new(inner),
        }
    }
}

impl Inner {
    /// The cached provider token, re-signed when it is too old.
    fn jwt(&self) -> (Arc<str>, u64) {
        let mut cached = self.jwt.lock().unwrap_or_else(|e| e.into_inner());
        let now = self.clock.unix();
        if let Some(c) = cached.as_ref()
            && now >= c.issued_at
            && now - c.issued_at < JWT_REFRESH_AFTER.as_secs()
        {
            return (c.token.clone(), c.generation);
        }
        let token: Arc<str> = sign_es256(
            &serde_json::json!({"alg": "ES256", "kid": self.key_id}),
            &serde_json::json!({"iss": self.team_id, "iat": now}),
            &self.signing_key,
        )
        .into();
        let generation = self.jwt_generation.fetch_add(1, Ordering::Relaxed) + 1;
        *cached = Some(CachedJwt {
            token: token.clone(),
            issued_at: now,
            generation,
        });
        (token, generation)
    }

    /// Drop the token of `generation` (once, even if many requests saw it fail).
    fn expire_jwt(&self, generation: u64) {
        let mut cached = self.jwt.lock().unwrap_or_else(|e| e.into_inner());
        if cached.as_ref().is_some_and(|c| c.generation == generation) {
            *cached = None;
        }
    }

    async fn lease(&self, endpoint: &Endpoint) -> Result<Lease, &'static str> {
        let slot = endpoint.next.fetch_add(1, Ordering::Relaxed) % endpoint.slots.len();
        let mut guard = endpoint.slots[slot].lock().await;
        if let Some(conn) = guard.as_ref()
            && !conn.sender.is_closed()
        {
            return Ok(Lease {
                slot,
                conn: conn.clone(),
                fresh: false,
            });
        }
        // Connect while holding the slot, so concurrent senders wait for this
        // connection instead of each opening their own.
        let conn = tokio::time::timeout(self.request_timeout, self.connect(endpoint))
            .await
            .map_err(|_| "connect_timeout")??;
        *guard = Some(conn.clone());
        Ok(Lease {
            slot,
            conn,
            fresh: true,
        })
    }

    async fn connect(&self, endpoint: &Endpoint) -> Result<Conn, &'static str> {
        let tcp = tokio::net::TcpStream::connect((endpoint.host.as_str(), endpoint.port))
            .await
            .map_err(|_| "connection_error")?;
        let _ = tcp.set_nodelay(true);
        let server_name = ServerName::try_from(endpoint.host.clone()).map_err(|_| "tls_error")?;
        let tls = self
            .tls
            .connect(server_name, tcp)
            .await
            .map_err(|_| "tls_error")?;
        if tls.get_ref().1.alpn_protocol() != Some(b"h2") {
            return Err("alpn_not_h2");
        }
        let (sender, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
            .timer(TokioTimer::new())
            // Until the server's SETTINGS arrive, open one stream at a time.
            .initial_max_send_streams(1)
            .keep_alive_interval(Duration::from_secs(60))
            .keep_alive_timeout(Duration::from_secs(20))
            .keep_alive_while_idle(true)
            .handshake(TokioIo::new(tls))
            .await
            .map_err(|_| "connection_error")?;
        let id = self.connection_ids.fetch_add(1, Ordering::Relaxed) + 1;
        // The connection driver lives as long as the connection; it ends when
        // the server closes it or when every sender is dropped.
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(provider = "apns", connection = id, error = %e, "APNs connection ended");
            }
        });
        tracing::debug!(provider = "apns", connection = id, "APNs connection opened");
        Ok(Conn { id, sender })
    }

    async fn forget(&self, endpoint: &Endpoint, lease: &Lease) {
        let mut guard = endpoint.slots[lease.slot].lock().await;
        if guard.as_ref().is_some_and(|c| c.id == lease.conn.id) {
            *guard = None;
        }
    }

    async fn deliver(&self, device: &Device, message: &Message) -> Outcome {
        if device.platform != Platform::Ios {
            return Outcome::failed("unsupported_platform");
        }
        let token = device.token.expose_secret();
        if validate_token(Platform::Ios, token, None).is_err() {
            // Never sent (it would not even make a valid path); APNs answers
            // such tokens with 400 BadDeviceToken.
            return Outcome::unregistered("BadDeviceToken", None);
        }
        if message.collapse_key.as_ref().is_some_and(|k| k.len() > 64) {
            return Outcome::failed("BadCollapseId");
        }
        let payload = Bytes::from(payload(message));
        if payload.len() > APNS_MAX_PAYLOAD {
            return Outcome::failed("PayloadTooLarge");
        }
        let endpoint = match device.environment {
            ApnsEnvironment::Production => &self.production,
            ApnsEnvironment::Sandbox => &self.sandbox,
        };
        let topic = device.app_id.as_deref().unwrap_or(&self.topic);
        let uri = format!("{}/3/device/{token}", endpoint.base);

        for attempt in 0..2 {
            let lease = match self.lease(endpoint).await {
                Ok(lease) => lease,
                Err(reason) => return Outcome::retry(reason, None),
            };
            let (jwt, generation) = self.jwt();
            let request = match build_request(
                &uri,
                &jwt,
                topic,
                message,
                payload.clone(),
                self.clock.unix(),
            ) {
                Ok(r) => r,
                Err(reason) => return Outcome::failed(reason),
            };
            let mut sender = lease.conn.sender.clone();
            let exchange = async {
                let response = sender.send_request(request).await?;
                let (parts, body) = response.into_parts();
                let body = Limited::new(body, MAX_RESPONSE_BODY)
                    .collect()
                    .await
                    .map(|b| b.to_bytes())
                    .unwrap_or_default();
                Ok::<_, hyper::Error>((parts, body))
            };
            match tokio::time::timeout(self.request_timeout, exchange).await {
                Err(_) => return Outcome::retry("timeout", None),
                Ok(Err(error)) => {
                    self.forget(endpoint, &lease).await;
                    tracing::debug!(
                        provider = "apns",
                        delivery_id = %message.delivery_id,
                        connection = lease.conn.id,
                        error = %error,
                        "APNs request failed on the connection"
                    );
                    // A stale connection, or a stream the server refused
                    // unprocessed (REFUSED_STREAM, GOAWAY): send once more.
                    if attempt == 0 && (!lease.fresh || unprocessed(&error)) {
                        continue;
                    }
                    return Outcome::retry("connection_error", None);
                }
                Ok(Ok((parts, body))) => {
                    return self.map_response(
                        parts.status.as_u16(),
                        &parts.headers,
                        &body,
                        generation,
                    );
                }
            }
        }
        Outcome::retry("connection_error", None)
    }

    fn map_response(
        &self,
        status: u16,
        headers: &http::HeaderMap,
        body: &[u8],
        jwt_generation: u64,
    ) -> Outcome {
        let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        let raw = json.get("reason").and_then(|r| r.as_str());
        match status {
            200 => Outcome::Delivered {
                provider_id: headers
                    .get("apns-id")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string),
            },
            410 => {
                let at = match json.get("timestamp") {
                    Some(serde_json::Value::Number(n)) => n.as_u64(),
                    Some(serde_json::Value::String(s)) => s.parse().ok(),
                    _ => None,
                }
                .map(|ms| SystemTime::UNIX_EPOCH + Duration::from_millis(ms));
                Outcome::unregistered(reason_code(raw.or(Some("Unregistered")), status), at)
            }
            // DeviceTokenNotForTopic usually means our apns-topic is wrong
            // (configuration), not that the token died: it is a failure,
            // never a reason to delete devices.
            400 if raw == Some("BadDeviceToken") => {
                Outcome::unregistered(reason_code(raw, status), None)
            }
            403 if raw == Some("ExpiredProviderToken") => {
                self.expire_jwt(jwt_generation);
                Outcome::retry("ExpiredProviderToken", None)
            }
            429 | 500..=599 => Outcome::retry(
                reason_code(raw, status),
                RetryAfter::from_headers(headers, self.clock.now()),
            ),
            _ => Outcome::failed(reason_code(raw, status)),
        }
    }
}

/// Whether the server provably did not process the request (RFC 9113
/// §8.7: REFUSED_STREAM, or a graceful GOAWAY), so sending it again is safe.
fn unprocessed(error: &hyper::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(h2) = e.downcast_ref::<h2::Error>() {
            return h2.reason() == Some(h2::Reason::REFUSED_STREAM)
                || (h2.is_go_away() && h2.reason() == Some(h2::Reason::NO_ERROR));
        }
        source = e.source();
    }
    error.is_canceled()
}

fn build_request(
    uri: &str,
    jwt: &str,
    topic: &str,
    message: &Message,
    payload: Bytes,
    now_unix: u64,
) -> Result<http::Request<Full<Bytes>>, &'static str> {
    let background = message.is_background();
    let priority = if background || message.priority == Priority::Normal {
        "5"
    } else {
        "10"
    };
    let mut request = http::Request::post(uri)
        .header(http::header::AUTHORIZATION, format!("bearer {jwt}"))
        .header(
            "apns-push-type",
            if background { "background" } else { "alert" },
        )
        .header("apns-topic", topic)
        .header("apns-priority", priority)
        .header("apns-id", message.delivery_id.hyphenated().to_string())
        .header(http::header::CONTENT_TYPE, "application/json");
    if let Some(ttl) = message.ttl {
        let expiration = if ttl.is_zero() {
            0
        } else {
            now_unix + ttl.as_secs().max(1)
        };
        request = request.header("apns-expiration", expiration.to_string());
    }
    request = request.header("apns-collapse-id", message.replace_key());
    request.body(Full::new(payload)).map_err(|_| "BadHeader")
}

/// The APNs JSON payload: `aps` plus the custom data keys at the top level.
/// A background notification's `aps` holds only `content-available`.
pub(crate) fn aps_payload(message: &Message) -> serde_json::Value {
    let mut aps = serde_json::Map::new();
    if !message.is_background() {
        if message.title.is_some() || message.body.is_some() {
            let mut alert = serde_json::Map::new();
            if let Some(title) = &message.title {
                alert.insert("title".into(), title.clone().into());
            }
            if let Some(body) = &message.body {
                alert.insert("body".into(), body.clone().into());
            }
            aps.insert("alert".into(), alert.into());
        }
        if let Some(badge) = message.badge {
            aps.insert("badge".into(), badge.into());
        }
        if let Some(sound) = &message.sound {
            aps.insert("sound".into(), sound.clone().into());
        }
        if let Some(category) = &message.category {
            aps.insert("category".into(), category.clone().into());
        }
        if let Some(thread) = &message.thread_id {
            aps.insert("thread-id".into(), thread.clone().into());
        }
    }
    if message.content_available {
        aps.insert("content-available".into(), 1.into());
    }
    let mut root = serde_json::Map::new();
    root.insert("aps".into(), aps.into());
    for (key, value) in &message.data {
        if key != "aps" {
            root.insert(key.clone(), value.clone());
        }
    }
    serde_json::Value::Object(root)
}

fn payload(message: &Message) -> Vec<u8> {
    serde_json::to_vec(&aps_payload(message)).unwrap_or_default()
}

#[async_trait::async_trait]
impl Provider for Apns {
    fn name(&self) -> &'static str {
        "apns"
    }

    async fn send(&self, device: &Device, message: &Message) -> Outcome {
        let outcome = self.inner.deliver(device, message).await;
        if !matches!(outcome, Outcome::Delivered { .. }) {
            tracing::info!(
                provider = "apns",
                delivery_id = %message.delivery_id,
                token = %redact(device.token.expose_secret()),
                outcome = ?outcome,
                "APNs send not delivered"
            );
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> Message {
        Message::new(uuid::Uuid::nil())
    }

    #[test]
    fn alert_payload_has_aps_and_top_level_data() {
        let mut m = message();
        m.title = Some("Hi".into());
        m.body = Some("There".into());
        m.badge = Some(3);
        m.sound = Some("default".into());
        m.category = Some("MSG".into());
        m.thread_id = Some("t1".into());
        m.data.insert("room".into(), "42".into());
        m.data.insert("aps".into(), "ignored".into());
        let p = aps_payload(&m);
        assert_eq!(
            p,
            serde_json::json!({
                "aps": {"alert": {"title": "Hi", "body": "There"}, "badge": 3, "sound": "default",
                        "category": "MSG", "thread-id": "t1"},
                "room": "42"
            })
        );
    }

    #[test]
    fn background_payload_has_only_content_available() {
        let mut m = message();
        m.content_available = true;
        m.badge = Some(1);
        m.sound = Some("x".into());
        m.data.insert("sync".into(), true.into());
        assert_eq!(
            aps_payload(&m),
            serde_json::json!({"aps": {"content-available": 1}, "sync": true})
        );
        m.title = Some("t".into());
        let p = aps_payload(&m);
        assert_eq!(p["aps"]["content-available"], 1);
        assert_eq!(p["aps"]["alert"]["title"], "t");
    }

    #[test]
    fn headers_follow_the_message() {
        let mut m = message();
        m.title = Some("t".into());
        let r = build_request(
            "https://h/3/device/ab",
            "J",
            "com.x",
            &m,
            Bytes::new(),
            1000,
        )
        .unwrap();
        assert_eq!(r.headers()["apns-push-type"], "alert");
        assert_eq!(r.headers()["apns-priority"], "10");
        assert_eq!(r.headers()["authorization"], "bearer J");
        assert!(r.headers().get("apns-expiration").is_none());
        // No collapse key: the delivery id replaces a repeated copy.
        assert_eq!(
            r.headers()["apns-collapse-id"],
            m.delivery_id.simple().to_string().as_str()
        );

        m.priority = Priority::Normal;
        m.ttl = Some(Duration::from_secs(60));
        m.collapse_key = Some("c".into());
        let r = build_request(
            "https://h/3/device/ab",
            "J",
            "com.x",
            &m,
            Bytes::new(),
            1000,
        )
        .unwrap();
        assert_eq!(r.headers()["apns-priority"], "5");
        assert_eq!(r.headers()["apns-expiration"], "1060");
        assert_eq!(r.headers()["apns-collapse-id"], "c");

        m.ttl = Some(Duration::ZERO);
        m.priority = Priority::High;
        m.title = None;
        m.content_available = true;
        let r = build_request(
            "https://h/3/device/ab",
            "J",
            "com.x",
            &m,
            Bytes::new(),
            1000,
        )
        .unwrap();
        assert_eq!(r.headers()["apns-expiration"], "0");
        assert_eq!(r.headers()["apns-push-type"], "background");
        assert_eq!(r.headers()["apns-priority"], "5");
    }

    #[test]
    fn endpoint_urls() {
        let e = Endpoint::parse("https://127.0.0.1:8443", 2).unwrap();
        assert_eq!(e.base, "https://127.0.0.1:8443");
        assert_eq!(
            (e.host.as_str(), e.port, e.slots.len()),
            ("127.0.0.1", 8443, 2)
        );
        let e = Endpoint::parse("https://api.push.apple.com/", 0).unwrap();
        assert_eq!(e.base, "https://api.push.apple.com");
        assert_eq!((e.port, e.slots.len()), (443, 1));
        assert!(Endpoint::parse("http://api.push.apple.com", 1).is_err());
        assert!(Endpoint::parse("nope", 1).is_err());
    }
}
