use crate::state::AppState;

/// Devices removed per sweep at most (the next sweep continues).
const PER_SWEEP: u32 = 5000;

/// Token aging: delete devices whose token was not registered again for
/// `push.token_ttl_days`, with their SNS endpoints. Fan-out already skips
/// them; this removes the rows. Idempotent and conditional (a token
/// registered again meanwhile is kept), so several workers sweeping at
/// once is harmless. Returns how many were removed.
pub async fn prune_stale_devices(ctx: &AppState) -> anyhow::Result<u32> {
    let now = runway_store::now_ms();
    let cutoff = now - ctx.config.push.token_ttl_days as i64 * 24 * 3600 * 1000;
    let mut removed = 0u32;
    let mut seen = 0u32;
    while seen < PER_SWEEP {
        let batch = ctx.db.stale_devices(cutoff, 500).await?;
        if batch.is_empty() {
            break;
        }
        for device in &batch {
            if ctx.db.prune_device(device.id, Some(cutoff)).await? {
                super::remove_sns_endpoint(ctx, device).await;
                crate::events::device_pruned(ctx, device, "token_aged_out").await;
                removed += 1;
            }
            seen += 1;
        }
    }
    if removed > 0 {
        tracing::info!(removed, "stale device tokens aged out");
    }
    Ok(removed)
}
