//! Push notifications: devices, topic subscriptions, server API keys,
//! notifications and their per-device deliveries.
//!
//! A delivery row exists once per (notification, device) — the primary key —
//! and moves `pending -> sending -> sent | failed | pruned` through
//! conditional updates, so a delivery job that runs twice (after a crash or
//! a duplicate message) never sends to a device whose outcome is recorded.

use runway_core::domain::UserId;
use sqlx::Row;
use uuid::Uuid;

use crate::{Db, Dialect, StoreError, opt_text_column, text_column};

fn corrupt(column: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(
        format!("{column} holds an invalid value: {e}").into(),
    ))
}

fn uuid_column(row: &sqlx::any::AnyRow, column: &str) -> Result<Uuid, StoreError> {
    let s = text_column(row, column)?;
    Uuid::parse_str(&s).map_err(|e| corrupt(column, e))
}

/// A registered device. `token` is a secret: never log it.
#[derive(Clone, PartialEq, Eq)]
pub struct Device {
    pub id: Uuid,
    pub user_id: UserId,
    /// `ios`, `android` or `web`.
    pub platform: String,
    pub token: String,
    pub app_id: Option<String>,
    pub locale: Option<String>,
    pub timezone: Option<String>,
    /// `production` or `sandbox` (APNs).
    pub environment: String,
    pub web_p256dh: Option<String>,
    pub web_auth: Option<String>,
    pub sns_endpoint_arn: Option<String>,
    pub created_at: i64,
    /// When the token was last registered or refreshed.
    pub updated_at: i64,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("platform", &self.platform)
            .field("token", &"[redacted]")
            .field("environment", &self.environment)
            .finish_non_exhaustive()
    }
}

/// A registration: inserted, or merged into the device with the same token.
#[derive(Clone)]
pub struct NewDevice {
    pub id: Uuid,
    pub user_id: UserId,
    pub platform: String,
    /// Hex SHA-256 of `<platform>:<token>`: the uniqueness key.
    pub token_hash: String,
    pub token: String,
    pub app_id: Option<String>,
    pub locale: Option<String>,
    pub timezone: Option<String>,
    pub environment: String,
    pub web_p256dh: Option<String>,
    pub web_auth: Option<String>,
    pub now: i64,
}

const DEVICE_COLUMNS: &str = "id, user_id, platform, token, app_id, locale, timezone, \
     environment, web_p256dh, web_auth, sns_endpoint_arn, created_at, updated_at";

fn device_from_row(row: &sqlx::any::AnyRow) -> Result<Device, StoreError> {
    let user_id = text_column(row, "user_id")?;
    Ok(Device {
        id: uuid_column(row, "id")?,
        user_id: UserId::parse(&user_id).map_err(|e| corrupt("devices.user_id", e))?,
        platform: text_column(row, "platform")?,
        token: text_column(row, "token")?,
        app_id: opt_text_column(row, "app_id")?,
        locale: opt_text_column(row, "locale")?,
        timezone: opt_text_column(row, "timezone")?,
        environment: text_column(row, "environment")?,
        web_p256dh: opt_text_column(row, "web_p256dh")?,
        web_auth: opt_text_column(row, "web_auth")?,
        sns_endpoint_arn: opt_text_column(row, "sns_endpoint_arn")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// A server-to-server API key (stored hashed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: Uuid,
    pub name: String,
    pub scopes: Vec<String>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// Who a notification goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    Users(Vec<UserId>),
    Topic(String),
    Devices(Vec<Uuid>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: Uuid,
    pub api_key_id: Uuid,
    /// JSON, owned by the caller.
    pub target: String,
    /// JSON, owned by the caller.
    pub content: String,
    pub send_at: Option<i64>,
    pub fanout_done: bool,
    pub created_at: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryCounts {
    /// Every device the fan-out reached.
    pub targeted: u64,
    /// Not finished yet (`pending` or `sending`).
    pub pending: u64,
    pub sent: u64,
    pub failed: u64,
    pub pruned: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryFailure {
    pub device_id: Uuid,
    pub platform: String,
    pub status: String,
    pub reason: Option<String>,
    pub attempts: u32,
}

/// Where one delivery stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryState {
    pub device_id: Uuid,
    pub status: String,
    pub attempts: u32,
    pub not_before: Option<i64>,
    pub claimed_at: Option<i64>,
}

/// A delivery this run now owns, with the device to send to.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub device: Device,
    /// Including this one.
    pub attempts: u32,
}

/// How a claimed delivery ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    Sent,
    Failed,
    Pruned,
}

impl Finished {
    fn as_str(self) -> &'static str {
        match self {
            Finished::Sent => "sent",
            Finished::Failed => "failed",
            Finished::Pruned => "pruned",
        }
    }
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

impl Db {
    // ------------------------------------------------------------ devices

    /// Register a device, or refresh the one with the same token (which then
    /// belongs to `d.user_id`, whoever had it before). Returns the device.
    pub async fn upsert_device(&self, d: &NewDevice) -> Result<Device, StoreError> {
        let upsert = match self.dialect() {
            Dialect::Sqlite => {
                "INSERT INTO devices (id, user_id, platform, token_hash, token, app_id, locale, \
                 timezone, environment, web_p256dh, web_auth, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT(token_hash) DO UPDATE SET user_id = excluded.user_id, \
                 token = excluded.token, app_id = excluded.app_id, locale = excluded.locale, \
                 timezone = excluded.timezone, environment = excluded.environment, \
                 web_p256dh = excluded.web_p256dh, web_auth = excluded.web_auth, \
                 updated_at = excluded.updated_at"
            }
            Dialect::Mysql => {
                "INSERT INTO devices (id, user_id, platform, token_hash, token, app_id, locale, \
                 timezone, environment, web_p256dh, web_auth, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                 ON DUPLICATE KEY UPDATE user_id = VALUES(user_id), token = VALUES(token), \
                 app_id = VALUES(app_id), locale = VALUES(locale), timezone = VALUES(timezone), \
                 environment = VALUES(environment), web_p256dh = VALUES(web_p256dh), \
                 web_auth = VALUES(web_auth), updated_at = VALUES(updated_at)"
            }
        };
        crate::db::retry_conflicts(|| async {
            sqlx::query(upsert)
                .bind(d.id.to_string())
                .bind(d.user_id.to_string())
                .bind(&d.platform)
                .bind(&d.token_hash)
                .bind(&d.token)
                .bind(d.app_id.clone())
                .bind(d.locale.clone())
                .bind(d.timezone.clone())
                .bind(&d.environment)
                .bind(d.web_p256dh.clone())
                .bind(d.web_auth.clone())
                .bind(d.now)
                .bind(d.now)
                .execute(self.pool())
                .await
        })
        .await?;
        let row = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE token_hash = ?"
        ))
        .bind(&d.token_hash)
        .fetch_one(self.pool())
        .await?;
        device_from_row(&row)
    }

    pub async fn set_device_sns_endpoint(
        &self,
        id: Uuid,
        arn: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE devices SET sns_endpoint_arn = ? WHERE id = ?")
            .bind(arn.map(str::to_string))
            .bind(id.to_string())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn device_by_id(&self, id: Uuid) -> Result<Option<Device>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE id = ?"
        ))
        .bind(id.to_string())
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(device_from_row).transpose()
    }

    pub async fn device_by_token_hash(&self, hash: &str) -> Result<Option<Device>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE token_hash = ?"
        ))
        .bind(hash)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(device_from_row).transpose()
    }

    /// An account's devices, oldest first (at most `limit`).
    pub async fn list_devices(&self, user: UserId, limit: u32) -> Result<Vec<Device>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE user_id = ? ORDER BY id LIMIT ?"
        ))
        .bind(user.to_string())
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(device_from_row).collect()
    }

    /// Delete one of `user`'s devices. False if there is no such device.
    pub async fn delete_device(&self, user: UserId, id: Uuid) -> Result<bool, StoreError> {
        let n = sqlx::query("DELETE FROM devices WHERE id = ? AND user_id = ?")
            .bind(id.to_string())
            .bind(user.to_string())
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// Delete a device whose token the provider reported dead, unless it
    /// was registered again after `unless_registered_after` (APNs gives the
    /// time it learned the token was invalid). True if it was deleted.
    pub async fn prune_device(
        &self,
        id: Uuid,
        unless_registered_after: Option<i64>,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query("DELETE FROM devices WHERE id = ? AND updated_at <= ?")
            .bind(id.to_string())
            .bind(unless_registered_after.unwrap_or(i64::MAX))
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// Up to `limit` devices whose token was not refreshed since `cutoff`.
    pub async fn stale_devices(&self, cutoff: i64, limit: u32) -> Result<Vec<Device>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE updated_at < ? ORDER BY updated_at LIMIT ?"
        ))
        .bind(cutoff)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(device_from_row).collect()
    }

    // ------------------------------------------------------------- topics

    /// Subscribe; subscribing twice is a no-op.
    pub async fn subscribe_topic(
        &self,
        user: UserId,
        topic: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let sql = match self.dialect() {
            Dialect::Sqlite => {
                "INSERT OR IGNORE INTO topic_subscriptions (topic, user_id, created_at) \
                 VALUES (?, ?, ?)"
            }
            Dialect::Mysql => {
                "INSERT IGNORE INTO topic_subscriptions (topic, user_id, created_at) \
                 VALUES (?, ?, ?)"
            }
        };
        sqlx::query(sql)
            .bind(topic)
            .bind(user.to_string())
            .bind(now)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Unsubscribe. False if `user` was not subscribed.
    pub async fn unsubscribe_topic(&self, user: UserId, topic: &str) -> Result<bool, StoreError> {
        let n = sqlx::query("DELETE FROM topic_subscriptions WHERE topic = ? AND user_id = ?")
            .bind(topic)
            .bind(user.to_string())
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    pub async fn list_topics(&self, user: UserId) -> Result<Vec<String>, StoreError> {
        let rows =
            sqlx::query("SELECT topic FROM topic_subscriptions WHERE user_id = ? ORDER BY topic")
                .bind(user.to_string())
                .fetch_all(self.pool())
                .await?;
        rows.iter()
            .map(|r| text_column(r, "topic").map_err(StoreError::from))
            .collect()
    }

    // ----------------------------------------------------------- API keys

    pub async fn insert_api_key(
        &self,
        id: Uuid,
        name: &str,
        key_hash: &str,
        scopes: &[String],
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO api_keys (id, name, key_hash, scopes, created_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(id.to_string())
        .bind(name)
        .bind(key_hash)
        .bind(scopes.join(" "))
        .bind(now)
        .execute(self.pool())
        .await
        .map_err(|e| StoreError::unique(e, "api key"))?;
        Ok(())
    }

    /// The key with this hash, if it exists and is not revoked.
    pub async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, scopes, created_at, revoked_at FROM api_keys \
             WHERE key_hash = ? AND revoked_at IS NULL",
        )
        .bind(key_hash)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(api_key_from_row).transpose()
    }

    pub async fn list_api_keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, scopes, created_at, revoked_at FROM api_keys ORDER BY created_at",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(api_key_from_row).collect()
    }

    /// Revoke a key. False if it does not exist or was already revoked.
    pub async fn revoke_api_key(&self, id: Uuid, now: i64) -> Result<bool, StoreError> {
        let n =
            sqlx::query("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
                .bind(now)
                .bind(id.to_string())
                .execute(self.pool())
                .await?
                .rows_affected();
        Ok(n == 1)
    }

    // ------------------------------------------------------ notifications

    pub async fn insert_notification(&self, n: &Notification) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO notifications (id, api_key_id, target, content, send_at, fanout_done, \
             created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
        )
        .bind(n.id.to_string())
        .bind(n.api_key_id.to_string())
        .bind(&n.target)
        .bind(&n.content)
        .bind(n.send_at)
        .bind(n.created_at)
        .bind(n.created_at)
        .execute(self.pool())
        .await
        .map_err(|e| StoreError::unique(e, "notification"))?;
        Ok(())
    }

    pub async fn notification_by_id(&self, id: Uuid) -> Result<Option<Notification>, StoreError> {
        let row = sqlx::query(
            "SELECT id, api_key_id, target, content, send_at, fanout_done, created_at \
             FROM notifications WHERE id = ?",
        )
        .bind(id.to_string())
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(notification_from_row).transpose()
    }

    /// Remove a notification that could not be queued (its deliveries go
    /// with it).
    pub async fn delete_notification(&self, id: Uuid) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM notifications WHERE id = ?")
            .bind(id.to_string())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn mark_fanout_done(&self, id: Uuid, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE notifications SET fanout_done = 1, updated_at = ? WHERE id = ?")
            .bind(now)
            .bind(id.to_string())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The next `limit` device ids of an audience after `after`, in id
    /// order (keyset pagination: the fan-out never holds more than a batch).
    /// Devices not refreshed since `fresh_since`, and accounts being
    /// deleted, are left out.
    pub async fn audience_page(
        &self,
        audience: &Audience,
        after: Option<Uuid>,
        limit: u32,
        fresh_since: i64,
    ) -> Result<Vec<Uuid>, StoreError> {
        let after = after.map(|u| u.to_string()).unwrap_or_default();
        let base = "SELECT d.id FROM devices d JOIN users u ON u.id = d.user_id \
                    AND u.deleted_at IS NULL";
        let rows = match audience {
            Audience::Users(users) => {
                if users.is_empty() {
                    return Ok(Vec::new());
                }
                let sql = format!(
                    "{base} WHERE d.user_id IN ({}) AND d.id > ? AND d.updated_at >= ? \
                     ORDER BY d.id LIMIT ?",
                    placeholders(users.len())
                );
                let mut q = sqlx::query(&sql);
                for u in users {
                    q = q.bind(u.to_string());
                }
                q.bind(after)
                    .bind(fresh_since)
                    .bind(i64::from(limit))
                    .fetch_all(self.pool())
                    .await?
            }
            Audience::Devices(ids) => {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let sql = format!(
                    "{base} WHERE d.id IN ({}) AND d.id > ? AND d.updated_at >= ? \
                     ORDER BY d.id LIMIT ?",
                    placeholders(ids.len())
                );
                let mut q = sqlx::query(&sql);
                for id in ids {
                    q = q.bind(id.to_string());
                }
                q.bind(after)
                    .bind(fresh_since)
                    .bind(i64::from(limit))
                    .fetch_all(self.pool())
                    .await?
            }
            Audience::Topic(topic) => {
                // Walk devices in primary-key order and keep the subscribed
                // ones: each page stops after `limit` matches, so a whole
                // fan-out reads the devices once. (A join from the
                // subscriptions side sorts the entire audience on every page.)
                sqlx::query(&format!(
                    "{base} WHERE d.id > ? AND d.updated_at >= ? AND EXISTS \
                     (SELECT 1 FROM topic_subscriptions t WHERE t.topic = ? \
                      AND t.user_id = d.user_id) \
                     ORDER BY d.id LIMIT ?"
                ))
                .bind(after)
                .bind(fresh_since)
                .bind(topic)
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?
            }
        };
        rows.iter().map(|r| uuid_column(r, "id")).collect()
    }

    /// Create the `pending` delivery rows of a batch; rows that exist are
    /// left as they are (a fan-out step that runs twice adds nothing).
    pub async fn insert_deliveries(
        &self,
        notification: Uuid,
        devices: &[Uuid],
        not_before: Option<i64>,
        now: i64,
    ) -> Result<(), StoreError> {
        if devices.is_empty() {
            return Ok(());
        }
        let ignore = match self.dialect() {
            Dialect::Sqlite => "INSERT OR IGNORE",
            Dialect::Mysql => "INSERT IGNORE",
        };
        let sql = format!(
            "{ignore} INTO deliveries (notification_id, device_id, user_id, platform, status, \
             attempts, not_before, updated_at) \
             SELECT ?, id, user_id, platform, 'pending', 0, ?, ? FROM devices WHERE id IN ({})",
            placeholders(devices.len())
        );
        crate::db::retry_conflicts(|| async {
            let mut q = sqlx::query(&sql)
                .bind(notification.to_string())
                .bind(not_before)
                .bind(now);
            for d in devices {
                q = q.bind(d.to_string());
            }
            q.execute(self.pool()).await
        })
        .await?;
        Ok(())
    }

    pub async fn delivery_states(
        &self,
        notification: Uuid,
        devices: &[Uuid],
    ) -> Result<Vec<DeliveryState>, StoreError> {
        if devices.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT device_id, status, attempts, not_before, claimed_at FROM deliveries \
             WHERE notification_id = ? AND device_id IN ({})",
            placeholders(devices.len())
        );
        let mut q = sqlx::query(&sql).bind(notification.to_string());
        for d in devices {
            q = q.bind(d.to_string());
        }
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                Ok(DeliveryState {
                    device_id: uuid_column(r, "device_id")?,
                    status: text_column(r, "status")?,
                    attempts: r.try_get::<i64, _>("attempts")?.clamp(0, u32::MAX as i64) as u32,
                    not_before: r.try_get("not_before")?,
                    claimed_at: r.try_get("claimed_at")?,
                })
            })
            .collect()
    }

    /// Take a `pending`, due delivery to send it. `None` if another run
    /// owns it, it is not due, or it is finished. A delivery whose device
    /// is gone is recorded failed.
    pub async fn claim_delivery(
        &self,
        notification: Uuid,
        device: Uuid,
        now: i64,
    ) -> Result<Option<Claimed>, StoreError> {
        let n = sqlx::query(
            "UPDATE deliveries SET status = 'sending', claimed_at = ?, attempts = attempts + 1, \
             updated_at = ? WHERE notification_id = ? AND device_id = ? AND \
             status = 'pending' AND (not_before IS NULL OR not_before <= ?)",
        )
        .bind(now)
        .bind(now)
        .bind(notification.to_string())
        .bind(device.to_string())
        .bind(now)
        .execute(self.pool())
        .await?
        .rows_affected();
        if n != 1 {
            return Ok(None);
        }
        let attempts: i64 = sqlx::query_scalar(
            "SELECT attempts FROM deliveries WHERE notification_id = ? AND device_id = ?",
        )
        .bind(notification.to_string())
        .bind(device.to_string())
        .fetch_one(self.pool())
        .await?;
        match self.device_by_id(device).await? {
            Some(device) => Ok(Some(Claimed {
                device,
                attempts: attempts.clamp(0, u32::MAX as i64) as u32,
            })),
            None => {
                self.finish_delivery(
                    notification,
                    device,
                    Finished::Failed,
                    None,
                    Some("device_removed"),
                    None,
                    now,
                )
                .await?;
                Ok(None)
            }
        }
    }

    /// A claim older than `stale_before` belongs to a run that died while
    /// sending: the request may or may not have reached the provider, so
    /// the delivery is recorded `failed` (`interrupted`) rather than sent
    /// a second time. False if the claim is not stale (or not a claim).
    pub async fn fail_interrupted(
        &self,
        notification: Uuid,
        device: Uuid,
        stale_before: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE deliveries SET status = 'failed', \
             reason = 'interrupted: the sender stopped mid-send; not repeated', \
             claimed_at = NULL, updated_at = ? \
             WHERE notification_id = ? AND device_id = ? AND status = 'sending' \
             AND claimed_at < ?",
        )
        .bind(now)
        .bind(notification.to_string())
        .bind(device.to_string())
        .bind(stale_before)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Record how a claimed delivery ended. False if it was not claimed.
    #[allow(clippy::too_many_arguments)]
    pub async fn finish_delivery(
        &self,
        notification: Uuid,
        device: Uuid,
        status: Finished,
        provider: Option<&str>,
        reason: Option<&str>,
        provider_id: Option<&str>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE deliveries SET status = ?, provider = ?, reason = ?, provider_id = ?, \
             claimed_at = NULL, updated_at = ? \
             WHERE notification_id = ? AND device_id = ? AND status = 'sending'",
        )
        .bind(status.as_str())
        .bind(provider.map(str::to_string))
        .bind(reason.map(|r| r.chars().take(255).collect::<String>()))
        .bind(provider_id.map(|r| r.chars().take(255).collect::<String>()))
        .bind(now)
        .bind(notification.to_string())
        .bind(device.to_string())
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Put a claimed delivery back to `pending`, due at `not_before`.
    pub async fn retry_delivery(
        &self,
        notification: Uuid,
        device: Uuid,
        provider: &str,
        reason: &str,
        not_before: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE deliveries SET status = 'pending', provider = ?, reason = ?, not_before = ?, \
             claimed_at = NULL, updated_at = ? \
             WHERE notification_id = ? AND device_id = ? AND status = 'sending'",
        )
        .bind(provider)
        .bind(reason.chars().take(255).collect::<String>())
        .bind(not_before)
        .bind(now)
        .bind(notification.to_string())
        .bind(device.to_string())
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Hand a claimed delivery back without counting the attempt (quiet
    /// hours): `pending`, due at `not_before`.
    pub async fn release_delivery(
        &self,
        notification: Uuid,
        device: Uuid,
        not_before: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE deliveries SET status = 'pending', attempts = attempts - 1, not_before = ?, \
             claimed_at = NULL, updated_at = ? \
             WHERE notification_id = ? AND device_id = ? AND status = 'sending'",
        )
        .bind(not_before)
        .bind(now)
        .bind(notification.to_string())
        .bind(device.to_string())
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Deliveries that should have been handled by `before` and were not:
    /// `pending` and due (their job was dead-lettered or lost) or
    /// `sending` (their run died), untouched since `before`. By
    /// notification, at most `limit` rows.
    pub async fn stalled_deliveries(
        &self,
        before: i64,
        limit: u32,
    ) -> Result<Vec<(Uuid, Uuid)>, StoreError> {
        let rows = sqlx::query(
            "SELECT notification_id, device_id FROM deliveries \
             WHERE status IN ('pending', 'sending') AND updated_at < ? \
             AND (not_before IS NULL OR not_before < ?) \
             ORDER BY notification_id, device_id LIMIT ?",
        )
        .bind(before)
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    uuid_column(r, "notification_id")?,
                    uuid_column(r, "device_id")?,
                ))
            })
            .collect()
    }

    /// Notifications whose fan-out has not finished and was last touched
    /// before `before` (and were due by then).
    pub async fn stalled_fanouts(&self, before: i64, limit: u32) -> Result<Vec<Uuid>, StoreError> {
        let rows = sqlx::query(
            "SELECT id FROM notifications WHERE fanout_done = 0 AND updated_at < ? \
             AND (send_at IS NULL OR send_at < ?) ORDER BY id LIMIT ?",
        )
        .bind(before)
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| uuid_column(r, "id")).collect()
    }

    /// Note progress on a fan-out (so a long one is not taken for stalled).
    pub async fn touch_notification(&self, id: Uuid, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE notifications SET updated_at = ? WHERE id = ?")
            .bind(now)
            .bind(id.to_string())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn delivery_counts(&self, notification: Uuid) -> Result<DeliveryCounts, StoreError> {
        let rows = sqlx::query(
            "SELECT status, COUNT(*) AS n FROM deliveries WHERE notification_id = ? \
             GROUP BY status",
        )
        .bind(notification.to_string())
        .fetch_all(self.pool())
        .await?;
        let mut c = DeliveryCounts::default();
        for r in &rows {
            let status = text_column(r, "status")?;
            let n = r.try_get::<i64, _>("n")?.max(0) as u64;
            c.targeted += n;
            match status.as_str() {
                "sent" => c.sent += n,
                "failed" => c.failed += n,
                "pruned" => c.pruned += n,
                _ => c.pending += n,
            }
        }
        Ok(c)
    }

    /// Deliveries that did not end `sent` (failed or pruned), by device id.
    pub async fn delivery_failures(
        &self,
        notification: Uuid,
        limit: u32,
    ) -> Result<Vec<DeliveryFailure>, StoreError> {
        let rows = sqlx::query(
            "SELECT device_id, platform, status, reason, attempts FROM deliveries \
             WHERE notification_id = ? AND status IN ('failed', 'pruned') \
             ORDER BY device_id LIMIT ?",
        )
        .bind(notification.to_string())
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DeliveryFailure {
                    device_id: uuid_column(r, "device_id")?,
                    platform: text_column(r, "platform")?,
                    status: text_column(r, "status")?,
                    reason: opt_text_column(r, "reason")?,
                    attempts: r.try_get::<i64, _>("attempts")?.clamp(0, u32::MAX as i64) as u32,
                })
            })
            .collect()
    }

    /// Notifications delivered to at least one of `user`'s devices, newest
    /// first, strictly older than `before` when given.
    pub async fn inbox(
        &self,
        user: UserId,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        let before = before
            .map(|u| u.to_string())
            .unwrap_or_else(|| "~".to_string());
        let rows = sqlx::query(
            "SELECT id, api_key_id, target, content, send_at, fanout_done, created_at \
             FROM notifications WHERE id IN \
             (SELECT notification_id FROM deliveries WHERE user_id = ? AND status = 'sent') \
             AND id < ? ORDER BY id DESC LIMIT ?",
        )
        .bind(user.to_string())
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(notification_from_row).collect()
    }
}

fn api_key_from_row(row: &sqlx::any::AnyRow) -> Result<ApiKey, StoreError> {
    Ok(ApiKey {
        id: uuid_column(row, "id")?,
        name: text_column(row, "name")?,
        scopes: text_column(row, "scopes")?
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

fn notification_from_row(row: &sqlx::any::AnyRow) -> Result<Notification, StoreError> {
    Ok(Notification {
        id: uuid_column(row, "id")?,
        api_key_id: uuid_column(row, "api_key_id")?,
        target: text_column(row, "target")?,
        content: text_column(row, "content")?,
        send_at: row.try_get("send_at")?,
        fanout_done: row.try_get::<i64, _>("fanout_done")? != 0,
        created_at: row.try_get("created_at")?,
    })
}
