//! Refresh tokens: opaque, stored only as hashes, rotated on every use, and
//! grouped in families so that reuse of a spent token revokes the family.

use runway_core::domain::UserId;
use sqlx::Row;
use uuid::Uuid;

use crate::{Db, StoreError};

/// A refresh token to store. `token_hash` is the SHA-256 of the token.
#[derive(Debug, Clone)]
pub struct NewRefreshToken {
    pub user_id: UserId,
    pub family_id: Uuid,
    pub token_hash: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// What presenting a refresh token did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was live; it is now spent and the new one is stored.
    Rotated { user_id: UserId },
    /// The token was already spent or revoked: its whole family is now revoked.
    Reused,
    /// The token is past its expiry.
    Expired,
    /// No such token.
    Unknown,
}

/// Insert a refresh token on any executor (the pool, or an open transaction).
pub(crate) async fn insert_refresh_token_with<'e, E>(
    executor: E,
    t: &NewRefreshToken,
) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, created_at, expires_at) \
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(Uuid::now_v7().to_string())
    .bind(t.user_id.to_string())
    .bind(t.family_id.to_string())
    .bind(&t.token_hash)
    .bind(t.created_at)
    .bind(t.expires_at)
    .execute(executor)
    .await?;
    Ok(())
}

impl Db {
    pub async fn insert_refresh_token(&self, t: &NewRefreshToken) -> Result<(), StoreError> {
        insert_refresh_token_with(self.pool(), t)
            .await
            .map_err(|e| StoreError::unique(e, "refresh token"))
    }

    /// Spend the token with hash `presented` and store `next` (whose family
    /// and user are taken from the spent token) in one transaction.
    ///
    /// The spend is a conditional UPDATE, so of two concurrent uses of one
    /// token exactly one wins; the other is treated as reuse.
    pub async fn rotate_refresh_token(
        &self,
        presented: &str,
        next_hash: &str,
        now: i64,
        next_expires_at: i64,
    ) -> Result<Rotation, StoreError> {
        Ok(crate::db::retry_conflicts(|| {
            self.rotate_once(presented, next_hash, now, next_expires_at)
        })
        .await?)
    }

    async fn rotate_once(
        &self,
        presented: &str,
        next_hash: &str,
        now: i64,
        next_expires_at: i64,
    ) -> Result<Rotation, sqlx::Error> {
        let mut tx = self.pool().begin().await?;
        // Write first, so SQLite takes its write lock before reading.
        let spent = sqlx::query(
            "UPDATE refresh_tokens SET used_at = ? \
             WHERE token_hash = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?",
        )
        .bind(now)
        .bind(presented)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();

        let row = sqlx::query(
            "SELECT user_id, family_id, expires_at FROM refresh_tokens WHERE token_hash = ?",
        )
        .bind(presented)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(Rotation::Unknown);
        };
        let user_id: String = row.try_get("user_id")?;
        let family_id: String = row.try_get("family_id")?;
        let expires_at: i64 = row.try_get("expires_at")?;

        if spent == 1 {
            let user =
                UserId::parse(&user_id).map_err(|e| sqlx::Error::Decode(e.to_string().into()))?;
            let family =
                Uuid::parse_str(&family_id).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
            insert_refresh_token_with(
                &mut *tx,
                &NewRefreshToken {
                    user_id: user,
                    family_id: family,
                    token_hash: next_hash.to_string(),
                    created_at: now,
                    expires_at: next_expires_at,
                },
            )
            .await?;
            tx.commit().await?;
            return Ok(Rotation::Rotated { user_id: user });
        }
        if expires_at <= now {
            return Ok(Rotation::Expired);
        }
        // Spent or revoked, and presented again: revoke the family.
        sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(&family_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Rotation::Reused)
    }

    /// Revoke the family of the token with hash `presented` (logout).
    /// Returns false if there is no such token.
    pub async fn revoke_refresh_family(
        &self,
        presented: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let family: Option<String> =
            sqlx::query_scalar("SELECT family_id FROM refresh_tokens WHERE token_hash = ?")
                .bind(presented)
                .fetch_optional(self.pool())
                .await?;
        let Some(family) = family else {
            return Ok(false);
        };
        sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(&family)
        .execute(self.pool())
        .await?;
        Ok(true)
    }
}
