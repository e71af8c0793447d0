//! Durable background jobs.
//!
//! - [`Job`]: a typed, serializable unit of work with an idempotent `run`.
//! - [`Queue`]: an SQS-shaped queue (send, receive with a visibility timeout,
//!   delete, change visibility, dead-letter). [`DbQueue`] keeps it in the
//!   database; [`SqsQueue`] on Amazon SQS. Both pass one behaviour suite.
//! - [`Worker`]: claims jobs, renews their leases while they run, retries
//!   failures with exponential backoff and jitter, dead-letters after
//!   `max_attempts`, and drains on shutdown.
//!
//! Delivery is at least once: a job whose worker dies is delivered again
//! when its lease expires, so every handler must be idempotent.

mod db_queue;
mod job;
mod queue;
mod sqs_queue;
mod worker;

pub use db_queue::DbQueue;
pub use job::{Job, JobError, Registry};
pub use queue::{Delivery, NewMessage, Queue, QueueError, QueueStats, Receipt};
pub use sqs_queue::SqsQueue;
pub use worker::{Backoff, Worker, WorkerConfig, WorkerEvents};
