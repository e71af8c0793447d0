//! The thumbnail function: makes a photo's variants when it is uploaded.
//!
//! **Trigger.** S3 `ObjectCreated` events on `<storage prefix>uploads/`,
//! through SQS (the deployed path: `deploy/terraform/modules/media`, with
//! `ReportBatchItemFailures`), or invoked by S3 directly. Event bodies may
//! also be SNS envelopes (S3 -> SNS -> SQS).
//!
//! **Work.** Reads the upload and runs `runway_thumbnail::process`, the same
//! job runway's worker runs: the same pipeline, limits and presets (read
//! from the same `RUNWAY_*` configuration), writing the same
//! content-addressed keys with the same `Content-Type` and `Cache-Control`.
//!
//! **Result.** A [`runway_thumbnail::Report`] on the SQS queue
//! `RUNWAY_MEDIA__RESULTS_QUEUE_URL`. runway's worker records it and marks
//! the media `ready` or `failed`; the function needs no database.
//!
//! **Failures.**
//! - An upload the pipeline rejects (not an image, too many pixels, ...) is
//!   reported `failed` with the pipeline's code: final, never retried.
//! - Storage or SQS errors fail only that message (`batchItemFailures`), so
//!   SQS redelivers it and, after `maxReceiveCount`, dead-letters it. A
//!   direct S3 invocation returns the error and Lambda retries it.
//! - `s3:TestEvent`, other event types, other buckets and keys outside
//!   `uploads/` are acknowledged and ignored. A body that is not an S3 event
//!   at all is logged and dropped: retrying cannot fix it.
//! - Duplicate deliveries are harmless: a second run writes the same keys
//!   and sends the same report, which the worker records once.

use std::sync::Arc;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use runway_blob::BlobStore;
use runway_blob::events::{ObjectCreated, S3Notification, parse_notification};
use runway_core::Config;
use runway_core::config::CliOverrides;
use runway_thumbnail::{Report, Settings, Upload};
use serde_json::Value;
use tracing::Instrument;

/// Where reports go.
#[async_trait::async_trait]
pub trait Reports: Send + Sync {
    async fn send(&self, report: &Report) -> anyhow::Result<()>;
}

/// Reports on an SQS queue.
pub struct SqsReports {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsReports {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        SqsReports {
            client,
            queue_url: queue_url.into(),
        }
    }
}

#[async_trait::async_trait]
impl Reports for SqsReports {
    async fn send(&self, report: &Report) -> anyhow::Result<()> {
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(serde_json::to_string(report)?)
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "sending the report: {}",
                    aws_sdk_sqs::error::DisplayErrorContext(&e)
                )
            })?;
        Ok(())
    }
}

pub struct Thumbnailer {
    blobs: Arc<dyn BlobStore>,
    bucket: String,
    /// Key prefix of runway's objects in the bucket: empty or ending in `/`.
    prefix: String,
    settings: Settings,
    reports: Arc<dyn Reports>,
}

/// A failure worth retrying (storage or SQS).
#[derive(Debug)]
pub struct Transient(pub anyhow::Error);

impl std::fmt::Display for Transient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for Transient {}

impl Thumbnailer {
    /// Configured from runway's own configuration variables:
    /// `RUNWAY_STORAGE_URL` (s3://), `RUNWAY_MEDIA__RESULTS_QUEUE_URL` and
    /// every `RUNWAY_MEDIA__*` pipeline setting.
    pub async fn from_env() -> anyhow::Result<Thumbnailer> {
        let loaded = Config::load(None, &CliOverrides::default())?;
        for warning in &loaded.warnings {
            tracing::warn!("{warning}");
        }
        let config = loaded.config;
        let (bucket, prefix) = runway_blob::s3_location(&config.storage_url)
            .ok_or_else(|| anyhow::anyhow!("RUNWAY_STORAGE_URL must be s3://BUCKET[/PREFIX]"))?;
        if config.media.results_queue_url.is_empty() {
            anyhow::bail!("RUNWAY_MEDIA__RESULTS_QUEUE_URL is not set");
        }
        let aws = aws_config::load_from_env().await;
        let blobs: Arc<dyn BlobStore> = runway_blob::open(&config.storage_url, &[], "").await?;
        let reports = Arc::new(SqsReports::new(
            aws_sdk_sqs::Client::new(&aws),
            config.media.results_queue_url.clone(),
        ));
        Ok(Thumbnailer::new(
            blobs,
            bucket,
            prefix,
            Settings::from_config(&config.media),
            reports,
        ))
    }

    pub fn new(
        blobs: Arc<dyn BlobStore>,
        bucket: String,
        prefix: String,
        settings: Settings,
        reports: Arc<dyn Reports>,
    ) -> Thumbnailer {
        Thumbnailer {
            blobs,
            bucket,
            prefix,
            settings,
            reports,
        }
    }

    /// Handle one invocation: an SQS batch (returns its `batchItemFailures`)
    /// or a direct S3 event (returns `{}`, or an error to be retried).
    pub async fn handle(&self, event: Value) -> Result<Value, Transient> {
        let from_sqs = event["Records"]
            .get(0)
            .and_then(|r| r["eventSource"].as_str())
            == Some("aws:sqs");
        if from_sqs {
            let batch: SqsEvent = serde_json::from_value(event)
                .map_err(|e| Transient(anyhow::anyhow!("malformed SQS event: {e}")))?;
            let response = self.handle_batch(batch).await;
            return serde_json::to_value(response).map_err(|e| Transient(e.into()));
        }
        self.handle_body(&event.to_string()).await?;
        Ok(serde_json::json!({}))
    }

    /// Every message of an SQS batch; failed messages (and only those) are
    /// returned for redelivery.
    pub async fn handle_batch(&self, batch: SqsEvent) -> SqsBatchResponse {
        let mut response = SqsBatchResponse::default();
        for message in batch.records {
            let id = message.message_id.clone().unwrap_or_default();
            let body = message.body.as_deref().unwrap_or_default();
            if let Err(e) = self.handle_body(body).await {
                tracing::warn!(message_id = %id, error = %e, "message failed; SQS will redeliver it");
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                response.batch_item_failures.push(failure);
            }
        }
        response
    }

    /// One S3 notification (an SQS body, or a direct S3 event).
    pub async fn handle_body(&self, body: &str) -> Result<(), Transient> {
        let notification = match parse_notification(body) {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(error = %e, "not an S3 event; dropped");
                return Ok(());
            }
        };
        match notification {
            S3Notification::Test => {
                tracing::info!("s3:TestEvent acknowledged");
                Ok(())
            }
            S3Notification::Ignored(names) => {
                tracing::info!(events = ?names, "not an ObjectCreated event; ignored");
                Ok(())
            }
            S3Notification::Created(objects) => {
                for object in &objects {
                    self.handle_object(object).await?;
                }
                Ok(())
            }
        }
    }

    /// One created object. `Ok(None)` when it is not an upload of ours.
    pub async fn handle_object(&self, object: &ObjectCreated) -> Result<Option<Report>, Transient> {
        if object.bucket != self.bucket {
            tracing::warn!(bucket = %object.bucket, "event for another bucket; ignored");
            return Ok(None);
        }
        let Some(upload) = object
            .key
            .strip_prefix(self.prefix.as_str())
            .and_then(Upload::parse)
        else {
            tracing::info!(key = %object.key, "not an upload; ignored");
            return Ok(None);
        };
        let span = tracing::info_span!("upload", media_id = %upload.media_id);
        self.process(&upload, object.size)
            .instrument(span)
            .await
            .map(Some)
    }

    async fn process(&self, upload: &Upload, size: u64) -> Result<Report, Transient> {
        let report = if size > self.settings.limits.max_bytes {
            // Refused from the event alone: never downloaded.
            Report::failed(
                upload,
                size,
                "too_large",
                &format!(
                    "the upload is larger than {} bytes",
                    self.settings.limits.max_bytes
                ),
            )
        } else {
            let started = std::time::Instant::now();
            let report = runway_thumbnail::process(self.blobs.as_ref(), &self.settings, upload)
                .await
                .map_err(|e| Transient(e.into()))?;
            tracing::info!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                "upload processed"
            );
            report
        };
        self.reports.send(&report).await.map_err(Transient)?;
        Ok(report)
    }
}

impl From<Transient> for lambda_runtime::Diagnostic {
    fn from(e: Transient) -> Self {
        lambda_runtime::Diagnostic {
            error_type: "runway.Transient".into(),
            error_message: e.to_string(),
        }
    }
}
