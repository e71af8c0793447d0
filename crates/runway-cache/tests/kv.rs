//! One behaviour suite for every `KeyValue` backend: in-process and Redis,
//! plus the rate limiter and idempotency store on top of each.

use std::sync::Arc;
use std::time::Duration;

use runway_cache::{
    Begin, Decision, Idempotency, KeyValue, MemoryKv, RateLimiter, RedisKv, RedisOptions,
    StoredResponse,
};

fn memory() -> Arc<dyn KeyValue> {
    Arc::new(MemoryKv::new(10_000))
}

fn redis() -> Arc<dyn KeyValue> {
    Arc::new(
        RedisKv::new(
            &runway_testkit::redis_url(),
            RedisOptions {
                key_prefix: runway_testkit::unique("runway-test:") + ":",
                // Generous: a slow first connect must not open the breaker.
                op_timeout: Duration::from_secs(2),
                ..RedisOptions::default()
            },
        )
        .unwrap(),
    )
}

macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(#[tokio::test]
            async fn $name() { super::$name(super::memory()).await; })*
        }
        mod redis {
            $(#[tokio::test]
            async fn $name() { super::$name(super::redis()).await; })*
        }
    };
}

suite!(
    set_get_delete_and_expiry,
    set_nx_claims_once,
    incr_counts_and_expires,
    concurrent_increments_lose_nothing,
    rate_limiter_limits,
    idempotency_lifecycle,
);

async fn set_get_delete_and_expiry(kv: Arc<dyn KeyValue>) {
    assert_eq!(kv.get("missing").await.unwrap(), None);
    kv.set("a", b"one".to_vec(), Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(kv.get("a").await.unwrap(), Some(b"one".to_vec()));
    kv.set("a", b"two".to_vec(), Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(kv.get("a").await.unwrap(), Some(b"two".to_vec()));
    kv.delete("a").await.unwrap();
    assert_eq!(kv.get("a").await.unwrap(), None);
    kv.set("short", vec![0, 159, 146, 150], Duration::from_millis(80))
        .await
        .unwrap();
    assert_eq!(
        kv.get("short").await.unwrap(),
        Some(vec![0, 159, 146, 150]),
        "binary safe"
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(kv.get("short").await.unwrap(), None);
}

async fn set_nx_claims_once(kv: Arc<dyn KeyValue>) {
    assert!(
        kv.set_nx("claim", b"x".to_vec(), Duration::from_millis(100))
            .await
            .unwrap()
    );
    assert!(
        !kv.set_nx("claim", b"y".to_vec(), Duration::from_secs(5))
            .await
            .unwrap()
    );
    assert_eq!(kv.get("claim").await.unwrap(), Some(b"x".to_vec()));
    tokio::time::sleep(Duration::from_millis(160)).await;
    assert!(
        kv.set_nx("claim", b"z".to_vec(), Duration::from_secs(5))
            .await
            .unwrap()
    );
}

async fn incr_counts_and_expires(kv: Arc<dyn KeyValue>) {
    for i in 1..=3 {
        let (n, left) = kv
            .incr("counter", Duration::from_millis(150))
            .await
            .unwrap();
        assert_eq!(n, i);
        assert!(
            left <= Duration::from_millis(150) && left > Duration::ZERO,
            "{left:?}"
        );
    }
    tokio::time::sleep(Duration::from_millis(220)).await;
    assert_eq!(
        kv.incr("counter", Duration::from_secs(5)).await.unwrap().0,
        1
    );
}

async fn concurrent_increments_lose_nothing(kv: Arc<dyn KeyValue>) {
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let kv = kv.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..25 {
                kv.incr("shared", Duration::from_secs(30)).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        kv.incr("shared", Duration::from_secs(30)).await.unwrap().0,
        201
    );
}

async fn rate_limiter_limits(kv: Arc<dyn KeyValue>) {
    let rl = RateLimiter::new(kv);
    let window = Duration::from_secs(3600);
    let mut results = Vec::new();
    for _ in 0..5 {
        results.push(rl.check("client", 3, window).await.unwrap());
    }
    // A one-hour window: no boundary inside the loop in practice; allow one.
    let allowed = results
        .iter()
        .filter(|d| matches!(d, Decision::Allowed { .. }))
        .count();
    assert!((3..=4).contains(&allowed), "{results:?}");
    assert!(
        results
            .iter()
            .any(|d| matches!(d, Decision::Limited { retry_after } if *retry_after <= window))
    );
}

async fn idempotency_lifecycle(kv: Arc<dyn KeyValue>) {
    let idem = Idempotency::new(kv, Duration::from_secs(60), Duration::from_secs(60));
    assert_eq!(idem.begin("k", "fp").await.unwrap(), Begin::Proceed);
    assert_eq!(idem.begin("k", "fp").await.unwrap(), Begin::InFlight);
    assert_eq!(idem.begin("k", "other").await.unwrap(), Begin::Mismatch);
    let resp = StoredResponse {
        status: 201,
        headers: vec![("content-type".into(), "application/json".into())],
        body: b"{\"ok\":true}".to_vec(),
    };
    idem.complete("k", "fp", resp.clone()).await.unwrap();
    assert_eq!(idem.begin("k", "fp").await.unwrap(), Begin::Replay(resp));
    idem.abandon("k").await.unwrap();
    assert_eq!(idem.begin("k", "fp").await.unwrap(), Begin::Proceed);
}

/// Redis down: operations fail fast (no hang), and work again by themselves
/// once Redis is back. Uses a private redis-server so other tests are unaffected.
#[tokio::test]
async fn redis_outage_fails_fast_and_recovers() {
    let server = runway_testkit::RedisServer::start();
    let kv = RedisKv::new(&server.url(), RedisOptions::default()).unwrap();
    kv.set("k", b"v".to_vec(), Duration::from_secs(60))
        .await
        .unwrap();

    server.stop();
    let started = std::time::Instant::now();
    assert!(kv.get("k").await.is_err());
    // While the breaker is open, calls do not even try.
    assert!(kv.get("k").await.is_err());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    server.restart();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        // Redis kept nothing on disk: the value is gone but the command works.
        if let Ok(v) = kv.get("k").await {
            assert_eq!(v, None);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "did not recover");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    kv.set("k2", b"v".to_vec(), Duration::from_secs(60))
        .await
        .unwrap();
}
