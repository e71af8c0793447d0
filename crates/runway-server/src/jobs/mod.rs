//! The job kinds runway runs. Each is a thin wrapper: load, call the domain
//! code, store. All of them are idempotent.

mod delete_account;

pub use delete_account::DeleteAccount;

use runway_jobs::Registry;

use crate::state::AppState;

/// Every built-in job kind.
pub fn registry() -> Registry<AppState> {
    Registry::new().register::<DeleteAccount>()
}
