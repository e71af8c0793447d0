//! The job kinds runway runs. Each is a thin wrapper: load, call the domain
//! code, store. All of them are idempotent.

mod delete_account;
mod deliver;
mod fanout;
mod process_media;
mod prune_devices;
mod recover;

pub use delete_account::DeleteAccount;
pub use deliver::{DeliverBatch, delivery_id, push_device};
pub use fanout::FanOut;
pub use process_media::ProcessMedia;
pub use prune_devices::prune_stale_devices;
pub use recover::{Recovered, housekeeping, recover_stalled_work};

use runway_jobs::Registry;

use crate::state::AppState;

/// Every built-in job kind.
pub fn registry() -> Registry<AppState> {
    Registry::new()
        .register::<DeleteAccount>()
        .register::<ProcessMedia>()
        .register::<FanOut>()
        .register::<DeliverBatch>()
}

/// Delete a device's SNS platform endpoint, if it has one. Best effort: a
/// leftover endpoint is harmless (SNS disables it when the token dies).
pub(crate) async fn remove_sns_endpoint(state: &AppState, device: &runway_store::push::Device) {
    if let (Some(sns), Some(arn)) = (&state.push.sns, &device.sns_endpoint_arn)
        && let Err(e) = sns.unregister(arn).await
    {
        tracing::warn!(device_id = %device.id, error = %e, "could not delete the SNS endpoint");
    }
}
