use std::net::SocketAddr;
use std::time::{Duration, Instant};

use reqwest::{Response, StatusCode};
use runway_core::Config;
use runway_server::{AppState, Runway, ServeOptions};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const PASSWORD: &str = "correct horse battery";
pub const SECRET: &str = "test-signing-key-0123456789abcdef0123456789";

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    pub handle: Option<JoinHandle<anyhow::Result<()>>>,
    pub _dir: tempfile::TempDir,
}

/// Which backends the suite runs on: `TESTKIT_BACKENDS=production`
/// selects MySQL, Redis, S3 and SQS (moto); otherwise the embedded ones.
pub fn production() -> bool {
    std::env::var("TESTKIT_BACKENDS").as_deref() == Ok("production")
}

pub async fn test_config(dir: &std::path::Path) -> Config {
    let mut config = Config {
        data_dir: dir.to_path_buf(),
        ..Config::default()
    };
    config.auth.jwt_secret = Some(runway_core::Secret::new(SECRET));
    config.jobs.poll_interval_ms = 20;
    config.http.shutdown_grace_secs = 10;
    if production() {
        config.database_url = Some(runway_core::Secret::new(
            runway_testkit::fresh_mysql_url().await,
        ));
        config.cache_url = Some(runway_core::Secret::new(runway_testkit::redis_url()));
        config.cache.key_prefix = runway_testkit::unique("runway-test:") + ":";
        config.storage_url = format!("s3://{}/runway", runway_testkit::fresh_bucket().await);
        config.queue_url = runway_testkit::fresh_queue(10).await.0;
        config.jobs.sqs_wait_secs = 1;
    }
    config
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}, |r| r).await
    }

    pub async fn spawn_with(
        configure: impl FnOnce(&mut Config),
        extend: impl FnOnce(Runway) -> Runway,
    ) -> TestApp {
        runway_server::telemetry::init(
            runway_core::config::LogFormat::Text,
            "warn,runway_server=info",
        );
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = test_config(dir.path()).await;
        config.listen = addr;
        configure(&mut config);
        let runway = extend(Runway::build(config).await.unwrap());
        let state = runway.state().clone();
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(runway.serve(listener, ServeOptions::default(), async {
            let _ = rx.await;
        }));
        TestApp {
            addr,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            state,
            shutdown: Some(tx),
            handle: Some(handle),
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Trigger graceful shutdown and wait for `serve` to return.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.handle.take() {
            Some(h) => h.await?,
            None => Ok(()),
        }
    }

    pub fn trigger_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get_authed(&self, path: &str, token: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// Register `email` and return the auth response.
    pub async fn register(&self, email: &str) -> Value {
        let resp = self
            .post(
                "/v1/auth/register",
                json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        resp.json().await.unwrap()
    }
}

/// Assert a problem+json response with `status` and `code`; returns the body.
pub async fn assert_problem(resp: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(resp.status(), status, "status");
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json"),
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status.as_u16());
    assert_eq!(body["type"], format!("urn:runway:problem:{code}"));
    assert!(body["title"].is_string());
    body
}

/// Poll `check` until it holds, failing after 20 s.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn token(v: &Value, field: &str) -> String {
    v[field].as_str().unwrap().to_string()
}
