use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::{CacheError, KeyValue};

/// A response kept for replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    #[serde(with = "b64")]
    pub body: Vec<u8>,
}

mod b64 {
    use super::*;
    pub fn serialize<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(v))
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        STANDARD.decode(s).map_err(serde::de::Error::custom)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum Record {
    InFlight {
        fingerprint: String,
    },
    Done {
        fingerprint: String,
        response: StoredResponse,
    },
}

/// What to do with a request carrying an `Idempotency-Key`.
#[derive(Debug, PartialEq, Eq)]
pub enum Begin {
    /// First time: process it, then call `complete` or `abandon`.
    Proceed,
    /// The same request is being processed right now.
    InFlight,
    /// Already done: send this response again.
    Replay(StoredResponse),
    /// The key was used with a different request.
    Mismatch,
}

/// Idempotency keys over the shared key-value store.
#[derive(Clone)]
pub struct Idempotency {
    kv: Arc<dyn KeyValue>,
    ttl: Duration,
    in_flight_ttl: Duration,
}

impl Idempotency {
    /// `ttl`: how long a finished response is replayed. `in_flight_ttl`: how
    /// long a claim lasts if its process dies before finishing.
    pub fn new(kv: Arc<dyn KeyValue>, ttl: Duration, in_flight_ttl: Duration) -> Self {
        Idempotency {
            kv,
            ttl,
            in_flight_ttl,
        }
    }

    fn key(scope: &str) -> String {
        format!("idem:{scope}")
    }

    pub async fn begin(&self, scope: &str, fingerprint: &str) -> Result<Begin, CacheError> {
        let key = Self::key(scope);
        let claim = serde_json::to_vec(&Record::InFlight {
            fingerprint: fingerprint.to_string(),
        })
        .map_err(|e| CacheError::Corrupt(e.to_string()))?;
        // Claim the key; if it is taken, read what holds it. The record may
        // expire between the two calls, so try the pair twice.
        for _ in 0..2 {
            if self
                .kv
                .set_nx(&key, claim.clone(), self.in_flight_ttl)
                .await?
            {
                return Ok(Begin::Proceed);
            }
            let Some(bytes) = self.kv.get(&key).await? else {
                continue;
            };
            let record: Record =
                serde_json::from_slice(&bytes).map_err(|e| CacheError::Corrupt(e.to_string()))?;
            return Ok(match record {
                Record::InFlight { fingerprint: f } if f == fingerprint => Begin::InFlight,
                Record::Done {
                    fingerprint: f,
                    response,
                } if f == fingerprint => Begin::Replay(response),
                _ => Begin::Mismatch,
            });
        }
        Ok(Begin::InFlight)
    }

    pub async fn complete(
        &self,
        scope: &str,
        fingerprint: &str,
        response: StoredResponse,
    ) -> Result<(), CacheError> {
        let record = serde_json::to_vec(&Record::Done {
            fingerprint: fingerprint.to_string(),
            response,
        })
        .map_err(|e| CacheError::Corrupt(e.to_string()))?;
        self.kv.set(&Self::key(scope), record, self.ttl).await
    }

    /// Release the key so the request can be retried (after a server error).
    pub async fn abandon(&self, scope: &str) -> Result<(), CacheError> {
        self.kv.delete(&Self::key(scope)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryKv;

    #[tokio::test]
    async fn lifecycle() {
        let idem = Idempotency::new(
            Arc::new(MemoryKv::new(100)),
            Duration::from_secs(60),
            Duration::from_secs(60),
        );
        assert_eq!(idem.begin("k", "fp1").await.unwrap(), Begin::Proceed);
        assert_eq!(idem.begin("k", "fp1").await.unwrap(), Begin::InFlight);
        assert_eq!(idem.begin("k", "fp2").await.unwrap(), Begin::Mismatch);
        let resp = StoredResponse {
            status: 201,
            headers: vec![("content-type".into(), "application/json".into())],
            body: b"{}".to_vec(),
        };
        idem.complete("k", "fp1", resp.clone()).await.unwrap();
        assert_eq!(idem.begin("k", "fp1").await.unwrap(), Begin::Replay(resp));
        assert_eq!(idem.begin("k", "fp2").await.unwrap(), Begin::Mismatch);
        assert_eq!(idem.begin("other", "fp1").await.unwrap(), Begin::Proceed);
        idem.abandon("other").await.unwrap();
        assert_eq!(idem.begin("other", "fp1").await.unwrap(), Begin::Proceed);
    }
}
