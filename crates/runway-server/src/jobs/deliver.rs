use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::StreamExt;
use runway_jobs::{Job, JobError};
use runway_push::Outcome;
use runway_store::push::{Device, Finished};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::metrics::{ProviderLabels, ProviderReasonLabels};
use crate::push::{Content, quiet_until};
use crate::state::AppState;

/// Deliver one notification to a batch of devices through each device's
/// platform provider, `push.concurrency` sends at a time.
///
/// Each (notification, device) delivery is claimed before it is sent and
/// its outcome recorded right after, so a run that repeats (crash, lost
/// lease, duplicate message) skips what is recorded: every device is
/// delivered once or recorded failed. A send cut off by a crash (a claim
/// older than twice the provider timeout) may or may not have reached the
/// provider, so it is recorded `failed` with the reason `interrupted`
/// instead of being sent twice.
/// Deliveries that must wait — a retry's backoff, quiet hours, another
/// run's fresh claim — go to one follow-up job due at the earliest of them.
#[derive(Debug, Serialize, Deserialize)]
pub struct DeliverBatch {
    pub notification_id: Uuid,
    pub device_ids: Vec<Uuid>,
}

/// What happened to one device in this run.
enum Step {
    Done,
    /// Still pending; look again at this time (Unix ms).
    Later(Uuid, i64),
}

/// The id a provider sees for one delivery (`apns-id`), the same in every
/// run: derived from the notification and device ids.
pub fn delivery_id(notification: Uuid, device: Uuid) -> Uuid {
    let digest = Sha256::new()
        .chain_update(notification.as_bytes())
        .chain_update(device.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

pub fn push_device(d: &Device) -> runway_push::Device {
    runway_push::Device {
        platform: match d.platform.as_str() {
            "ios" => runway_push::Platform::Ios,
            "android" => runway_push::Platform::Android,
            _ => runway_push::Platform::Web,
        },
        token: d.token.clone().into(),
        app_id: d.app_id.clone(),
        environment: if d.environment == "sandbox" {
            runway_push::ApnsEnvironment::Sandbox
        } else {
            runway_push::ApnsEnvironment::Production
        },
        web: match (&d.web_p256dh, &d.web_auth) {
            (Some(p256dh), Some(auth)) => Some(runway_push::WebSubscriptionKeys {
                p256dh: p256dh.clone(),
                auth: auth.clone(),
            }),
            _ => None,
        },
        sns_endpoint_arn: d.sns_endpoint_arn.clone(),
    }
}

impl DeliverBatch {
    /// Record how a claimed delivery ended.
    async fn finish(
        &self,
        ctx: &AppState,
        device_id: Uuid,
        status: Finished,
        provider: &str,
        reason: Option<&str>,
        provider_id: Option<&str>,
    ) -> Result<(), JobError> {
        ctx.db
            .finish_delivery(
                self.notification_id,
                device_id,
                status,
                Some(provider),
                reason,
                provider_id,
                runway_store::now_ms(),
            )
            .await?;
        Ok(())
    }

    /// A claim older than this belongs to a run that died mid-send.
    fn stale_after(ctx: &AppState) -> i64 {
        (ctx.config.push.request_timeout_secs as i64 * 2 + 5) * 1000
    }

    async fn deliver_one(
        &self,
        ctx: &AppState,
        content: &Content,
        device_id: Uuid,
    ) -> Result<Step, JobError> {
        let nid = self.notification_id;
        let cfg = &ctx.config.push;
        let now = runway_store::now_ms();
        let Some(claimed) = ctx.db.claim_delivery(nid, device_id, now).await? else {
            return Ok(Step::Done);
        };
        let mut device = claimed.device;
        if let Some(q) = &content.quiet_hours
            && let Some(until) = quiet_until(q, device.timezone.as_deref(), now)
        {
            ctx.db.release_delivery(nid, device_id, until, now).await?;
            return Ok(Step::Later(device_id, until));
        }
        let provider = ctx.push.provider(&device.platform).clone();
        let name = provider.name();
        if name == "sns"
            && device.sns_endpoint_arn.is_none()
            && let Some(sns) = &ctx.push.sns
        {
            // Registered before SNS was configured: make its endpoint now.
            let d = push_device(&device);
            match sns
                .register(
                    d.platform,
                    d.environment,
                    &device.token,
                    None,
                    &device.user_id.to_string(),
                )
                .await
            {
                Ok(arn) => {
                    ctx.db
                        .set_device_sns_endpoint(device.id, Some(&arn))
                        .await?;
                    device.sns_endpoint_arn = Some(arn);
                }
                Err(e) => {
                    tracing::warn!(device_id = %device.id, error = %e, "could not create the SNS endpoint");
                }
            }
        }
        let message = content.render(delivery_id(nid, device_id), device.locale.as_deref());
        let started = Instant::now();
        let limit = Duration::from_secs(cfg.request_timeout_secs + 5);
        let outcome = tokio::time::timeout(limit, provider.send(&push_device(&device), &message))
            .await
            .unwrap_or_else(|_| Outcome::Retry {
                reason: "timeout".into(),
                after: None,
            });
        let labels = ProviderLabels {
            provider: name.to_string(),
        };
        ctx.metrics
            .push_latency
            .get_or_create(&labels)
            .observe(started.elapsed().as_secs_f64());
        let now = runway_store::now_ms();
        let failed = |reason: &str| {
            ctx.metrics
                .push_failed
                .get_or_create(&ProviderReasonLabels {
                    provider: name.to_string(),
                    reason: reason.to_string(),
                })
                .inc();
        };
        match outcome {
            Outcome::Delivered { provider_id } => {
                ctx.metrics.push_sent.get_or_create(&labels).inc();
                crate::events::notification_received(ctx, nid, &device, &message).await;
                self.finish(
                    ctx,
                    device_id,
                    Finished::Sent,
                    name,
                    None,
                    provider_id.as_deref(),
                )
                .await?;
                Ok(Step::Done)
            }
            Outcome::Failed { reason } => {
                failed(&reason);
                tracing::info!(device_id = %device_id, provider = name, reason, "push delivery failed permanently");
                self.finish(ctx, device_id, Finished::Failed, name, Some(&reason), None)
                    .await?;
                Ok(Step::Done)
            }
            Outcome::Unregistered { reason, at } => {
                failed(&reason);
                let at_ms = at.and_then(|t| {
                    t.duration_since(std::time::UNIX_EPOCH)
                        .ok()
                        .map(|d| d.as_millis() as i64)
                });
                if ctx.db.prune_device(device_id, at_ms).await? {
                    ctx.metrics.push_pruned.get_or_create(&labels).inc();
                    tracing::info!(device_id = %device_id, provider = name, reason, "device token pruned");
                    super::remove_sns_endpoint(ctx, &device).await;
                    crate::events::device_pruned(ctx, &device, &reason).await;
                    self.finish(ctx, device_id, Finished::Pruned, name, Some(&reason), None)
                        .await?;
                } else {
                    // Registered again after the provider saw it die: keep it.
                    let reason = format!("{reason} (token registered again since; kept)");
                    self.finish(ctx, device_id, Finished::Failed, name, Some(&reason), None)
                        .await?;
                }
                Ok(Step::Done)
            }
            Outcome::Retry { reason, after } => {
                failed(&reason);
                if name == "sns" && reason == "NotFound" {
                    // The endpoint is gone (a recreated platform
                    // application): make a new one on the next attempt.
                    ctx.db.set_device_sns_endpoint(device.id, None).await?;
                }
                if claimed.attempts >= cfg.max_attempts {
                    let reason = format!("{reason} (gave up after {} attempts)", claimed.attempts);
                    tracing::warn!(device_id = %device_id, provider = name, reason, "push delivery dead-lettered");
                    self.finish(ctx, device_id, Finished::Failed, name, Some(&reason), None)
                        .await?;
                    return Ok(Step::Done);
                }
                let backoff = runway_push::backoff(
                    claimed.attempts,
                    Duration::from_millis(cfg.retry_base_ms),
                    Duration::from_secs(cfg.retry_max_secs),
                );
                let delay = after.map_or(backoff, |a| a.max(backoff));
                let due = now + delay.as_millis() as i64;
                ctx.db
                    .retry_delivery(nid, device_id, name, &reason, due, now)
                    .await?;
                Ok(Step::Later(device_id, due))
            }
        }
    }
}

#[async_trait]
impl Job for DeliverBatch {
    const KIND: &'static str = "push.deliver";
    type Context = AppState;

    #[tracing::instrument(skip_all, fields(notification_id = %self.notification_id, devices = self.device_ids.len()))]
    async fn run(&self, ctx: &AppState) -> Result<(), JobError> {
        let Some(n) = ctx.db.notification_by_id(self.notification_id).await? else {
            return Ok(());
        };
        let content: Content = serde_json::from_str(&n.content)
            .map_err(|e| JobError::Permanent(anyhow::anyhow!("stored content: {e}")))?;
        let now = runway_store::now_ms();
        let stale = Self::stale_after(ctx);
        let mut later: Vec<(Uuid, i64)> = Vec::new();
        let mut due = Vec::new();
        for s in ctx
            .db
            .delivery_states(self.notification_id, &self.device_ids)
            .await?
        {
            match s.status.as_str() {
                "pending" => match s.not_before {
                    Some(nb) if nb > now => later.push((s.device_id, nb)),
                    _ => due.push(s.device_id),
                },
                "sending" => match s.claimed_at {
                    Some(c) if c >= now - stale => later.push((s.device_id, c + stale)),
                    _ => {
                        if ctx
                            .db
                            .fail_interrupted(self.notification_id, s.device_id, now - stale, now)
                            .await?
                        {
                            tracing::warn!(device_id = %s.device_id, "push delivery interrupted by a crash; recorded failed, not repeated");
                        }
                    }
                },
                _ => {}
            }
        }
        let mut first_error = None;
        let steps: Vec<Result<Step, JobError>> = futures::stream::iter(due)
            .map(|id| self.deliver_one(ctx, &content, id))
            .buffer_unordered(ctx.config.push.concurrency)
            .collect()
            .await;
        for step in steps {
            match step {
                Ok(Step::Later(id, at)) => later.push((id, at)),
                Ok(Step::Done) => {}
                Err(e) => first_error = first_error.or(Some(e)),
            }
        }
        if let Some(at) = later.iter().map(|(_, at)| *at).min() {
            let at = std::time::UNIX_EPOCH + Duration::from_millis(at.max(0) as u64);
            DeliverBatch {
                notification_id: self.notification_id,
                device_ids: later.into_iter().map(|(id, _)| id).collect(),
            }
            .enqueue_at(ctx.queue.as_ref(), at)
            .await?;
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}
