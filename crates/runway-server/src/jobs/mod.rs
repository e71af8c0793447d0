//! The job kinds runway runs. Each is a thin wrapper: load, call the domain
//! code, store. All of them are idempotent.

mod delete_account;
mod process_media;

pub use delete_account::DeleteAccount;
pub use process_media::ProcessMedia;

use runway_jobs::Registry;

use crate::state::AppState;

/// Every built-in job kind.
pub fn registry() -> Registry<AppState> {
    Registry::new()
        .register::<DeleteAccount>()
        .register::<ProcessMedia>()
}
