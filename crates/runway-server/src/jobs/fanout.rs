use async_trait::async_trait;
use runway_jobs::{Job, JobError};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::jobs::DeliverBatch;
use crate::routes::notifications::Target;
use crate::state::AppState;

/// One step of a notification's fan-out: read the next `push.batch_size`
/// devices of its audience after `after` (keyset order), record a `pending`
/// delivery for each, hand them to a `push.deliver` job, and chain the next
/// step. Memory is bounded by one batch whatever the audience size.
///
/// Idempotent: delivery rows are insert-or-ignore, and delivery claims
/// make a duplicated `push.deliver` job harmless.
#[derive(Debug, Serialize, Deserialize)]
pub struct FanOut {
    pub notification_id: Uuid,
    /// The last device id of the previous step.
    pub after: Option<Uuid>,
}

#[async_trait]
impl Job for FanOut {
    const KIND: &'static str = "notification.fanout";
    type Context = AppState;

    fn dedup_key(&self) -> Option<String> {
        Some(format!(
            "notification.fanout:{}:{}",
            self.notification_id,
            self.after.map(|a| a.to_string()).unwrap_or_default()
        ))
    }

    #[tracing::instrument(skip_all, fields(notification_id = %self.notification_id))]
    async fn run(&self, ctx: &AppState) -> Result<(), JobError> {
        let Some(n) = ctx.db.notification_by_id(self.notification_id).await? else {
            return Ok(()); // deleted
        };
        let target: Target = serde_json::from_str(&n.target)
            .map_err(|e| JobError::Permanent(anyhow::anyhow!("stored target: {e}")))?;
        let push = &ctx.config.push;
        let now = runway_store::now_ms();
        let fresh_since = now - (push.token_ttl_days as i64) * 24 * 3600 * 1000;
        let page = ctx
            .db
            .audience_page(&target.audience(), self.after, push.batch_size, fresh_since)
            .await?;
        if !page.is_empty() {
            ctx.db
                .insert_deliveries(self.notification_id, &page, None, now)
                .await?;
            DeliverBatch {
                notification_id: self.notification_id,
                device_ids: page.clone(),
            }
            .enqueue(ctx.queue.as_ref())
            .await?;
        }
        if page.len() as u32 == push.batch_size {
            FanOut {
                notification_id: self.notification_id,
                after: page.last().copied(),
            }
            .enqueue(ctx.queue.as_ref())
            .await?;
            ctx.db.touch_notification(self.notification_id, now).await?;
        } else {
            ctx.db.mark_fanout_done(self.notification_id, now).await?;
            tracing::info!("fan-out complete");
        }
        Ok(())
    }
}
