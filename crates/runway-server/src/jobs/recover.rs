use std::collections::BTreeMap;
use std::time::Duration;

use runway_jobs::Job;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::jobs::{DeliverBatch, FanOut, ProcessMedia};
use crate::state::AppState;

/// How often each worker process runs housekeeping.
const EVERY: Duration = Duration::from_secs(3600);
/// Work untouched for this long, and due, has lost its job.
const STALLED_AFTER: Duration = Duration::from_secs(3600);
/// Rows recovered per kind per run (the next run continues).
const PER_RUN: u32 = 1000;

/// What one recovery run re-enqueued.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Recovered {
    pub media: usize,
    pub deliveries: usize,
    pub fanouts: usize,
}

/// Accepted work whose job is gone — dead-lettered after a long outage
/// (database, storage or queue down for the whole retry budget) or lost —
/// is enqueued again: media still `processing`, deliveries still
/// `pending`/`sending` and due, fan-outs not finished, each untouched for
/// an hour. Every job is idempotent, so a duplicate is harmless.
pub async fn recover_stalled_work(ctx: &AppState) -> anyhow::Result<Recovered> {
    let before = runway_store::now_ms() - STALLED_AFTER.as_millis() as i64;
    let queue = ctx.queue.as_ref();
    let mut out = Recovered::default();
    for media_id in ctx.db.stalled_media(before, PER_RUN).await? {
        ProcessMedia { media_id }.enqueue(queue).await?;
        out.media += 1;
    }
    let mut by_notification: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
    for (notification, device) in ctx.db.stalled_deliveries(before, PER_RUN).await? {
        by_notification
            .entry(notification)
            .or_default()
            .push(device);
        out.deliveries += 1;
    }
    for (notification_id, devices) in by_notification {
        for chunk in devices.chunks(ctx.config.push.batch_size as usize) {
            DeliverBatch {
                notification_id,
                device_ids: chunk.to_vec(),
            }
            .enqueue(queue)
            .await?;
        }
    }
    for notification_id in ctx.db.stalled_fanouts(before, PER_RUN).await? {
        // From the start: delivery rows that exist are kept as they are.
        FanOut {
            notification_id,
            after: None,
        }
        .enqueue(queue)
        .await?;
        out.fanouts += 1;
    }
    if out != Recovered::default() {
        tracing::warn!(
            media = out.media,
            deliveries = out.deliveries,
            fanouts = out.fanouts,
            "re-enqueued stalled work whose jobs were lost or dead-lettered"
        );
    }
    Ok(out)
}

/// Each worker process, now and then hourly until `cancel`: recover
/// stalled work and age out stale device tokens. Both are idempotent, so
/// several workers doing it at once is harmless.
pub async fn housekeeping(ctx: AppState, cancel: CancellationToken) {
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        if let Err(e) = recover_stalled_work(&ctx).await {
            tracing::warn!(
                error = format!("{e:#}"),
                "recovering stalled work failed; retrying next hour"
            );
        }
        if let Err(e) = super::prune_stale_devices(&ctx).await {
            tracing::warn!(
                error = format!("{e:#}"),
                "device-token sweep failed; retrying next hour"
            );
        }
        let before = runway_store::now_ms() - ctx.config.events.retention_secs as i64 * 1000;
        match ctx.db.prune_events(before).await {
            Ok(n) if n > 0 => tracing::info!(removed = n, "old events removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "removing old events failed; retrying next hour"),
        }
    }
}
