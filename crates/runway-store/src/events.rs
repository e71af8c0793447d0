//! Realtime events: a short, ordered log per user. Streams replay from it
//! after `Last-Event-ID`, and every API process tails it, so an event
//! written by any process (a worker recording a thumbnail, a delivery job)
//! reaches the user's streams on every instance.

use runway_core::domain::UserId;
use sqlx::Row;

use crate::{Db, StoreError, text_column};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Increasing; the SSE event id.
    pub id: i64,
    pub user_id: UserId,
    /// e.g. `media.ready`.
    pub kind: String,
    /// JSON.
    pub data: String,
    pub created_at: i64,
}

fn corrupt(column: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(format!("{column}: {e}").into()))
}

fn event_from_row(row: &sqlx::any::AnyRow) -> Result<StoredEvent, StoreError> {
    Ok(StoredEvent {
        id: row.try_get::<i64, _>("id")?,
        user_id: UserId::parse(&text_column(row, "user_id")?)
            .map_err(|e| corrupt("events.user_id", e))?,
        kind: text_column(row, "kind")?,
        data: text_column(row, "data")?,
        created_at: row.try_get::<i64, _>("created_at")?,
    })
}

impl Db {
    /// Append an event; returns its id.
    pub async fn insert_event(
        &self,
        user: UserId,
        kind: &str,
        data: &str,
        now: i64,
    ) -> Result<i64, StoreError> {
        // The id is read back on the same connection: the driver-level
        // "last insert id" is not reported for every SQLite configuration.
        let mut conn = self.pool().acquire().await?;
        sqlx::query("INSERT INTO events (user_id, kind, data, created_at) VALUES (?, ?, ?, ?)")
            .bind(user.to_string())
            .bind(kind)
            .bind(data)
            .bind(now)
            .execute(&mut *conn)
            .await?;
        let last = match self.dialect() {
            crate::Dialect::Sqlite => "SELECT last_insert_rowid() AS id",
            crate::Dialect::Mysql => "SELECT CAST(LAST_INSERT_ID() AS SIGNED) AS id",
        };
        let row = sqlx::query(last).fetch_one(&mut *conn).await?;
        let id = row.try_get::<i64, _>("id")?;
        if id <= 0 {
            return Err(corrupt("events.id", "no id for the inserted row"));
        }
        Ok(id)
    }

    /// Every user's events after `after`, oldest first (the tail every API
    /// process follows).
    pub async fn events_after(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, user_id, kind, data, created_at FROM events WHERE id > ? ORDER BY id LIMIT ?",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// One user's events after `after` and not older than `since`, oldest
    /// first (replay after `Last-Event-ID`).
    pub async fn user_events_after(
        &self,
        user: UserId,
        after: i64,
        since: i64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, user_id, kind, data, created_at FROM events \
             WHERE user_id = ? AND id > ? AND created_at >= ? ORDER BY id LIMIT ?",
        )
        .bind(user.to_string())
        .bind(after)
        .bind(since)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// The newest event id (0 if none): where a new tail starts.
    pub async fn last_event_id(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COALESCE(MAX(id), 0) AS id FROM events")
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get::<i64, _>("id")?)
    }

    /// Delete events created before `before`; returns how many.
    pub async fn prune_events(&self, before: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM events WHERE created_at < ?")
            .bind(before)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }
}
