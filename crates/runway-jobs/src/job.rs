use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use futures::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::queue::{NewMessage, Queue, QueueError};

/// Why a job run failed.
///
/// `?` converts any error into `Retry`. Use `Permanent` when retrying cannot
/// help (the input is invalid): the job is dead-lettered at once.
#[derive(Debug)]
pub enum JobError {
    Retry(anyhow::Error),
    Permanent(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for JobError {
    fn from(e: E) -> Self {
        JobError::Retry(e.into())
    }
}

/// A typed, serializable unit of background work.
///
/// `run` must be idempotent: delivery is at least once, so a job may run again
/// after a crash, a lost lease or a retry.
#[async_trait]
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Stable name stored with each message; never rename a deployed kind.
    const KIND: &'static str;
    /// What the job needs to run (database handle, clients, …).
    type Context: Clone + Send + Sync + 'static;

    /// While a message with this key is pending, sending another is a no-op.
    fn dedup_key(&self) -> Option<String> {
        None
    }

    async fn run(&self, ctx: &Self::Context) -> Result<(), JobError>;

    /// Enqueue this job now.
    async fn enqueue(&self, queue: &dyn Queue) -> Result<String, QueueError> {
        queue.send(self.to_message(None)?).await
    }

    /// Enqueue this job to run no earlier than `at`.
    async fn enqueue_at(&self, queue: &dyn Queue, at: SystemTime) -> Result<String, QueueError> {
        queue.send(self.to_message(Some(at))?).await
    }

    fn to_message(&self, not_before: Option<SystemTime>) -> Result<NewMessage, QueueError> {
        Ok(NewMessage {
            kind: Self::KIND.to_string(),
            payload: serde_json::to_string(self)
                .map_err(|e| QueueError::Backend(format!("serialize {}: {e}", Self::KIND)))?,
            not_before,
            dedup_key: self.dedup_key(),
        })
    }
}

type Runner<C> = Arc<dyn Fn(String, C) -> BoxFuture<'static, Result<(), JobError>> + Send + Sync>;

/// The job kinds a worker can run, all sharing one context type.
pub struct Registry<C> {
    runners: HashMap<&'static str, Runner<C>>,
}

impl<C> Clone for Registry<C> {
    fn clone(&self) -> Self {
        Registry {
            runners: self.runners.clone(),
        }
    }
}

impl<C: Clone + Send + Sync + 'static> Default for Registry<C> {
    fn default() -> Self {
        Registry {
            runners: HashMap::new(),
        }
    }
}

impl<C: Clone + Send + Sync + 'static> Registry<C> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn register<J: Job<Context = C>>(mut self) -> Self {
        let runner: Runner<C> = Arc::new(|payload: String, ctx: C| {
            Box::pin(async move {
                let job: J = serde_json::from_str(&payload).map_err(|e| {
                    JobError::Permanent(anyhow::anyhow!("invalid {} payload: {e}", J::KIND))
                })?;
                job.run(&ctx).await
            })
        });
        self.runners.insert(J::KIND, runner);
        self
    }

    pub fn kinds(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.runners.keys().copied()
    }

    pub(crate) fn get(&self, kind: &str) -> Option<Runner<C>> {
        self.runners.get(kind).cloned()
    }
}
