//! `media.processor = "lambda"`: S3 announces each upload on a queue, the
//! thumbnail Lambda makes the variants and reports on SQS, and runway's
//! worker records the report. The Lambda here is its handler, the code its
//! `bootstrap` binary runs (runway-lambda's own tests run the binary under a
//! local Runtime API); S3 and SQS are moto. Runs on both backend sets: the
//! storage is S3 either way.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_s3::types::{Event, NotificationConfiguration, QueueConfiguration};
use aws_sdk_sqs::types::QueueAttributeName;
use reqwest::StatusCode;
use runway_blob::BlobStore;
use runway_lambda::thumbnail::{SqsReports, Thumbnailer};
use serde_json::{Value, json};

use crate::helpers::{TestApp, token};

fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, 90])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

/// Deliver the upload queue to the Lambda handler as Lambda's SQS
/// integration does: batches, deleting what did not fail.
fn run_lambda(handler: Thumbnailer, queue_url: String) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let sqs = runway_testkit::sqs_client().await;
        loop {
            let got = sqs
                .receive_message()
                .queue_url(&queue_url)
                .max_number_of_messages(5)
                .wait_time_seconds(1)
                .send()
                .await
                .unwrap();
            if got.messages().is_empty() {
                continue;
            }
            let records: Vec<Value> = got
                .messages()
                .iter()
                .map(|m| {
                    json!({
                        "messageId": m.message_id(),
                        "receiptHandle": m.receipt_handle(),
                        "body": m.body(),
                        "eventSource": "aws:sqs",
                        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:uploads",
                        "awsRegion": "us-east-1",
                        "attributes": {},
                        "messageAttributes": {},
                    })
                })
                .collect();
            let response = handler.handle(json!({ "Records": records })).await.unwrap();
            let failed: Vec<&str> = response["batchItemFailures"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["itemIdentifier"].as_str().unwrap())
                .collect();
            for m in got.messages() {
                if !failed.contains(&m.message_id().unwrap()) {
                    sqs.delete_message()
                        .queue_url(&queue_url)
                        .receipt_handle(m.receipt_handle().unwrap())
                        .send()
                        .await
                        .unwrap();
                }
            }
        }
    })
}

async fn media_until(app: &TestApp, t: &str, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let body: Value = app
            .get_authed(&format!("/v1/media/{id}"), t)
            .await
            .json()
            .await
            .unwrap();
        if done(&body) {
            return body;
        }
        assert!(Instant::now() < deadline, "media never finished: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn with_the_lambda_processor_uploads_end_in_the_same_record_through_s3_events_and_reports() {
    let bucket = runway_testkit::fresh_bucket().await;
    let (uploads, _) = runway_testkit::fresh_queue(5).await;
    let (results, _) = runway_testkit::fresh_queue(5).await;
    let sqs = runway_testkit::sqs_client().await;
    let uploads_arn = sqs
        .get_queue_attributes()
        .queue_url(&uploads)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&QueueAttributeName::QueueArn]
        .clone();
    runway_testkit::s3_client()
        .await
        .put_bucket_notification_configuration()
        .bucket(&bucket)
        .notification_configuration(
            NotificationConfiguration::builder()
                .queue_configurations(
                    QueueConfiguration::builder()
                        .queue_arn(uploads_arn)
                        .events(Event::S3ObjectCreated)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();

    let results_url = results.clone();
    let bucket_url = format!("s3://{bucket}/runway");
    let app = TestApp::spawn_with(
        move |c| {
            c.storage_url = bucket_url;
            c.media.processor = "lambda".into();
            c.media.results_queue_url = results_url;
        },
        |r| r,
    )
    .await;
    let blobs: Arc<dyn BlobStore> = Arc::new(
        runway_blob::S3BlobStore::from_env(&bucket, "runway")
            .await
            .unwrap(),
    );
    let lambda = Thumbnailer::new(
        blobs.clone(),
        bucket.clone(),
        "runway/".into(),
        runway_thumbnail::Settings::from_config(&app.state.config.media),
        Arc::new(SqsReports::new(sqs.clone(), results.clone())),
    );
    let _lambda = run_lambda(lambda, uploads.clone());
    let t = token(&app.register("lambda@example.com").await, "access_token");

    // Multipart upload: accepted, then made ready by the Lambda's report.
    let resp = app
        .client
        .post(app.url("/v1/media?visibility=public"))
        .bearer_auth(&t)
        .multipart(reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(jpeg(1200, 800)).file_name("p.jpg"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let accepted: Value = resp.json().await.unwrap();
    let id = accepted["id"].as_str().unwrap().to_string();
    let ready = media_until(&app, &t, &id, |m| m["status"] != "processing").await;
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(
        (ready["width"].as_u64(), ready["height"].as_u64()),
        (Some(1200), Some(800))
    );
    assert_eq!(ready["content_type"], "image/jpeg");
    assert!(ready["placeholder"]["thumbhash"].as_str().unwrap().len() > 10);
    for (name, w) in [("thumb", 256), ("small", 640), ("large", 1200)] {
        assert_eq!(ready["variants"][name]["width"], w, "{name}: {ready}");
        assert_eq!(ready["variants"][name]["content_type"], "image/webp");
    }
    // Public media land under public/, where the CDN serves them unsigned.
    let record = app
        .state
        .db
        .media_by_id(id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    for f in record.variants.values().chain(record.original.iter()) {
        assert!(f.key.starts_with("public/"), "{}", f.key);
        assert!(
            blobs.head(&f.key).await.unwrap().is_some(),
            "{} missing",
            f.key
        );
    }
    // The worker deleted the staged upload once the report was recorded.
    let deadline = Instant::now() + Duration::from_secs(10);
    while blobs.head(&record.upload_key).await.unwrap().is_some() {
        assert!(Instant::now() < deadline, "upload never cleaned up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Direct upload of something that is not an image: the Lambda reports
    // the pipeline's code and the record ends failed (the Lambda may even
    // report before the client completes).
    let grant: Value = app
        .client
        .post(app.url("/v1/media/uploads"))
        .bearer_auth(&t)
        .json(&json!({"content_type": "image/jpeg", "bytes": 12}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bad_id = grant["media_id"].as_str().unwrap().to_string();
    let put = app
        .client
        .put(grant["upload_url"].as_str().unwrap())
        .header("content-type", "image/jpeg")
        .body(b"not an image".to_vec())
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success(), "{}", put.status());
    let complete = app
        .client
        .post(app.url(&format!("/v1/media/{bad_id}/complete")))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert!(
        complete.status().is_success() || complete.status() == StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        complete.status()
    );
    let failed = media_until(&app, &t, &bad_id, |m| {
        m["status"] == "failed" || m["status"] == "ready"
    })
    .await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["error"]["code"], "unsupported_type", "{failed}");
}

/// `media::record` acts only on what belongs to the report's own media,
/// whatever the report says.
#[tokio::test]
async fn recording_a_report_never_touches_files_beyond_its_media() {
    use runway_core::domain::{UserId, Visibility};
    use runway_server::media::{Recorded, record};
    use runway_thumbnail::{File, Outcome, Report, Upload};

    let app = TestApp::spawn().await;
    let t = token(&app.register("records@example.com").await, "access_token");
    let resp = app
        .client
        .post(app.url("/v1/media?wait=10s"))
        .bearer_auth(&t)
        .multipart(reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(jpeg(400, 300)).file_name("p.jpg"),
        ))
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    let id: uuid::Uuid = body["id"].as_str().unwrap().parse().unwrap();
    let m = media_until(&app, &t, &id.to_string(), |m| m["status"] == "ready").await;
    assert_eq!(m["status"], "ready");
    let rec = app.state.db.media_by_id(id).await.unwrap().unwrap();
    let blobs = app.state.blobs.clone();
    let put = |key: String| {
        let blobs = blobs.clone();
        async move {
            blobs
                .put(&key, bytes::Bytes::from_static(b"x"), "image/webp", None)
                .await
                .unwrap();
            key
        }
    };
    let exists = |key: String| {
        let blobs = blobs.clone();
        async move { blobs.head(&key).await.unwrap().is_some() }
    };
    let file = |key: &str| File {
        key: key.to_string(),
        width: 1,
        height: 1,
        content_type: "image/webp".into(),
        bytes: 1,
    };
    let stored = |f: &runway_store::media::StoredFile| file(&f.key);
    let ready = |original: File, variants: Vec<(&str, File)>| Outcome::Ready {
        content_type: "image/jpeg".into(),
        width: 400,
        height: 300,
        thumbhash: "AAAA".into(),
        dominant_color: "#000000".into(),
        original,
        variants: variants
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    };
    let prefix = runway_server::media::files_prefix(rec.visibility, rec.user_id, rec.id);
    let mut variants: Vec<(&str, File)> = rec
        .variants
        .iter()
        .map(|(k, f)| (k.as_str(), stored(f)))
        .collect();

    // A duplicate report naming one more file of this media: the record
    // stays, the unreferenced file is removed, the referenced ones kept.
    let extra = put(format!("{prefix}extra-0011223344556677.webp")).await;
    variants.push(("extra", file(&extra)));
    let duplicate = Report {
        media_id: rec.id,
        user_id: rec.user_id,
        upload_key: rec.upload_key.clone(),
        upload_bytes: 1,
        outcome: ready(stored(rec.original.as_ref().unwrap()), variants),
    };
    assert_eq!(
        record(&app.state, &duplicate).await.unwrap(),
        Recorded::AlreadyFinal
    );
    assert!(!exists(extra).await, "unreferenced file removed");
    for f in rec.variants.values().chain(rec.original.iter()) {
        assert!(exists(f.key.clone()).await, "{} kept", f.key);
    }

    // A report for this media naming a file of someone else's: ignored.
    let other = UserId::new();
    let victim = put(format!(
        "private/{other}/{}/original-0011223344556677.jpg",
        uuid::Uuid::now_v7()
    ))
    .await;
    let foreign = Report {
        outcome: ready(file(&victim), vec![]),
        ..duplicate.clone()
    };
    assert_eq!(
        record(&app.state, &foreign).await.unwrap(),
        Recorded::Mismatch
    );
    assert!(exists(victim.clone()).await);

    // A report for unknown media pointing at existing media's files and
    // upload: ignored, nothing deleted.
    let stray = Report {
        media_id: uuid::Uuid::now_v7(),
        outcome: ready(stored(rec.original.as_ref().unwrap()), vec![]),
        ..duplicate.clone()
    };
    assert_eq!(
        record(&app.state, &stray).await.unwrap(),
        Recorded::Mismatch
    );
    assert!(exists(rec.original.as_ref().unwrap().key.clone()).await);

    // A report for media deleted meanwhile, naming its own files: they go.
    let gone_id = uuid::Uuid::now_v7();
    let upload = Upload::new(rec.user_id, Visibility::Public, gone_id);
    let staged = put(upload.key.clone()).await;
    let written = put(format!(
        "{}thumb-0011223344556677.webp",
        upload.files_prefix()
    ))
    .await;
    let gone = Report {
        media_id: gone_id,
        user_id: rec.user_id,
        upload_key: upload.key.clone(),
        upload_bytes: 1,
        outcome: ready(file(&written), vec![]),
    };
    assert_eq!(record(&app.state, &gone).await.unwrap(), Recorded::Gone);
    assert!(!exists(written).await && !exists(staged).await);
    let m: Value = app
        .get_authed(&format!("/v1/media/{id}"), &t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(m["status"], "ready", "{m}");
}
