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
pub mod events;
pub mod media;
pub mod push;
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

/// Read a text column. MySQL reports TEXT columns as blobs to sqlx's Any
/// driver, so fall back to bytes and check they are UTF-8.
pub fn text_column(row: &sqlx::any::AnyRow, column: &str) -> Result<String, sqlx::Error> {
    use sqlx::Row;
    match row.try_get::<String, _>(column) {
        Ok(s) => Ok(s),
        Err(_) => {
            let bytes: Vec<u8> = row.try_get(column)?;
            String::from_utf8(bytes).map_err(|e| sqlx::Error::Decode(Box::new(e)))
        }
    }
}

/// [`text_column`] for a nullable column.
pub fn opt_text_column(
    row: &sqlx::any::AnyRow,
    column: &str,
) -> Result<Option<String>, sqlx::Error> {
    use sqlx::Row;
    match row.try_get::<Option<String>, _>(column) {
        Ok(s) => Ok(s),
        Err(_) => {
            let bytes: Option<Vec<u8>> = row.try_get(column)?;
            bytes
                .map(|b| String::from_utf8(b).map_err(|e| sqlx::Error::Decode(Box::new(e))))
                .transpose()
        }
    }
}
