//! Accepted work whose job was dead-lettered (a long outage) or lost is
//! picked up again by the workers' housekeeping, and finishes.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::push::{IOS_TOKEN_A, IOS_TOKEN_B, api_key, completed, post_authed, register_device};

/// Two hours ago.
fn long_ago() -> i64 {
    runway_store::now_ms() - 2 * 3600 * 1000
}

#[tokio::test]
async fn deliveries_and_fan_outs_left_without_a_job_are_recovered() {
    let app = TestApp::spawn().await;
    let key = api_key(&app).await;
    let user = app.register("rob@example.com").await;
    let jwt = token(&user, "access_token");
    register_device(&app, &jwt, json!({"platform": "ios", "token": IOS_TOKEN_A})).await;
    register_device(&app, &jwt, json!({"platform": "ios", "token": IOS_TOKEN_B})).await;
    let resp = post_authed(
        &app,
        "/v1/notifications",
        &key,
        json!({"user_ids": [user["user"]["id"]], "title": "t"}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let id = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    completed(&app, &key, &id).await;

    // As if the delivery job of one device had been dead-lettered, and the
    // fan-out had never finished: rows left behind, no job for them.
    let pool = app.state.db.pool();
    let device: String = runway_store::sqlx::query_scalar(
        "SELECT MIN(device_id) FROM deliveries WHERE notification_id = ?",
    )
    .bind(&id)
    .fetch_one(pool)
    .await
    .unwrap();
    runway_store::sqlx::query(
        "UPDATE deliveries SET status = 'pending', updated_at = ? \
         WHERE notification_id = ? AND device_id = ?",
    )
    .bind(long_ago())
    .bind(&id)
    .bind(&device)
    .execute(pool)
    .await
    .unwrap();
    runway_store::sqlx::query(
        "UPDATE notifications SET fanout_done = 0, updated_at = ? WHERE id = ?",
    )
    .bind(long_ago())
    .bind(&id)
    .execute(pool)
    .await
    .unwrap();
    let status: Value = app
        .client
        .get(app.url(&format!("/v1/notifications/{id}")))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["status"], "sending");
    assert_eq!(status["counts"]["pending"], 1);

    let recovered = runway_server::jobs::recover_stalled_work(&app.state)
        .await
        .unwrap();
    assert_eq!((recovered.deliveries, recovered.fanouts), (1, 1));
    let status = completed(&app, &key, &id).await;
    assert_eq!(
        status["counts"],
        json!({"targeted": 2, "pending": 0, "sent": 2, "failed": 0, "pruned": 0})
    );
    // Fresh work is left alone.
    let again = runway_server::jobs::recover_stalled_work(&app.state)
        .await
        .unwrap();
    assert_eq!(again, runway_server::jobs::Recovered::default());
}

#[tokio::test]
async fn media_left_processing_without_a_job_is_recovered() {
    let app = TestApp::spawn().await;
    let user = app.register("sue@example.com").await;
    let jwt = token(&user, "access_token");
    // A direct upload whose bytes arrived, but whose processing job is gone.
    let img = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 4, y as u8 * 5, 90]));
    let mut jpeg = std::io::Cursor::new(Vec::new());
    img.write_to(&mut jpeg, image::ImageFormat::Jpeg).unwrap();
    let jpeg = jpeg.into_inner();
    let grant: Value = post_authed(
        &app,
        "/v1/media/uploads",
        &jwt,
        json!({"content_type": "image/jpeg", "bytes": jpeg.len()}),
    )
    .await
    .json()
    .await
    .unwrap();
    let id = grant["media_id"].as_str().unwrap().to_string();
    let mut put = app.client.put(grant["upload_url"].as_str().unwrap());
    for (k, v) in grant["headers"].as_object().unwrap() {
        put = put.header(k, v.as_str().unwrap());
    }
    let resp = put.body(jpeg).send().await.unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    runway_store::sqlx::query(
        "UPDATE media SET status = 'processing', updated_at = ? WHERE id = ?",
    )
    .bind(long_ago())
    .bind(&id)
    .execute(app.state.db.pool())
    .await
    .unwrap();

    let recovered = runway_server::jobs::recover_stalled_work(&app.state)
        .await
        .unwrap();
    assert_eq!(recovered.media, 1);
    let mut last = Value::Null;
    for _ in 0..400 {
        last = app
            .get_authed(&format!("/v1/media/{id}"), &jwt)
            .await
            .json()
            .await
            .unwrap();
        if last["status"] != "processing" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(last["status"], "ready", "{last}");
    assert_eq!(last["width"], 64);
}
