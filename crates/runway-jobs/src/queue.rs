use std::time::{Duration, SystemTime};

use async_trait::async_trait;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("queue backend: {0}")]
    Backend(String),
    /// The receipt's lease expired and the message was handed to someone else.
    #[error("lease lost")]
    LeaseLost,
}

impl From<runway_store::StoreError> for QueueError {
    fn from(e: runway_store::StoreError) -> Self {
        QueueError::Backend(e.to_string())
    }
}

impl From<runway_store::sqlx::Error> for QueueError {
    fn from(e: runway_store::sqlx::Error) -> Self {
        QueueError::Backend(e.to_string())
    }
}

/// A message to enqueue.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Which handler runs it.
    pub kind: String,
    /// JSON payload.
    pub payload: String,
    /// Do not deliver before this time (SQS `DelaySeconds`).
    pub not_before: Option<SystemTime>,
    /// Messages with the same key are enqueued once while one is pending
    /// (SQS FIFO `MessageDeduplicationId`).
    pub dedup_key: Option<String>,
}

/// Opaque proof of a lease, needed to acknowledge or extend a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt(pub String);

/// A message handed to a worker, leased until its visibility timeout.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: String,
    pub kind: String,
    pub payload: String,
    /// How many times it has been received, this time included.
    pub attempts: u32,
    pub enqueued_at: SystemTime,
    pub receipt: Receipt,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct QueueStats {
    /// Messages waiting or running (not dead-lettered).
    pub depth: u64,
    /// Age of the oldest message that is due, in seconds.
    pub oldest_age_secs: f64,
    /// Messages in the dead-letter state.
    pub dead: u64,
}

/// An SQS-shaped queue.
#[async_trait]
pub trait Queue: Send + Sync + 'static {
    /// Enqueue; returns the message id (the existing one for a duplicate dedup key).
    async fn send(&self, msg: NewMessage) -> Result<String, QueueError>;
    /// Lease up to `max` due messages for `visibility`.
    async fn receive(&self, max: usize, visibility: Duration) -> Result<Vec<Delivery>, QueueError>;
    /// Acknowledge: the message is done and removed.
    async fn delete(&self, receipt: &Receipt) -> Result<(), QueueError>;
    /// Extend a running message's lease to `lease` from now (SQS
    /// `ChangeMessageVisibility`). `LeaseLost` if the lease already expired.
    async fn extend(&self, receipt: &Receipt, lease: Duration) -> Result<(), QueueError>;
    /// A failed attempt: deliver the message again after `delay`, keeping `error`.
    async fn retry(
        &self,
        receipt: &Receipt,
        delay: Duration,
        error: &str,
    ) -> Result<(), QueueError>;
    /// Put a delivery back, to be delivered again after `delay`, without
    /// counting this delivery as an attempt (a worker that cannot run the
    /// kind yet, or a message scheduled further ahead than the backend can
    /// delay).
    async fn release(&self, delivery: &Delivery, delay: Duration) -> Result<(), QueueError>;
    /// Move to the dead-letter state (or queue), keeping `error`.
    async fn dead_letter(&self, delivery: &Delivery, error: &str) -> Result<(), QueueError>;
    async fn stats(&self) -> Result<QueueStats, QueueError>;
    /// Resolves when a message may have become available (a hint; workers
    /// also poll). The default never resolves.
    async fn wait_for_message(&self) {
        std::future::pending::<()>().await
    }
}
