//! The thumbnail job: one upload in; its stored original, variants and
//! placeholder out, described by a [`Report`].
//!
//! Two callers run exactly this code:
//! - runway's worker (`media.processor = "worker"`), from its durable job
//!   queue, applying the report to the database at once;
//! - the thumbnail Lambda (`media.processor = "lambda"`, crate
//!   `runway-lambda`), triggered by S3, sending the report over SQS for the
//!   worker to apply.
//!
//! Both therefore write the same content-addressed files and end in the same
//! media record. Nothing here touches a database.
//!
//! Running it twice on the same upload is harmless: every file key is
//! derived from the file's bytes, so a second run writes the same keys.

pub mod keys;
mod pipeline;
mod report;

pub use keys::Upload;
pub use pipeline::{
    Early, Output, Pipeline, Settings, on_demand_preset, run_pipeline, run_pipeline_staged,
    variant_format,
};
pub use report::{File, Outcome, Report};

use runway_blob::{BlobError, BlobStore};

/// `Cache-Control` of every processed file: content addressed, so immutable.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Why a run could not finish. Both are transient (retry the run); images
/// the pipeline rejects are not errors but a [`Outcome::Failed`] report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Storage(#[from] BlobError),
    #[error("image processing stopped: {0}")]
    Aborted(String),
}

/// Run the whole job on `upload`: read it, run the pipeline off the async
/// runtime, store every output. The upload itself is left in place; the
/// side that records the result deletes it afterwards.
pub async fn process(
    blobs: &dyn BlobStore,
    settings: &Settings,
    upload: &Upload,
) -> Result<Report, Error> {
    process_staged(blobs, settings, upload, None).await
}

/// [`process`], sending the placeholder on `early` as soon as the image is
/// decoded (runway's worker shows it while the variants are made).
pub async fn process_staged(
    blobs: &dyn BlobStore,
    settings: &Settings,
    upload: &Upload,
    early: Option<tokio::sync::mpsc::UnboundedSender<Early>>,
) -> Result<Report, Error> {
    let Some(blob) = blobs.get(&upload.key).await? else {
        return Ok(Report::failed(
            upload,
            0,
            "upload_missing",
            "the uploaded file is no longer in storage",
        ));
    };
    let size = blob.bytes.len() as u64;
    if size > settings.limits.max_bytes {
        return Ok(Report::failed(
            upload,
            size,
            "too_large",
            &format!(
                "the upload is larger than {} bytes",
                settings.limits.max_bytes
            ),
        ));
    }
    let bytes = blob.bytes;
    let s = settings.clone();
    let work = move || {
        run_pipeline_staged(&bytes, &s, &mut |e| {
            if let Some(tx) = &early {
                let _ = tx.send(e);
            }
        })
    };
    let result = match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        // The pipeline is written never to panic; if a decoder does anyway,
        // the image is the cause and retrying cannot help: report it.
        Err(e) if e.is_panic() => {
            tracing::error!("the image pipeline panicked on this upload");
            return Ok(Report::failed(
                upload,
                size,
                "processing_failed",
                "the image could not be processed",
            ));
        }
        Err(e) => return Err(Error::Aborted(e.to_string())),
    };
    let out = match result {
        Ok(out) => out,
        Err(e) => {
            tracing::info!(code = e.code(), "image rejected by the pipeline");
            return Ok(Report::failed(upload, size, e.code(), &e.to_string()));
        }
    };
    store(blobs, upload, size, &out).await
}

/// Store the outputs of one pipeline run under `upload`'s files prefix.
pub async fn store(
    blobs: &dyn BlobStore,
    upload: &Upload,
    upload_bytes: u64,
    out: &Pipeline,
) -> Result<Report, Error> {
    let prefix = upload.files_prefix();
    let original = store_one(blobs, &prefix, &out.original).await?;
    let mut variants = std::collections::BTreeMap::new();
    for v in &out.variants {
        variants.insert(v.name.clone(), store_one(blobs, &prefix, v).await?);
    }
    Ok(Report {
        media_id: upload.media_id,
        user_id: upload.user_id,
        upload_key: upload.key.clone(),
        upload_bytes,
        outcome: Outcome::Ready {
            content_type: out.content_type.to_string(),
            width: out.width,
            height: out.height,
            thumbhash: out.thumbhash.clone(),
            dominant_color: out.dominant_color.clone(),
            original,
            variants,
        },
    })
}

/// Store one output under its content-addressed key.
pub async fn store_one(
    blobs: &dyn BlobStore,
    prefix: &str,
    out: &Output,
) -> Result<File, BlobError> {
    let key = keys::file_key(prefix, &out.name, &out.bytes, &out.content_type);
    blobs
        .put(&key, out.bytes.clone(), &out.content_type, Some(IMMUTABLE))
        .await?;
    Ok(File {
        key,
        width: out.width,
        height: out.height,
        content_type: out.content_type.clone(),
        bytes: out.bytes.len() as u64,
    })
}
