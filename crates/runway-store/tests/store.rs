//! One behaviour suite, run against every database backend.

use runway_core::domain::{Email, UserId};
use runway_store::media::{MediaStatus, NewMedia, Processed, StoredFile, Visibility};
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
    media_lifecycle_is_one_way,
    media_quota_holds_under_concurrent_inserts,
    media_lists_newest_first_with_a_cursor,
    on_demand_variants_are_all_recorded,
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

fn new_media(user: UserId, bytes: u64, status: MediaStatus) -> NewMedia {
    let id = uuid::Uuid::now_v7();
    NewMedia {
        id,
        user_id: user,
        status,
        visibility: Visibility::Private,
        content_type: "image/jpeg".into(),
        bytes,
        upload_key: format!("uploads/{user}/{id}"),
        created_at: now_ms(),
    }
}

fn file(key: &str) -> StoredFile {
    StoredFile {
        key: key.into(),
        width: 10,
        height: 5,
        content_type: "image/webp".into(),
        bytes: 42,
    }
}

async fn media_lifecycle_is_one_way(db: &Db) {
    let user = db
        .create_user(&email("m@example.com"), "h", now_ms())
        .await
        .unwrap();
    let m = new_media(user.id, 1000, MediaStatus::AwaitingUpload);
    assert!(db.insert_media(&m, 0).await.unwrap());
    let got = db.media_by_id(m.id).await.unwrap().unwrap();
    assert_eq!(got.status, MediaStatus::AwaitingUpload);
    assert_eq!(got.bytes, 1000);
    assert!(got.variants.is_empty() && got.original.is_none());
    // The thumbnail Lambda may report on a direct upload before the client
    // confirms it: an awaiting record can be finished directly, and is then
    // final (confirming it later changes nothing).
    let early = new_media(user.id, 10, MediaStatus::AwaitingUpload);
    assert!(db.insert_media(&early, 0).await.unwrap());
    assert!(
        db.mark_media_failed(early.id, "unsupported_type", "x", now_ms())
            .await
            .unwrap()
    );
    assert!(
        !db.mark_media_uploaded(early.id, 10, now_ms())
            .await
            .unwrap()
    );
    assert_eq!(
        db.media_by_id(early.id).await.unwrap().unwrap().status,
        MediaStatus::Failed
    );
    assert!(db.mark_media_uploaded(m.id, 900, now_ms()).await.unwrap());
    assert!(!db.mark_media_uploaded(m.id, 900, now_ms()).await.unwrap());
    let processed = Processed {
        width: 10,
        height: 5,
        thumbhash: "abc".into(),
        dominant_color: "#102030".into(),
        original: file("private/o"),
        variants: [("thumb".to_string(), file("private/t"))]
            .into_iter()
            .collect(),
    };
    assert!(
        db.mark_media_ready(m.id, "image/png", &processed, now_ms())
            .await
            .unwrap()
    );
    // A second run of the job changes nothing, and cannot fail it afterwards.
    assert!(
        !db.mark_media_ready(m.id, "image/png", &processed, now_ms())
            .await
            .unwrap()
    );
    assert!(
        !db.mark_media_failed(m.id, "corrupt", "x", now_ms())
            .await
            .unwrap()
    );
    let got = db.media_by_id(m.id).await.unwrap().unwrap();
    assert_eq!(got.status, MediaStatus::Ready);
    assert_eq!(got.content_type, "image/png");
    assert_eq!(got.bytes, 900);
    assert_eq!((got.width, got.height), (Some(10), Some(5)));
    assert_eq!(got.original.as_ref().unwrap().key, "private/o");
    assert_eq!(got.variants["thumb"], file("private/t"));
    assert_eq!(got.dominant_color.as_deref(), Some("#102030"));

    let f = new_media(user.id, 10, MediaStatus::Processing);
    assert!(db.insert_media(&f, 0).await.unwrap());
    assert!(
        db.mark_media_failed(f.id, "corrupt", "bad header", now_ms())
            .await
            .unwrap()
    );
    let got = db.media_by_id(f.id).await.unwrap().unwrap();
    assert_eq!(got.status, MediaStatus::Failed);
    assert_eq!(got.error, Some(("corrupt".into(), "bad header".into())));

    assert_eq!(db.media_usage_bytes(user.id).await.unwrap(), 920);
    assert!(db.delete_media(m.id).await.unwrap());
    assert!(!db.delete_media(m.id).await.unwrap());
    assert!(db.media_by_id(m.id).await.unwrap().is_none());
    // Purging the account removes the rest.
    db.purge_user(user.id).await.unwrap();
    assert!(db.media_by_id(f.id).await.unwrap().is_none());
}

async fn media_quota_holds_under_concurrent_inserts(db: &Db) {
    let user = db
        .create_user(&email("q@example.com"), "h", now_ms())
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let db = db.clone();
        let m = new_media(user.id, 100, MediaStatus::Processing);
        tasks.push(tokio::spawn(async move {
            db.insert_media(&m, 500).await.unwrap()
        }));
    }
    let mut accepted = 0;
    for t in tasks {
        accepted += usize::from(t.await.unwrap());
    }
    assert_eq!(accepted, 5, "exactly the quota is admitted");
    assert_eq!(db.media_usage_bytes(user.id).await.unwrap(), 500);
    // Another account is unaffected.
    let other = db
        .create_user(&email("q2@example.com"), "h", now_ms())
        .await
        .unwrap();
    assert!(
        db.insert_media(&new_media(other.id, 500, MediaStatus::Processing), 500)
            .await
            .unwrap()
    );
    assert!(
        !db.insert_media(&new_media(other.id, 1, MediaStatus::Processing), 500)
            .await
            .unwrap()
    );
}

async fn media_lists_newest_first_with_a_cursor(db: &Db) {
    let a = db
        .create_user(&email("la@example.com"), "h", now_ms())
        .await
        .unwrap();
    let b = db
        .create_user(&email("lb@example.com"), "h", now_ms())
        .await
        .unwrap();
    let mut ids = Vec::new();
    for _ in 0..5 {
        let m = new_media(a.id, 1, MediaStatus::Processing);
        assert!(db.insert_media(&m, 0).await.unwrap());
        ids.push(m.id);
    }
    assert!(
        db.insert_media(&new_media(b.id, 1, MediaStatus::Processing), 0)
            .await
            .unwrap()
    );
    ids.reverse();
    let page1 = db.list_media(a.id, None, 2).await.unwrap();
    assert_eq!(page1.iter().map(|m| m.id).collect::<Vec<_>>(), ids[..2]);
    let page2 = db.list_media(a.id, Some(page1[1].id), 10).await.unwrap();
    assert_eq!(page2.iter().map(|m| m.id).collect::<Vec<_>>(), ids[2..]);
    assert_eq!(db.list_media(b.id, None, 10).await.unwrap().len(), 1);
}

async fn on_demand_variants_are_all_recorded(db: &Db) {
    let user = db
        .create_user(&email("v@example.com"), "h", now_ms())
        .await
        .unwrap();
    let m = new_media(user.id, 1, MediaStatus::Processing);
    assert!(db.insert_media(&m, 0).await.unwrap());
    assert!(
        !db.add_media_variant(m.id, "320x320", &file("x"), now_ms())
            .await
            .unwrap()
    );
    let processed = Processed {
        width: 10,
        height: 5,
        thumbhash: "abc".into(),
        dominant_color: "#000000".into(),
        original: file("o"),
        variants: Default::default(),
    };
    assert!(
        db.mark_media_ready(m.id, "image/jpeg", &processed, now_ms())
            .await
            .unwrap()
    );
    let mut tasks = Vec::new();
    for i in 0..6 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            db.add_media_variant(m.id, &format!("{i}x{i}"), &file(&format!("k{i}")), now_ms())
                .await
                .unwrap()
        }));
    }
    for t in tasks {
        assert!(t.await.unwrap());
    }
    assert_eq!(
        db.media_by_id(m.id).await.unwrap().unwrap().variants.len(),
        6
    );
}
