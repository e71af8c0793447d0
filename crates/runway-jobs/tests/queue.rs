//! One behaviour suite for every queue: the database queue on SQLite and on
//! MySQL, and SQS (on moto). Where the backends legitimately differ (SQS
//! counts time in whole seconds, has no deduplication on standard queues,
//! and accepts stale receipts), the backend says so and the test adapts.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use runway_jobs::{
    Backoff, DbQueue, Job, JobError, NewMessage, Queue, QueueError, Registry, SqsQueue, Worker,
    WorkerConfig,
};
use runway_testkit::{DbBackend, TestDb, test_db};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

struct Backend {
    queue: Arc<dyn Queue>,
    /// Smallest delay the backend distinguishes.
    tick: Duration,
    /// A stale receipt is refused (`LeaseLost`) rather than silently accepted.
    strict_leases: bool,
    /// `dedup_key` deduplicates (SQS: FIFO queues only).
    dedups: bool,
    _db: Option<TestDb>,
}

async fn db_backend(kind: DbBackend) -> Backend {
    let t = test_db(kind).await;
    Backend {
        queue: Arc::new(DbQueue::new(t.db.clone(), "default")),
        tick: Duration::from_millis(300),
        strict_leases: true,
        dedups: true,
        _db: Some(t),
    }
}

async fn sqs_backend() -> Backend {
    let (url, _dlq) = runway_testkit::fresh_queue(20).await;
    let client = runway_testkit::sqs_client().await;
    Backend {
        queue: Arc::new(SqsQueue::new(client, &url).with_wait(Duration::from_secs(1))),
        tick: Duration::from_secs(1),
        strict_leases: false,
        dedups: false,
        _db: None,
    }
}

macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $name() { super::$name(super::db_backend(runway_testkit::DbBackend::Sqlite).await).await; })*
        }
        mod mysql {
            $(#[tokio::test]
            async fn $name() { super::$name(super::db_backend(runway_testkit::DbBackend::Mysql).await).await; })*
        }
        mod sqs {
            $(#[tokio::test]
            async fn $name() { super::$name(super::sqs_backend().await).await; })*
        }
    };
}

suite!(
    failing_job_retries_with_backoff_then_is_dead_lettered,
    permanent_errors_and_bad_payloads_dead_letter_at_once,
    a_panicking_job_is_retried_not_lost,
    an_expired_lease_makes_the_message_visible_again,
    scheduled_messages_wait_until_due,
    deduplicated_messages,
    concurrent_receivers_never_share_a_message,
    shutdown_drains_a_running_job,
);

fn config(max_attempts: u32) -> WorkerConfig {
    WorkerConfig {
        concurrency: 2,
        poll_interval: Duration::from_millis(20),
        lease: Duration::from_secs(10),
        max_attempts,
        backoff: Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_secs(2),
        },
        shutdown_grace: Duration::from_secs(10),
        job_timeout: Duration::from_secs(60),
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

async fn wait_until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn message(kind: &str, payload: &str) -> NewMessage {
    NewMessage {
        kind: kind.into(),
        payload: payload.into(),
        not_before: None,
        dedup_key: None,
    }
}

async fn failing_job_retries_with_backoff_then_is_dead_lettered(b: Backend) {
    let ctx = Arc::new(Ctx::default());
    AlwaysFails.enqueue(b.queue.as_ref()).await.unwrap();
    let worker = Worker::new(
        b.queue.clone(),
        Registry::new().register::<AlwaysFails>(),
        ctx.clone(),
        config(3),
    );
    let cancel = CancellationToken::new();
    let handle = tokio::spawn(worker.run(cancel.clone()));
    let q = b.queue.clone();
    wait_until("dead letter", || {
        let q = q.clone();
        async move { q.stats().await.unwrap().dead == 1 }
    })
    .await;
    cancel.cancel();
    handle.await.unwrap();

    let at = ctx.attempts.lock().unwrap().clone();
    assert_eq!(at.len(), 3, "ran exactly max_attempts times");
    // Backoff with jitter: attempt 1 waits 50..100 ms, attempt 2 100..200 ms
    // (rounded up to whole seconds on SQS).
    assert!(
        at[1] - at[0] >= Duration::from_millis(50),
        "{:?}",
        at[1] - at[0]
    );
    assert!(
        at[2] - at[1] >= Duration::from_millis(100),
        "{:?}",
        at[2] - at[1]
    );
    let stats = b.queue.stats().await.unwrap();
    assert_eq!((stats.depth, stats.dead), (0, 1));
}

async fn permanent_errors_and_bad_payloads_dead_letter_at_once(b: Backend) {
    let ctx = Arc::new(Ctx::default());
    BadInput.enqueue(b.queue.as_ref()).await.unwrap();
    b.queue
        .send(message(AlwaysFails::KIND, "{not json"))
        .await
        .unwrap();
    let worker = Worker::new(
        b.queue.clone(),
        Registry::new()
            .register::<BadInput>()
            .register::<AlwaysFails>(),
        ctx.clone(),
        config(5),
    );
    assert_eq!(worker.run_until_idle().await.unwrap(), 2);
    assert_eq!(b.queue.stats().await.unwrap().dead, 2);
    assert_eq!(
        ctx.attempts.lock().unwrap().len(),
        1,
        "the bad payload never ran"
    );
}

async fn a_panicking_job_is_retried_not_lost(b: Backend) {
    let ctx = Arc::new(Ctx::default());
    PanicsOnce.enqueue(b.queue.as_ref()).await.unwrap();
    let worker = Worker::new(
        b.queue.clone(),
        Registry::new().register::<PanicsOnce>(),
        ctx.clone(),
        config(5),
    );
    let cancel = CancellationToken::new();
    let handle = tokio::spawn(worker.run(cancel.clone()));
    let c = ctx.clone();
    wait_until("the second attempt", || {
        let c = c.clone();
        async move { c.attempts.lock().unwrap().len() == 2 }
    })
    .await;
    let q = b.queue.clone();
    wait_until("the ack", || {
        let q = q.clone();
        async move { q.stats().await.unwrap().depth == 0 }
    })
    .await;
    cancel.cancel();
    handle.await.unwrap();
    assert_eq!(b.queue.stats().await.unwrap().dead, 0);
}

async fn an_expired_lease_makes_the_message_visible_again(b: Backend) {
    let q = &b.queue;
    let id = q.send(message("k", "{}")).await.unwrap();
    let lease = b.tick * 3;
    let first = q.receive(10, lease).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].attempts, 1);
    assert!(
        q.receive(10, Duration::from_secs(30))
            .await
            .unwrap()
            .is_empty()
    );

    tokio::time::sleep(lease + b.tick).await;
    let second = q.receive(10, Duration::from_secs(30)).await.unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].id, id);
    assert_eq!(second[0].attempts, 2);
    if b.strict_leases {
        assert!(matches!(
            q.delete(&first[0].receipt).await,
            Err(QueueError::LeaseLost)
        ));
        assert!(matches!(
            q.extend(&first[0].receipt, Duration::from_secs(1)).await,
            Err(QueueError::LeaseLost)
        ));
    }
    q.extend(&second[0].receipt, Duration::from_secs(30))
        .await
        .unwrap();
    q.delete(&second[0].receipt).await.unwrap();
    assert_eq!(q.stats().await.unwrap().depth, 0);
}

async fn scheduled_messages_wait_until_due(b: Backend) {
    let q = &b.queue;
    let due = SystemTime::now() + b.tick * 3;
    q.send(NewMessage {
        not_before: Some(due),
        ..message("k", "{}")
    })
    .await
    .unwrap();
    assert_eq!(q.stats().await.unwrap().depth, 1);
    assert!(
        q.receive(10, Duration::from_secs(30))
            .await
            .unwrap()
            .is_empty()
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = q.receive(10, Duration::from_secs(30)).await.unwrap();
        if !got.is_empty() {
            assert!(SystemTime::now() >= due, "delivered early");
            break;
        }
        assert!(Instant::now() < deadline, "never delivered");
        tokio::time::sleep(b.tick / 4).await;
    }
}

async fn deduplicated_messages(b: Backend) {
    let q = &b.queue;
    let msg = NewMessage {
        dedup_key: Some("user-1".into()),
        ..message("k", "{}")
    };
    let a = q.send(msg.clone()).await.unwrap();
    let c = q.send(msg).await.unwrap();
    if b.dedups {
        assert_eq!(a, c, "same dedup key, same message");
        assert_eq!(q.stats().await.unwrap().depth, 1);
    } else {
        assert_eq!(q.stats().await.unwrap().depth, 2);
    }
}

async fn concurrent_receivers_never_share_a_message(b: Backend) {
    for i in 0..30 {
        b.queue
            .send(message("k", &format!("{{\"i\":{i}}}")))
            .await
            .unwrap();
    }
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let q = b.queue.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            let mut empty = 0;
            while empty < 2 {
                let batch = q.receive(3, Duration::from_secs(60)).await.unwrap();
                if batch.is_empty() {
                    empty += 1;
                    continue;
                }
                for d in batch {
                    q.delete(&d.receipt).await.unwrap();
                    mine.push(d.payload);
                }
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), 30, "every message exactly once");
    assert_eq!(unique.len(), 30);
}

async fn shutdown_drains_a_running_job(b: Backend) {
    let ctx = Arc::new(Ctx::default());
    Slow.enqueue(b.queue.as_ref()).await.unwrap();
    let worker = Worker::new(
        b.queue.clone(),
        Registry::new().register::<Slow>(),
        ctx.clone(),
        config(3),
    );
    let cancel = CancellationToken::new();
    let handle = tokio::spawn(worker.run(cancel.clone()));
    let c = ctx.clone();
    wait_until("the job to start", || {
        let c = c.clone();
        async move { !c.attempts.lock().unwrap().is_empty() }
    })
    .await;
    cancel.cancel();
    handle.await.unwrap();
    assert_eq!(
        b.queue.stats().await.unwrap().depth,
        0,
        "finished and acknowledged"
    );
    assert_eq!(ctx.attempts.lock().unwrap().len(), 1);
}

/// The database queue keeps the last error of a dead-lettered job.
#[tokio::test]
async fn db_dead_letters_keep_the_error() {
    let t = test_db(DbBackend::Sqlite).await;
    let q = DbQueue::new(t.db.clone(), "default");
    let id = BadInput.enqueue(&q).await.unwrap();
    let worker = Worker::new(
        Arc::new(q.clone()),
        Registry::new().register::<BadInput>(),
        Arc::new(Ctx::default()),
        config(3),
    );
    worker.run_until_idle().await.unwrap();
    let dead = q.dead_letters().await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].0, id);
    assert!(dead[0].3.contains("input can never work"));
    let (attempts, state, _) = q.message_state(&id).await.unwrap().unwrap();
    assert_eq!((attempts, state.as_str()), (1, "dead"));
}

/// SQS dead letters land in the queue's redrive DLQ with the error attached.
#[tokio::test]
async fn sqs_dead_letters_go_to_the_redrive_dlq() {
    let (url, dlq) = runway_testkit::fresh_queue(20).await;
    let client = runway_testkit::sqs_client().await;
    let q = SqsQueue::new(client.clone(), &url).with_wait(Duration::from_secs(1));
    BadInput.enqueue(&q).await.unwrap();
    let worker = Worker::new(
        Arc::new(q),
        Registry::new().register::<BadInput>(),
        Arc::new(Ctx::default()),
        config(3),
    );
    worker.run_until_idle().await.unwrap();
    let got = client
        .receive_message()
        .queue_url(&dlq)
        .message_attribute_names("All")
        .send()
        .await
        .unwrap();
    let msgs = got.messages();
    assert_eq!(msgs.len(), 1);
    let attrs = msgs[0].message_attributes().unwrap();
    assert_eq!(attrs["runway-kind"].string_value(), Some("test.bad_input"));
    assert!(
        attrs["runway-error"]
            .string_value()
            .unwrap()
            .contains("input can never work")
    );
}

/// SQS acknowledges several deliveries in one DeleteMessageBatch call.
#[tokio::test]
async fn sqs_batch_delete() {
    let (url, _dlq) = runway_testkit::fresh_queue(20).await;
    let q =
        SqsQueue::new(runway_testkit::sqs_client().await, &url).with_wait(Duration::from_secs(1));
    for i in 0..12 {
        q.send(message("k", &format!("{i}"))).await.unwrap();
    }
    let mut receipts = Vec::new();
    while receipts.len() < 12 {
        let got = q.receive(10, Duration::from_secs(60)).await.unwrap();
        assert!(!got.is_empty(), "messages missing");
        receipts.extend(got.into_iter().map(|d| d.receipt));
    }
    q.delete_batch(&receipts).await.unwrap();
    assert_eq!(q.stats().await.unwrap().depth, 0);
}
