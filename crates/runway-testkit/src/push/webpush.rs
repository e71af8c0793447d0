//! A fake Web Push service (RFC 8030, plain HTTP on a random loopback port)
//! and the browser side of a subscription.
//!
//! [`FakePushService`] checks what a push service checks: VAPID (RFC 8292:
//! `Authorization: vapid t=<jwt>, k=<key>`, ES256 signature with `k`, `aud`
//! equal to its origin, `exp` in the future and at most 24 h away, `sub` a
//! mailto: or https: URI), the TTL header, `Content-Encoding: aes128gcm`,
//! Urgency and Topic syntax and the 4096-byte body limit.
//!
//! [`WebPushSubscriber`] holds a subscription's private key and auth secret
//! and decrypts message bodies (RFC 8291 / RFC 8188). It is written on
//! aws-lc-rs (ECDH, HMAC, AES-GCM), independently of runway-push's
//! RustCrypto encryption, with HKDF spelled out as the HMAC steps of RFC
//! 8291 §3.4.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State as AxumState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tokio::task::JoinHandle;

use super::{FakeClock, b64url, b64url_decode, parse_jws, verify_es256};

const MAX_BODY: usize = 4096;

/// A scripted push-service answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebPushReply {
    pub status: u16,
    pub retry_after: Option<String>,
}

impl WebPushReply {
    pub fn status(status: u16) -> WebPushReply {
        WebPushReply {
            status,
            retry_after: None,
        }
    }
    pub fn gone() -> WebPushReply {
        WebPushReply::status(410)
    }
    pub fn retry_after(mut self, value: impl Into<String>) -> WebPushReply {
        self.retry_after = Some(value.into());
        self
    }
}

/// One push message as the service received it.
#[derive(Debug, Clone)]
pub struct ReceivedWebPush {
    /// The subscription id (last path segment of the endpoint).
    pub subscription: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub status: u16,
    /// The VAPID claims, if the JWT verified.
    pub vapid_claims: Option<serde_json::Value>,
}

impl ReceivedWebPush {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

struct State {
    origin: String,
    clock: FakeClock,
    per_subscription: Mutex<HashMap<String, WebPushReply>>,
    queue: Mutex<VecDeque<WebPushReply>>,
    received: Mutex<Vec<ReceivedWebPush>>,
}

/// A fake push service. Dropping it stops the server.
pub struct FakePushService {
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl FakePushService {
    pub async fn start() -> FakePushService {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let state = Arc::new(State {
            origin: format!("http://{addr}"),
            clock: FakeClock::default(),
            per_subscription: Mutex::default(),
            queue: Mutex::default(),
            received: Mutex::default(),
        });
        let app = axum::Router::new()
            .route("/push/{id}", post(push))
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakePushService { state, task }
    }

    /// `http://127.0.0.1:<port>` (the VAPID `aud`).
    pub fn origin(&self) -> String {
        self.state.origin.clone()
    }
    /// A new subscription on this service.
    pub fn subscribe(&self) -> WebPushSubscriber {
        WebPushSubscriber::new(self)
    }
    /// Answer every message to `subscriber` with `reply` (until re-scripted).
    pub fn script(&self, subscriber: &WebPushSubscriber, reply: WebPushReply) {
        self.state
            .per_subscription
            .lock()
            .unwrap()
            .insert(subscriber.id(), reply);
    }
    /// Answer the next messages (any subscription) with these, in order.
    pub fn enqueue(&self, replies: impl IntoIterator<Item = WebPushReply>) {
        self.state.queue.lock().unwrap().extend(replies);
    }
    pub fn advance_clock(&self, by: Duration) {
        self.state.clock.advance(by);
    }
    /// Every request, in arrival order.
    pub fn received(&self) -> Vec<ReceivedWebPush> {
        self.state.received.lock().unwrap().clone()
    }
}

impl Drop for FakePushService {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The VAPID claims if the Authorization header verifies, else the status
/// and reason to answer.
fn check_vapid(
    state: &State,
    headers: &HeaderMap,
) -> Result<serde_json::Value, (u16, &'static str)> {
    let value = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .ok_or((401, "missing Authorization"))?;
    let params = value
        .strip_prefix("vapid ")
        .ok_or((401, "not the vapid scheme"))?;
    let mut t = None;
    let mut k = None;
    for param in params.split(',') {
        match param.trim().split_once('=') {
            Some(("t", v)) => t = Some(v.trim()),
            Some(("k", v)) => k = Some(v.trim()),
            _ => {}
        }
    }
    let (Some(t), Some(k)) = (t, k) else {
        return Err((401, "vapid needs t and k"));
    };
    let key = b64url_decode(k).ok_or((401, "k is not base64url"))?;
    if key.len() != 65 || key[0] != 4 {
        return Err((401, "k is not an uncompressed P-256 point"));
    }
    let jws = parse_jws(t).ok_or((401, "t is not a JWT"))?;
    if jws.header["alg"] != "ES256" || !verify_es256(&jws, &key) {
        return Err((403, "bad VAPID signature"));
    }
    let claims = jws.claims;
    if claims["aud"] != state.origin.as_str() {
        return Err((403, "aud is not this push service's origin"));
    }
    let now = state.clock.unix();
    match claims["exp"].as_u64() {
        Some(exp) if exp > now && exp <= now + 24 * 3600 => {}
        _ => return Err((403, "exp is missing, past, or more than 24 hours away")),
    }
    let sub_ok = claims["sub"]
        .as_str()
        .is_some_and(|s| s.starts_with("mailto:") || s.starts_with("https:"));
    if !sub_ok {
        return Err((403, "sub must be a mailto: or https: URI"));
    }
    Ok(claims)
}

fn check_request(headers: &HeaderMap, body: &[u8]) -> Result<(), (u16, &'static str)> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if !header("ttl").is_some_and(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())) {
        return Err((400, "TTL header is required"));
    }
    if header("content-encoding") != Some("aes128gcm") {
        return Err((415, "Content-Encoding must be aes128gcm"));
    }
    if let Some(u) = header("urgency")
        && !matches!(u, "very-low" | "low" | "normal" | "high")
    {
        return Err((400, "bad Urgency"));
    }
    if let Some(topic) = header("topic") {
        let ok = !topic.is_empty()
            && topic.len() <= 32
            && topic
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return Err((400, "bad Topic"));
        }
    }
    if body.len() > MAX_BODY {
        return Err((413, "payload too large"));
    }
    Ok(())
}

async fn push(
    AxumState(state): AxumState<Arc<State>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let vapid = check_vapid(&state, &headers);
    let checked = vapid
        .as_ref()
        .map_err(|e| *e)
        .and_then(|_| check_request(&headers, &body));
    let reply = match checked {
        Err((status, _)) => WebPushReply::status(status),
        Ok(()) => {
            let queued = state.queue.lock().unwrap().pop_front();
            queued
                .or_else(|| state.per_subscription.lock().unwrap().get(&id).cloned())
                .unwrap_or(WebPushReply::status(201))
        }
    };
    state.received.lock().unwrap().push(ReceivedWebPush {
        subscription: id,
        headers,
        body: body.to_vec(),
        status: reply.status,
        vapid_claims: vapid.ok(),
    });
    let mut response = StatusCode::from_u16(reply.status).unwrap().into_response();
    if let Some(reason) = checked.err() {
        response = (StatusCode::from_u16(reply.status).unwrap(), reason.1).into_response();
    }
    if (200..300).contains(&reply.status) {
        let location = format!("{}/message/{}", state.origin, uuid::Uuid::new_v4().simple());
        response
            .headers_mut()
            .insert("location", location.parse().unwrap());
    }
    if let Some(retry_after) = &reply.retry_after {
        response
            .headers_mut()
            .insert("retry-after", retry_after.parse().unwrap());
    }
    response
}

/// The browser side of a push subscription.
pub struct WebPushSubscriber {
    /// The subscription endpoint URL (the device token).
    pub endpoint: String,
    /// base64url of the subscription's uncompressed P-256 public key.
    pub p256dh: String,
    /// base64url of the 16-byte auth secret.
    pub auth: String,
    private_key: aws_lc_rs::agreement::PrivateKey,
    public_key: Vec<u8>,
    auth_secret: Vec<u8>,
}

impl std::fmt::Debug for WebPushSubscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebPushSubscriber")
            .field("endpoint", &self.endpoint)
            .field("p256dh", &self.p256dh)
            .finish_non_exhaustive()
    }
}

impl WebPushSubscriber {
    /// A new subscription (fresh key pair and auth secret) on `service`.
    pub fn new(service: &FakePushService) -> WebPushSubscriber {
        use aws_lc_rs::rand::SecureRandom;
        let private_key =
            aws_lc_rs::agreement::PrivateKey::generate(&aws_lc_rs::agreement::ECDH_P256).unwrap();
        let mut auth = [0u8; 16];
        aws_lc_rs::rand::SystemRandom::new()
            .fill(&mut auth)
            .unwrap();
        let endpoint = format!(
            "{}/push/{}",
            service.origin(),
            uuid::Uuid::new_v4().simple()
        );
        WebPushSubscriber::from_key(endpoint, private_key, auth.to_vec())
    }

    /// A subscriber with given keys (base64url): for test vectors.
    pub fn from_keys(endpoint: &str, private_key_b64: &str, auth_b64: &str) -> WebPushSubscriber {
        let private_key = aws_lc_rs::agreement::PrivateKey::from_private_key(
            &aws_lc_rs::agreement::ECDH_P256,
            &b64url_decode(private_key_b64).expect("base64url private key"),
        )
        .expect("a P-256 private key");
        WebPushSubscriber::from_key(
            endpoint.to_string(),
            private_key,
            b64url_decode(auth_b64).expect("base64url auth secret"),
        )
    }

    fn from_key(
        endpoint: String,
        private_key: aws_lc_rs::agreement::PrivateKey,
        auth_secret: Vec<u8>,
    ) -> WebPushSubscriber {
        let public_key = private_key.compute_public_key().unwrap().as_ref().to_vec();
        WebPushSubscriber {
            endpoint,
            p256dh: b64url(&public_key),
            auth: b64url(&auth_secret),
            private_key,
            public_key,
            auth_secret,
        }
    }

    /// The subscription id (last path segment of the endpoint).
    pub fn id(&self) -> String {
        self.endpoint
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string()
    }

    /// Decrypt an aes128gcm message body (RFC 8291 / RFC 8188), any number
    /// of records, checking the padding delimiters.
    pub fn decrypt(&self, body: &[u8]) -> Result<Vec<u8>, String> {
        use aws_lc_rs::aead::{AES_128_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
        use aws_lc_rs::agreement::{ECDH_P256, UnparsedPublicKey, agree};

        // Header: salt(16) rs(4) idlen(1) keyid(idlen).
        if body.len() < 21 {
            return Err("body shorter than the aes128gcm header".into());
        }
        let salt = &body[..16];
        let rs = u32::from_be_bytes(body[16..20].try_into().unwrap()) as usize;
        let idlen = body[20] as usize;
        if rs < 18 {
            return Err(format!("record size {rs} is below the minimum of 18"));
        }
        if idlen != 65 || body.len() < 21 + idlen {
            return Err(format!("key id of {idlen} bytes is not a P-256 public key"));
        }
        let as_public = &body[21..21 + idlen];
        let ciphertext = &body[21 + idlen..];

        let ecdh_secret = agree(
            &self.private_key,
            UnparsedPublicKey::new(&ECDH_P256, as_public),
            "ECDH failed".to_string(),
            |secret| Ok(secret.to_vec()),
        )?;

        // RFC 8291 §3.4, with HKDF written out as HMAC-SHA-256 steps.
        let hmac = |key: &[u8], data: &[&[u8]]| -> Vec<u8> {
            let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
            let mut ctx = aws_lc_rs::hmac::Context::with_key(&key);
            for d in data {
                ctx.update(d);
            }
            ctx.sign().as_ref().to_vec()
        };
        let prk_key = hmac(&self.auth_secret, &[&ecdh_secret]);
        let ikm = hmac(
            &prk_key,
            &[b"WebPush: info\0", &self.public_key, as_public, &[1]],
        );
        let prk = hmac(salt, &[&ikm]);
        let cek = hmac(&prk, &[b"Content-Encoding: aes128gcm\0", &[1]])[..16].to_vec();
        let base_nonce = hmac(&prk, &[b"Content-Encoding: nonce\0", &[1]])[..12].to_vec();

        let key = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &cek).map_err(|_| "bad CEK")?);
        let records: Vec<&[u8]> = ciphertext.chunks(rs).collect();
        if records.is_empty() {
            return Err("no records".into());
        }
        let mut plaintext = Vec::new();
        for (seq, record) in records.iter().enumerate() {
            let last = seq + 1 == records.len();
            let mut nonce = [0u8; 12];
            nonce.copy_from_slice(&base_nonce);
            for (i, b) in (seq as u64).to_be_bytes().iter().enumerate() {
                nonce[4 + i] ^= b;
            }
            let mut buf = record.to_vec();
            let opened = key
                .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut buf)
                .map_err(|_| format!("record {seq} does not decrypt"))?;
            let end = opened
                .iter()
                .rposition(|&b| b != 0)
                .ok_or(format!("record {seq} has no padding delimiter"))?;
            let want = if last { 2 } else { 1 };
            if opened[end] != want {
                return Err(format!(
                    "record {seq} ends with delimiter {} instead of {want}",
                    opened[end]
                ));
            }
            plaintext.extend_from_slice(&opened[..end]);
        }
        Ok(plaintext)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8291 Appendix A, decrypted with the user agent's keys.
    #[test]
    fn decrypts_rfc8291_appendix_a() {
        let subscriber = WebPushSubscriber::from_keys(
            "https://push.example.net/push/JzLQ3raZJfFBR0aqvOMsLrt54w4rJUsV",
            "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94",
            "BTBZMqHH6r4Tts7J_aSIgg",
        );
        assert_eq!(
            subscriber.p256dh,
            "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
        );
        let body = b64url_decode(
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN",
        )
        .unwrap();
        assert_eq!(
            subscriber.decrypt(&body).unwrap(),
            b"When I grow up, I want to be a watermelon"
        );
        // A flipped bit anywhere in the ciphertext is caught.
        let mut tampered = body.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(subscriber.decrypt(&tampered).is_err());
    }
}
