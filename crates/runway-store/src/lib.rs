//! runway's relational database.
//!
//! One [`Db`] handle over an `sqlx` `AnyPool`. Queries are written once in the
//! SQL that every supported backend shares (`?` placeholders, integer
//! millisecond timestamps, string ids, no `||`, no self-referencing
//! `UPDATE … WHERE … (SELECT … same table)`); the few statements that must
//! differ per backend branch on [`Dialect`]. Migrations are kept per backend
//! under `migrations/<dialect>/`.

mod db;
mod error;
pub mod tokens;
pub mod users;

pub use db::{Db, DbOptions, Dialect, MigrationStatus, is_transient};
pub use error::StoreError;
pub use sqlx;

/// Milliseconds since the Unix epoch: the time representation in every table.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}
