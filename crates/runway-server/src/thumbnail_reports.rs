//! With `media.processor = "lambda"`, the thumbnail Lambda (crate
//! `runway-lambda`) makes the variants and reports each run on an SQS queue
//! (`media.results_queue_url`). Worker processes consume that queue here and
//! record every report exactly as a local run is recorded
//! ([`media::record`]), so both paths end in the same media record.
//!
//! At least once: a message is deleted only after its report is recorded,
//! and recording is idempotent, so redelivery and duplicates are harmless.
//! A message that is not a report is left alone; after the queue's
//! `maxReceiveCount` it moves to the dead-letter queue for inspection.

use std::time::Duration;

use aws_sdk_sqs::Client;
use runway_thumbnail::Report;
use tokio_util::sync::CancellationToken;

use crate::media;
use crate::state::AppState;

/// Receive and record reports until `cancel`.
pub async fn consume(state: AppState, cancel: CancellationToken) {
    let queue_url = state.config.media.results_queue_url.clone();
    let client = Client::new(&aws_config::load_from_env().await);
    tracing::info!("recording thumbnail reports from SQS");
    let mut failures = 0u32;
    while !cancel.is_cancelled() {
        let received = tokio::select! {
            _ = cancel.cancelled() => return,
            r = client
                .receive_message()
                .queue_url(&queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(20)
                .send() => r,
        };
        let messages = match received {
            Ok(out) => {
                failures = 0;
                out.messages.unwrap_or_default()
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                let wait = Duration::from_millis(250 * 2u64.pow(failures.min(7)));
                tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), ?wait, "receiving thumbnail reports failed");
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(wait) => continue,
                }
            }
        };
        for message in messages {
            let (Some(body), Some(receipt)) = (message.body(), message.receipt_handle()) else {
                continue;
            };
            if handle(&state, body).await
                && let Err(e) = client
                    .delete_message()
                    .queue_url(&queue_url)
                    .receipt_handle(receipt)
                    .send()
                    .await
            {
                // Redelivered later and recorded again: harmless.
                tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "deleting a recorded thumbnail report failed");
            }
        }
    }
}

/// Record one message body; true when it may be deleted.
pub async fn handle(state: &AppState, body: &str) -> bool {
    let report: Report = match serde_json::from_str(body) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "a message on the thumbnail results queue is not a report; leaving it for the dead-letter queue");
            return false;
        }
    };
    match media::record(state, &report).await {
        Ok(recorded) => {
            tracing::info!(media_id = %report.media_id, outcome = ?recorded, "thumbnail report recorded");
            state.metrics.thumbnail_report(recorded);
            true
        }
        Err(e) => {
            tracing::warn!(media_id = %report.media_id, error = %e, "recording a thumbnail report failed; it will be redelivered");
            false
        }
    }
}
