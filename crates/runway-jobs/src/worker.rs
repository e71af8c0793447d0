use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use rand::Rng;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::job::{JobError, Registry};
use crate::queue::{Delivery, Queue, QueueError};

/// Exponential backoff with jitter: attempt n waits a random time between
/// half and all of `min(base × 2^(n-1), max)`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Backoff {
    pub fn delay(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(32);
        let ceiling = self
            .base
            .saturating_mul(1u32 << exp.min(31))
            .min(self.max)
            .max(Duration::from_millis(1));
        let half = ceiling / 2;
        let jitter = rand::rng().random_range(0..=half.as_millis() as u64);
        half + Duration::from_millis(jitter)
    }
}

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub concurrency: usize,
    pub poll_interval: Duration,
    /// Visibility timeout of a claimed job; renewed every third of it.
    pub lease: Duration,
    pub max_attempts: u32,
    pub backoff: Backoff,
    /// On shutdown, how long running jobs may take before they are abandoned
    /// (their leases then expire and another worker retries them).
    pub shutdown_grace: Duration,
    /// A run taking longer fails (and is retried): a hung job must not hold
    /// its lease, renewed by the heartbeat, forever.
    pub job_timeout: Duration,
}

/// How long a job of a kind this worker does not know waits before it is
/// offered again.
const UNKNOWN_KIND_DELAY: Duration = Duration::from_secs(30);

/// Aborts a spawned task when dropped: the lease heartbeat stops with its
/// job, including when the job's own task is aborted.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Hooks for metrics; every method has a no-op default.
pub trait WorkerEvents: Send + Sync + 'static {
    fn succeeded(&self, _kind: &str, _elapsed: Duration) {}
    fn retried(&self, _kind: &str, _attempt: u32) {}
    fn dead_lettered(&self, _kind: &str) {}
}

struct NoEvents;
impl WorkerEvents for NoEvents {}

/// Runs jobs from a queue until cancelled.
pub struct Worker<C> {
    queue: Arc<dyn Queue>,
    registry: Arc<Registry<C>>,
    ctx: C,
    config: WorkerConfig,
    events: Arc<dyn WorkerEvents>,
}

impl<C: Clone + Send + Sync + 'static> Worker<C> {
    pub fn new(queue: Arc<dyn Queue>, registry: Registry<C>, ctx: C, config: WorkerConfig) -> Self {
        Worker {
            queue,
            registry: Arc::new(registry),
            ctx,
            config,
            events: Arc::new(NoEvents),
        }
    }

    pub fn with_events(mut self, events: Arc<dyn WorkerEvents>) -> Self {
        self.events = events;
        self
    }

    /// Claim and run jobs until `cancel` fires, then drain running jobs for
    /// up to `shutdown_grace`.
    pub async fn run(self, cancel: CancellationToken) {
        let slots = Arc::new(Semaphore::new(self.config.concurrency));
        let mut running: JoinSet<()> = JoinSet::new();
        let mut backend_errors = 0u32;
        loop {
            while running.try_join_next().is_some() {}
            if cancel.is_cancelled() {
                break;
            }
            let free = slots.available_permits();
            if free == 0 {
                tokio::select! {
                    _ = running.join_next() => {}
                    _ = cancel.cancelled() => {}
                }
                continue;
            }
            let received = tokio::select! {
                r = self.queue.receive(free.min(32), self.config.lease) => r,
                // A long poll (SQS) may be in flight: stop waiting for it.
                // Anything it had already taken becomes visible again when
                // its visibility timeout passes.
                _ = cancel.cancelled() => break,
            };
            match received {
                Ok(batch) if !batch.is_empty() => {
                    backend_errors = 0;
                    for delivery in batch {
                        let Ok(permit) = slots.clone().acquire_owned().await else {
                            break;
                        };
                        let step = self.step();
                        running.spawn(async move {
                            step.process(delivery).await;
                            drop(permit);
                        });
                    }
                }
                Ok(_) => {
                    backend_errors = 0;
                    tokio::select! {
                        _ = tokio::time::sleep(self.config.poll_interval) => {}
                        _ = self.queue.wait_for_message() => {}
                        _ = cancel.cancelled() => {}
                    }
                }
                Err(e) => {
                    backend_errors = backend_errors.saturating_add(1);
                    tracing::warn!(error = %e, "job queue unavailable; retrying");
                    let wait = self.config.poll_interval * backend_errors.min(10);
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = cancel.cancelled() => {}
                    }
                }
            }
        }
        let in_flight = running.len();
        if in_flight > 0 {
            tracing::info!(jobs = in_flight, "draining running jobs");
        }
        let drained = tokio::time::timeout(self.config.shutdown_grace, async {
            while running.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                jobs = running.len(),
                "shutdown grace elapsed; abandoning running jobs, which will be retried when their leases expire"
            );
            running.abort_all();
        }
    }

    /// Run every job that is due, one at a time, until none is left. For
    /// tests and one-shot tooling.
    pub async fn run_until_idle(&self) -> Result<usize, QueueError> {
        let mut ran = 0;
        loop {
            let batch = self.queue.receive(1, self.config.lease).await?;
            if batch.is_empty() {
                return Ok(ran);
            }
            for delivery in batch {
                self.step().process(delivery).await;
                ran += 1;
            }
        }
    }

    fn step(&self) -> Step<C> {
        Step {
            queue: self.queue.clone(),
            registry: self.registry.clone(),
            ctx: self.ctx.clone(),
            config: self.config.clone(),
            events: self.events.clone(),
        }
    }
}

/// Everything needed to process one delivery, owned so it can be spawned.
struct Step<C> {
    queue: Arc<dyn Queue>,
    registry: Arc<Registry<C>>,
    ctx: C,
    config: WorkerConfig,
    events: Arc<dyn WorkerEvents>,
}

impl<C: Clone + Send + Sync + 'static> Step<C> {
    #[tracing::instrument(skip_all, fields(job.id = %delivery.id, job.kind = %delivery.kind, job.attempt = delivery.attempts))]
    async fn process(self, delivery: Delivery) {
        let kind = delivery.kind.clone();
        let Some(runner) = self.registry.get(&kind) else {
            // Possibly enqueued by a newer version during a rolling update:
            // put it back for a worker that knows it, without spending an
            // attempt, and never dead-letter it for this.
            tracing::warn!("no handler for this job kind in this worker; releasing it");
            if let Err(e) = self.queue.release(&delivery, UNKNOWN_KIND_DELAY).await {
                tracing::warn!(error = %e, "could not release the job; its lease will expire instead");
            }
            return;
        };
        if delivery.attempts > self.config.max_attempts {
            // Leased more often than allowed without finishing: the worker
            // died or lost the lease every time. Stop the crash loop.
            self.settle_dead(&delivery, "exceeded max attempts without completing")
                .await;
            return;
        }
        let _heartbeat = {
            let queue = self.queue.clone();
            let receipt = delivery.receipt.clone();
            let lease = self.config.lease;
            AbortOnDrop(tokio::spawn(async move {
                let mut tick = tokio::time::interval(lease / 3);
                tick.tick().await;
                loop {
                    tick.tick().await;
                    match queue.extend(&receipt, lease).await {
                        Ok(()) => {}
                        Err(QueueError::LeaseLost) => {
                            tracing::warn!("job lease lost while running");
                            return;
                        }
                        Err(e) => tracing::warn!(error = %e, "could not renew job lease"),
                    }
                }
            }))
        };

        let started = Instant::now();
        let run =
            AssertUnwindSafe(runner(delivery.payload.clone(), self.ctx.clone())).catch_unwind();
        let result = match tokio::time::timeout(self.config.job_timeout, run).await {
            Ok(outcome) => outcome,
            Err(_) => Ok(Err(JobError::Retry(anyhow::anyhow!(
                "timed out after {} s",
                self.config.job_timeout.as_secs()
            )))),
        };
        let result = result.unwrap_or_else(|panic| {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "job panicked".into());
            Err(JobError::Retry(anyhow::anyhow!("panic: {msg}")))
        });
        drop(_heartbeat);

        match result {
            Ok(()) => match self.queue.delete(&delivery.receipt).await {
                Ok(()) => {
                    tracing::debug!(
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "job done"
                    );
                    self.events.succeeded(&kind, started.elapsed());
                }
                Err(e) => {
                    tracing::warn!(error = %e, "job ran but could not be acknowledged; it will run again")
                }
            },
            Err(err) => self.settle_failure(&delivery, err).await,
        }
    }

    async fn settle_failure(&self, delivery: &Delivery, err: JobError) {
        match err {
            JobError::Permanent(e) => {
                self.settle_dead(delivery, &format!("{e:#}")).await;
            }
            JobError::Retry(e) if delivery.attempts >= self.config.max_attempts => {
                self.settle_dead(delivery, &format!("{e:#}")).await;
            }
            JobError::Retry(e) => {
                let delay = self.config.backoff.delay(delivery.attempts);
                tracing::warn!(error = %format!("{e:#}"), retry_in_ms = delay.as_millis() as u64, "job failed; will retry");
                self.events.retried(&delivery.kind, delivery.attempts);
                if let Err(qe) = self
                    .queue
                    .retry(&delivery.receipt, delay, &format!("{e:#}"))
                    .await
                {
                    tracing::warn!(error = %qe, "could not schedule retry; the lease will expire instead");
                }
            }
        }
    }

    async fn settle_dead(&self, delivery: &Delivery, error: &str) {
        tracing::error!(error, "job dead-lettered");
        self.events.dead_lettered(&delivery.kind);
        if let Err(qe) = self.queue.dead_letter(delivery, error).await {
            tracing::warn!(error = %qe, "could not dead-letter job; the lease will expire instead");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let b = Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        for _ in 0..50 {
            let d1 = b.delay(1);
            assert!(d1 >= Duration::from_millis(50) && d1 <= Duration::from_millis(100));
            let d3 = b.delay(3);
            assert!(d3 >= Duration::from_millis(200) && d3 <= Duration::from_millis(400));
            let d20 = b.delay(20);
            assert!(d20 >= Duration::from_millis(500) && d20 <= Duration::from_secs(1));
        }
        // Jitter: not every delay is the same.
        let samples: std::collections::HashSet<_> = (0..20).map(|_| b.delay(5)).collect();
        assert!(samples.len() > 1);
    }
}
