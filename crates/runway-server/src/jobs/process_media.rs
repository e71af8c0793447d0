use async_trait::async_trait;
use runway_jobs::{Job, JobError};
use runway_store::media::MediaStatus;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::media::{self, Recorded};
use crate::state::AppState;

/// Turn an upload into its stored original, variants and placeholder, in
/// this process (`media.processor = "worker"`, and the fallback for uploads
/// the Lambda never reported on: see `jobs::recover`).
///
/// Runs the same `runway_thumbnail::process` as the Lambda and records its
/// report the same way ([`media::record`]). Idempotent and crash-safe: files
/// are content addressed (a second run writes the same keys), the record
/// moves `processing` -> `ready`/`failed` with a conditional update, and the
/// staged upload is deleted only after the record is final. A run killed at
/// any point is simply run again.
///
/// An image the pipeline rejects ends `failed` with the pipeline's stable
/// code and is not retried; storage or database outages are retried.
#[derive(Debug, Serialize, Deserialize)]
pub struct ProcessMedia {
    pub media_id: Uuid,
}

#[async_trait]
impl Job for ProcessMedia {
    const KIND: &'static str = "media.process";
    type Context = AppState;

    fn dedup_key(&self) -> Option<String> {
        Some(format!("media.process:{}", self.media_id))
    }

    #[tracing::instrument(skip_all, fields(media_id = %self.media_id))]
    async fn run(&self, ctx: &AppState) -> Result<(), JobError> {
        let Some(m) = ctx.db.media_by_id(self.media_id).await? else {
            // Deleted before it was processed: the delete removed its files.
            return Ok(());
        };
        match m.status {
            MediaStatus::Processing => {}
            MediaStatus::Ready | MediaStatus::Failed => {
                // Finished by an earlier run that died before cleaning up.
                ctx.blobs.delete(&m.upload_key).await?;
                return Ok(());
            }
            MediaStatus::AwaitingUpload => return Ok(()),
        }
        tracing::info!("processing media");
        let upload = media::upload_of(&m);
        let started = std::time::Instant::now();
        let report = media::process_here(ctx, &upload).await?;
        let recorded = media::record(ctx, &report).await?;
        tracing::info!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            outcome = ?recorded,
            "media processed"
        );
        if recorded == Recorded::Mismatch {
            return Err(JobError::Permanent(anyhow::anyhow!(
                "report does not match its media"
            )));
        }
        Ok(())
    }
}
