use std::time::{Duration, Instant};

use async_trait::async_trait;
use moka::ops::compute::Op;
use moka::sync::Cache;

use crate::{CacheError, KeyValue};

#[derive(Clone)]
struct Entry {
    value: Vec<u8>,
    expires_at: Instant,
}

struct PerEntryExpiry;

impl moka::Expiry<String, Entry> for PerEntryExpiry {
    fn expire_after_create(&self, _key: &String, value: &Entry, now: Instant) -> Option<Duration> {
        Some(value.expires_at.saturating_duration_since(now))
    }

    fn expire_after_update(
        &self,
        _key: &String,
        value: &Entry,
        now: Instant,
        _current: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.expires_at.saturating_duration_since(now))
    }
}

/// The in-process cache: a bounded, TinyLFU-evicted map with per-entry
/// expiry (moka). Each key's read-modify-write is atomic.
#[derive(Clone)]
pub struct MemoryKv {
    inner: Cache<String, Entry>,
}

impl MemoryKv {
    pub fn new(max_entries: u64) -> Self {
        MemoryKv {
            inner: Cache::builder()
                .max_capacity(max_entries)
                .expire_after(PerEntryExpiry)
                .build(),
        }
    }

    fn live(&self, key: &str, now: Instant) -> Option<Entry> {
        self.inner.get(key).filter(|e| e.expires_at > now)
    }
}

#[async_trait]
impl KeyValue for MemoryKv {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        Ok(self.live(key, Instant::now()).map(|e| e.value))
    }

    async fn set(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), CacheError> {
        self.inner.insert(
            key.to_string(),
            Entry {
                value,
                expires_at: Instant::now() + ttl,
            },
        );
        Ok(())
    }

    async fn set_nx(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<bool, CacheError> {
        let now = Instant::now();
        let result =
            self.inner
                .entry(key.to_string())
                .and_compute_with(|existing| match existing {
                    Some(e) if e.value().expires_at > now => Op::Nop,
                    _ => Op::Put(Entry {
                        value,
                        expires_at: now + ttl,
                    }),
                });
        Ok(matches!(
            result,
            moka::ops::compute::CompResult::Inserted(_)
                | moka::ops::compute::CompResult::ReplacedWith(_)
        ))
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        self.inner.invalidate(key);
        Ok(())
    }

    async fn incr(&self, key: &str, ttl: Duration) -> Result<(u64, Duration), CacheError> {
        let now = Instant::now();
        let result = self
            .inner
            .entry(key.to_string())
            .and_compute_with(|existing| {
                let next = match existing {
                    Some(e) if e.value().expires_at > now => {
                        let e = e.into_value();
                        let n = counter(&e.value) + 1;
                        Entry {
                            value: n.to_le_bytes().to_vec(),
                            expires_at: e.expires_at,
                        }
                    }
                    _ => Entry {
                        value: 1u64.to_le_bytes().to_vec(),
                        expires_at: now + ttl,
                    },
                };
                Op::Put(next)
            });
        let entry = match result {
            moka::ops::compute::CompResult::Inserted(e)
            | moka::ops::compute::CompResult::ReplacedWith(e) => e.into_value(),
            _ => return Err(CacheError::Corrupt("counter update lost".into())),
        };
        Ok((
            counter(&entry.value),
            entry.expires_at.saturating_duration_since(now),
        ))
    }
}

fn counter(bytes: &[u8]) -> u64 {
    bytes.try_into().map(u64::from_le_bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn set_get_expire() {
        let kv = MemoryKv::new(100);
        kv.set("a", b"1".to_vec(), Duration::from_millis(300))
            .await
            .unwrap();
        assert_eq!(kv.get("a").await.unwrap(), Some(b"1".to_vec()));
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(kv.get("a").await.unwrap(), None);
    }

    #[tokio::test]
    async fn set_nx_only_once_until_expiry() {
        let kv = MemoryKv::new(100);
        assert!(
            kv.set_nx("k", b"x".to_vec(), Duration::from_millis(300))
                .await
                .unwrap()
        );
        assert!(
            !kv.set_nx("k", b"y".to_vec(), Duration::from_secs(5))
                .await
                .unwrap()
        );
        assert_eq!(kv.get("k").await.unwrap(), Some(b"x".to_vec()));
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(
            kv.set_nx("k", b"z".to_vec(), Duration::from_secs(5))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn incr_counts_within_ttl() {
        let kv = MemoryKv::new(100);
        for i in 1..=5 {
            let (n, left) = kv.incr("c", Duration::from_millis(300)).await.unwrap();
            assert_eq!(n, i);
            assert!(left <= Duration::from_millis(300));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(kv.incr("c", Duration::from_secs(1)).await.unwrap().0, 1);
    }

    #[tokio::test]
    async fn concurrent_incr_loses_nothing() {
        let kv = MemoryKv::new(100);
        let mut handles = Vec::new();
        for _ in 0..8 {
            let kv = kv.clone();
            handles.push(tokio::spawn(async move {
                for _ in 0..100 {
                    kv.incr("n", Duration::from_secs(10)).await.unwrap();
                }
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
        assert_eq!(kv.incr("n", Duration::from_secs(10)).await.unwrap().0, 801);
    }
}
