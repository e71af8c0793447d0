//! Photos through the API: both upload paths, processing, delivery, access
//! control between two users, quotas and on-demand sizes. Runs on the
//! embedded backends and on MySQL + Redis + S3 (moto) + SQS alike.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::*;

fn bench_image(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/bench-images")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// A small JPEG with a gradient, made here.
fn small_jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, 128])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

fn form(bytes: Vec<u8>, file_name: &str) -> Form {
    // The declared type is deliberately wrong: runway sniffs the bytes.
    Form::new().part(
        "file",
        Part::bytes(bytes)
            .file_name(file_name.to_string())
            .mime_str("application/octet-stream")
            .unwrap(),
    )
}

async fn upload(app: &TestApp, token: &str, query: &str, form: Form) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/v1/media{query}")))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// Upload with `?wait=` and return the ready record. A slow machine may
/// answer 202 before processing ends; then poll (big photos under CI load).
async fn upload_ready(app: &TestApp, token: &str, bytes: Vec<u8>) -> Value {
    let resp = upload(app, token, "?wait=10s", form(bytes, "photo.jpg")).await;
    let status = resp.status();
    let mut body: Value = resp.json().await.unwrap();
    assert!(
        status == StatusCode::CREATED || status == StatusCode::ACCEPTED,
        "{status}: {body}"
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while body["status"] == "processing" {
        assert!(
            Instant::now() < deadline,
            "processing did not finish: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        let id = body["id"].as_str().unwrap().to_string();
        body = get_media(app, token, &id).await.json().await.unwrap();
    }
    assert_eq!(body["status"], "ready", "{body}");
    if status == StatusCode::CREATED {
        assert_eq!(body["status"], "ready");
    }
    body
}

async fn fetch(app: &TestApp, url: &str) -> reqwest::Response {
    app.client.get(url).send().await.unwrap()
}

async fn get_media(app: &TestApp, token: &str, id: &str) -> reqwest::Response {
    app.get_authed(&format!("/v1/media/{id}"), token).await
}

fn gps_tags(bytes: &[u8]) -> usize {
    match exif::Reader::new().read_from_container(&mut std::io::Cursor::new(bytes)) {
        Ok(e) => e
            .fields()
            .filter(|f| f.ifd_num == exif::In::PRIMARY && f.tag.context() == exif::Context::Gps)
            .count(),
        Err(_) => 0,
    }
}

async fn user(app: &TestApp, email: &str) -> String {
    token(&app.register(email).await, "access_token")
}

#[tokio::test]
async fn a_phone_photo_becomes_variants_placeholder_and_an_original_without_gps() {
    let app = TestApp::spawn().await;
    let t = user(&app, "photo@example.com").await;
    let original = bench_image("photo-12mp.jpg");
    assert!(gps_tags(&original) > 0, "the bench photo carries GPS");
    let body = upload_ready(&app, &t, original.clone()).await;

    assert_eq!(body["content_type"], "image/jpeg");
    assert_eq!(body["visibility"], "private");
    assert_eq!(body["bytes"], original.len());
    // Upright: the bench JPEG is stored landscape with orientation 6.
    let (w, h) = (
        body["width"].as_u64().unwrap(),
        body["height"].as_u64().unwrap(),
    );
    assert!(h > w, "{w}x{h}");
    assert!(body["placeholder"]["thumbhash"].as_str().unwrap().len() > 10);
    assert!(
        body["placeholder"]["dominant_color"]
            .as_str()
            .unwrap()
            .starts_with('#')
    );
    assert!(body["error"].is_null());

    let thumb = &body["variants"]["thumb"];
    assert_eq!(
        (thumb["width"].as_u64(), thumb["height"].as_u64()),
        (Some(256), Some(256))
    );
    assert_eq!(body["variants"]["small"]["height"], 640);
    assert_eq!(body["variants"]["large"]["height"], 1440);
    for name in ["thumb", "small", "large"] {
        let v = &body["variants"][name];
        assert_eq!(v["content_type"], "image/webp");
        let resp = fetch(&app, v["url"].as_str().unwrap()).await;
        assert_eq!(resp.status(), StatusCode::OK, "{name}");
        let bytes = resp.bytes().await.unwrap();
        assert_eq!(bytes.len() as u64, v["bytes"].as_u64().unwrap());
        let img = image::load_from_memory(&bytes).unwrap();
        assert_eq!(u64::from(img.width()), v["width"].as_u64().unwrap());
        assert_eq!(gps_tags(&bytes), 0);
    }
    // The original keeps its pixels' orientation but loses its location.
    let o = &body["original"];
    assert_eq!(o["content_type"], "image/jpeg");
    let stored = fetch(&app, o["url"].as_str().unwrap())
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(gps_tags(&stored), 0, "GPS left in the stored original");
    assert!(!stored.is_empty() && stored.len() < original.len());
    let img = image::load_from_memory(&stored).unwrap();
    assert_eq!(img.width() * img.height(), (w * h) as u32);

    // The staged upload is gone once processing ends.
    let id = body["id"].as_str().unwrap();
    let user_id = app.state.tokens.verify_access(&t).unwrap();
    eventually("the staged upload to be removed", || async {
        app.state
            .blobs
            .list(&format!("uploads/{user_id}/"))
            .await
            .unwrap()
            .is_empty()
    })
    .await;
    let again: Value = get_media(&app, &t, id).await.json().await.unwrap();
    assert_eq!(again["status"], "ready");
    assert_eq!(
        again["variants"]["thumb"]["bytes"],
        body["variants"]["thumb"]["bytes"]
    );
}

#[tokio::test]
async fn heic_from_an_iphone_is_processed_and_loses_its_gps() {
    let app = TestApp::spawn().await;
    let t = user(&app, "heic@example.com").await;
    let original = bench_image("photo-12mp.heic");
    let body = upload_ready(&app, &t, original).await;
    assert_eq!(body["content_type"], "image/heic");
    assert_eq!(body["variants"]["thumb"]["width"], 256);
    let stored = fetch(&app, body["original"]["url"].as_str().unwrap())
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(gps_tags(&stored), 0, "GPS left in the stored HEIC");
}

#[tokio::test]
async fn without_wait_the_upload_is_accepted_and_processed_in_the_background() {
    let app = TestApp::spawn().await;
    let t = user(&app, "async@example.com").await;
    let resp = upload(&app, &t, "", form(small_jpeg(800, 600), "x.png")).await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        location,
        format!("/v1/media/{}", body["id"].as_str().unwrap())
    );
    assert!(matches!(
        body["status"].as_str(),
        Some("processing" | "ready")
    ));
    let deadline = Instant::now() + Duration::from_secs(20);
    let last = loop {
        let v: Value = app.get_authed(&location, &t).await.json().await.unwrap();
        if v["status"] == "ready" {
            break v;
        }
        assert!(Instant::now() < deadline, "processing did not finish: {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(last["width"], 800);
    assert_eq!(last["variants"]["small"]["width"], 640);
    assert_eq!(last["variants"]["large"]["width"], 800, "never upscaled");
}

#[tokio::test]
async fn bad_uploads_get_stable_codes() {
    let app = TestApp::spawn_with(|c| c.media.max_upload_bytes = 200_000, |r| r).await;
    let t = user(&app, "bad@example.com").await;
    let svg = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>".to_vec();
    assert_problem(
        upload(&app, &t, "", form(svg, "cat.jpg")).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_type",
    )
    .await;
    let html = b"<!DOCTYPE html><html><body>hi</body></html>".to_vec();
    assert_problem(
        upload(&app, &t, "", form(html, "x.jpg")).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_type",
    )
    .await;
    // A decompression bomb: a valid PNG header claiming 40000x40000.
    let bomb = small_png_header(40_000, 40_000);
    let started = Instant::now();
    assert_problem(
        upload(&app, &t, "", form(bomb, "bomb.png")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "dimensions_too_large",
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(2));
    let many = small_png_header(10_000, 10_000);
    let app2 = &app;
    assert_problem(
        upload(app2, &t, "", form(many, "many.png")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "too_many_pixels",
    )
    .await;
    // Too large for the configured limit.
    assert_problem(
        upload(&app, &t, "", form(vec![0xFF; 300_000], "big.jpg")).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
    )
    .await;
    // No `file` field.
    let no_file = Form::new().text("other", "x");
    assert_problem(
        upload(&app, &t, "", no_file).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "missing_file",
    )
    .await;
    // Not multipart at all.
    let resp = app
        .client
        .post(app.url("/v1/media"))
        .bearer_auth(&t)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_problem(resp, StatusCode::BAD_REQUEST, "invalid_multipart").await;
    // Bad query values.
    assert_problem(
        upload(&app, &t, "?wait=soon", form(small_jpeg(8, 8), "a.jpg")).await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
    assert_problem(
        upload(
            &app,
            &t,
            "?visibility=friends",
            form(small_jpeg(8, 8), "a.jpg"),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_visibility",
    )
    .await;
    // A JPEG cut off mid-scan: refused with a code, at once or by the job.
    let mut cut = small_jpeg(400, 300);
    cut.truncate(cut.len() / 3);
    let resp = upload(&app, &t, "?wait=10s", form(cut, "cut.jpg")).await;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        matches!(
            body["code"].as_str(),
            Some("truncated" | "decode_failed" | "corrupt")
        ),
        "{body}"
    );
    // A PNG whose header is fine but whose pixel data is short: accepted
    // (headers pass), then processing fails with a code and no retry.
    let short = small_png_header(64, 64);
    let resp = upload(&app, &t, "?wait=10s", form(short, "short.png")).await;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "decode_failed", "{body}");
    let listed: Value = app.get_authed("/v1/media", &t).await.json().await.unwrap();
    let failed = &listed["items"][0];
    assert_eq!(failed["status"], "failed", "{listed}");
    assert_eq!(failed["error"]["code"], "decode_failed");
    assert!(failed["variants"].as_object().unwrap().is_empty());
    // Without a token.
    let resp = app
        .client
        .post(app.url("/v1/media"))
        .multipart(form(small_jpeg(8, 8), "a.jpg"))
        .send()
        .await
        .unwrap();
    assert_problem(resp, StatusCode::UNAUTHORIZED, "missing_token").await;
}

/// A complete PNG claiming `w`x`h`, RGBA 8-bit, with a few bytes of pixel
/// data: the header is what a bomb lies about.
fn small_png_header(w: u32, h: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        let mut c = kind.to_vec();
        c.extend(data);
        let crc = crc32(&c);
        out.extend(c);
        out.extend(crc.to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 6, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    // zlib stream of a few zero bytes.
    chunk(&mut out, b"IDAT", &[0x78, 0x9c, 0x63, 0, 0, 0, 1, 0, 1]);
    chunk(&mut out, b"IEND", &[]);
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[tokio::test]
async fn only_the_owner_can_read_list_or_delete_private_media() {
    let app = TestApp::spawn().await;
    let a = user(&app, "owner@example.com").await;
    let b = user(&app, "other@example.com").await;
    let private = upload_ready(&app, &a, small_jpeg(300, 200)).await;
    let id = private["id"].as_str().unwrap();

    assert_eq!(get_media(&app, &a, id).await.status(), StatusCode::OK);
    assert_problem(
        get_media(&app, &b, id).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let b_list: Value = app.get_authed("/v1/media", &b).await.json().await.unwrap();
    assert_eq!(b_list["items"], json!([]));
    let del = app
        .client
        .delete(app.url(&format!("/v1/media/{id}")))
        .bearer_auth(&b)
        .send()
        .await
        .unwrap();
    assert_problem(del, StatusCode::NOT_FOUND, "not_found").await;
    let size = app
        .get_authed(&format!("/v1/media/{id}/sizes/320x320"), &b)
        .await;
    assert_problem(size, StatusCode::NOT_FOUND, "not_found").await;
    let complete = app
        .client
        .post(app.url(&format!("/v1/media/{id}/complete")))
        .bearer_auth(&b)
        .send()
        .await
        .unwrap();
    assert_problem(complete, StatusCode::NOT_FOUND, "not_found").await;
    // Still there for its owner.
    assert_eq!(get_media(&app, &a, id).await.status(), StatusCode::OK);

    // Public media may be read by others, but not deleted.
    let public = upload(
        &app,
        &a,
        "?wait=10s&visibility=public",
        form(small_jpeg(64, 64), "p.jpg"),
    )
    .await
    .json::<Value>()
    .await
    .unwrap();
    assert_eq!(public["visibility"], "public");
    let pid = public["id"].as_str().unwrap();
    let seen: Value = get_media(&app, &b, pid).await.json().await.unwrap();
    assert_eq!(seen["id"], pid);
    let del = app
        .client
        .delete(app.url(&format!("/v1/media/{pid}")))
        .bearer_auth(&b)
        .send()
        .await
        .unwrap();
    assert_problem(del, StatusCode::NOT_FOUND, "not_found").await;
    let b_list: Value = app.get_authed("/v1/media", &b).await.json().await.unwrap();
    assert_eq!(
        b_list["items"],
        json!([]),
        "others' public media are not in my list"
    );

    // The owner deletes: the record and every file go.
    let urls: Vec<String> = ["thumb", "small", "large"]
        .iter()
        .map(|n| private["variants"][n]["url"].as_str().unwrap().to_string())
        .chain([private["original"]["url"].as_str().unwrap().to_string()])
        .collect();
    let del = app
        .client
        .delete(app.url(&format!("/v1/media/{id}")))
        .bearer_auth(&a)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), StatusCode::NO_CONTENT);
    assert_problem(
        get_media(&app, &a, id).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    for url in urls {
        let status = fetch(&app, &url).await.status();
        assert!(
            status == StatusCode::NOT_FOUND || status == StatusCode::FORBIDDEN,
            "{url}: {status}"
        );
    }
    let user_id = app.state.tokens.verify_access(&a).unwrap();
    assert!(
        app.state
            .blobs
            .list(&format!("private/{user_id}/{id}/"))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn listing_is_newest_first_with_a_cursor() {
    let app = TestApp::spawn().await;
    let t = user(&app, "list@example.com").await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let resp = upload(&app, &t, "", form(small_jpeg(16, 16), "a.jpg")).await;
        assert_eq!(resp.status(), StatusCode::ACCEPTED);
        ids.push(
            resp.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    ids.reverse();
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page: Value = app
            .get_authed(&format!("/v1/media?limit=2&cursor={cursor}"), &t)
            .await
            .json()
            .await
            .unwrap();
        for item in page["items"].as_array().unwrap() {
            seen.push(item["id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    assert_problem(
        app.get_authed("/v1/media?limit=0", &t).await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
    assert_problem(
        app.get_authed("/v1/media?cursor=zzz", &t).await,
        StatusCode::BAD_REQUEST,
        "invalid_cursor",
    )
    .await;
}

#[tokio::test]
async fn direct_upload_then_complete() {
    let app = TestApp::spawn().await;
    let t = user(&app, "direct@example.com").await;
    let photo = small_jpeg(1000, 500);
    let grant = app
        .client
        .post(app.url("/v1/media/uploads"))
        .bearer_auth(&t)
        .json(&json!({"content_type": "image/jpeg", "bytes": photo.len()}))
        .send()
        .await
        .unwrap();
    assert_eq!(grant.status(), StatusCode::CREATED);
    let grant: Value = grant.json().await.unwrap();
    let id = grant["media_id"].as_str().unwrap();
    assert_eq!(grant["method"], "PUT");
    assert!(grant["expires_at"].as_str().unwrap().ends_with('Z'));
    let pending: Value = get_media(&app, &t, id).await.json().await.unwrap();
    assert_eq!(pending["status"], "awaiting_upload");

    // Completing before the bytes arrive is refused.
    let early = app
        .client
        .post(app.url(&format!("/v1/media/{id}/complete")))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_problem(early, StatusCode::CONFLICT, "upload_missing").await;

    let url = grant["upload_url"].as_str().unwrap();
    if !production() {
        // runway's own endpoint enforces the signed size and type (S3 does
        // too; moto does not check signatures).
        let wrong_type = app
            .client
            .put(url)
            .header("content-type", "image/png")
            .body(photo.clone())
            .send()
            .await
            .unwrap();
        assert_problem(wrong_type, StatusCode::FORBIDDEN, "invalid_signature").await;
        let mut longer = photo.clone();
        longer.push(0);
        let wrong_len = app
            .client
            .put(url)
            .header("content-type", "image/jpeg")
            .body(longer)
            .send()
            .await
            .unwrap();
        assert_problem(wrong_len, StatusCode::FORBIDDEN, "invalid_signature").await;
        let tampered = app
            .client
            .put(url.replace("signature=", "signature=x"))
            .header("content-type", "image/jpeg")
            .body(photo.clone())
            .send()
            .await
            .unwrap();
        assert_problem(tampered, StatusCode::FORBIDDEN, "invalid_signature").await;
    }
    let mut put = app.client.put(url).body(photo.clone());
    for (name, value) in grant["headers"].as_object().unwrap() {
        if name != "content-length" {
            put = put.header(name, value.as_str().unwrap());
        }
    }
    let put = put.send().await.unwrap();
    assert!(put.status().is_success(), "{:?}", put.text().await);

    let done = app
        .client
        .post(app.url(&format!("/v1/media/{id}/complete?wait=14s")))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::CREATED);
    let done: Value = done.json().await.unwrap();
    assert_eq!(done["status"], "ready");
    assert_eq!(done["width"], 1000);
    assert_eq!(done["variants"]["small"]["height"], 320);
    // Completing again is harmless.
    let again = app
        .client
        .post(app.url(&format!("/v1/media/{id}/complete")))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);

    // Declared requests are checked too.
    for (body, status, code) in [
        (
            json!({"content_type": "image/svg+xml", "bytes": 10}),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_type",
        ),
        (
            json!({"content_type": "image/jpeg", "bytes": 0}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_size",
        ),
        (
            json!({"content_type": "image/jpeg", "bytes": 1u64 << 40}),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
        ),
        (
            json!({"content_type": "image/jpeg"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
    ] {
        let resp = app
            .client
            .post(app.url("/v1/media/uploads"))
            .bearer_auth(&t)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_problem(resp, status, code).await;
    }
}

#[tokio::test]
async fn the_quota_is_enforced_on_both_paths() {
    let photo = small_jpeg(200, 200);
    let quota = photo.len() as u64 * 2 + 10;
    let app = TestApp::spawn_with(move |c| c.media.quota_bytes_per_user = quota, |r| r).await;
    let t = user(&app, "quota@example.com").await;
    for _ in 0..2 {
        let resp = upload(&app, &t, "", form(photo.clone(), "a.jpg")).await;
        assert_eq!(resp.status(), StatusCode::ACCEPTED);
    }
    assert_problem(
        upload(&app, &t, "", form(photo.clone(), "a.jpg")).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "quota_exceeded",
    )
    .await;
    let resp = app
        .client
        .post(app.url("/v1/media/uploads"))
        .bearer_auth(&t)
        .json(&json!({"content_type": "image/jpeg", "bytes": 100}))
        .send()
        .await
        .unwrap();
    assert_problem(resp, StatusCode::PAYLOAD_TOO_LARGE, "quota_exceeded").await;
    // Another user has their own quota.
    let other = user(&app, "quota2@example.com").await;
    let resp = upload(&app, &other, "", form(photo.clone(), "a.jpg")).await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    // Deleting frees space.
    let list: Value = app.get_authed("/v1/media", &t).await.json().await.unwrap();
    let id = list["items"][0]["id"].as_str().unwrap();
    let del = app
        .client
        .delete(app.url(&format!("/v1/media/{id}")))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), StatusCode::NO_CONTENT);
    let resp = upload(&app, &t, "", form(photo, "a.jpg")).await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
}

#[tokio::test]
async fn allow_listed_sizes_are_rendered_once_and_others_refused() {
    let app = TestApp::spawn().await;
    let t = user(&app, "sizes@example.com").await;
    let body = upload_ready(&app, &t, small_jpeg(2000, 1000)).await;
    let id = body["id"].as_str().unwrap();
    let first: Value = app
        .get_authed(&format!("/v1/media/{id}/sizes/1080x1080"), &t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (first["width"].as_u64(), first["height"].as_u64()),
        (Some(1080), Some(540))
    );
    let img = fetch(&app, first["url"].as_str().unwrap())
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(image::load_from_memory(&img).unwrap().width(), 1080);
    // Cached: the record lists it, and a second request returns the same file.
    let record: Value = get_media(&app, &t, id).await.json().await.unwrap();
    assert_eq!(record["variants"]["1080x1080"]["bytes"], first["bytes"]);
    let second: Value = app
        .get_authed(&format!("/v1/media/{id}/sizes/1080x1080"), &t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["bytes"], first["bytes"]);
    for size in ["1081x1080", "5000x5000", "abc", "0x0"] {
        assert_problem(
            app.get_authed(&format!("/v1/media/{id}/sizes/{size}"), &t)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "size_not_allowed",
        )
        .await;
    }
}

#[tokio::test]
async fn embedded_files_are_cacheable_ranged_and_signed() {
    if production() {
        // S3 mode hands out CloudFront or presigned S3 URLs, not /files/.
        return;
    }
    let app = TestApp::spawn().await;
    let t = user(&app, "files@example.com").await;
    let body = upload_ready(&app, &t, small_jpeg(600, 400)).await;
    let url = body["variants"]["small"]["url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        url.contains("/files/private/") && url.contains("signature="),
        "{url}"
    );
    let full = fetch(&app, &url).await;
    assert_eq!(full.status(), StatusCode::OK);
    let h = full.headers().clone();
    assert_eq!(h["content-type"], "image/webp");
    assert_eq!(h["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["accept-ranges"], "bytes");
    let etag = h["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with('"') && etag.len() == 18, "{etag}");
    let bytes = full.bytes().await.unwrap();

    let not_modified = app
        .client
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(not_modified.headers()["etag"], etag.as_str());

    let part = app
        .client
        .get(&url)
        .header("range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 10-19/{}", bytes.len()).as_str()
    );
    assert_eq!(part.bytes().await.unwrap(), bytes.slice(10..20));
    let past = app
        .client
        .get(&url)
        .header("range", "bytes=999999-")
        .send()
        .await
        .unwrap();
    assert_eq!(past.status(), StatusCode::RANGE_NOT_SATISFIABLE);

    let head = app.client.head(&url).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(
        head.headers()["content-length"],
        bytes.len().to_string().as_str()
    );

    // Private files need the signature, untampered.
    let unsigned = url.split('?').next().unwrap();
    assert_problem(
        fetch(&app, unsigned).await,
        StatusCode::FORBIDDEN,
        "invalid_signature",
    )
    .await;
    let tampered = url.replace("signature=", "signature=A");
    assert_problem(
        fetch(&app, &tampered).await,
        StatusCode::FORBIDDEN,
        "invalid_signature",
    )
    .await;
    // Staged uploads are never served.
    let user_id = app.state.tokens.verify_access(&t).unwrap();
    let staged = app.url(&format!(
        "/files/uploads/{user_id}/{}",
        body["id"].as_str().unwrap()
    ));
    assert_problem(
        fetch(&app, &staged).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // Public media get stable, unsigned URLs.
    let public = upload(
        &app,
        &t,
        "?wait=10s&visibility=public",
        form(small_jpeg(64, 64), "p.jpg"),
    )
    .await
    .json::<Value>()
    .await
    .unwrap();
    let purl = public["variants"]["thumb"]["url"].as_str().unwrap();
    assert!(
        purl.contains("/files/public/") && !purl.contains('?'),
        "{purl}"
    );
    assert_eq!(fetch(&app, purl).await.status(), StatusCode::OK);
}
