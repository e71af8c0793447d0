use async_trait::async_trait;
use runway_core::domain::UserId;
use runway_jobs::{Job, JobError};
use serde::{Deserialize, Serialize};

use crate::state::AppState;

/// Remove everything an account owns, then the account itself (App Store
/// Guideline 5.1.1(v)). Safe to run any number of times.
#[derive(Debug, Serialize, Deserialize)]
pub struct DeleteAccount {
    pub user_id: UserId,
}

#[async_trait]
impl Job for DeleteAccount {
    const KIND: &'static str = "account.delete";
    type Context = AppState;

    fn dedup_key(&self) -> Option<String> {
        Some(format!("account.delete:{}", self.user_id))
    }

    #[tracing::instrument(skip_all, fields(user_id = %self.user_id))]
    async fn run(&self, ctx: &AppState) -> Result<(), JobError> {
        let now = runway_store::now_ms();
        // Usually done already by the request; repeated here so the job
        // alone is enough if the request died after enqueueing it.
        ctx.db.mark_user_deleted(self.user_id, now).await?;
        if ctx.push.sns.is_some() {
            for device in ctx.db.list_devices(self.user_id, 10_000).await? {
                super::remove_sns_endpoint(ctx, &device).await;
            }
        }
        let mut removed = 0;
        for prefix in crate::media::account_prefixes(self.user_id) {
            removed += ctx.blobs.delete_prefix(&prefix).await?;
        }
        ctx.db.purge_user(self.user_id).await?;
        tracing::info!(objects = removed, "account objects removed");
        tracing::info!("account data removed");
        Ok(())
    }
}
