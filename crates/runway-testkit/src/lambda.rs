//! A local AWS Lambda Runtime API (the HTTP interface a custom runtime's
//! `bootstrap` polls, <https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>),
//! so tests and benchmarks run the real function binaries exactly as Lambda
//! does: the binary asks for the next event, handles it, and posts the
//! response or the error.
//!
//! - `GET  /2018-06-01/runtime/invocation/next`: waits for an event queued
//!   with [`RuntimeApi::invoke`], then returns it with the request id,
//!   deadline, function ARN and trace id headers.
//! - `POST /2018-06-01/runtime/invocation/{id}/response` and `.../error`.
//! - `POST /2018-06-01/runtime/init/error`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::{Mutex, mpsc, oneshot};

/// How one invocation ended.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    /// The function's response, or its error document.
    pub result: Result<Value, Value>,
    /// From handing the event out to receiving the response.
    pub duration: Duration,
}

struct Pending {
    handed_out: Option<Instant>,
    done: Option<oneshot::Sender<Invocation>>,
}

struct Shared {
    events: Mutex<mpsc::UnboundedReceiver<(String, Value)>>,
    pending: std::sync::Mutex<HashMap<String, Pending>>,
    first_poll: std::sync::Mutex<Option<Instant>>,
    init_error: std::sync::Mutex<Option<Value>>,
    timeout: Duration,
    function_arn: String,
}

pub struct RuntimeApi {
    addr: SocketAddr,
    queue: mpsc::UnboundedSender<(String, Value)>,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

const PREFIX: &str = "/2018-06-01/runtime";

impl RuntimeApi {
    /// Start on a free loopback port. `timeout` is the function timeout the
    /// deadline header announces.
    pub async fn start(function_name: &str, timeout: Duration) -> RuntimeApi {
        let (queue, events) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            events: Mutex::new(events),
            pending: std::sync::Mutex::new(HashMap::new()),
            first_poll: std::sync::Mutex::new(None),
            init_error: std::sync::Mutex::new(None),
            timeout,
            function_arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{function_name}"),
        });
        let app = Router::new()
            .route(&format!("{PREFIX}/invocation/next"), get(next))
            .route(
                &format!("{PREFIX}/invocation/{{id}}/response"),
                post(response),
            )
            .route(&format!("{PREFIX}/invocation/{{id}}/error"), post(error))
            .route(&format!("{PREFIX}/init/error"), post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        RuntimeApi {
            addr,
            queue,
            shared,
            server,
        }
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// The environment Lambda gives a function process.
    pub fn env(&self, function_name: &str, memory_mb: u32) -> Vec<(String, String)> {
        [
            ("AWS_LAMBDA_RUNTIME_API", self.address()),
            ("AWS_LAMBDA_FUNCTION_NAME", function_name.to_string()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory_mb.to_string()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_string()),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{function_name}"),
            ),
            (
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2026/12/01/[$LATEST]local".to_string(),
            ),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON".to_string()),
            (
                "AWS_LAMBDA_FUNCTION_TIMEOUT",
                self.shared.timeout.as_secs().to_string(),
            ),
            ("LAMBDA_TASK_ROOT", "/var/task".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Queue `event`, wait for the function to answer it (at most `wait`).
    pub async fn invoke(&self, event: Value, wait: Duration) -> Invocation {
        let request_id = uuid::Uuid::new_v4().to_string();
        let (done, rx) = oneshot::channel();
        self.shared.pending.lock().unwrap().insert(
            request_id.clone(),
            Pending {
                handed_out: None,
                done: Some(done),
            },
        );
        self.queue.send((request_id.clone(), event)).unwrap();
        match tokio::time::timeout(wait, rx).await {
            Ok(Ok(invocation)) => invocation,
            _ => panic!(
                "the function did not answer invocation {request_id} within {wait:?} (init error: {:?})",
                self.init_error()
            ),
        }
    }

    /// When the function first asked for an event (its init is over).
    pub fn first_poll(&self) -> Option<Instant> {
        *self.shared.first_poll.lock().unwrap()
    }

    /// Wait until the function asks for its first event.
    pub async fn wait_first_poll(&self, wait: Duration) -> Instant {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(t) = self.first_poll() {
                return t;
            }
            assert!(
                Instant::now() < deadline,
                "the function never polled (init error: {:?})",
                self.init_error()
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// What the function posted to `/init/error`, if anything.
    pub fn init_error(&self) -> Option<Value> {
        self.shared.init_error.lock().unwrap().clone()
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    shared
        .first_poll
        .lock()
        .unwrap()
        .get_or_insert_with(Instant::now);
    let Some((id, event)) = shared.events.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    if let Some(p) = shared.pending.lock().unwrap().get_mut(&id) {
        p.handed_out = Some(Instant::now());
    }
    let deadline = SystemTime::now() + shared.timeout;
    let deadline_ms = deadline.duration_since(UNIX_EPOCH).unwrap().as_millis();
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        headers.insert(name, HeaderValue::from_str(&value).unwrap());
    };
    set("lambda-runtime-aws-request-id", id.clone());
    set("lambda-runtime-deadline-ms", deadline_ms.to_string());
    set(
        "lambda-runtime-invoked-function-arn",
        shared.function_arn.clone(),
    );
    set(
        "lambda-runtime-trace-id",
        format!(
            "Root=1-{:08x}-{};Sampled=0",
            deadline_ms / 1000,
            &id.replace('-', "")[..24]
        ),
    );
    set("content-type", "application/json".to_string());
    (StatusCode::OK, headers, event.to_string()).into_response()
}

fn finish(shared: &Shared, id: &str, result: Result<Value, Value>) -> StatusCode {
    let Some(mut p) = shared.pending.lock().unwrap().remove(id) else {
        return StatusCode::BAD_REQUEST;
    };
    let duration = p.handed_out.map(|t| t.elapsed()).unwrap_or_default();
    if let Some(done) = p.done.take() {
        let _ = done.send(Invocation {
            request_id: id.to_string(),
            result,
            duration,
        });
    }
    StatusCode::ACCEPTED
}

fn json(body: &Bytes) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

async fn response(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    finish(&shared, &id, Ok(json(&body)))
}

async fn error(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    finish(&shared, &id, Err(json(&body)))
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    *shared.init_error.lock().unwrap() = Some(json(&body));
    StatusCode::ACCEPTED
}
