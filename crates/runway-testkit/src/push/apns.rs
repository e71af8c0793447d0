//! A fake APNs: HTTP/2 over TLS on a random loopback port.
//!
//! Like APNs it
//! - speaks only HTTP/2 (ALPN h2) with a certificate from a throwaway CA
//!   ([`FakeApns::ca_pem`]);
//! - verifies the provider token on every request: ES256 signature with the
//!   public key of the .p8 it hands out ([`FakeApns::key_pem`]), `kid`,
//!   `iss`, and `iat` not in the future and not older than an hour (403
//!   `MissingProviderToken` / `InvalidProviderToken` / `ExpiredProviderToken`).
//!   Each connection remembers the last token string whose signature it
//!   verified and skips only that ECDSA check when the same string comes
//!   again (its result cannot differ; the claims are still checked), so a
//!   load test measures the client rather than the fake's P-256 arithmetic;
//! - starts every connection with SETTINGS_MAX_CONCURRENT_STREAMS = 1 and
//!   raises it to 500 after the first request with a valid token on that
//!   connection. The h2 server has no API to change that setting on a live
//!   connection, so the fake does it on the wire: it rewrites the value in
//!   the server's first SETTINGS frame, injects a second SETTINGS frame when
//!   the limit is raised and swallows the client's ACK of it (the h2 server
//!   itself runs with a limit of 500 so it never refuses on its own). A
//!   stream opened beyond the advertised limit is refused with RST_STREAM
//!   REFUSED_STREAM and counted in [`FakeApns::stream_limit_violations`];
//! - validates headers and payload (topic, push type, id, priority,
//!   expiration, collapse id, 4096-byte limit, hex token) with APNs' reasons;
//! - answers scripted responses, per token or from a queue;
//! - records every request ([`FakeApns::received`]), or, with
//!   [`FakeApns::set_recording`]`(false)`, only counts them
//!   ([`FakeApns::received_count`]), so a benchmark can send millions of
//!   requests without the fake's memory growing with them.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::task::JoinHandle;

use super::{FakeClock, TestCa, parse_jws, random_id, verify_es256};

const INITIAL_MAX_STREAMS: u32 = 1;
const RAISED_MAX_STREAMS: u32 = 500;
const MAX_PAYLOAD: usize = 4096;

/// A scripted APNs answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApnsReply {
    pub status: u16,
    pub reason: Option<String>,
    /// For 410: when the token became invalid (ms since the epoch).
    pub timestamp_ms: Option<u64>,
    pub retry_after: Option<String>,
}

impl ApnsReply {
    pub fn ok() -> ApnsReply {
        ApnsReply::status(200, None)
    }
    pub fn status(status: u16, reason: Option<&str>) -> ApnsReply {
        ApnsReply {
            status,
            reason: reason.map(str::to_string),
            timestamp_ms: None,
            retry_after: None,
        }
    }
    pub fn bad_device_token() -> ApnsReply {
        ApnsReply::status(400, Some("BadDeviceToken"))
    }
    pub fn device_token_not_for_topic() -> ApnsReply {
        ApnsReply::status(400, Some("DeviceTokenNotForTopic"))
    }
    pub fn unregistered(timestamp_ms: u64) -> ApnsReply {
        ApnsReply {
            timestamp_ms: Some(timestamp_ms),
            ..ApnsReply::status(410, Some("Unregistered"))
        }
    }
    pub fn too_many_requests() -> ApnsReply {
        ApnsReply::status(429, Some("TooManyRequests"))
    }
    pub fn internal_server_error() -> ApnsReply {
        ApnsReply::status(500, Some("InternalServerError"))
    }
    pub fn service_unavailable() -> ApnsReply {
        ApnsReply::status(503, Some("ServiceUnavailable"))
    }
    pub fn expired_provider_token() -> ApnsReply {
        ApnsReply::status(403, Some("ExpiredProviderToken"))
    }
    /// Add a `Retry-After` header (seconds or an HTTP-date).
    pub fn retry_after(mut self, value: impl Into<String>) -> ApnsReply {
        self.retry_after = Some(value.into());
        self
    }
}

/// One request as the fake saw it.
#[derive(Debug, Clone)]
pub struct ReceivedApns {
    /// Which connection it came on (1, 2, …).
    pub connection: usize,
    /// The device token from the path `/3/device/<token>`.
    pub token: String,
    pub headers: http::HeaderMap,
    /// The JSON payload (Null if it was not JSON).
    pub json: serde_json::Value,
    /// The status the fake answered.
    pub status: u16,
    /// The reason the fake answered, if not 200.
    pub reason: Option<String>,
}

impl ReceivedApns {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// The provider JWT (without `bearer `).
    pub fn jwt(&self) -> Option<&str> {
        self.header("authorization")
            .and_then(|a| a.strip_prefix("bearer "))
    }
    /// The JWT's claims, decoded (not verified).
    pub fn jwt_claims(&self) -> Option<serde_json::Value> {
        self.jwt().and_then(parse_jws).map(|j| j.claims)
    }
}

struct State {
    public_key: Vec<u8>,
    key_id: String,
    team_id: String,
    clock: FakeClock,
    received: Mutex<Vec<ReceivedApns>>,
    recording: AtomicBool,
    answered: AtomicUsize,
    answered_ok: AtomicUsize,
    per_token: Mutex<HashMap<String, ApnsReply>>,
    queue: Mutex<VecDeque<ApnsReply>>,
    connections: AtomicUsize,
    max_concurrent: AtomicUsize,
    violations: AtomicUsize,
    delay_ms: AtomicU64,
    live: Mutex<Vec<LiveConnection>>,
}

struct LiveConnection {
    shutdown: Arc<tokio::sync::Notify>,
    task: JoinHandle<()>,
}

/// Per-connection state shared by the frame tap and the request handlers.
#[derive(Default)]
struct ConnState {
    raise_requested: AtomicBool,
    /// The SETTINGS frame raising the limit has been written to the socket.
    raise_sent: AtomicBool,
    /// Streams whose HEADERS arrived before the raise was written: the
    /// client opened them under the initial limit.
    early_streams: Mutex<std::collections::HashSet<u32>>,
    in_flight: AtomicUsize,
    /// The last provider token whose ES256 signature verified on this
    /// connection.
    verified_jwt: Mutex<Option<String>>,
}

/// A fake APNs server. Dropping it stops the server and its connections.
pub struct FakeApns {
    addr: SocketAddr,
    ca_pem: String,
    key_pem: String,
    state: Arc<State>,
    accept_task: JoinHandle<()>,
}

impl FakeApns {
    pub async fn start() -> FakeApns {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let ca = TestCa::new(&[b"h2"]);
        let state = Arc::new(State {
            public_key: key.public_key_raw().to_vec(),
            key_id: random_id(10),
            team_id: random_id(10),
            clock: FakeClock::default(),
            received: Mutex::default(),
            recording: AtomicBool::new(true),
            answered: AtomicUsize::new(0),
            answered_ok: AtomicUsize::new(0),
            per_token: Mutex::default(),
            queue: Mutex::default(),
            connections: AtomicUsize::new(0),
            max_concurrent: AtomicUsize::new(0),
            violations: AtomicUsize::new(0),
            delay_ms: AtomicU64::new(0),
            live: Mutex::default(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(ca.server_config));
        let accept_state = state.clone();
        let accept_task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let _ = tcp.set_nodelay(true);
                let state = accept_state.clone();
                let acceptor = acceptor.clone();
                let number = state.connections.fetch_add(1, Ordering::SeqCst) + 1;
                let shutdown = Arc::new(tokio::sync::Notify::new());
                let task = tokio::spawn(serve_connection(
                    state.clone(),
                    acceptor,
                    tcp,
                    number,
                    shutdown.clone(),
                ));
                state
                    .live
                    .lock()
                    .unwrap()
                    .push(LiveConnection { shutdown, task });
            }
        });
        FakeApns {
            addr,
            ca_pem: ca.ca_pem,
            key_pem: key.serialize_pem(),
            state,
            accept_task,
        }
    }

    /// `https://127.0.0.1:<port>`
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }
    /// The throwaway CA that signed the server certificate.
    pub fn ca_pem(&self) -> String {
        self.ca_pem.clone()
    }
    /// The provider signing key (.p8: PKCS#8 PEM, P-256) the fake trusts.
    pub fn key_pem(&self) -> String {
        self.key_pem.clone()
    }
    pub fn key_id(&self) -> String {
        self.state.key_id.clone()
    }
    pub fn team_id(&self) -> String {
        self.state.team_id.clone()
    }

    /// Answer every request for `token` with `reply` (until re-scripted).
    pub fn script(&self, token: &str, reply: ApnsReply) {
        self.state
            .per_token
            .lock()
            .unwrap()
            .insert(token.to_string(), reply);
    }
    /// Answer the next requests (any token) with these replies, in order;
    /// they take precedence over per-token scripts.
    pub fn enqueue(&self, replies: impl IntoIterator<Item = ApnsReply>) {
        self.state.queue.lock().unwrap().extend(replies);
    }
    /// Hold every response this long (keeps streams open, to observe
    /// concurrency).
    pub fn set_response_delay(&self, delay: Duration) {
        self.state
            .delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }
    /// Move the fake's clock forward (token ages are checked against it).
    pub fn advance_clock(&self, by: Duration) {
        self.state.clock.advance(by);
    }

    /// Every request seen, in arrival order (only those answered while
    /// recording was on).
    pub fn received(&self) -> Vec<ReceivedApns> {
        self.state.received.lock().unwrap().clone()
    }
    /// Record every request (the default), or only count them: with
    /// recording off the fake keeps no per-request state, for load tests.
    pub fn set_recording(&self, on: bool) {
        self.state.recording.store(on, Ordering::SeqCst);
    }
    /// Requests answered so far (with any status), recorded or not.
    pub fn received_count(&self) -> usize {
        self.state.answered.load(Ordering::SeqCst)
    }
    /// Requests answered 200 so far, recorded or not.
    pub fn delivered_count(&self) -> usize {
        self.state.answered_ok.load(Ordering::SeqCst)
    }
    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }
    /// Most streams open at once on one connection.
    pub fn max_concurrent_seen(&self) -> usize {
        self.state.max_concurrent.load(Ordering::SeqCst)
    }
    /// Streams a client opened beyond the advertised concurrency limit.
    pub fn stream_limit_violations(&self) -> usize {
        self.state.violations.load(Ordering::SeqCst)
    }

    /// Close every open connection gracefully (GOAWAY, then close once the
    /// open streams are answered), as APNs does on maintenance.
    pub fn close_connections(&self) {
        for c in self.state.live.lock().unwrap().iter() {
            c.shutdown.notify_one();
        }
    }
    /// Drop every open connection abruptly (TCP close, no GOAWAY).
    pub fn kill_connections(&self) {
        for c in self.state.live.lock().unwrap().drain(..) {
            c.task.abort();
        }
    }
}

impl Drop for FakeApns {
    fn drop(&mut self) {
        self.accept_task.abort();
        self.kill_connections();
    }
}

async fn serve_connection(
    state: Arc<State>,
    acceptor: tokio_rustls::TlsAcceptor,
    tcp: tokio::net::TcpStream,
    number: usize,
    shutdown: Arc<tokio::sync::Notify>,
) {
    let Ok(tls) = acceptor.accept(tcp).await else {
        return;
    };
    if tls.get_ref().1.alpn_protocol() != Some(b"h2") {
        return; // APNs speaks HTTP/2 only
    }
    let conn_state = Arc::new(ConnState::default());
    let tap = FrameTap::new(tls, conn_state.clone());
    let Ok(mut connection) = h2::server::Builder::new()
        .max_concurrent_streams(RAISED_MAX_STREAMS)
        .handshake::<_, Bytes>(tap)
        .await
    else {
        return;
    };
    let mut closing = false;
    loop {
        tokio::select! {
            next = connection.accept() => match next {
                Some(Ok((request, respond))) => {
                    tokio::spawn(handle(state.clone(), conn_state.clone(), number, request, respond));
                }
                _ => break,
            },
            _ = shutdown.notified(), if !closing => {
                closing = true;
                connection.graceful_shutdown();
            }
        }
    }
}

struct InFlight(Arc<ConnState>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn handle(
    state: Arc<State>,
    conn: Arc<ConnState>,
    number: usize,
    request: http::Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
) {
    let open = conn.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    let _guard = InFlight(conn.clone());
    let stream_id = u32::from(respond.stream_id());
    let early = conn.early_streams.lock().unwrap().contains(&stream_id);
    if early && open > INITIAL_MAX_STREAMS as usize {
        state.violations.fetch_add(1, Ordering::SeqCst);
        respond.send_reset(h2::Reason::REFUSED_STREAM);
        return;
    }
    state.max_concurrent.fetch_max(open, Ordering::SeqCst);

    let (parts, mut body) = request.into_parts();
    let mut payload = Vec::new();
    while let Some(chunk) = body.data().await {
        let Ok(chunk) = chunk else { return };
        let _ = body.flow_control().release_capacity(chunk.len());
        payload.extend_from_slice(&chunk);
        if payload.len() > 64 * 1024 {
            break;
        }
    }
    let token = parts
        .uri
        .path()
        .strip_prefix("/3/device/")
        .unwrap_or_default()
        .to_string();
    let (reply, token_valid) = evaluate(&state, &conn, &parts, &token, &payload);
    if reply.status == 200 && token_valid {
        // The first valid token on a connection lifts the stream limit; the
        // new SETTINGS go out ahead of this response.
        conn.raise_requested.store(true, Ordering::SeqCst);
    }
    let delay = state.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if state.recording.load(Ordering::Relaxed) {
        state.received.lock().unwrap().push(ReceivedApns {
            connection: number,
            token,
            headers: parts.headers.clone(),
            json: serde_json::from_slice(&payload).unwrap_or(serde_json::Value::Null),
            status: reply.status,
            reason: reply.reason.clone(),
        });
    }
    state.answered.fetch_add(1, Ordering::SeqCst);
    if reply.status == 200 {
        state.answered_ok.fetch_add(1, Ordering::SeqCst);
    }

    let mut response = http::Response::builder().status(reply.status);
    if reply.status == 200 {
        let id = parts
            .headers
            .get("apns-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string().to_uppercase());
        response = response.header("apns-id", id);
    }
    if let Some(retry_after) = &reply.retry_after {
        response = response.header("retry-after", retry_after.as_str());
    }
    let body = reply.reason.as_ref().map(|reason| {
        let mut json = serde_json::json!({ "reason": reason });
        if let Some(ts) = reply.timestamp_ms {
            json["timestamp"] = ts.into();
        }
        Bytes::from(json.to_string())
    });
    if body.is_some() {
        response = response.header("content-type", "application/json");
    }
    let response = response.body(()).unwrap();
    match body {
        None => {
            let _ = respond.send_response(response, true);
        }
        Some(body) => {
            if let Ok(mut stream) = respond.send_response(response, false) {
                let _ = stream.send_data(body, true);
            }
        }
    }
}

/// What APNs would answer, and whether the provider token was valid.
fn evaluate(
    state: &State,
    conn: &ConnState,
    parts: &http::request::Parts,
    token: &str,
    payload: &[u8],
) -> (ApnsReply, bool) {
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let fail = |status, reason| (ApnsReply::status(status, Some(reason)), false);
    if parts.method != http::Method::POST {
        return fail(405, "MethodNotAllowed");
    }
    if !parts.uri.path().starts_with("/3/device/") || token.is_empty() {
        return fail(404, "BadPath");
    }
    if let Err(reason) = verify_provider_token(state, conn, header("authorization")) {
        return fail(403, reason);
    }
    let bad = |status, reason| (ApnsReply::status(status, Some(reason)), true);
    if header("apns-topic").is_none_or(str::is_empty) {
        return bad(400, "MissingTopic");
    }
    if let Some(t) = header("apns-push-type")
        && !matches!(
            t,
            "alert"
                | "background"
                | "voip"
                | "complication"
                | "fileprovider"
                | "mdm"
                | "location"
                | "liveactivity"
                | "pushtotalk"
                | "widgets"
                | "controls"
        )
    {
        return bad(400, "InvalidPushType");
    }
    if let Some(id) = header("apns-id")
        && uuid::Uuid::try_parse(id).is_err()
    {
        return bad(400, "BadMessageId");
    }
    if let Some(p) = header("apns-priority")
        && !matches!(p, "1" | "5" | "10")
    {
        return bad(400, "BadPriority");
    }
    if let Some(e) = header("apns-expiration")
        && e.parse::<u64>().is_err()
    {
        return bad(400, "BadExpirationDate");
    }
    if header("apns-collapse-id").is_some_and(|c| c.len() > 64) {
        return bad(400, "BadCollapseId");
    }
    if payload.is_empty() {
        return bad(400, "PayloadEmpty");
    }
    if payload.len() > MAX_PAYLOAD {
        return bad(413, "PayloadTooLarge");
    }
    if !(64..=200).contains(&token.len()) || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return bad(400, "BadDeviceToken");
    }
    if let Some(reply) = state.queue.lock().unwrap().pop_front() {
        return (reply, true);
    }
    if let Some(reply) = state.per_token.lock().unwrap().get(token) {
        return (reply.clone(), true);
    }
    (ApnsReply::ok(), true)
}

fn verify_provider_token(
    state: &State,
    conn: &ConnState,
    authorization: Option<&str>,
) -> Result<(), &'static str> {
    let jwt = authorization
        .and_then(|a| a.strip_prefix("bearer "))
        .ok_or("MissingProviderToken")?;
    let jws = parse_jws(jwt).ok_or("InvalidProviderToken")?;
    if jws.header["alg"] != "ES256" || jws.header["kid"] != state.key_id.as_str() {
        return Err("InvalidProviderToken");
    }
    if jws.claims["iss"] != state.team_id.as_str() {
        return Err("InvalidProviderToken");
    }
    let verified = conn.verified_jwt.lock().unwrap().as_deref() == Some(jwt);
    if !verified {
        if !verify_es256(&jws, &state.public_key) {
            return Err("InvalidProviderToken");
        }
        *conn.verified_jwt.lock().unwrap() = Some(jwt.to_string());
    }
    let iat = jws.claims["iat"].as_u64().ok_or("InvalidProviderToken")?;
    let now = state.clock.unix();
    if iat > now {
        return Err("InvalidProviderToken");
    }
    if now - iat > 3600 {
        return Err("ExpiredProviderToken");
    }
    Ok(())
}

// --- HTTP/2 frame tap --------------------------------------------------------

const FRAME_HEADER: usize = 9;
const HEADERS: u8 = 0x1;
const SETTINGS: u8 = 0x4;
const ACK: u8 = 0x1;
const SETTINGS_MAX_CONCURRENT_STREAMS: u16 = 0x3;
const CLIENT_PREFACE_LEN: usize = 24;

/// Sits between TLS and the h2 server and edits SETTINGS on the wire (see
/// the module docs).
struct FrameTap<S> {
    inner: S,
    conn: Arc<ConnState>,
    // server -> client
    out_pending: Vec<u8>,
    out_buf: Vec<u8>,
    out_pos: usize,
    first_settings_seen: bool,
    injected: bool,
    /// SETTINGS frames sent, oldest first: true for the ones we injected.
    settings_sent: VecDeque<bool>,
    // client -> server
    in_raw: Vec<u8>,
    in_ready: Vec<u8>,
    in_pos: usize,
    preface_left: usize,
}

impl<S> FrameTap<S> {
    fn new(inner: S, conn: Arc<ConnState>) -> Self {
        FrameTap {
            inner,
            conn,
            out_pending: Vec::new(),
            out_buf: Vec::new(),
            out_pos: 0,
            first_settings_seen: false,
            injected: false,
            settings_sent: VecDeque::new(),
            in_raw: Vec::new(),
            in_ready: Vec::new(),
            in_pos: 0,
            preface_left: CLIENT_PREFACE_LEN,
        }
    }

    fn maybe_inject(&mut self) {
        if self.first_settings_seen
            && !self.injected
            && self.conn.raise_requested.load(Ordering::SeqCst)
        {
            self.injected = true;
            self.conn.raise_sent.store(true, Ordering::SeqCst);
            self.out_buf.extend_from_slice(&settings_frame(&[(
                SETTINGS_MAX_CONCURRENT_STREAMS,
                RAISED_MAX_STREAMS,
            )]));
            self.settings_sent.push_back(true);
        }
    }

    fn process_out(&mut self) {
        loop {
            let Some(len) = complete_frame_len(&self.out_pending) else {
                if self.out_pending.is_empty() {
                    self.maybe_inject();
                }
                return;
            };
            self.maybe_inject();
            let mut frame: Vec<u8> = self.out_pending.drain(..len).collect();
            if frame[3] == SETTINGS && frame[4] & ACK == 0 {
                if !self.first_settings_seen {
                    self.first_settings_seen = true;
                    frame = rewrite_max_streams(&frame, INITIAL_MAX_STREAMS);
                }
                self.settings_sent.push_back(false);
            }
            self.out_buf.extend_from_slice(&frame);
        }
    }

    fn process_in(&mut self) {
        if self.preface_left > 0 {
            let n = self.preface_left.min(self.in_raw.len());
            self.in_ready.extend(self.in_raw.drain(..n));
            self.preface_left -= n;
            if self.preface_left > 0 {
                return;
            }
        }
        while let Some(len) = complete_frame_len(&self.in_raw) {
            let frame: Vec<u8> = self.in_raw.drain(..len).collect();
            if frame[3] == HEADERS && !self.conn.raise_sent.load(Ordering::SeqCst) {
                let id = u32::from_be_bytes([frame[5], frame[6], frame[7], frame[8]]) & 0x7fff_ffff;
                self.conn.early_streams.lock().unwrap().insert(id);
            }
            if frame[3] == SETTINGS && frame[4] & ACK != 0 {
                // The ACK of a SETTINGS frame we injected is not the h2
                // server's business.
                if self.settings_sent.pop_front() == Some(true) {
                    continue;
                }
            }
            self.in_ready.extend_from_slice(&frame);
        }
    }
}

impl<S: AsyncWrite + Unpin> FrameTap<S> {
    /// Write buffered bytes to the socket.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.out_pos < self.out_buf.len() {
            match Pin::new(&mut self.inner).poll_write(cx, &self.out_buf[self.out_pos..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => self.out_pos += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        self.out_buf.clear();
        self.out_pos = 0;
        Poll::Ready(Ok(()))
    }
}

fn complete_frame_len(buf: &[u8]) -> Option<usize> {
    if buf.len() < FRAME_HEADER {
        return None;
    }
    let len = FRAME_HEADER + ((buf[0] as usize) << 16 | (buf[1] as usize) << 8 | buf[2] as usize);
    (buf.len() >= len).then_some(len)
}

fn settings_frame(params: &[(u16, u32)]) -> Vec<u8> {
    let len = params.len() * 6;
    let mut frame = vec![
        (len >> 16) as u8,
        (len >> 8) as u8,
        len as u8,
        SETTINGS,
        0,
        0,
        0,
        0,
        0,
    ];
    for (id, value) in params {
        frame.extend_from_slice(&id.to_be_bytes());
        frame.extend_from_slice(&value.to_be_bytes());
    }
    frame
}

fn rewrite_max_streams(frame: &[u8], value: u32) -> Vec<u8> {
    let mut params: Vec<(u16, u32)> = frame[FRAME_HEADER..]
        .chunks_exact(6)
        .map(|p| {
            (
                u16::from_be_bytes([p[0], p[1]]),
                u32::from_be_bytes([p[2], p[3], p[4], p[5]]),
            )
        })
        .filter(|(id, _)| *id != SETTINGS_MAX_CONCURRENT_STREAMS)
        .collect();
    params.push((SETTINGS_MAX_CONCURRENT_STREAMS, value));
    settings_frame(&params)
}

impl<S: AsyncRead + Unpin> AsyncRead for FrameTap<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if this.in_pos < this.in_ready.len() {
                let n = buf.remaining().min(this.in_ready.len() - this.in_pos);
                buf.put_slice(&this.in_ready[this.in_pos..this.in_pos + n]);
                this.in_pos += n;
                if this.in_pos == this.in_ready.len() {
                    this.in_ready.clear();
                    this.in_pos = 0;
                }
                return Poll::Ready(Ok(()));
            }
            let mut tmp = [0u8; 16 * 1024];
            let mut read = ReadBuf::new(&mut tmp);
            match Pin::new(&mut this.inner).poll_read(cx, &mut read) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(())) => {
                    if read.filled().is_empty() {
                        if this.in_raw.is_empty() {
                            return Poll::Ready(Ok(())); // EOF
                        }
                        // A truncated frame: hand it over, then EOF.
                        this.in_ready.append(&mut this.in_raw);
                        continue;
                    }
                    this.in_raw.extend_from_slice(read.filled());
                    this.process_in();
                }
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for FrameTap<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.out_buf.len() - this.out_pos > 256 * 1024 {
            match this.drain(cx) {
                Poll::Ready(Ok(())) => {}
                other => return other.map(|r| r.map(|_| 0)),
            }
        }
        this.out_pending.extend_from_slice(buf);
        this.process_out();
        if let Poll::Ready(Err(e)) = this.drain(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        this.process_out();
        match this.drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_flush(cx),
            other => other,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match this.drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_shutdown(cx),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_rewrite_keeps_other_params() {
        let frame = settings_frame(&[(0x3, 500), (0x4, 65535)]);
        let out = rewrite_max_streams(&frame, 1);
        assert_eq!(complete_frame_len(&out), Some(out.len()));
        assert_eq!(out[3], SETTINGS);
        assert_eq!(&out[9..15], &[0, 4, 0, 0, 0xff, 0xff]);
        assert_eq!(&out[15..21], &[0, 3, 0, 0, 0, 1]);
    }
}
