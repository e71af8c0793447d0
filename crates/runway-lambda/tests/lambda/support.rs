use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::Value;

pub fn fixture(name: &str, vars: &[(&str, &str)]) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    for (k, v) in vars {
        text = text.replace(&format!("{{{{{k}}}}}"), v);
    }
    text
}

/// An SQS event (as Lambda's SQS integration sends it) carrying `bodies`,
/// keyed by message id.
pub fn sqs_event(messages: &[(&str, String)]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|(id, body)| {
            let mut m: Value =
                serde_json::from_str(&fixture("sqs-message.json", &[("message_id", id)])).unwrap();
            m["body"] = Value::String(body.clone());
            m
        })
        .collect();
    serde_json::json!({ "Records": records })
}

/// An S3 ObjectCreated notification for `key` (encoded as S3 encodes it).
pub fn object_created(bucket: &str, key: &str, size: u64) -> String {
    let encoded: String = key
        .bytes()
        .map(|b| match b {
            b' ' => "+".to_string(),
            b if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.') => {
                (b as char).to_string()
            }
            b => format!("%{b:02X}"),
        })
        .collect();
    let text = fixture(
        "s3-object-created.json",
        &[
            ("bucket", bucket),
            ("key", &encoded),
            ("size", &size.to_string()),
        ],
    );
    // Compact, as S3 sends it.
    serde_json::from_str::<Value>(&text).unwrap().to_string()
}

/// A JPEG of `w`×`h` with a gradient.
pub fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, 128])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

/// A local webhook: records every POST (path, JSON body) and answers with
/// statuses scripted per path (then 200).
#[derive(Clone, Default)]
pub struct Receiver {
    pub posts: Arc<Mutex<Vec<(String, Value)>>>,
    script: Arc<Mutex<std::collections::HashMap<String, Vec<u16>>>>,
}

impl Receiver {
    pub async fn start() -> (Receiver, String) {
        let receiver = Receiver::default();
        let app = Router::new()
            .route("/{*path}", post(receive))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        (receiver, base)
    }

    /// Answer the next requests to `path` with these statuses (0: hang).
    pub fn script(&self, path: &str, statuses: &[u16]) {
        self.script
            .lock()
            .unwrap()
            .insert(path.to_string(), statuses.to_vec());
    }

    pub fn posts_to(&self, path: &str) -> Vec<Value> {
        self.posts
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, b)| b.clone())
            .collect()
    }

    pub async fn wait_for(&self, path: &str, n: usize) -> Vec<Value> {
        for _ in 0..500 {
            let posts = self.posts_to(path);
            if posts.len() >= n {
                return posts;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{path}: expected {n} posts, got {:?}", self.posts_to(path));
    }
}

async fn receive(
    State(r): State<Receiver>,
    uri: axum::http::Uri,
    body: axum::body::Bytes,
) -> StatusCode {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    r.posts.lock().unwrap().push((uri.path().to_string(), body));
    let next = {
        let mut script = r.script.lock().unwrap();
        match script.get_mut(uri.path()) {
            Some(statuses) if !statuses.is_empty() => statuses.remove(0),
            _ => 200,
        }
    };
    if next == 0 {
        // 0: hang (a webhook that accepts the connection and never answers).
        tokio::time::sleep(Duration::from_secs(30)).await;
        return StatusCode::OK;
    }
    StatusCode::from_u16(next).unwrap()
}
