//! Firebase Cloud Messaging, HTTP v1 API, authenticated with a service
//! account (OAuth2 JWT-bearer grant, RS256 assertion).
//!
//! - The access token is cached until shortly before `expires_in` and
//!   refreshed by one caller at a time (single flight); a 401 drops it.
//! - An UNREGISTERED answer is confirmed before the token is reported dead:
//!   the same message is sent again with `validate_only: true`, and only a
//!   second UNREGISTERED gives [`Outcome::Unregistered`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use secrecy::{ExposeSecret, SecretString};

use crate::http::{HttpClient, HttpResponse};
use crate::jwt::{rsa_from_pem, sign_rs256};
use crate::{
    Clock, Device, Message, Outcome, Platform, Priority, Provider, PushError, RetryAfter,
    reason_code, redact, validate_token,
};

const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Lifetime asked for in the assertion (Google's maximum).
const ASSERTION_LIFETIME: u64 = 3600;

/// Configuration of the FCM HTTP v1 provider.
#[derive(Clone)]
pub struct FcmConfig {
    /// The service account key file (JSON) as downloaded from Google Cloud.
    pub service_account_json: SecretString,
    /// Default `https://fcm.googleapis.com`.
    pub base_url: String,
    /// Overrides the JSON's `token_uri` (where the assertion is posted, and
    /// its `aud`).
    pub token_url: Option<String>,
    pub request_timeout: Duration,
    /// An extra root CA (PEM) to trust, for tests.
    pub ca_pem: Option<String>,
}

impl FcmConfig {
    pub const BASE_URL: &'static str = "https://fcm.googleapis.com";

    pub fn new(service_account_json: SecretString) -> FcmConfig {
        FcmConfig {
            service_account_json,
            base_url: Self::BASE_URL.into(),
            token_url: None,
            request_timeout: Duration::from_secs(30),
            ca_pem: None,
        }
    }
}

impl std::fmt::Debug for FcmConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FcmConfig")
            .field("service_account_json", &"[redacted]")
            .field("base_url", &self.base_url)
            .field("token_url", &self.token_url)
            .field("request_timeout", &self.request_timeout)
            .field("ca_pem", &self.ca_pem.as_ref().map(|_| "[set]"))
            .finish()
    }
}

#[derive(serde::Deserialize)]
struct ServiceAccount {
    project_id: Option<String>,
    private_key_id: Option<String>,
    private_key: Option<String>,
    client_email: Option<String>,
    token_uri: Option<String>,
}

/// The FCM provider. Cheap to clone (shared token cache and connection pool).
#[derive(Clone)]
pub struct Fcm {
    inner: Arc<Inner>,
}

struct Inner {
    project_id: String,
    client_email: String,
    private_key_id: Option<String>,
    key: rsa::RsaPrivateKey,
    token_uri: String,
    send_url: String,
    http: HttpClient,
    token: tokio::sync::Mutex<Option<AccessToken>>,
    generation: AtomicU64,
    token_requests: AtomicU64,
    clock: Clock,
}

struct AccessToken {
    value: SecretString,
    refresh_at: u64,
    generation: u64,
}

/// What one messages:send answered.
enum Answer {
    Sent(Option<String>),
    Unregistered,
    Other(Outcome),
}

impl Fcm {
    pub fn new(config: FcmConfig) -> Result<Fcm, PushError> {
        let account: ServiceAccount =
            serde_json::from_str(config.service_account_json.expose_secret()).map_err(|e| {
                // serde_json's message can quote input; keep only the position.
                PushError::InvalidServiceAccount(format!(
                    "not a service account JSON object (line {}, column {})",
                    e.line(),
                    e.column()
                ))
            })?;
        let required = |v: Option<String>, name: &str| {
            v.filter(|s| !s.is_empty())
                .ok_or_else(|| PushError::InvalidServiceAccount(format!("missing {name}")))
        };
        let project_id = required(account.project_id, "project_id")?;
        let client_email = required(account.client_email, "client_email")?;
        let key = rsa_from_pem(&required(account.private_key, "private_key")?)?;
        let token_uri = match config.token_url {
            Some(url) => url,
            None => required(account.token_uri, "token_uri")?,
        };
        for (name, url) in [("token_uri", &token_uri), ("base_url", &config.base_url)] {
            let parsed = url::Url::parse(url)
                .map_err(|_| PushError::InvalidConfig(format!("FCM {name} is not a URL")))?;
            if !matches!(parsed.scheme(), "https" | "http") {
                return Err(PushError::InvalidConfig(format!(
                    "FCM {name} must be an http(s) URL"
                )));
            }
        }
        if project_id
            .bytes()
            .any(|b| !(b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b':'))
        {
            return Err(PushError::InvalidServiceAccount(
                "project_id has unexpected characters".into(),
            ));
        }
        let send_url = format!(
            "{}/v1/projects/{project_id}/messages:send",
            config.base_url.trim_end_matches('/')
        );
        Ok(Fcm {
            inner: Arc::new(Inner {
                project_id,
                client_email,
                private_key_id: account.private_key_id,
                key,
                token_uri,
                send_url,
                http: HttpClient::new(config.ca_pem.as_deref(), config.request_timeout)?,
                token: tokio::sync::Mutex::new(None),
                generation: AtomicU64::new(0),
                token_requests: AtomicU64::new(0),
                clock: Clock::system(),
            }),
        })
    }

    /// Use another clock for token lifetimes (tests).
    pub fn with_clock(self, clock: Clock) -> Fcm {
        let mut inner = Arc::try_unwrap(self.inner)
            .unwrap_or_else(|_| panic!("with_clock must be called before the provider is shared"));
        inner.clock = clock;
        Fcm {
            inner: Arc::new(inner),
        }
    }

    /// The Firebase project messages are sent to.
    pub fn project_id(&self) -> &str {
        &self.inner.project_id
    }

    /// How many access tokens this provider has requested (for metrics).
    pub fn token_requests(&self) -> u64 {
        self.inner.token_requests.load(Ordering::Relaxed)
    }
}

impl Inner {
    /// A valid access token, fetched by one caller while the others wait.
    async fn access_token(&self) -> Result<(SecretString, u64), Outcome> {
        let mut cached = self.token.lock().await;
        let now = self.clock.unix();
        if let Some(t) = cached.as_ref()
            && now < t.refresh_at
        {
            return Ok((t.value.clone(), t.generation));
        }
        let fresh = self.fetch_token(now).await?;
        let out = (fresh.value.clone(), fresh.generation);
        *cached = Some(fresh);
        Ok(out)
    }

    async fn expire_token(&self, generation: u64) {
        let mut cached = self.token.lock().await;
        if cached.as_ref().is_some_and(|t| t.generation == generation) {
            *cached = None;
        }
    }

    async fn fetch_token(&self, now: u64) -> Result<AccessToken, Outcome> {
        self.token_requests.fetch_add(1, Ordering::Relaxed);
        let mut header = serde_json::json!({"alg": "RS256", "typ": "JWT"});
        if let Some(kid) = &self.private_key_id {
            header["kid"] = kid.clone().into();
        }
        let claims = serde_json::json!({
            "iss": self.client_email,
            "scope": SCOPE,
            "aud": self.token_uri,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME,
        });
        let assertion = sign_rs256(&header, &claims, &self.key)
            .map_err(|_| Outcome::failed("oauth_signing_failed"))?;
        // The grant type is the only character-escaping needed: a JWT is
        // base64url segments and dots.
        let form = format!(
            "grant_type={}&assertion={assertion}",
            GRANT_TYPE.replace(':', "%3A")
        );
        let request = http::Request::post(&self.token_uri)
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(Full::new(Bytes::from(form)))
            .map_err(|_| Outcome::failed("oauth_bad_request"))?;
        let response = self
            .http
            .request(request)
            .await
            .map_err(|e| Outcome::retry(format!("oauth_{}", e.reason()), None))?;
        let json: serde_json::Value = serde_json::from_slice(&response.body).unwrap_or_default();
        if response.status == 200 {
            let value = json
                .get("access_token")
                .and_then(|v| v.as_str())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| Outcome::retry("oauth_bad_response", None))?;
            let expires_in = json
                .get("expires_in")
                .and_then(|v| v.as_u64())
                .unwrap_or(3600);
            let margin = (expires_in / 10).min(300);
            return Ok(AccessToken {
                value: SecretString::from(value.to_string()),
                refresh_at: now + expires_in.saturating_sub(margin),
                generation: self.generation.fetch_add(1, Ordering::Relaxed) + 1,
            });
        }
        let code = json.get("error").and_then(|e| e.as_str());
        let reason = format!("oauth_{}", reason_code(code, response.status));
        if response.status == 429 || response.status >= 500 {
            Err(Outcome::retry(
                reason,
                RetryAfter::from_headers(&response.headers, self.clock.now()),
            ))
        } else {
            Err(Outcome::failed(reason))
        }
    }

    /// POST one messages:send body and classify the answer.
    async fn post(&self, body: &serde_json::Value) -> Answer {
        let (token, generation) = match self.access_token().await {
            Ok(t) => t,
            Err(outcome) => return Answer::Other(outcome),
        };
        let request = match http::Request::post(&self.send_url)
            .header(
                http::header::AUTHORIZATION,
                format!("Bearer {}", token.expose_secret()),
            )
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body.to_string())))
        {
            Ok(r) => r,
            Err(_) => return Answer::Other(Outcome::failed("bad_request")),
        };
        match self.http.request(request).await {
            Err(e) => Answer::Other(Outcome::retry(e.reason(), None)),
            Ok(response) => self.classify(response, generation).await,
        }
    }

    async fn classify(&self, response: HttpResponse, generation: u64) -> Answer {
        let json: serde_json::Value = serde_json::from_slice(&response.body).unwrap_or_default();
        if response.status == 200 {
            return Answer::Sent(
                json.get("name")
                    .and_then(|n| n.as_str())
                    .map(str::to_string),
            );
        }
        let code = error_code(&json);
        let status = response.status;
        // Only FCM's own UNREGISTERED counts: a 404 without it (a wrong
        // base URL or project, a proxy) must never get tokens deleted.
        if code.as_deref() == Some("UNREGISTERED") {
            return Answer::Unregistered;
        }
        let reason = reason_code(code.as_deref(), status);
        Answer::Other(match status {
            401 => {
                self.expire_token(generation).await;
                Outcome::retry(reason, None)
            }
            429 | 500..=599 => Outcome::retry(
                reason,
                RetryAfter::from_headers(&response.headers, self.clock.now()),
            ),
            _ => Outcome::failed(reason),
        })
    }

    async fn deliver(&self, device: &Device, message: &Message) -> Outcome {
        if device.platform != Platform::Android {
            return Outcome::failed("unsupported_platform");
        }
        let token = device.token.expose_secret();
        if validate_token(Platform::Android, token, None).is_err() {
            return Outcome::unregistered("invalid_token", None);
        }
        let mut fcm_message = fcm_message(message);
        fcm_message.insert("token".into(), token.into());
        let mut body = serde_json::json!({ "message": fcm_message });
        match self.post(&body).await {
            Answer::Sent(name) => Outcome::Delivered { provider_id: name },
            Answer::Other(outcome) => outcome,
            Answer::Unregistered => {
                // Confirm before anyone deletes the token: a dry run of the
                // same message must say UNREGISTERED too.
                body["validate_only"] = true.into();
                match self.post(&body).await {
                    Answer::Unregistered => Outcome::unregistered("UNREGISTERED", None),
                    _ => Outcome::retry("unregistered_unconfirmed", None),
                }
            }
        }
    }
}

/// The FCM error code: `error.details[].errorCode` (FcmError), else
/// `error.status`.
fn error_code(json: &serde_json::Value) -> Option<String> {
    let error = json.get("error")?;
    error
        .get("details")
        .and_then(|d| d.as_array())
        .and_then(|details| {
            details
                .iter()
                .find_map(|d| d.get("errorCode").and_then(|c| c.as_str()))
        })
        .or_else(|| error.get("status").and_then(|s| s.as_str()))
        .map(str::to_string)
}

/// The v1 `message` object without its `token` (SNS adds it itself).
pub(crate) fn fcm_message(message: &Message) -> serde_json::Map<String, serde_json::Value> {
    let mut out = serde_json::Map::new();
    let has_notification = message.title.is_some() || message.body.is_some();
    if has_notification {
        let mut notification = serde_json::Map::new();
        if let Some(title) = &message.title {
            notification.insert("title".into(), title.clone().into());
        }
        if let Some(body) = &message.body {
            notification.insert("body".into(), body.clone().into());
        }
        out.insert("notification".into(), notification.into());
    }
    if !message.data.is_empty() {
        let data: serde_json::Map<String, serde_json::Value> = message
            .data
            .iter()
            .map(|(k, v)| {
                let s = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), serde_json::Value::String(s))
            })
            .collect();
        out.insert("data".into(), data.into());
    }
    let mut android = serde_json::Map::new();
    android.insert(
        "priority".into(),
        match message.priority {
            Priority::High => "HIGH",
            Priority::Normal => "NORMAL",
        }
        .into(),
    );
    if let Some(ttl) = message.ttl {
        android.insert("ttl".into(), format!("{}s", ttl.as_secs()).into());
    }
    if let Some(key) = &message.collapse_key {
        android.insert("collapse_key".into(), key.clone().into());
    }
    if has_notification {
        let mut notification = serde_json::Map::new();
        if let Some(sound) = &message.sound {
            notification.insert("sound".into(), sound.clone().into());
        }
        notification.insert("tag".into(), message.replace_key().into());
        if let Some(badge) = message.badge {
            notification.insert("notification_count".into(), badge.into());
        }
        if !notification.is_empty() {
            android.insert("notification".into(), notification.into());
        }
    }
    out.insert("android".into(), android.into());
    out
}

#[async_trait::async_trait]
impl Provider for Fcm {
    fn name(&self) -> &'static str {
        "fcm"
    }

    async fn send(&self, device: &Device, message: &Message) -> Outcome {
        let outcome = self.inner.deliver(device, message).await;
        if !matches!(outcome, Outcome::Delivered { .. }) {
            tracing::info!(
                provider = "fcm",
                delivery_id = %message.delivery_id,
                token = %redact(device.token.expose_secret()),
                outcome = ?outcome,
                "FCM send not delivered"
            );
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_shape() {
        let mut m = Message::new(uuid::Uuid::nil());
        m.title = Some("T".into());
        m.body = Some("B".into());
        m.sound = Some("ping".into());
        m.collapse_key = Some("room-1".into());
        m.ttl = Some(Duration::from_secs(90));
        m.badge = Some(2);
        m.priority = Priority::Normal;
        m.data.insert("s".into(), "x".into());
        m.data.insert("n".into(), 5.into());
        m.data
            .insert("o".into(), serde_json::json!({"a": [1, true]}));
        assert_eq!(
            serde_json::Value::Object(fcm_message(&m)),
            serde_json::json!({
                "notification": {"title": "T", "body": "B"},
                "data": {"s": "x", "n": "5", "o": "{\"a\":[1,true]}"},
                "android": {"priority": "NORMAL", "ttl": "90s", "collapse_key": "room-1",
                            "notification": {"sound": "ping", "tag": "room-1", "notification_count": 2}}
            })
        );
        let mut silent = Message::new(uuid::Uuid::nil());
        silent.content_available = true;
        silent.sound = Some("ping".into());
        assert_eq!(
            serde_json::Value::Object(fcm_message(&silent)),
            serde_json::json!({"android": {"priority": "HIGH"}})
        );
    }

    #[test]
    fn error_codes() {
        let j = serde_json::json!({"error": {"code": 404, "status": "NOT_FOUND", "details": [
            {"@type": "type.googleapis.com/google.rpc.BadRequest"},
            {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}]}});
        assert_eq!(error_code(&j).as_deref(), Some("UNREGISTERED"));
        let j = serde_json::json!({"error": {"code": 400, "status": "INVALID_ARGUMENT"}});
        assert_eq!(error_code(&j).as_deref(), Some("INVALID_ARGUMENT"));
        assert_eq!(error_code(&serde_json::json!({})), None);
    }

    #[test]
    fn bad_service_accounts_are_typed_and_quiet() {
        let cases = [
            ("{\"private_key\": \"sekrit-material\"", "line"),
            ("{\"project_id\": \"p\"}", "missing client_email"),
            (
                "{\"project_id\": \"p\", \"client_email\": \"a@b\", \"private_key\": \"sekrit-material\", \"token_uri\": \"https://x\"}",
                "RSA",
            ),
        ];
        for (json, want) in cases {
            let err = Fcm::new(FcmConfig::new(SecretString::from(json.to_string())))
                .err()
                .expect("must fail")
                .to_string();
            assert!(err.contains(want), "{err}");
            assert!(!err.contains("sekrit"), "{err}");
        }
    }
}
