//! The queue kept in the database: a `jobs` table with leases.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use runway_store::sqlx::{self, Row};
use runway_store::{Db, Dialect, StoreError, now_ms};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::queue::{Delivery, NewMessage, Queue, QueueError, QueueStats, Receipt};

/// A durable queue in runway's database. Claims are single statements, so
/// concurrent workers (threads or processes) never lease one job twice.
#[derive(Clone)]
pub struct DbQueue {
    db: Db,
    name: String,
    notify: Arc<Notify>,
}

impl DbQueue {
    pub fn new(db: Db, name: impl Into<String>) -> Self {
        DbQueue {
            db,
            name: name.into(),
            notify: Arc::new(Notify::new()),
        }
    }

    /// Messages in the dead-letter state: (id, kind, attempts, last error).
    pub async fn dead_letters(&self) -> Result<Vec<(String, String, u32, String)>, QueueError> {
        let rows = sqlx::query(
            "SELECT id, kind, attempts, last_error FROM jobs WHERE queue = ? AND state = 'dead' \
             ORDER BY updated_at",
        )
        .bind(&self.name)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("id")?,
                    r.try_get("kind")?,
                    r.try_get::<i64, _>("attempts")? as u32,
                    runway_store::opt_text_column(r, "last_error")?.unwrap_or_default(),
                ))
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// (attempts, state, last_error) of one message, if it is still stored.
    pub async fn message_state(
        &self,
        id: &str,
    ) -> Result<Option<(u32, String, Option<String>)>, QueueError> {
        let row = sqlx::query("SELECT attempts, state, last_error FROM jobs WHERE id = ?")
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?;
        row.map(|r| {
            Ok((
                r.try_get::<i64, _>("attempts")? as u32,
                r.try_get("state")?,
                runway_store::opt_text_column(&r, "last_error")?,
            ))
        })
        .transpose()
        .map_err(|e: sqlx::Error| e.into())
    }
}

impl DbQueue {
    async fn claim_mysql(
        &self,
        max: usize,
        now: i64,
        lease_token: &str,
        lease_until: i64,
    ) -> Result<Vec<sqlx::any::AnyRow>, sqlx::Error> {
        let mut tx = self.db.pool().begin().await?;
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM jobs WHERE queue = ? AND \
             ((state = 'queued' AND run_at <= ?) OR (state = 'running' AND lease_until <= ?)) \
             ORDER BY run_at LIMIT ? FOR UPDATE SKIP LOCKED",
        )
        .bind(&self.name)
        .bind(now)
        .bind(now)
        .bind(max as i64)
        .fetch_all(&mut *tx)
        .await?;
        if ids.is_empty() {
            tx.commit().await?;
            return Ok(Vec::new());
        }
        let placeholders = vec!["?"; ids.len()].join(", ");
        let sql = format!(
            "UPDATE jobs SET state = 'running', lease_token = ?, lease_until = ?, \
                    attempts = attempts + 1, updated_at = ? WHERE id IN ({placeholders})"
        );
        let mut update = sqlx::query(&sql)
            .bind(lease_token)
            .bind(lease_until)
            .bind(now);
        for id in &ids {
            update = update.bind(id);
        }
        update.execute(&mut *tx).await?;
        let rows = sqlx::query(
            "SELECT id, kind, payload, attempts, created_at FROM jobs \
             WHERE lease_token = ? ORDER BY run_at",
        )
        .bind(lease_token)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(rows)
    }
}

fn split_receipt(receipt: &Receipt) -> Result<(&str, &str), QueueError> {
    receipt
        .0
        .split_once(':')
        .ok_or_else(|| QueueError::Backend("malformed receipt".into()))
}

/// Milliseconds, rounded up: a job is never due before its time.
fn to_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos().div_ceil(1_000_000) as i64)
        .unwrap_or_default()
}

fn lease_lost_if_zero(rows: u64) -> Result<(), QueueError> {
    if rows == 0 {
        Err(QueueError::LeaseLost)
    } else {
        Ok(())
    }
}

#[async_trait]
impl Queue for DbQueue {
    async fn send(&self, msg: NewMessage) -> Result<String, QueueError> {
        let now = now_ms();
        let run_at = msg.not_before.map(to_ms).unwrap_or(now).max(now);
        let id = Uuid::now_v7().to_string();
        let inserted = sqlx::query(
            "INSERT INTO jobs (id, queue, kind, payload, state, run_at, attempts, dedup_key, created_at, updated_at) \
             VALUES (?, ?, ?, ?, 'queued', ?, 0, ?, ?, ?)",
        )
        .bind(&id)
        .bind(&self.name)
        .bind(&msg.kind)
        .bind(&msg.payload)
        .bind(run_at)
        .bind(msg.dedup_key.as_deref())
        .bind(now)
        .bind(now)
        .execute(self.db.pool())
        .await
        .map_err(|e| StoreError::unique(e, "job"));
        match inserted {
            Ok(_) => {
                self.notify.notify_one();
                Ok(id)
            }
            Err(StoreError::Conflict(_)) => {
                let existing: Option<String> =
                    sqlx::query_scalar("SELECT id FROM jobs WHERE dedup_key = ?")
                        .bind(msg.dedup_key.as_deref())
                        .fetch_optional(self.db.pool())
                        .await?;
                existing.ok_or_else(|| QueueError::Backend("dedup conflict without a row".into()))
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn receive(&self, max: usize, visibility: Duration) -> Result<Vec<Delivery>, QueueError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let now = now_ms();
        let lease_token = Uuid::new_v4().simple().to_string();
        let lease_until = now + visibility.as_millis() as i64;
        let rows = match self.db.dialect() {
            // One statement: SQLite serializes writers, so the subquery and
            // the update see the same snapshot.
            Dialect::Sqlite => {
                sqlx::query(
                    "UPDATE jobs SET state = 'running', lease_token = ?, lease_until = ?, \
                            attempts = attempts + 1, updated_at = ? \
                     WHERE id IN (SELECT id FROM jobs WHERE queue = ? AND \
                                  ((state = 'queued' AND run_at <= ?) OR (state = 'running' AND lease_until <= ?)) \
                                  ORDER BY run_at LIMIT ?) \
                     RETURNING id, kind, payload, attempts, created_at",
                )
                .bind(&lease_token)
                .bind(lease_until)
                .bind(now)
                .bind(&self.name)
                .bind(now)
                .bind(now)
                .bind(max as i64)
                .fetch_all(self.db.pool())
                .await?
            }
            // MySQL has no UPDATE … RETURNING: lock the due rows with SKIP
            // LOCKED (concurrent claimers take different rows instead of
            // waiting), lease them, read them back by lease token. Retried
            // on deadlocks and lock timeouts.
            Dialect::Mysql => {
                let mut tries = 0;
                loop {
                    tries += 1;
                    match self
                        .claim_mysql(max, now, &lease_token, lease_until)
                        .await
                    {
                        Ok(rows) => break rows,
                        Err(e) if tries < 4 && runway_store::is_transient(&e) => {
                            tokio::time::sleep(Duration::from_millis(20 * tries)).await;
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
            }
        };
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("id")?;
                let created: i64 = r.try_get("created_at")?;
                Ok(Delivery {
                    receipt: Receipt(format!("{id}:{lease_token}")),
                    id,
                    kind: r.try_get("kind")?,
                    payload: runway_store::text_column(r, "payload")?,
                    attempts: r.try_get::<i64, _>("attempts")? as u32,
                    enqueued_at: UNIX_EPOCH + Duration::from_millis(created.max(0) as u64),
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(Into::into)
    }

    async fn delete(&self, receipt: &Receipt) -> Result<(), QueueError> {
        let (id, token) = split_receipt(receipt)?;
        let rows =
            sqlx::query("DELETE FROM jobs WHERE id = ? AND lease_token = ? AND state = 'running'")
                .bind(id)
                .bind(token)
                .execute(self.db.pool())
                .await?
                .rows_affected();
        lease_lost_if_zero(rows)
    }

    async fn extend(&self, receipt: &Receipt, lease: Duration) -> Result<(), QueueError> {
        let (id, token) = split_receipt(receipt)?;
        let now = now_ms();
        let rows = sqlx::query(
            "UPDATE jobs SET lease_until = ?, updated_at = ? \
             WHERE id = ? AND lease_token = ? AND state = 'running'",
        )
        .bind(now + lease.as_millis() as i64)
        .bind(now)
        .bind(id)
        .bind(token)
        .execute(self.db.pool())
        .await?
        .rows_affected();
        lease_lost_if_zero(rows)
    }

    async fn retry(
        &self,
        receipt: &Receipt,
        delay: Duration,
        error: &str,
    ) -> Result<(), QueueError> {
        let (id, token) = split_receipt(receipt)?;
        let now = now_ms();
        let rows = sqlx::query(
            "UPDATE jobs SET state = 'queued', run_at = ?, lease_token = NULL, lease_until = NULL, \
                    last_error = ?, updated_at = ? \
             WHERE id = ? AND lease_token = ? AND state = 'running'",
        )
        .bind(now + delay.as_millis() as i64)
        .bind(truncate(error))
        .bind(now)
        .bind(id)
        .bind(token)
        .execute(self.db.pool())
        .await?
        .rows_affected();
        lease_lost_if_zero(rows)
    }

    async fn release(&self, delivery: &Delivery, delay: Duration) -> Result<(), QueueError> {
        let (id, token) = split_receipt(&delivery.receipt)?;
        let now = now_ms();
        let rows = sqlx::query(
            "UPDATE jobs SET state = 'queued', run_at = ?, lease_token = NULL, lease_until = NULL, \
                    attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, updated_at = ? \
             WHERE id = ? AND lease_token = ? AND state = 'running'",
        )
        .bind(now + delay.as_millis() as i64)
        .bind(now)
        .bind(id)
        .bind(token)
        .execute(self.db.pool())
        .await?
        .rows_affected();
        lease_lost_if_zero(rows)
    }

    async fn dead_letter(&self, delivery: &Delivery, error: &str) -> Result<(), QueueError> {
        let (id, token) = split_receipt(&delivery.receipt)?;
        let rows = sqlx::query(
            "UPDATE jobs SET state = 'dead', lease_token = NULL, lease_until = NULL, \
                    dedup_key = NULL, last_error = ?, updated_at = ? \
             WHERE id = ? AND lease_token = ? AND state = 'running'",
        )
        .bind(truncate(error))
        .bind(now_ms())
        .bind(id)
        .bind(token)
        .execute(self.db.pool())
        .await?
        .rows_affected();
        lease_lost_if_zero(rows)
    }

    async fn stats(&self) -> Result<QueueStats, QueueError> {
        let now = now_ms();
        let row = sqlx::query(
            "SELECT \
               COUNT(CASE WHEN state <> 'dead' THEN 1 END) AS depth, \
               COUNT(CASE WHEN state = 'dead' THEN 1 END) AS dead, \
               MIN(CASE WHEN state = 'running' OR (state = 'queued' AND run_at <= ?) THEN created_at END) AS oldest \
             FROM jobs WHERE queue = ?",
        )
        .bind(now)
        .bind(&self.name)
        .fetch_one(self.db.pool())
        .await?;
        let depth: Option<i64> = row.try_get("depth")?;
        let dead: Option<i64> = row.try_get("dead")?;
        let oldest: Option<i64> = row.try_get("oldest")?;
        Ok(QueueStats {
            depth: depth.unwrap_or(0).max(0) as u64,
            dead: dead.unwrap_or(0).max(0) as u64,
            oldest_age_secs: oldest
                .map(|t| ((now - t).max(0) as f64) / 1000.0)
                .unwrap_or(0.0),
        })
    }

    async fn wait_for_message(&self) {
        self.notify.notified().await
    }
}

/// Errors are kept for operators; bound their size.
fn truncate(error: &str) -> String {
    const MAX: usize = 2000;
    if error.len() <= MAX {
        return error.to_string();
    }
    let mut end = MAX;
    while !error.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &error[..end])
}
