use reqwest::StatusCode;
use runway_core::domain::UserId;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn users_only_ever_see_their_own_account() {
    let app = TestApp::spawn().await;
    let a = app.register("a@example.com").await;
    let b = app.register("b@example.com").await;
    let me_a: Value = app
        .get_authed("/v1/me", &token(&a, "access_token"))
        .await
        .json()
        .await
        .unwrap();
    let me_b: Value = app
        .get_authed("/v1/me", &token(&b, "access_token"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me_a["email"], "a@example.com");
    assert_eq!(me_b["email"], "b@example.com");
    assert_ne!(me_a["id"], me_b["id"]);

    // B deletes their account; A is untouched.
    let del = app
        .client
        .delete(app.url("/v1/me"))
        .bearer_auth(token(&b, "access_token"))
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), StatusCode::ACCEPTED);
    let me_a_again = app.get_authed("/v1/me", &token(&a, "access_token")).await;
    assert_eq!(me_a_again.status(), StatusCode::OK);
}

#[tokio::test]
async fn deleting_an_account_removes_its_data_through_a_job() {
    let app = TestApp::spawn().await;
    let reg = app.register("gone@example.com").await;
    let access = token(&reg, "access_token");
    let user_id = UserId::parse(reg["user"]["id"].as_str().unwrap()).unwrap();
    // Objects the account owns, and one of another account.
    let blobs = app.state.blobs.clone();
    for key in [
        format!("users/{user_id}/a.webp"),
        format!("users/{user_id}/b/c.jpg"),
    ] {
        blobs
            .put(&key, bytes::Bytes::from_static(b"x"), "image/webp", None)
            .await
            .unwrap();
    }
    let other = format!("users/{}/keep.webp", UserId::new());
    blobs
        .put(&other, bytes::Bytes::from_static(b"x"), "image/webp", None)
        .await
        .unwrap();

    let del = app
        .client
        .delete(app.url("/v1/me"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), StatusCode::ACCEPTED);
    let body: Value = del.json().await.unwrap();
    assert_eq!(body["status"], "deletion_scheduled");

    // Effective at once: the access token, the refresh token and the password stop working.
    let me = app.get_authed("/v1/me", &access).await;
    assert_problem(me, StatusCode::UNAUTHORIZED, "invalid_token").await;
    let refresh = app
        .post(
            "/v1/auth/refresh",
            json!({"refresh_token": token(&reg, "refresh_token")}),
        )
        .await;
    assert_eq!(refresh.status(), StatusCode::UNAUTHORIZED);
    let login = app
        .post(
            "/v1/auth/login",
            json!({"email": "gone@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(login.status(), StatusCode::UNAUTHORIZED);

    // The job removes the rows.
    let db = app.state.db.clone();
    eventually("the account rows to be purged", || {
        let db = db.clone();
        async move { !db.user_row_exists(user_id).await.unwrap() }
    })
    .await;
    let q = app.state.queue.clone();
    eventually("the deletion job to be acknowledged", || {
        let q = q.clone();
        async move { q.stats().await.unwrap().depth == 0 }
    })
    .await;
    assert_eq!(app.state.queue.stats().await.unwrap().dead, 0);
    assert!(
        blobs
            .list(&format!("users/{user_id}/"))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        blobs.head(&other).await.unwrap().is_some(),
        "others' objects stay"
    );

    // The address can be used again.
    app.register("gone@example.com").await;
}
