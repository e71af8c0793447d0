//! Cache, rate limits and idempotency keys.
//!
//! Everything is built on one small key-value trait, [`KeyValue`], whose
//! operations map one-to-one onto Redis commands (GET, SET PX, SET NX PX,
//! DEL, INCR + PEXPIRE). [`MemoryKv`] is the in-process implementation used
//! in embedded mode; [`RedisKv`] talks to Redis or ElastiCache. Both pass
//! the same behaviour suite (`tests/kv.rs`).

mod idempotency;
mod memory;
mod rate_limit;
mod redis;

use std::time::Duration;

use async_trait::async_trait;

pub use idempotency::{Begin, Idempotency, StoredResponse};
pub use memory::MemoryKv;
pub use rate_limit::{Decision, RateLimiter};
pub use redis::{RedisKv, RedisOptions};

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cache backend unavailable: {0}")]
    Unavailable(String),
    #[error("cache value corrupt: {0}")]
    Corrupt(String),
}

#[async_trait]
pub trait KeyValue: Send + Sync + 'static {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError>;
    async fn set(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), CacheError>;
    /// Set only if absent; true if this call set it.
    async fn set_nx(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<bool, CacheError>;
    async fn delete(&self, key: &str) -> Result<(), CacheError>;
    /// Increment a counter that expires `ttl` after its first increment;
    /// returns the new value and the time left before it expires.
    async fn incr(&self, key: &str, ttl: Duration) -> Result<(u64, Duration), CacheError>;
}
