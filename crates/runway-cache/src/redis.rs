//! Redis / ElastiCache backend.
//!
//! - `redis://host:6379/0` or `rediss://:AUTH_TOKEN@host:6379` (TLS, webpki
//!   roots: ElastiCache's certificates chain to Amazon's public CAs).
//! - Cluster mode: add `?cluster=true` (give the configuration endpoint).
//!   Every operation touches one key, so no cross-slot commands are needed.
//! - Every call is bounded by a short timeout, and after a failure a breaker
//!   skips Redis for a moment: when Redis is down, callers get a fast
//!   `Unavailable` (and fail open) instead of piling up behind a dead
//!   connection. The connection is re-established by itself when Redis
//!   comes back.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use tokio::sync::Mutex;

use crate::{CacheError, KeyValue};

/// INCR with an expiry set on first increment (and repaired if missing);
/// returns the count and the milliseconds left.
const INCR_SCRIPT: &str = r"
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
";

#[derive(Clone)]
enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

#[derive(Clone)]
pub struct RedisKv {
    target: Arc<Target>,
    conn: Arc<Mutex<Option<Conn>>>,
    prefix: String,
    op_timeout: Duration,
    breaker: Duration,
    /// Until when reads and claims skip Redis after a failure.
    open_until: Arc<std::sync::Mutex<Option<Instant>>>,
    script: redis::Script,
}

enum Target {
    Single(redis::Client),
    Cluster(redis::cluster::ClusterClient),
}

#[derive(Debug, Clone)]
pub struct RedisOptions {
    /// Prepended to every key, so several apps can share one Redis.
    pub key_prefix: String,
    /// Bound on each operation, connection set-up included.
    pub op_timeout: Duration,
    /// How long Redis is skipped after a failure.
    pub breaker: Duration,
}

impl Default for RedisOptions {
    fn default() -> Self {
        RedisOptions {
            key_prefix: "runway:".into(),
            op_timeout: Duration::from_millis(250),
            breaker: Duration::from_secs(1),
        }
    }
}

fn unavailable(e: impl std::fmt::Display) -> CacheError {
    CacheError::Unavailable(e.to_string())
}

impl RedisKv {
    /// Parse the URL; connects lazily, so a Redis that is down at start-up
    /// does not stop runway from starting.
    pub fn new(url: &str, options: RedisOptions) -> Result<RedisKv, CacheError> {
        let (url, cluster) = match url.split_once('?') {
            Some((base, query)) if query.split('&').any(|kv| kv == "cluster=true") => {
                let rest: Vec<&str> = query
                    .split('&')
                    .filter(|kv| *kv != "cluster=true")
                    .collect();
                let url = if rest.is_empty() {
                    base.to_string()
                } else {
                    format!("{base}?{}", rest.join("&"))
                };
                (url, true)
            }
            _ => (url.to_string(), false),
        };
        let target = if cluster {
            Target::Cluster(
                redis::cluster::ClusterClient::builder(vec![url])
                    .connection_timeout(options.op_timeout)
                    .response_timeout(options.op_timeout)
                    .build()
                    .map_err(|e| {
                        CacheError::Unavailable(format!("invalid cache URL: {:?}", e.kind()))
                    })?,
            )
        } else {
            Target::Single(redis::Client::open(url).map_err(|e| {
                CacheError::Unavailable(format!("invalid cache URL: {:?}", e.kind()))
            })?)
        };
        Ok(RedisKv {
            target: Arc::new(target),
            conn: Arc::new(Mutex::new(None)),
            prefix: options.key_prefix,
            op_timeout: options.op_timeout,
            breaker: options.breaker,
            open_until: Arc::new(std::sync::Mutex::new(None)),
            script: redis::Script::new(INCR_SCRIPT),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    async fn connection(&self) -> Result<Conn, CacheError> {
        let mut guard = self.conn.lock().await;
        if let Some(conn) = guard.as_ref() {
            return Ok(conn.clone());
        }
        let conn = match self.target.as_ref() {
            Target::Single(client) => Conn::Single(
                client
                    .get_connection_manager_with_config(
                        ConnectionManagerConfig::new()
                            .set_connection_timeout(self.op_timeout)
                            .set_response_timeout(self.op_timeout)
                            .set_number_of_retries(1),
                    )
                    .await
                    .map_err(unavailable)?,
            ),
            Target::Cluster(client) => {
                Conn::Cluster(client.get_async_connection().await.map_err(unavailable)?)
            }
        };
        *guard = Some(conn.clone());
        Ok(conn)
    }

    /// Run one operation within the timeout. Reads and claims (`guarded`)
    /// also respect the breaker; writes that finish earlier work (storing an
    /// idempotent response, releasing a key) always try.
    async fn run<T, F, Fut>(&self, guarded: bool, op: F) -> Result<T, CacheError>
    where
        F: FnOnce(Conn) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        let open = self
            .open_until
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some_and(|until| Instant::now() < until);
        if guarded && open {
            return Err(CacheError::Unavailable(
                "redis recently failed; skipping".into(),
            ));
        }
        let started = Instant::now();
        let result = tokio::time::timeout(self.op_timeout, async {
            let conn = self.connection().await?;
            op(conn).await.map_err(unavailable)
        })
        .await
        .unwrap_or_else(|_| Err(CacheError::Unavailable("redis timed out".into())));
        if let Err(e) = &result {
            *self.open_until.lock().unwrap_or_else(|p| p.into_inner()) =
                Some(Instant::now() + self.breaker);
            tracing::warn!(error = %e, elapsed_ms = started.elapsed().as_millis() as u64, "cache unavailable");
        }
        result
    }
}

async fn query<T: redis::FromRedisValue>(conn: Conn, cmd: redis::Cmd) -> redis::RedisResult<T> {
    match conn {
        Conn::Single(mut c) => cmd.query_async(&mut c).await,
        Conn::Cluster(mut c) => cmd.query_async(&mut c).await,
    }
}

async fn invoke(
    conn: Conn,
    script: &redis::Script,
    key: &str,
    ttl_ms: u64,
) -> redis::RedisResult<(u64, i64)> {
    let mut invocation = script.key(key);
    invocation.arg(ttl_ms);
    match conn {
        Conn::Single(mut c) => invocation.invoke_async(&mut c).await,
        Conn::Cluster(mut c) => invocation.invoke_async(&mut c).await,
    }
}

#[async_trait]
impl KeyValue for RedisKv {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let key = self.key(key);
        self.run(true, |c| query(c, redis::cmd("GET").arg(key).clone()))
            .await
    }

    async fn set(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), CacheError> {
        let key = self.key(key);
        let ms = ttl.as_millis().max(1) as u64;
        self.run(false, |c| {
            query::<()>(
                c,
                redis::cmd("SET")
                    .arg(key)
                    .arg(value)
                    .arg("PX")
                    .arg(ms)
                    .clone(),
            )
        })
        .await
    }

    async fn set_nx(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<bool, CacheError> {
        let key = self.key(key);
        let ms = ttl.as_millis().max(1) as u64;
        let reply: Option<String> = self
            .run(true, |c| {
                query(
                    c,
                    redis::cmd("SET")
                        .arg(key)
                        .arg(value)
                        .arg("NX")
                        .arg("PX")
                        .arg(ms)
                        .clone(),
                )
            })
            .await?;
        Ok(reply.is_some())
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        let key = self.key(key);
        self.run(false, |c| {
            query::<()>(c, redis::cmd("DEL").arg(key).clone())
        })
        .await
    }

    async fn incr(&self, key: &str, ttl: Duration) -> Result<(u64, Duration), CacheError> {
        let key = self.key(key);
        let ms = ttl.as_millis().max(1) as u64;
        let script = self.script.clone();
        let (n, left) = self
            .run(true, |c| async move { invoke(c, &script, &key, ms).await })
            .await?;
        Ok((n, Duration::from_millis(left.max(0) as u64)))
    }
}
