//! Accounts.

use runway_core::domain::{Email, UserId};
use sqlx::Row;

use crate::{Db, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// A user with the password hash, for login only.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

fn user_from_row(row: &sqlx::any::AnyRow) -> Result<User, StoreError> {
    let id: String = row.try_get("id")?;
    let email: String = row.try_get("email")?;
    Ok(User {
        id: UserId::parse(&id).map_err(|e| corrupt("users.id", e))?,
        email: Email::parse(&email).map_err(|e| corrupt("users.email", e))?,
        created_at: row.try_get("created_at")?,
    })
}

fn corrupt(column: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(
        format!("{column} holds an invalid value: {e}").into(),
    ))
}

impl Db {
    /// Create an account. `Conflict("email")` if the address is taken.
    pub async fn create_user(
        &self,
        email: &Email,
        password_hash: &str,
        now: i64,
    ) -> Result<User, StoreError> {
        let id = UserId::new();
        sqlx::query("INSERT INTO users (id, email, password_hash, created_at) VALUES (?, ?, ?, ?)")
            .bind(id.to_string())
            .bind(email.as_str())
            .bind(password_hash)
            .bind(now)
            .execute(self.pool())
            .await
            .map_err(|e| StoreError::unique(e, "email"))?;
        Ok(User {
            id,
            email: email.clone(),
            created_at: now,
        })
    }

    /// Create an account and its first session in one transaction, so a
    /// failure leaves neither. `Conflict("email")` if the address is taken.
    pub async fn create_user_with_session(
        &self,
        email: &Email,
        password_hash: &str,
        now: i64,
        refresh_token_hash: &str,
        refresh_expires_at: i64,
    ) -> Result<User, StoreError> {
        let id = UserId::new();
        let session = crate::tokens::NewRefreshToken {
            user_id: id,
            family_id: uuid::Uuid::now_v7(),
            token_hash: refresh_token_hash.to_string(),
            created_at: now,
            expires_at: refresh_expires_at,
        };
        let mut tx = self.pool().begin().await?;
        sqlx::query("INSERT INTO users (id, email, password_hash, created_at) VALUES (?, ?, ?, ?)")
            .bind(id.to_string())
            .bind(email.as_str())
            .bind(password_hash)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::unique(e, "email"))?;
        crate::tokens::insert_refresh_token_with(&mut *tx, &session)
            .await
            .map_err(|e| StoreError::unique(e, "refresh token"))?;
        tx.commit().await?;
        Ok(User {
            id,
            email: email.clone(),
            created_at: now,
        })
    }

    /// A live (not deleted) account by email, with its password hash.
    pub async fn credentials_by_email(
        &self,
        email: &Email,
    ) -> Result<Option<Credentials>, StoreError> {
        let row = sqlx::query(
            "SELECT id, email, created_at, password_hash FROM users \
             WHERE email = ? AND deleted_at IS NULL",
        )
        .bind(email.as_str())
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            Ok(Credentials {
                user: user_from_row(&row)?,
                password_hash: row.try_get("password_hash")?,
            })
        })
        .transpose()
    }

    /// A live (not deleted) account by id.
    pub async fn user_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(
            "SELECT id, email, created_at FROM users WHERE id = ? AND deleted_at IS NULL",
        )
        .bind(id.to_string())
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Start deleting an account: it stops being able to sign in at once, its
    /// email is released, and every refresh token is revoked. The rows are
    /// removed by [`Db::purge_user`], run from a durable job. Returns false if
    /// the account was already gone.
    pub async fn mark_user_deleted(&self, id: UserId, now: i64) -> Result<bool, StoreError> {
        Ok(crate::db::retry_conflicts(|| self.mark_user_deleted_once(id, now)).await?)
    }

    async fn mark_user_deleted_once(&self, id: UserId, now: i64) -> Result<bool, sqlx::Error> {
        let mut tx = self.pool().begin().await?;
        let updated = sqlx::query(
            "UPDATE users SET deleted_at = ?, email = ? WHERE id = ? AND deleted_at IS NULL",
        )
        .bind(now)
        .bind(format!("deleted-{id}@invalid"))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(updated == 1)
    }

    /// Remove an account's rows. Idempotent: purging a purged account is a no-op.
    pub async fn purge_user(&self, id: UserId) -> Result<(), StoreError> {
        Ok(crate::db::retry_conflicts(|| self.purge_user_once(id)).await?)
    }

    async fn purge_user_once(&self, id: UserId) -> Result<(), sqlx::Error> {
        let mut tx = self.pool().begin().await?;
        for table in ["media", "devices", "topic_subscriptions", "deliveries"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE user_id = ?"))
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM refresh_tokens WHERE user_id = ?")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM users WHERE id = ?")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether any row for the account remains (deleted or not).
    pub async fn user_row_exists(&self, id: UserId) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE id = ?")
            .bind(id.to_string())
            .fetch_one(self.pool())
            .await?;
        Ok(n > 0)
    }
}
