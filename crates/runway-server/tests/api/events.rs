//! `GET /v1/events`: each user's realtime events over SSE, tickets for
//! browsers, resuming with Last-Event-ID, and events written by another
//! instance.

use std::time::Duration;

use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, token};

/// One server-sent event.
#[derive(Debug, Clone)]
struct Sse {
    id: String,
    event: String,
    data: Value,
}

struct Stream {
    body: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buf: String,
}

impl Stream {
    async fn open(app: &TestApp, query: &str, headers: &[(&str, &str)]) -> Stream {
        let mut req = app.client.get(app.url(&format!("/v1/events{query}")));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{:?}", resp.text().await);
        assert_eq!(
            resp.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        Stream {
            body: resp.bytes_stream().boxed(),
            buf: String::new(),
        }
    }

    /// The next event (comments skipped), or None after `wait`.
    async fn next(&mut self, wait: Duration) -> Option<Sse> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let frame: String = self.buf.drain(..end + 2).collect();
                let (mut id, mut event, mut data) = (String::new(), String::new(), String::new());
                for line in frame.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if !event.is_empty() {
                    return Some(Sse {
                        id,
                        event,
                        data: serde_json::from_str(&data).unwrap(),
                    });
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.body.next())
                .await
                .ok()??;
            self.buf
                .push_str(&String::from_utf8_lossy(&chunk.unwrap()).replace("\r\n", "\n"));
        }
    }

    /// The next `media.ready`, after any `media.processing` of the same upload.
    async fn ready(&mut self) -> Sse {
        loop {
            let got = self
                .next(Duration::from_secs(30))
                .await
                .expect("no media.ready event");
            match got.event.as_str() {
                "media.processing" => {
                    assert_eq!(got.data["media"]["status"], "processing");
                    assert!(
                        got.data["media"]["placeholder"]["data_url"]
                            .as_str()
                            .unwrap()
                            .starts_with("data:image/png;base64,")
                    );
                }
                "media.ready" => return got,
                other => panic!("unexpected {other}: {got:?}"),
            }
        }
    }

    async fn expect(&mut self, event: &str) -> Sse {
        let got = self
            .next(Duration::from_secs(30))
            .await
            .unwrap_or_else(|| panic!("no {event} event"));
        assert_eq!(got.event, event, "{got:?}");
        got
    }
}

async fn ticket(app: &TestApp, access: &str) -> String {
    let resp = app
        .client
        .post(app.url("/v1/events/tickets"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let body: Value = resp.json().await.unwrap();
    assert!(body["expires_at"].as_str().unwrap().ends_with('Z'));
    body["ticket"].as_str().unwrap().to_string()
}

fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 7]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

async fn upload(app: &TestApp, access: &str) -> String {
    let resp = app
        .client
        .post(app.url("/v1/media"))
        .bearer_auth(access)
        .multipart(reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(jpeg(300, 200)).file_name("a.jpg"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let body: Value = resp.json().await.unwrap();
    body["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn each_user_gets_their_own_events_and_nobody_elses() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice-events@example.com").await;
    let bob = app.register("bob-events@example.com").await;
    let (a, b) = (token(&alice, "access_token"), token(&bob, "access_token"));
    // Alice as a browser does (ticket in the URL), Bob with a header.
    let mut alice_stream =
        Stream::open(&app, &format!("?ticket={}", ticket(&app, &a).await), &[]).await;
    let mut bob_stream = Stream::open(&app, "", &[("authorization", &format!("Bearer {b}"))]).await;

    let id = upload(&app, &a).await;
    // The placeholder (with the size) first, while the variants are made.
    let processing = alice_stream.expect("media.processing").await;
    assert_eq!(processing.data["media"]["id"], id.as_str());
    assert_eq!(processing.data["media"]["width"], 300);
    assert_eq!(processing.data["media"]["height"], 200);
    assert!(processing.data["media"]["placeholder"]["thumbhash"].is_string());
    assert_eq!(processing.data["media"]["variants"], json!({}));
    let ready = alice_stream.expect("media.ready").await;
    assert_eq!(ready.data["media"]["id"], id.as_str());
    assert_eq!(ready.data["media"]["status"], "ready");
    assert!(ready.data["media"]["variants"]["thumb"]["url"].is_string());
    assert!(ready.id.parse::<i64>().unwrap() > 0);

    // A push to Alice's device (log provider) shows in her stream.
    let (status, device) = crate::push::register_device(
        &app,
        &a,
        json!({"platform": "android", "token": crate::push::android_token(7)}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{device}");
    let key = crate::push::api_key(&app).await;
    let alice_id = alice["user"]["id"].as_str().unwrap();
    let resp = app
        .client
        .post(app.url("/v1/notifications"))
        .bearer_auth(&key)
        .json(&json!({"user_ids": [alice_id], "title": "Hi", "body": "a photo is ready"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let received = alice_stream.expect("notification.received").await;
    assert_eq!(received.data["title"], "Hi");
    assert_eq!(received.data["device_id"], device["id"]);
    assert!(received.id.parse::<i64>().unwrap() > ready.id.parse::<i64>().unwrap());

    // Bob saw none of it.
    assert!(bob_stream.next(Duration::from_millis(800)).await.is_none());
    // Bob's own upload reaches only Bob.
    upload(&app, &b).await;
    bob_stream.ready().await;
    assert!(
        alice_stream
            .next(Duration::from_millis(800))
            .await
            .is_none()
    );
}

#[tokio::test]
async fn reconnecting_with_last_event_id_replays_only_what_was_missed() {
    let app = TestApp::spawn().await;
    let user = app.register("replay@example.com").await;
    let a = token(&user, "access_token");
    let auth = format!("Bearer {a}");
    let mut stream = Stream::open(&app, "", &[("authorization", &auth)]).await;
    let first_media = upload(&app, &a).await;
    let first = stream.ready().await;
    assert_eq!(first.data["media"]["id"], first_media.as_str());
    drop(stream);

    // While disconnected.
    let missed_media = upload(&app, &a).await;
    crate::helpers::eventually("the second upload is ready", || async {
        let m: Value = app
            .get_authed(&format!("/v1/media/{missed_media}"), &a)
            .await
            .json()
            .await
            .unwrap();
        m["status"] == "ready"
    })
    .await;

    let mut resumed = Stream::open(
        &app,
        "",
        &[("authorization", &auth), ("last-event-id", &first.id)],
    )
    .await;
    let missed = resumed.ready().await;
    assert_eq!(
        missed.data["media"]["id"],
        missed_media.as_str(),
        "the missed event, not the seen one"
    );
    assert!(resumed.next(Duration::from_millis(500)).await.is_none());

    // The same through the query (a new EventSource cannot set the header).
    let mut by_query = Stream::open(
        &app,
        &format!("?last_event_id={}", first.id),
        &[("authorization", &auth)],
    )
    .await;
    assert_eq!(by_query.ready().await.id, missed.id);

    let bad = app
        .client
        .get(app.url("/v1/events"))
        .bearer_auth(&a)
        .header("last-event-id", "yesterday")
        .send()
        .await
        .unwrap();
    assert_problem(bad, StatusCode::BAD_REQUEST, "invalid_last_event_id").await;
}

#[tokio::test]
async fn tickets_open_the_event_stream_and_nothing_else() {
    let app = TestApp::spawn().await;
    let user = app.register("tickets@example.com").await;
    let a = token(&user, "access_token");
    let t = ticket(&app, &a).await;

    // A ticket is not an access token...
    let me = app.get_authed("/v1/me", &t).await;
    assert_problem(me, StatusCode::UNAUTHORIZED, "invalid_token").await;
    // ...nor an access token a ticket.
    let resp = app
        .client
        .get(app.url(&format!("/v1/events?ticket={a}")))
        .send()
        .await
        .unwrap();
    assert_problem(resp, StatusCode::UNAUTHORIZED, "invalid_ticket").await;
    let resp = app
        .client
        .get(app.url("/v1/events?ticket=not.a.ticket"))
        .send()
        .await
        .unwrap();
    assert_problem(resp, StatusCode::UNAUTHORIZED, "invalid_ticket").await;
    let resp = app.client.get(app.url("/v1/events")).send().await.unwrap();
    assert_problem(resp, StatusCode::UNAUTHORIZED, "missing_token").await;
    let resp = app
        .client
        .post(app.url("/v1/events/tickets"))
        .send()
        .await
        .unwrap();
    assert_problem(resp, StatusCode::UNAUTHORIZED, "missing_token").await;

    // A deleted account's ticket opens nothing.
    let resp = app
        .client
        .delete(app.url("/v1/me"))
        .bearer_auth(&a)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    let resp = app
        .client
        .get(app.url(&format!("/v1/events?ticket={t}")))
        .send()
        .await
        .unwrap();
    assert_problem(resp, StatusCode::UNAUTHORIZED, "invalid_token").await;
}

/// Two instances on one database (and cache): an event written by one
/// reaches a stream held by the other.
#[tokio::test]
async fn events_reach_streams_held_by_another_instance() {
    let first = TestApp::spawn().await;
    let database_url = match &first.state.config.database_url {
        Some(url) => url.expose().to_string(),
        None => format!(
            "sqlite://{}/runway.db",
            first.state.config.data_dir.display()
        ),
    };
    let cache_url = first.state.config.cache_url.clone();
    let key_prefix = first.state.config.cache.key_prefix.clone();
    let second = TestApp::spawn_with(
        move |c| {
            c.database_url = Some(runway_core::Secret::new(database_url));
            c.cache_url = cache_url;
            c.cache.key_prefix = key_prefix;
            c.events.poll_interval_ms = 50;
        },
        |r| r,
    )
    .await;
    let user = first.register("instances@example.com").await;
    let a = token(&user, "access_token");
    let mut on_second = Stream::open(
        &second,
        &format!("?ticket={}", ticket(&first, &a).await),
        &[],
    )
    .await;
    let user_id = runway_core::domain::UserId::parse(user["user"]["id"].as_str().unwrap()).unwrap();
    first
        .state
        .events
        .publish(
            user_id,
            "device.pruned",
            json!({"device_id": "d1", "platform": "ios", "reason": "Unregistered"}),
        )
        .await;
    let got = on_second.expect("device.pruned").await;
    assert_eq!(got.data["reason"], "Unregistered");
}
