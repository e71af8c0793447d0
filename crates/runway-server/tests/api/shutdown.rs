use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use axum::body::Body;
use reqwest::StatusCode;
use runway_jobs::{Job, JobError};
use runway_server::AppState;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

use crate::helpers::*;

/// A job that takes a while, leaving markers so the test can see it run.
#[derive(Serialize, Deserialize)]
struct SlowJob {
    dir: PathBuf,
}

#[async_trait]
impl Job for SlowJob {
    const KIND: &'static str = "test.slow";
    type Context = AppState;
    async fn run(&self, _: &AppState) -> Result<(), JobError> {
        std::fs::write(self.dir.join("started"), b"")?;
        tokio::time::sleep(Duration::from_millis(800)).await;
        std::fs::write(self.dir.join("finished"), b"")?;
        Ok(())
    }
}

#[tokio::test]
async fn shutdown_finishes_an_in_flight_request_and_a_running_job() {
    let mut app = TestApp::spawn_with(|_| {}, |r| r.register_job::<SlowJob>()).await;
    let markers = tempfile::tempdir().unwrap();
    SlowJob {
        dir: markers.path().to_path_buf(),
    }
    .enqueue(app.state.queue.as_ref())
    .await
    .unwrap();
    let started = markers.path().join("started");
    eventually("the job to start", || {
        let started = started.clone();
        async move { started.exists() }
    })
    .await;

    // A request whose body is still arriving when shutdown begins. The
    // server sends "100 Continue" once the handler reads the body, which
    // proves the request is in flight.
    let body = format!(r#"{{"email":"late@example.com","password":"{PASSWORD}"}}"#);
    let mut conn = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    conn.write_all(
        format!(
            "POST /v1/auth/register HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\ncontent-length: {}\r\nexpect: 100-continue\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut interim = Vec::new();
    while !interim.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        conn.read_exact(&mut byte).await.unwrap();
        interim.push(byte[0]);
    }
    assert!(interim.starts_with(b"HTTP/1.1 100"));

    let state = app.state.clone();
    app.trigger_shutdown();
    eventually("shutdown to begin", || {
        let s = state.clone();
        async move { s.is_shutting_down() }
    })
    .await;

    // Readiness fails as soon as shutdown begins.
    let ready = runway_server::router(state.clone())
        .oneshot(
            axum::http::Request::get("/readyz")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);

    // New connections are refused.
    let addr = app.addr;
    eventually("the listener to close", || async move {
        tokio::net::TcpStream::connect(addr).await.is_err()
    })
    .await;

    // The in-flight request completes.
    conn.write_all(body.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    conn.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");

    // serve() returns cleanly after the job finished and was acknowledged.
    app.stop().await.unwrap();
    assert!(markers.path().join("finished").exists());
    // serve() closed its pool; look at the queue through a new connection.
    let db = runway_store::Db::connect(
        &state.config.database_url(),
        &runway_store::DbOptions::default(),
    )
    .await
    .unwrap();
    let queue = runway_jobs::DbQueue::new(db, "default");
    use runway_jobs::Queue;
    assert_eq!(
        queue.stats().await.unwrap().depth,
        0,
        "the job was acknowledged"
    );
}
