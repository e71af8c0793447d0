//! The database queue and the worker, against a real SQLite file.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use runway_jobs::{
    Backoff, DbQueue, Job, JobError, NewMessage, Queue, QueueError, Registry, Worker, WorkerConfig,
};
use runway_store::{Db, DbOptions};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

async fn queue() -> (tempfile::TempDir, DbQueue) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(
        &format!("sqlite://{}/q.db", dir.path().display()),
        &DbOptions::default(),
    )
    .await
    .unwrap();
    db.migrate().await.unwrap();
    (dir, DbQueue::new(db, "default"))
}

fn config(max_attempts: u32) -> WorkerConfig {
    WorkerConfig {
        concurrency: 2,
        poll_interval: Duration::from_millis(20),
        lease: Duration::from_secs(5),
        max_attempts,
        backoff: Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_secs(2),
        },
        shutdown_grace: Duration::from_secs(5),
    }
}

#[derive(Default)]
struct Ctx {
    attempts: Mutex<Vec<Instant>>,
}

#[derive(Serialize, Deserialize)]
struct AlwaysFails;

#[async_trait]
impl Job for AlwaysFails {
    const KIND: &'static str = "test.always_fails";
    type Context = Arc<Ctx>;
    async fn run(&self, ctx: &Arc<Ctx>) -> Result<(), JobError> {
        ctx.attempts.lock().unwrap().push(Instant::now());
        Err(anyhow::anyhow!("downstream unavailable").into())
    }
}

#[derive(Serialize, Deserialize)]
struct BadInput;

#[async_trait]
impl Job for BadInput {
    const KIND: &'static str = "test.bad_input";
    type Context = Arc<Ctx>;
    async fn run(&self, ctx: &Arc<Ctx>) -> Result<(), JobError> {
        ctx.attempts.lock().unwrap().push(Instant::now());
        Err(JobError::Permanent(anyhow::anyhow!("input can never work")))
    }
}

#[derive(Serialize, Deserialize)]
struct PanicsOnce;

#[async_trait]
impl Job for PanicsOnce {
    const KIND: &'static str = "test.panics_once";
    type Context = Arc<Ctx>;
    async fn run(&self, ctx: &Arc<Ctx>) -> Result<(), JobError> {
        let first = {
            let mut a = ctx.attempts.lock().unwrap();
            a.push(Instant::now());
            a.len() == 1
        };
        if first {
            panic!("boom");
        }
        Ok(())
    }
}

async fn wait_until<F, Fut>(what: &str, mut check: F)
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

#[tokio::test]
async fn failing_job_retries_with_backoff_then_is_dead_lettered() {
    let (_dir, q) = queue().await;
    let ctx = Arc::new(Ctx::default());
    let id = AlwaysFails.enqueue(&q).await.unwrap();
    let worker = Worker::new(
        Arc::new(q.clone()),
        Registry::new().register::<AlwaysFails>(),
        ctx.clone(),
        config(3),
    );
    let cancel = CancellationToken::new();
    let handle = tokio::spawn(worker.run(cancel.clone()));

    wait_until("dead letter", || async {
        !q.dead_letters().await.unwrap().is_empty()
    })
    .await;
    cancel.cancel();
    handle.await.unwrap();

    let dead = q.dead_letters().await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].0, id);
    assert_eq!(dead[0].2, 3, "attempts");
    assert!(dead[0].3.contains("downstream unavailable"));

    let at = ctx.attempts.lock().unwrap().clone();
    assert_eq!(at.len(), 3, "ran exactly max_attempts times");
    // Backoff with jitter: attempt 1 waits 50..100 ms, attempt 2 waits 100..200 ms.
    let gap1 = at[1] - at[0];
    let gap2 = at[2] - at[1];
    assert!(gap1 >= Duration::from_millis(50), "{gap1:?}");
    assert!(gap2 >= Duration::from_millis(100), "{gap2:?}");

    let stats = q.stats().await.unwrap();
    assert_eq!(stats.dead, 1);
    assert_eq!(stats.depth, 0);
}

#[tokio::test]
async fn permanent_errors_and_bad_payloads_dead_letter_at_once() {
    let (_dir, q) = queue().await;
    let ctx = Arc::new(Ctx::default());
    BadInput.enqueue(&q).await.unwrap();
    q.send(NewMessage {
        kind: AlwaysFails::KIND.into(),
        payload: "{not json".into(),
        not_before: None,
        dedup_key: None,
    })
    .await
    .unwrap();
    let worker = Worker::new(
        Arc::new(q.clone()),
        Registry::new()
            .register::<BadInput>()
            .register::<AlwaysFails>(),
        ctx.clone(),
        config(5),
    );
    assert_eq!(worker.run_until_idle().await.unwrap(), 2);
    let dead = q.dead_letters().await.unwrap();
    assert_eq!(dead.len(), 2);
    assert!(dead.iter().all(|d| d.2 == 1));
    assert!(
        dead.iter()
            .any(|d| d.3.contains("invalid test.always_fails payload"))
    );
    assert_eq!(ctx.attempts.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_panicking_job_is_retried_not_lost() {
    let (_dir, q) = queue().await;
    let ctx = Arc::new(Ctx::default());
    PanicsOnce.enqueue(&q).await.unwrap();
    let worker = Worker::new(
        Arc::new(q.clone()),
        Registry::new().register::<PanicsOnce>(),
        ctx.clone(),
        config(5),
    );
    let cancel = CancellationToken::new();
    let handle = tokio::spawn(worker.run(cancel.clone()));
    wait_until("second attempt done", || async {
        q.stats().await.unwrap().depth == 0
    })
    .await;
    cancel.cancel();
    handle.await.unwrap();
    assert_eq!(ctx.attempts.lock().unwrap().len(), 2);
    assert!(q.dead_letters().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_expired_lease_makes_the_message_visible_again() {
    let (_dir, q) = queue().await;
    let id = q
        .send(NewMessage {
            kind: "k".into(),
            payload: "{}".into(),
            not_before: None,
            dedup_key: None,
        })
        .await
        .unwrap();
    let first = q.receive(10, Duration::from_millis(300)).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].attempts, 1);
    assert!(
        q.receive(10, Duration::from_secs(5))
            .await
            .unwrap()
            .is_empty()
    );

    tokio::time::sleep(Duration::from_millis(400)).await;
    let second = q.receive(10, Duration::from_secs(5)).await.unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].id, id);
    assert_eq!(second[0].attempts, 2);

    // The first holder lost its lease: it can neither ack nor extend.
    assert!(matches!(
        q.delete(&first[0].receipt).await,
        Err(QueueError::LeaseLost)
    ));
    assert!(matches!(
        q.extend(&first[0].receipt, Duration::from_secs(1)).await,
        Err(QueueError::LeaseLost)
    ));
    q.delete(&second[0].receipt).await.unwrap();
    assert_eq!(q.stats().await.unwrap().depth, 0);
}

#[tokio::test]
async fn scheduled_and_deduplicated_messages() {
    let (_dir, q) = queue().await;
    let later = SystemTime::now() + Duration::from_millis(300);
    let msg = NewMessage {
        kind: "k".into(),
        payload: "{}".into(),
        not_before: Some(later),
        dedup_key: Some("user-1".into()),
    };
    let a = q.send(msg.clone()).await.unwrap();
    let b = q.send(msg).await.unwrap();
    assert_eq!(a, b, "same dedup key, same message");
    assert_eq!(q.stats().await.unwrap().depth, 1);
    assert!(
        q.receive(10, Duration::from_secs(5))
            .await
            .unwrap()
            .is_empty()
    );
    tokio::time::sleep(Duration::from_millis(350)).await;
    let got = q.receive(10, Duration::from_secs(5)).await.unwrap();
    assert_eq!(got.len(), 1);
    assert!(q.stats().await.unwrap().oldest_age_secs > 0.0);
}

#[tokio::test]
async fn concurrent_receivers_never_share_a_message() {
    let (_dir, q) = queue().await;
    for i in 0..60 {
        q.send(NewMessage {
            kind: "k".into(),
            payload: format!("{{\"i\":{i}}}"),
            not_before: None,
            dedup_key: None,
        })
        .await
        .unwrap();
    }
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let q = q.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = q.receive(3, Duration::from_secs(30)).await.unwrap();
                if batch.is_empty() {
                    return mine;
                }
                for d in batch {
                    q.delete(&d.receipt).await.unwrap();
                    mine.push(d.id);
                }
            }
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), 60);
    assert_eq!(unique.len(), 60);
}

#[tokio::test]
async fn shutdown_drains_a_running_job() {
    #[derive(Serialize, Deserialize)]
    struct Slow;
    #[async_trait]
    impl Job for Slow {
        const KIND: &'static str = "test.slow";
        type Context = Arc<Ctx>;
        async fn run(&self, ctx: &Arc<Ctx>) -> Result<(), JobError> {
            ctx.attempts.lock().unwrap().push(Instant::now());
            tokio::time::sleep(Duration::from_millis(500)).await;
            Ok(())
        }
    }
    let (_dir, q) = queue().await;
    let ctx = Arc::new(Ctx::default());
    Slow.enqueue(&q).await.unwrap();
    let worker = Worker::new(
        Arc::new(q.clone()),
        Registry::new().register::<Slow>(),
        ctx.clone(),
        config(3),
    );
    let cancel = CancellationToken::new();
    let handle = tokio::spawn(worker.run(cancel.clone()));
    wait_until("job started", || async {
        !ctx.attempts.lock().unwrap().is_empty()
    })
    .await;
    cancel.cancel();
    handle.await.unwrap();
    // It finished and was acknowledged before run() returned.
    assert_eq!(q.stats().await.unwrap().depth, 0);
    assert_eq!(ctx.attempts.lock().unwrap().len(), 1);
}
