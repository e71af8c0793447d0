//! The queue on Amazon SQS.
//!
//! Mapping onto the [`Queue`] trait:
//! - `send` → SendMessage (kind in a message attribute; `not_before` as
//!   DelaySeconds up to SQS's 15-minute limit, later times re-delayed on
//!   receipt; FIFO queues get the dedup key as MessageDeduplicationId);
//! - `receive` → ReceiveMessage with long polling and the visibility timeout
//!   as lease; `attempts` is ApproximateReceiveCount;
//! - `extend`/`retry` → ChangeMessageVisibility (SQS caps visibility at 12 h);
//! - `delete` → DeleteMessage, `delete_batch` → DeleteMessageBatch;
//! - `dead_letter` → the message is sent to the queue's dead-letter queue
//!   (from its RedrivePolicy) with the error attached, then deleted. Jobs that
//!   keep crashing their worker reach the DLQ through the redrive policy's
//!   maxReceiveCount as well.
//!
//! Credentials, region and endpoint come from the AWS SDK's default chain.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, MessageAttributeValue, MessageSystemAttributeName,
    QueueAttributeName,
};
use tokio::sync::OnceCell;

use crate::queue::{Delivery, NewMessage, Queue, QueueError, QueueStats, Receipt};

const KIND_ATTR: &str = "runway-kind";
const NOT_BEFORE_ATTR: &str = "runway-not-before";
const ERROR_ATTR: &str = "runway-error";
const MAX_DELAY: u64 = 900;
const MAX_VISIBILITY: u64 = 12 * 3600 - 60;

pub struct SqsQueue {
    client: Client,
    url: String,
    fifo: bool,
    /// Long-poll wait (≤ 20 s).
    wait: Duration,
    dlq_url: OnceCell<Option<String>>,
}

fn backend<E, R>(op: &str, e: aws_sdk_sqs::error::SdkError<E, R>) -> QueueError
where
    E: std::error::Error + aws_sdk_sqs::error::ProvideErrorMetadata + 'static,
    R: std::fmt::Debug,
{
    let code = e
        .as_service_error()
        .and_then(|s| s.code())
        .unwrap_or_default();
    if matches!(
        code,
        "ReceiptHandleIsInvalid" | "MessageNotInflight" | "InvalidParameterValue"
    ) && matches!(op, "ChangeMessageVisibility" | "DeleteMessage")
    {
        return QueueError::LeaseLost;
    }
    QueueError::Backend(format!(
        "sqs {op}: {}",
        aws_sdk_sqs::error::DisplayErrorContext(&e)
    ))
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_millis().div_ceil(1000) as u64
}

fn epoch_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

impl SqsQueue {
    /// A queue on the default AWS configuration chain.
    pub async fn from_env(url: &str) -> Self {
        let config = aws_config::load_from_env().await;
        Self::new(Client::new(&config), url)
    }

    pub fn new(client: Client, url: &str) -> Self {
        SqsQueue {
            client,
            url: url.to_string(),
            fifo: url.ends_with(".fifo"),
            wait: Duration::from_secs(10),
            dlq_url: OnceCell::new(),
        }
    }

    /// Long-poll wait for `receive` (0 to 20 s).
    pub fn with_wait(mut self, wait: Duration) -> Self {
        self.wait = wait.min(Duration::from_secs(20));
        self
    }

    /// The dead-letter queue named by the queue's RedrivePolicy, if any.
    async fn dlq(&self) -> Result<Option<String>, QueueError> {
        self.dlq_url
            .get_or_try_init(|| async {
                let attrs = self
                    .client
                    .get_queue_attributes()
                    .queue_url(&self.url)
                    .attribute_names(QueueAttributeName::RedrivePolicy)
                    .send()
                    .await
                    .map_err(|e| backend("GetQueueAttributes", e))?;
                let Some(policy) = attrs
                    .attributes()
                    .and_then(|a| a.get(&QueueAttributeName::RedrivePolicy))
                else {
                    return Ok(None);
                };
                let policy: serde_json::Value = serde_json::from_str(policy)
                    .map_err(|e| QueueError::Backend(format!("RedrivePolicy: {e}")))?;
                let Some(arn) = policy["deadLetterTargetArn"].as_str() else {
                    return Ok(None);
                };
                let name = arn.rsplit(':').next().unwrap_or_default();
                let url = self
                    .client
                    .get_queue_url()
                    .queue_name(name)
                    .send()
                    .await
                    .map_err(|e| backend("GetQueueUrl", e))?
                    .queue_url
                    .ok_or_else(|| QueueError::Backend("GetQueueUrl returned no URL".into()))?;
                Ok(Some(url))
            })
            .await
            .cloned()
    }

    async fn approximate(&self, url: &str) -> Result<u64, QueueError> {
        let attrs = self
            .client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
            .send()
            .await
            .map_err(|e| backend("GetQueueAttributes", e))?;
        Ok(attrs
            .attributes()
            .map(|a| {
                a.values()
                    .filter_map(|v| v.parse::<u64>().ok())
                    .sum::<u64>()
            })
            .unwrap_or(0))
    }

    /// Acknowledge several deliveries in one call (up to 10 per request).
    pub async fn delete_batch(&self, receipts: &[Receipt]) -> Result<(), QueueError> {
        for chunk in receipts.chunks(10) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(&r.0)
                        .build()
                        .map_err(|e| QueueError::Backend(e.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let out = self
                .client
                .delete_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| backend("DeleteMessageBatch", e))?;
            if let Some(failed) = out.failed().first() {
                return Err(QueueError::Backend(format!(
                    "sqs DeleteMessageBatch: {} {}",
                    failed.code(),
                    failed.message().unwrap_or_default()
                )));
            }
        }
        Ok(())
    }

    /// Send a copy of a message (fresh receive count) due after `delay`,
    /// then delete the original. A crash in between leaves a duplicate,
    /// which idempotent handlers absorb; nothing is lost.
    async fn resend(
        &self,
        receipt: &Receipt,
        id: &str,
        kind: &str,
        payload: &str,
        not_before: Option<u64>,
        delay: Duration,
    ) -> Result<(), QueueError> {
        let mut req = self
            .client
            .send_message()
            .queue_url(&self.url)
            .message_body(payload)
            .message_attributes(KIND_ATTR, Self::string_attr(kind)?);
        if let Some(nb) = not_before {
            req = req.message_attributes(NOT_BEFORE_ATTR, Self::string_attr(&nb.to_string())?);
        }
        if self.fifo {
            req = req
                .message_group_id(kind.to_string())
                .message_deduplication_id(format!("{id}-{}", epoch_ms(SystemTime::now())));
        } else {
            req = req.delay_seconds(ceil_secs(delay).min(MAX_DELAY) as i32);
        }
        req.send().await.map_err(|e| backend("SendMessage", e))?;
        self.delete(receipt).await
    }

    fn string_attr(value: &str) -> Result<MessageAttributeValue, QueueError> {
        MessageAttributeValue::builder()
            .data_type("String")
            .string_value(value)
            .build()
            .map_err(|e| QueueError::Backend(e.to_string()))
    }
}

#[async_trait]
impl Queue for SqsQueue {
    async fn send(&self, msg: NewMessage) -> Result<String, QueueError> {
        let mut req = self
            .client
            .send_message()
            .queue_url(&self.url)
            .message_body(&msg.payload)
            .message_attributes(KIND_ATTR, Self::string_attr(&msg.kind)?);
        if let Some(at) = msg.not_before {
            let delay = at.duration_since(SystemTime::now()).unwrap_or_default();
            if !delay.is_zero() {
                req = req.message_attributes(
                    NOT_BEFORE_ATTR,
                    Self::string_attr(&epoch_ms(at).to_string())?,
                );
                if !self.fifo {
                    req = req.delay_seconds(ceil_secs(delay).min(MAX_DELAY) as i32);
                }
            }
        }
        if self.fifo {
            let dedup = msg
                .dedup_key
                .clone()
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            req = req
                .message_group_id(msg.dedup_key.clone().unwrap_or_else(|| msg.kind.clone()))
                .message_deduplication_id(dedup);
        }
        let out = req.send().await.map_err(|e| backend("SendMessage", e))?;
        Ok(out.message_id.unwrap_or_default())
    }

    async fn receive(&self, max: usize, visibility: Duration) -> Result<Vec<Delivery>, QueueError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(max.min(10) as i32)
            .visibility_timeout(ceil_secs(visibility).clamp(1, MAX_VISIBILITY) as i32)
            .wait_time_seconds(self.wait.as_secs() as i32)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| backend("ReceiveMessage", e))?;
        let now = epoch_ms(SystemTime::now());
        let mut deliveries = Vec::new();
        for m in out.messages.unwrap_or_default() {
            let receipt = Receipt(m.receipt_handle().unwrap_or_default().to_string());
            let attr = |name: &str| {
                m.message_attributes()
                    .and_then(|a| a.get(name))
                    .and_then(|v| v.string_value())
                    .map(str::to_string)
            };
            // Scheduled beyond SQS's 15-minute delay: send it on again (a
            // new message, so waiting does not count as receives).
            if let Some(not_before) = attr(NOT_BEFORE_ATTR).and_then(|v| v.parse::<u64>().ok())
                && not_before > now + 500
            {
                let wait = Duration::from_millis(not_before - now);
                if let Err(e) = self
                    .resend(
                        &receipt,
                        m.message_id().unwrap_or_default(),
                        &attr(KIND_ATTR).unwrap_or_default(),
                        m.body().unwrap_or_default(),
                        Some(not_before),
                        wait,
                    )
                    .await
                {
                    // It becomes visible again after the lease and is retried.
                    tracing::warn!(error = %e, "could not re-delay a scheduled message");
                }
                continue;
            }
            let sys = |name: MessageSystemAttributeName| {
                m.attributes()
                    .and_then(|a| a.get(&name))
                    .and_then(|v| v.parse::<u64>().ok())
            };
            deliveries.push(Delivery {
                id: m.message_id().unwrap_or_default().to_string(),
                kind: attr(KIND_ATTR).unwrap_or_default(),
                payload: m.body().unwrap_or_default().to_string(),
                attempts: sys(MessageSystemAttributeName::ApproximateReceiveCount).unwrap_or(1)
                    as u32,
                enqueued_at: UNIX_EPOCH
                    + Duration::from_millis(
                        sys(MessageSystemAttributeName::SentTimestamp).unwrap_or(now),
                    ),
                receipt,
            });
        }
        Ok(deliveries)
    }

    async fn delete(&self, receipt: &Receipt) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(&receipt.0)
            .send()
            .await
            .map_err(|e| backend("DeleteMessage", e))?;
        Ok(())
    }

    async fn extend(&self, receipt: &Receipt, lease: Duration) -> Result<(), QueueError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(&receipt.0)
            .visibility_timeout(ceil_secs(lease).clamp(1, MAX_VISIBILITY) as i32)
            .send()
            .await
            .map_err(|e| backend("ChangeMessageVisibility", e))?;
        Ok(())
    }

    async fn retry(
        &self,
        receipt: &Receipt,
        delay: Duration,
        error: &str,
    ) -> Result<(), QueueError> {
        // SQS keeps no per-message error; the worker has logged it.
        let _ = error;
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(&receipt.0)
            .visibility_timeout(ceil_secs(delay).min(MAX_VISIBILITY) as i32)
            .send()
            .await
            .map_err(|e| backend("ChangeMessageVisibility", e))?;
        Ok(())
    }

    async fn release(&self, delivery: &Delivery, delay: Duration) -> Result<(), QueueError> {
        self.resend(
            &delivery.receipt,
            &delivery.id,
            &delivery.kind,
            &delivery.payload,
            None,
            delay,
        )
        .await
    }

    async fn dead_letter(&self, delivery: &Delivery, error: &str) -> Result<(), QueueError> {
        let Some(dlq) = self.dlq().await? else {
            return Err(QueueError::Backend(
                "the SQS queue has no RedrivePolicy dead-letter queue".into(),
            ));
        };
        let error: String = error.chars().take(1000).collect();
        let mut req = self
            .client
            .send_message()
            .queue_url(&dlq)
            .message_body(&delivery.payload)
            .message_attributes(KIND_ATTR, Self::string_attr(&delivery.kind)?)
            .message_attributes(ERROR_ATTR, Self::string_attr(&error)?);
        if dlq.ends_with(".fifo") {
            req = req
                .message_group_id(delivery.kind.clone())
                .message_deduplication_id(delivery.id.clone());
        }
        req.send().await.map_err(|e| backend("SendMessage", e))?;
        self.delete(&delivery.receipt).await
    }

    async fn stats(&self) -> Result<QueueStats, QueueError> {
        let depth = self.approximate(&self.url).await?;
        let dead = match self.dlq().await? {
            Some(dlq) => self.approximate(&dlq).await?,
            None => 0,
        };
        // SQS exposes the oldest message's age only as the CloudWatch metric
        // ApproximateAgeOfOldestMessage; alarm on that.
        Ok(QueueStats {
            depth,
            oldest_age_secs: 0.0,
            dead,
        })
    }
}
