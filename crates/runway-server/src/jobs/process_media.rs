use async_trait::async_trait;
use runway_jobs::{Job, JobError};
use runway_store::media::{MediaStatus, Processed};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::media;
use crate::state::AppState;

/// Turn an upload into its stored original, variants and placeholder.
///
/// Idempotent and crash-safe: files are content addressed (a second run
/// writes the same keys), the record moves `processing` -> `ready`/`failed`
/// with a conditional update, and the staged upload is deleted only after
/// the record is final. A run killed at any point is simply run again.
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
        let Some(upload) = ctx.blobs.get(&m.upload_key).await? else {
            ctx.db
                .mark_media_failed(
                    m.id,
                    "upload_missing",
                    "the uploaded file is no longer in storage",
                    runway_store::now_ms(),
                )
                .await?;
            return Ok(());
        };
        let config = &ctx.config.media;
        let limits = media::limits(config);
        let presets = media::presets(config);
        let keep = config.keep_original_metadata;
        let bytes = upload.bytes;
        let started = std::time::Instant::now();
        let result = media::run_blocking(ctx, move || {
            media::run_pipeline(&bytes, &limits, &presets, keep)
        })
        .await?;
        let out = match result {
            Ok(out) => out,
            Err(e) => {
                tracing::info!(code = e.code(), "image rejected by the pipeline");
                ctx.db
                    .mark_media_failed(m.id, e.code(), &e.to_string(), runway_store::now_ms())
                    .await?;
                ctx.blobs.delete(&m.upload_key).await?;
                return Ok(());
            }
        };
        let prefix = media::files_prefix(m.visibility, m.user_id, m.id);
        let original = media::store(ctx, &prefix, &out.original).await?;
        let mut variants = std::collections::BTreeMap::new();
        for v in &out.variants {
            variants.insert(v.name.clone(), media::store(ctx, &prefix, v).await?);
        }
        let processed = Processed {
            width: out.width,
            height: out.height,
            thumbhash: out.thumbhash,
            dominant_color: out.dominant_color,
            original,
            variants,
        };
        let done = ctx
            .db
            .mark_media_ready(m.id, out.content_type, &processed, runway_store::now_ms())
            .await?;
        if !done && ctx.db.media_by_id(m.id).await?.is_none() {
            // Deleted while we worked: remove what this run wrote.
            ctx.blobs.delete_prefix(&prefix).await?;
        }
        ctx.blobs.delete(&m.upload_key).await?;
        tracing::info!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            width = out.width,
            height = out.height,
            "media processed"
        );
        Ok(())
    }
}
