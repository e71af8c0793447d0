//! A fake of Google's OAuth2 token endpoint and the FCM HTTP v1 API (plain
//! HTTP on a random loopback port).
//!
//! - `POST /token` takes the JWT-bearer grant and verifies the RS256
//!   assertion with the service account's public key (`iss`, `scope`, `aud`,
//!   `iat`, `exp` ≤ 1 h), then issues a bearer token.
//! - `POST /v1/projects/{project}/messages:send` checks the bearer token and
//!   the message shape (data values must be strings, android priority and
//!   ttl formats), then answers 200 or a scripted error in FCM's error
//!   format, recording every message with its `validate_only` flag.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Form, Path, State as AxumState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tokio::task::JoinHandle;

use super::{FakeClock, parse_jws, random_id, verify_rs256};

const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";

/// A scripted FCM answer for one registration token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FcmReply {
    Ok,
    /// 404 UNREGISTERED. With `confirm`, the `validate_only` dry run says
    /// UNREGISTERED too; without, the dry run succeeds (a transient answer).
    Unregistered {
        confirm: bool,
    },
    /// 400 INVALID_ARGUMENT.
    InvalidArgument,
    /// 429 QUOTA_EXCEEDED.
    QuotaExceeded {
        retry_after: Option<u64>,
    },
    /// 503 UNAVAILABLE.
    Unavailable {
        retry_after: Option<u64>,
    },
    /// 500 INTERNAL.
    Internal,
    /// 403 SENDER_ID_MISMATCH.
    SenderIdMismatch,
}

/// One messages:send request with an accepted bearer token.
#[derive(Debug, Clone)]
pub struct ReceivedFcm {
    pub token: String,
    pub validate_only: bool,
    /// The `message` object as sent.
    pub message: serde_json::Value,
    pub status: u16,
}

struct State {
    origin: String,
    project_id: String,
    client_email: String,
    private_key_id: String,
    public_key: Vec<u8>,
    clock: FakeClock,
    token_ttl: AtomicU64,
    tokens: Mutex<HashMap<String, u64>>,
    token_requests: AtomicUsize,
    rejected_assertions: AtomicUsize,
    per_token: Mutex<HashMap<String, FcmReply>>,
    queue: Mutex<VecDeque<(u16, serde_json::Value)>>,
    received: Mutex<Vec<ReceivedFcm>>,
    unauthorized: AtomicUsize,
}

/// A fake FCM. Dropping it stops the server.
pub struct FakeFcm {
    state: Arc<State>,
    service_account_json: String,
    task: JoinHandle<()>,
}

impl FakeFcm {
    pub async fn start() -> FakeFcm {
        let key =
            rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
                .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let origin = format!("http://{addr}");
        let project_id = format!("runway-fake-{}", random_id(6).to_lowercase());
        let client_email = format!("push@{project_id}.iam.gserviceaccount.com");
        let private_key_id = random_id(32).to_lowercase();
        let service_account_json = serde_json::json!({
            "type": "service_account",
            "project_id": project_id,
            "private_key_id": private_key_id,
            "private_key": key.serialize_pem(),
            "client_email": client_email,
            "client_id": "100000000000000000000",
            "auth_uri": format!("{origin}/auth"),
            "token_uri": format!("{origin}/token"),
        })
        .to_string();
        let state = Arc::new(State {
            origin,
            project_id,
            client_email,
            private_key_id,
            public_key: key.public_key_raw().to_vec(),
            clock: FakeClock::default(),
            token_ttl: AtomicU64::new(3599),
            tokens: Mutex::default(),
            token_requests: AtomicUsize::new(0),
            rejected_assertions: AtomicUsize::new(0),
            per_token: Mutex::default(),
            queue: Mutex::default(),
            received: Mutex::default(),
            unauthorized: AtomicUsize::new(0),
        });
        let app = axum::Router::new()
            .route("/token", post(token))
            .route("/v1/projects/{project}/{action}", post(send))
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeFcm {
            state,
            service_account_json,
            task,
        }
    }

    /// `http://127.0.0.1:<port>`: use as the FCM base URL.
    pub fn url(&self) -> String {
        self.state.origin.clone()
    }
    /// A complete service account key file whose `token_uri` is this fake.
    pub fn service_account_json(&self) -> String {
        self.service_account_json.clone()
    }
    pub fn project_id(&self) -> String {
        self.state.project_id.clone()
    }

    /// Lifetime (`expires_in`) of the access tokens issued from now on.
    pub fn set_token_ttl(&self, ttl: Duration) {
        self.state.token_ttl.store(ttl.as_secs(), Ordering::SeqCst);
    }
    /// Invalidate every access token issued so far (next sends get 401).
    pub fn revoke_tokens(&self) {
        self.state.tokens.lock().unwrap().clear();
    }
    /// Move the fake's clock forward.
    pub fn advance_clock(&self, by: Duration) {
        self.state.clock.advance(by);
    }
    /// Answer every send to `token` with `reply` (until re-scripted).
    pub fn script(&self, token: &str, reply: FcmReply) {
        self.state
            .per_token
            .lock()
            .unwrap()
            .insert(token.to_string(), reply);
    }
    /// Answer the next sends (any token) with these replies, in order,
    /// before any per-token script.
    pub fn enqueue(&self, replies: impl IntoIterator<Item = FcmReply>) {
        let mut queue = self.state.queue.lock().unwrap();
        for reply in replies {
            queue.push_back(reply_body(&reply, false));
        }
    }

    /// Access tokens issued (successful token requests).
    pub fn token_requests(&self) -> usize {
        self.state.token_requests.load(Ordering::SeqCst)
    }
    /// Token requests whose assertion was rejected.
    pub fn rejected_assertions(&self) -> usize {
        self.state.rejected_assertions.load(Ordering::SeqCst)
    }
    /// Sends refused with 401.
    pub fn unauthorized_requests(&self) -> usize {
        self.state.unauthorized.load(Ordering::SeqCst)
    }
    /// Every send with an accepted bearer token, in arrival order.
    pub fn received(&self) -> Vec<ReceivedFcm> {
        self.state.received.lock().unwrap().clone()
    }
}

impl Drop for FakeFcm {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn error(
    status: u16,
    code: &str,
    fcm_code: Option<&str>,
    message: &str,
) -> (u16, serde_json::Value) {
    let mut details = Vec::new();
    if let Some(c) = fcm_code {
        details.push(serde_json::json!({
            "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
            "errorCode": c,
        }));
    }
    (
        status,
        serde_json::json!({"error": {"code": status, "message": message, "status": code, "details": details}}),
    )
}

/// (status, body) for a scripted reply; `dry_run` is the validate_only call.
fn reply_body(reply: &FcmReply, dry_run: bool) -> (u16, serde_json::Value) {
    match reply {
        FcmReply::Ok => (200, serde_json::Value::Null),
        FcmReply::Unregistered { confirm } if dry_run && !confirm => (200, serde_json::Value::Null),
        FcmReply::Unregistered { .. } => error(
            404,
            "NOT_FOUND",
            Some("UNREGISTERED"),
            "Requested entity was not found.",
        ),
        FcmReply::InvalidArgument => error(
            400,
            "INVALID_ARGUMENT",
            Some("INVALID_ARGUMENT"),
            "The registration token is not a valid FCM registration token",
        ),
        FcmReply::QuotaExceeded { retry_after } => {
            let (s, mut b) = error(
                429,
                "RESOURCE_EXHAUSTED",
                Some("QUOTA_EXCEEDED"),
                "Quota exceeded.",
            );
            if let Some(secs) = retry_after {
                b["retry_after"] = (*secs).into();
            }
            (s, b)
        }
        FcmReply::Unavailable { retry_after } => {
            let (s, mut b) = error(
                503,
                "UNAVAILABLE",
                Some("UNAVAILABLE"),
                "The service is unavailable.",
            );
            if let Some(secs) = retry_after {
                b["retry_after"] = (*secs).into();
            }
            (s, b)
        }
        FcmReply::Internal => error(500, "INTERNAL", Some("INTERNAL"), "Internal error."),
        FcmReply::SenderIdMismatch => error(
            403,
            "PERMISSION_DENIED",
            Some("SENDER_ID_MISMATCH"),
            "SenderId mismatch",
        ),
    }
}

fn json_response(status: u16, body: serde_json::Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap();
    // The fake carries Retry-After in the body internally; real FCM sends a header.
    let retry_after = body.get("retry_after").and_then(|v| v.as_u64());
    let mut body = body;
    if let Some(obj) = body.as_object_mut() {
        obj.remove("retry_after");
    }
    let mut response = (status, axum::Json(body)).into_response();
    if let Some(secs) = retry_after {
        response
            .headers_mut()
            .insert("retry-after", secs.to_string().parse().unwrap());
    }
    response
}

async fn token(
    AxumState(state): AxumState<Arc<State>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let invalid = |description: &str| {
        state.rejected_assertions.fetch_add(1, Ordering::SeqCst);
        json_response(
            400,
            serde_json::json!({"error": "invalid_grant", "error_description": description}),
        )
    };
    if form.get("grant_type").map(String::as_str)
        != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    {
        return json_response(
            400,
            serde_json::json!({"error": "unsupported_grant_type", "error_description": "Invalid grant_type"}),
        );
    }
    let Some(jws) = form.get("assertion").and_then(|a| parse_jws(a)) else {
        return invalid("Invalid JWT");
    };
    if jws.header["alg"] != "RS256" || jws.header["kid"] != state.private_key_id.as_str() {
        return invalid("Invalid JWT header");
    }
    if !verify_rs256(&jws, &state.public_key) {
        return invalid("Invalid JWT Signature.");
    }
    let c = &jws.claims;
    let now = state.clock.unix();
    let (Some(iat), Some(exp)) = (c["iat"].as_u64(), c["exp"].as_u64()) else {
        return invalid("Invalid JWT: iat and exp are required");
    };
    if c["iss"] != state.client_email.as_str()
        || c["aud"] != format!("{}/token", state.origin).as_str()
        || !c["scope"]
            .as_str()
            .is_some_and(|s| s.split(' ').any(|s| s == SCOPE))
    {
        return invalid("Invalid JWT claims");
    }
    if iat > now + 60 || exp <= now || exp < iat || exp - iat > 3600 {
        return invalid(
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.",
        );
    }
    state.token_requests.fetch_add(1, Ordering::SeqCst);
    let ttl = state.token_ttl.load(Ordering::SeqCst);
    let access_token = format!("ya29.fake-{}", uuid::Uuid::new_v4().simple());
    state
        .tokens
        .lock()
        .unwrap()
        .insert(access_token.clone(), now + ttl);
    json_response(
        200,
        serde_json::json!({"access_token": access_token, "expires_in": ttl, "token_type": "Bearer"}),
    )
}

async fn send(
    AxumState(state): AxumState<Arc<State>>,
    Path((project, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if action != "messages:send" {
        return json_response(
            404,
            serde_json::json!({"error": {"code": 404, "status": "NOT_FOUND"}}),
        );
    }
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let now = state.clock.unix();
    let authorized = bearer
        .and_then(|t| state.tokens.lock().unwrap().get(t).copied())
        .is_some_and(|expires| expires > now);
    if !authorized {
        state.unauthorized.fetch_add(1, Ordering::SeqCst);
        let (s, b) = error(
            401,
            "UNAUTHENTICATED",
            None,
            "Request had invalid authentication credentials.",
        );
        return json_response(s, b);
    }
    if project != state.project_id {
        let (s, b) = error(403, "PERMISSION_DENIED", None, "Permission denied.");
        return json_response(s, b);
    }
    let Ok(request) = serde_json::from_slice::<serde_json::Value>(&body) else {
        let (s, b) = error(
            400,
            "INVALID_ARGUMENT",
            None,
            "Invalid JSON payload received.",
        );
        return json_response(s, b);
    };
    let validate_only = request["validate_only"].as_bool().unwrap_or(false);
    let message = request["message"].clone();
    let token = message["token"].as_str().unwrap_or_default().to_string();
    let (status, body) = match check_message(&message) {
        Err(why) => error(400, "INVALID_ARGUMENT", Some("INVALID_ARGUMENT"), why),
        Ok(()) => {
            let queued = state.queue.lock().unwrap().pop_front();
            match queued {
                Some(q) => q,
                None => {
                    let scripted = state.per_token.lock().unwrap().get(&token).cloned();
                    reply_body(&scripted.unwrap_or(FcmReply::Ok), validate_only)
                }
            }
        }
    };
    state.received.lock().unwrap().push(ReceivedFcm {
        token,
        validate_only,
        message,
        status,
    });
    if status == 200 {
        let name = if validate_only {
            format!("projects/{}/messages/fake_message_id", state.project_id)
        } else {
            format!(
                "projects/{}/messages/0:{}",
                state.project_id,
                uuid::Uuid::new_v4().simple()
            )
        };
        return json_response(200, serde_json::json!({ "name": name }));
    }
    json_response(status, body)
}

/// The parts of FCM's validation a sender can get wrong.
fn check_message(message: &serde_json::Value) -> Result<(), &'static str> {
    let Some(m) = message.as_object() else {
        return Err("message is required");
    };
    if m.get("token")
        .and_then(|t| t.as_str())
        .is_none_or(str::is_empty)
    {
        return Err("message.token is required");
    }
    if let Some(data) = m.get("data") {
        let ok = data
            .as_object()
            .is_some_and(|d| d.values().all(|v| v.is_string()));
        if !ok {
            return Err("message.data values must be strings");
        }
    }
    if let Some(n) = m.get("notification") {
        let ok = n.as_object().is_some_and(|n| {
            n.iter()
                .all(|(k, v)| matches!(k.as_str(), "title" | "body" | "image") && v.is_string())
        });
        if !ok {
            return Err("message.notification is invalid");
        }
    }
    if let Some(a) = m.get("android") {
        let Some(a) = a.as_object() else {
            return Err("message.android is invalid");
        };
        if let Some(p) = a.get("priority")
            && !matches!(p.as_str(), Some("HIGH" | "NORMAL"))
        {
            return Err("message.android.priority is invalid");
        }
        if let Some(ttl) = a.get("ttl") {
            let valid = ttl.as_str().is_some_and(|t| {
                t.strip_suffix('s').is_some_and(|n| {
                    let mut parts = n.splitn(2, '.');
                    let whole = parts.next().unwrap_or_default();
                    !whole.is_empty()
                        && whole.bytes().all(|b| b.is_ascii_digit())
                        && parts
                            .next()
                            .is_none_or(|f| f.bytes().all(|b| b.is_ascii_digit()))
                })
            });
            if !valid {
                return Err("message.android.ttl is invalid");
            }
        }
        if let Some(n) = a.get("notification")
            && !n.is_object()
        {
            return Err("message.android.notification is invalid");
        }
    }
    Ok(())
}
