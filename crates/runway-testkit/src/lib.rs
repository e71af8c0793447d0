//! Test support shared by the behaviour suites.
//!
//! The suites run every backend against real services: SQLite files,
//! MariaDB/MySQL, Redis and moto (S3, SQS, SNS). Where to find them:
//!
//! | service | variable | default |
//! |---|---|---|
//! | MySQL/MariaDB server | `TESTKIT_MYSQL_URL` | `mysql://root@127.0.0.1:3306` |
//! | Redis | `TESTKIT_REDIS_URL` | `redis://127.0.0.1:6379` |
//! | moto | `AWS_ENDPOINT_URL` | none: `scripts/test` starts moto and sets it |
//!
//! A service that cannot be reached fails the test: suites never skip.

pub mod lambda;
pub mod push;

use runway_store::sqlx::{self, Connection, Executor};

pub fn mysql_server_url() -> String {
    std::env::var("TESTKIT_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".to_string())
        .trim_end_matches('/')
        .to_string()
}

pub fn redis_url() -> String {
    std::env::var("TESTKIT_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string())
}

/// A short random name, unique per call.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}{}",
        &uuid::Uuid::new_v4().simple().to_string()[..16]
    )
}

/// Create an empty database on the test MySQL server and return its URL.
/// Names start with `runway_t_`; `scripts/test` drops them before each run.
pub async fn fresh_mysql_url() -> String {
    let server = mysql_server_url();
    let name = unique("runway_t_");
    let mut conn = sqlx::MySqlConnection::connect(&format!("{server}/mysql"))
        .await
        .unwrap_or_else(|e| {
            panic!(
                "MySQL/MariaDB at {server} is not reachable ({e}); start it or set TESTKIT_MYSQL_URL"
            )
        });
    conn.execute(
        format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin").as_str(),
    )
    .await
    .expect("create test database");
    conn.close().await.ok();
    format!("{server}/{name}")
}

/// The moto endpoint (`AWS_ENDPOINT_URL`), which `scripts/test` sets.
pub fn aws_endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| {
        panic!(
            "AWS_ENDPOINT_URL is not set: the AWS backends are tested against moto; run scripts/test, or start moto with scripts/moto and export what it prints"
        )
    })
}

/// A SQLite URL in a new temporary directory (kept alive by the returned guard).
pub fn sqlite_url() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/runway.db", dir.path().display());
    (dir, url)
}

/// Which database backends a suite runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbBackend {
    Sqlite,
    Mysql,
}

/// A connected, migrated database of the given backend.
pub struct TestDb {
    pub db: runway_store::Db,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

pub async fn test_db(backend: DbBackend) -> TestDb {
    let (dir, url) = match backend {
        DbBackend::Sqlite => {
            let (dir, url) = sqlite_url();
            (Some(dir), url)
        }
        DbBackend::Mysql => (None, fresh_mysql_url().await),
    };
    let db = runway_store::Db::connect(&url, &runway_store::DbOptions::default())
        .await
        .unwrap();
    db.migrate().await.unwrap();
    TestDb { db, url, _dir: dir }
}

/// A private `redis-server` on a free loopback port, for tests that stop and
/// restart Redis without disturbing others. Killed on drop.
pub struct RedisServer {
    port: u16,
    child: std::sync::Mutex<Option<std::process::Child>>,
}

impl RedisServer {
    pub fn start() -> RedisServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let server = RedisServer {
            port,
            child: std::sync::Mutex::new(None),
        };
        server.restart();
        server
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Start (again) on the same port and wait until it answers PING.
    pub fn restart(&self) {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("redis-server is not installed");
        *self.child.lock().unwrap() = Some(child);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            use std::io::{Read, Write};
            if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = s.write_all(b"PING\r\n");
                let mut buf = [0u8; 7];
                if s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n" {
                    return;
                }
            }
            assert!(
                std::time::Instant::now() < deadline,
                "redis-server did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Kill it (connections drop at once).
    pub fn stop(&self) {
        if let Some(mut child) = self.child.lock().unwrap().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The shared AWS configuration, pointed at moto by `AWS_ENDPOINT_URL`.
pub async fn aws_config() -> aws_config::SdkConfig {
    aws_endpoint();
    aws_config::load_from_env().await
}

pub async fn s3_client() -> aws_sdk_s3::Client {
    let config = aws_config().await;
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    )
}

/// A new, empty bucket on moto; returns its name.
pub async fn fresh_bucket() -> String {
    let name = unique("runway-test-");
    s3_client()
        .await
        .create_bucket()
        .bucket(&name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("moto at {} is not usable: {e:?}", aws_endpoint()));
    name
}

pub async fn sqs_client() -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(&aws_config().await)
}

/// A new SQS queue with a dead-letter queue after `max_receives`
/// receives; returns (queue URL, DLQ URL).
pub async fn fresh_queue(max_receives: u32) -> (String, String) {
    use aws_sdk_sqs::types::QueueAttributeName;
    let sqs = sqs_client().await;
    let name = unique("runway-test-");
    let dlq = sqs
        .create_queue()
        .queue_name(format!("{name}-dlq"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("moto at {} is not usable: {e:?}", aws_endpoint()))
        .queue_url
        .unwrap();
    let dlq_arn = sqs
        .get_queue_attributes()
        .queue_url(&dlq)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&QueueAttributeName::QueueArn]
        .clone();
    let url = sqs
        .create_queue()
        .queue_name(&name)
        .attributes(
            QueueAttributeName::RedrivePolicy,
            format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"{max_receives}"}}"#),
        )
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    (url, dlq)
}
