//! One behaviour suite, run against every database backend.

use runway_core::domain::{Email, UserId};
use runway_store::tokens::{NewRefreshToken, Rotation};
use runway_store::{Db, StoreError, now_ms};
use runway_testkit::{DbBackend, test_db};

macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $name() {
                let t = runway_testkit::test_db(runway_testkit::DbBackend::Sqlite).await;
                super::$name(&t.db).await;
            })*
        }
        mod mysql {
            $(#[tokio::test]
            async fn $name() {
                let t = runway_testkit::test_db(runway_testkit::DbBackend::Mysql).await;
                super::$name(&t.db).await;
            })*
        }
    };
}

suite!(
    users_are_unique_by_email,
    deleted_users_disappear_and_release_their_email,
    refresh_tokens_rotate_and_detect_reuse,
    concurrent_rotation_has_one_winner,
    expired_and_unknown_tokens,
    migrations_are_current_and_idempotent,
);

fn email(s: &str) -> Email {
    Email::parse(s).unwrap()
}

async fn users_are_unique_by_email(db: &Db) {
    let u = db
        .create_user(&email("a@example.com"), "h", 1)
        .await
        .unwrap();
    assert!(matches!(
        db.create_user(&email("a@example.com"), "h2", 2).await,
        Err(StoreError::Conflict("email"))
    ));
    let creds = db
        .credentials_by_email(&email("a@example.com"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(creds.user, u);
    assert_eq!(creds.password_hash, "h");
    assert_eq!(db.user_by_id(u.id).await.unwrap(), Some(u));
    assert!(db.user_by_id(UserId::new()).await.unwrap().is_none());
}

async fn deleted_users_disappear_and_release_their_email(db: &Db) {
    let u = db
        .create_user(&email("d@example.com"), "h", 1)
        .await
        .unwrap();
    token(db, u.id, "t1", now_ms() + 60_000).await;
    assert!(db.mark_user_deleted(u.id, 5).await.unwrap());
    assert!(!db.mark_user_deleted(u.id, 6).await.unwrap(), "idempotent");
    assert!(db.user_by_id(u.id).await.unwrap().is_none());
    assert!(
        db.credentials_by_email(&email("d@example.com"))
            .await
            .unwrap()
            .is_none()
    );
    // Its session is revoked.
    let r = db
        .rotate_refresh_token("t1", "t2", now_ms(), now_ms() + 1000)
        .await
        .unwrap();
    assert_ne!(r, Rotation::Rotated { user_id: u.id });
    // The email is free again while the rows are still being purged.
    db.create_user(&email("d@example.com"), "h", 7)
        .await
        .unwrap();
    assert!(db.user_row_exists(u.id).await.unwrap());
    db.purge_user(u.id).await.unwrap();
    db.purge_user(u.id).await.unwrap();
    assert!(!db.user_row_exists(u.id).await.unwrap());
}

async fn token(db: &Db, user: UserId, hash: &str, expires_at: i64) -> uuid::Uuid {
    let family = uuid::Uuid::now_v7();
    db.insert_refresh_token(&NewRefreshToken {
        user_id: user,
        family_id: family,
        token_hash: hash.to_string(),
        created_at: now_ms(),
        expires_at,
    })
    .await
    .unwrap();
    family
}

async fn refresh_tokens_rotate_and_detect_reuse(db: &Db) {
    let u = db
        .create_user(&email("r@example.com"), "h", 1)
        .await
        .unwrap();
    let later = now_ms() + 60_000;
    token(db, u.id, "a", later).await;
    token(db, u.id, "other-family", later).await;
    assert_eq!(
        db.rotate_refresh_token("a", "b", now_ms(), later)
            .await
            .unwrap(),
        Rotation::Rotated { user_id: u.id }
    );
    assert_eq!(
        db.rotate_refresh_token("b", "c", now_ms(), later)
            .await
            .unwrap(),
        Rotation::Rotated { user_id: u.id }
    );
    // "a" again: reuse. The whole family (including the live "c") dies.
    assert_eq!(
        db.rotate_refresh_token("a", "x", now_ms(), later)
            .await
            .unwrap(),
        Rotation::Reused
    );
    assert_eq!(
        db.rotate_refresh_token("c", "d", now_ms(), later)
            .await
            .unwrap(),
        Rotation::Reused
    );
    // Another family is untouched.
    assert_eq!(
        db.rotate_refresh_token("other-family", "o2", now_ms(), later)
            .await
            .unwrap(),
        Rotation::Rotated { user_id: u.id }
    );
    // Logout revokes a family.
    assert!(db.revoke_refresh_family("o2", now_ms()).await.unwrap());
    assert!(!db.revoke_refresh_family("nope", now_ms()).await.unwrap());
    assert_eq!(
        db.rotate_refresh_token("o2", "o3", now_ms(), later)
            .await
            .unwrap(),
        Rotation::Reused
    );
}

async fn concurrent_rotation_has_one_winner(db: &Db) {
    let u = db
        .create_user(&email("c@example.com"), "h", 1)
        .await
        .unwrap();
    let later = now_ms() + 60_000;
    token(db, u.id, "race", later).await;
    let mut tasks = Vec::new();
    for i in 0..6 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            db.rotate_refresh_token("race", &format!("next-{i}"), now_ms(), later)
                .await
                .unwrap()
        }));
    }
    let mut rotated = 0;
    for t in tasks {
        if matches!(t.await.unwrap(), Rotation::Rotated { .. }) {
            rotated += 1;
        }
    }
    assert_eq!(rotated, 1, "exactly one concurrent use wins");
}

async fn expired_and_unknown_tokens(db: &Db) {
    let u = db
        .create_user(&email("e@example.com"), "h", 1)
        .await
        .unwrap();
    token(db, u.id, "old", now_ms() - 1).await;
    assert_eq!(
        db.rotate_refresh_token("old", "n", now_ms(), now_ms() + 1000)
            .await
            .unwrap(),
        Rotation::Expired
    );
    assert_eq!(
        db.rotate_refresh_token("missing", "n", now_ms(), now_ms() + 1000)
            .await
            .unwrap(),
        Rotation::Unknown
    );
}

async fn migrations_are_current_and_idempotent(db: &Db) {
    assert!(db.migration_status().await.unwrap().up_to_date());
    db.migrate().await.unwrap();
    db.ping().await.unwrap();
}

/// Replicas starting together: every one migrates "at once"; the lock makes
/// one do the work and the others find nothing left.
#[tokio::test]
async fn mysql_concurrent_migrations_are_safe() {
    let url = runway_testkit::fresh_mysql_url().await;
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let db = Db::connect(&url, &Default::default()).await.unwrap();
            db.migrate().await.unwrap();
            db.migration_status().await.unwrap()
        }));
    }
    for t in tasks {
        assert!(t.await.unwrap().up_to_date());
    }
    let _ = DbBackend::Mysql;
    let _ = test_db;
}
