use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use runway_blob::{Blob, BlobError, BlobStore, ObjectMeta, PresignedRequest, S3BlobStore};
use runway_core::config::MediaConfig;
use runway_core::domain::{UserId, Visibility};
use runway_lambda::thumbnail::{SqsReports, Thumbnailer};
use runway_testkit::lambda::RuntimeApi;
use runway_thumbnail::{Outcome, Report, Settings, Upload};
use serde_json::{Value, json};

use crate::support::{fixture, jpeg, object_created, sqs_event};

/// The real S3 store, except that reading `fail_key` fails as an outage does.
struct FailingReads {
    inner: Arc<dyn BlobStore>,
    fail_key: String,
}

#[async_trait]
impl BlobStore for FailingReads {
    async fn put(
        &self,
        key: &str,
        bytes: Bytes,
        content_type: &str,
        cache_control: Option<&str>,
    ) -> Result<(), BlobError> {
        self.inner
            .put(key, bytes, content_type, cache_control)
            .await
    }
    async fn get(&self, key: &str) -> Result<Option<Blob>, BlobError> {
        if key == self.fail_key {
            return Err(BlobError::Backend("injected: S3 unavailable".into()));
        }
        self.inner.get(key).await
    }
    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, BlobError> {
        self.inner.head(key).await
    }
    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        self.inner.delete(key).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, BlobError> {
        self.inner.list(prefix).await
    }
    async fn delete_prefix(&self, prefix: &str) -> Result<u64, BlobError> {
        self.inner.delete_prefix(prefix).await
    }
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        ttl: Duration,
    ) -> Result<PresignedRequest, BlobError> {
        self.inner
            .presign_put(key, content_type, content_length, ttl)
            .await
    }
    async fn presign_get(&self, key: &str, ttl: Duration) -> Result<PresignedRequest, BlobError> {
        self.inner.presign_get(key, ttl).await
    }
    fn kind(&self) -> &'static str {
        "s3"
    }
}

/// A bucket whose runway prefix has a space (S3 encodes it as `+`), a
/// results queue, and a handler configured for them.
struct Env {
    bucket: String,
    prefix: String,
    blobs: Arc<dyn BlobStore>,
    results: String,
}

impl Env {
    async fn new() -> Env {
        let bucket = runway_testkit::fresh_bucket().await;
        let (results, _dlq) = runway_testkit::fresh_queue(5).await;
        let blobs: Arc<dyn BlobStore> = Arc::new(
            S3BlobStore::from_env(&bucket, "runway media")
                .await
                .unwrap(),
        );
        Env {
            bucket,
            prefix: "runway media/".into(),
            blobs,
            results,
        }
    }

    async fn handler(&self, blobs: Arc<dyn BlobStore>) -> Thumbnailer {
        Thumbnailer::new(
            blobs,
            self.bucket.clone(),
            self.prefix.clone(),
            Settings::from_config(&MediaConfig::default()),
            Arc::new(SqsReports::new(
                runway_testkit::sqs_client().await,
                self.results.clone(),
            )),
        )
    }

    /// Stage an upload; returns it and the S3 event body announcing it.
    async fn upload(&self, visibility: Visibility, bytes: Vec<u8>) -> (Upload, String) {
        let upload = Upload::new(UserId::new(), visibility, uuid::Uuid::now_v7());
        let size = bytes.len() as u64;
        self.blobs
            .put(&upload.key, Bytes::from(bytes), "image/jpeg", None)
            .await
            .unwrap();
        let body = object_created(
            &self.bucket,
            &format!("{}{}", self.prefix, upload.key),
            size,
        );
        (upload, body)
    }

    /// Every report on the results queue: waits (up to 20 s) for `n`, then
    /// drains until a receive comes back empty, so extra reports show.
    async fn reports(&self, n: usize) -> Vec<Report> {
        let sqs = runway_testkit::sqs_client().await;
        let mut out = Vec::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let got = sqs
                .receive_message()
                .queue_url(&self.results)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .unwrap();
            if got.messages().is_empty() {
                if out.len() >= n || std::time::Instant::now() > deadline {
                    return out;
                }
                continue;
            }
            for m in got.messages() {
                out.push(serde_json::from_str(m.body().unwrap()).unwrap());
                sqs.delete_message()
                    .queue_url(&self.results)
                    .receipt_handle(m.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
}

fn failures(response: &Value) -> Vec<String> {
    response["batchItemFailures"]
        .as_array()
        .unwrap_or_else(|| panic!("no batchItemFailures in {response}"))
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn an_upload_event_through_sqs_makes_the_variants_and_reports_them() {
    let env = Env::new().await;
    let handler = env.handler(env.blobs.clone()).await;
    let (upload, body) = env.upload(Visibility::Public, jpeg(1600, 1200)).await;
    assert!(
        body.contains("runway+media/uploads/"),
        "S3 encodes the space: {body}"
    );

    let event = sqs_event(&[("m-1", body.clone())]);
    let response = handler.handle(event.clone()).await.unwrap();
    assert_eq!(failures(&response), Vec::<String>::new());

    let reports = env.reports(1).await;
    assert_eq!(reports.len(), 1);
    let report = &reports[0];
    assert_eq!(report.media_id, upload.media_id);
    assert_eq!(report.user_id, upload.user_id);
    assert_eq!(report.upload_key, upload.key);
    assert!(report.files_belong_to(&upload));
    let Outcome::Ready {
        content_type,
        width,
        height,
        thumbhash,
        variants,
        original,
        ..
    } = &report.outcome
    else {
        panic!("{report:?}")
    };
    assert_eq!(
        (content_type.as_str(), *width, *height),
        ("image/jpeg", 1600, 1200)
    );
    assert!(!thumbhash.is_empty());
    assert_eq!(
        variants.keys().map(String::as_str).collect::<Vec<_>>(),
        ["large", "small", "thumb"]
    );
    assert_eq!(
        (variants["thumb"].width, variants["thumb"].height),
        (256, 256)
    );
    assert_eq!(variants["small"].width, 640);
    assert!(original.key.starts_with(&format!(
        "public/{}/{}/original-",
        upload.user_id, upload.media_id
    )));
    for f in report.files() {
        let meta = env
            .blobs
            .head(&f.key)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{} missing", f.key));
        assert_eq!(meta.content_type.as_deref(), Some(f.content_type.as_str()));
        assert_eq!(
            meta.cache_control.as_deref(),
            Some(runway_thumbnail::IMMUTABLE)
        );
        assert_eq!(meta.size, f.bytes);
    }
    // The function never deletes the upload: runway's worker does, once the
    // report is recorded.
    assert!(env.blobs.head(&upload.key).await.unwrap().is_some());

    // SQS delivers at least once: a duplicate writes the same keys and
    // sends the same report.
    let again = handler.handle(event).await.unwrap();
    assert_eq!(failures(&again), Vec::<String>::new());
    let second = env.reports(1).await;
    assert_eq!(second, reports);
}

#[tokio::test]
async fn a_batch_fails_only_the_messages_that_hit_a_storage_error() {
    let env = Env::new().await;
    let (good, good_body) = env.upload(Visibility::Private, jpeg(300, 200)).await;
    let (broken, broken_body) = env.upload(Visibility::Private, jpeg(300, 200)).await;
    let (garbage, garbage_body) = env
        .upload(
            Visibility::Private,
            b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec(),
        )
        .await;
    // Announced as larger than media.max_upload_bytes: refused from the
    // event alone (the object does not even exist).
    let huge = Upload::new(UserId::new(), Visibility::Private, uuid::Uuid::now_v7());
    let huge_body = object_created(
        &env.bucket,
        &format!("{}{}", env.prefix, huge.key),
        MediaConfig::default().max_upload_bytes + 1,
    );
    // Announced, but gone by the time the function reads it (a duplicate
    // event after runway recorded and removed it): reported, not retried.
    let missing = Upload::new(UserId::new(), Visibility::Private, uuid::Uuid::now_v7());
    let missing_body = object_created(&env.bucket, &format!("{}{}", env.prefix, missing.key), 1234);
    let test_event = fixture("s3-test-event.json", &[("bucket", &env.bucket)]);
    let not_an_upload = object_created(&env.bucket, "runway media/public/x/y/z.webp", 10);
    let other_bucket = object_created(
        "someone-elses-bucket",
        &format!("{}{}", env.prefix, good.key),
        10,
    );

    let handler = env
        .handler(Arc::new(FailingReads {
            inner: env.blobs.clone(),
            fail_key: broken.key.clone(),
        }))
        .await;
    let response = handler
        .handle(sqs_event(&[
            ("good", good_body),
            ("broken", broken_body),
            ("garbage", garbage_body),
            ("huge", huge_body),
            ("missing", missing_body),
            ("test", test_event),
            ("not-an-upload", not_an_upload),
            ("other-bucket", other_bucket),
            ("not-json", "hello".to_string()),
        ]))
        .await
        .unwrap();
    assert_eq!(failures(&response), ["broken"]);

    let mut reports = env.reports(4).await;
    reports.sort_by_key(|r| r.upload_key.clone());
    let outcome = |u: &Upload| {
        reports
            .iter()
            .find(|r| r.upload_key == u.key)
            .unwrap_or_else(|| panic!("no report for {}", u.key))
            .outcome
            .clone()
    };
    assert!(matches!(outcome(&good), Outcome::Ready { .. }));
    assert!(
        matches!(outcome(&garbage), Outcome::Failed { ref code, .. } if code == "unsupported_type"),
        "{:?}",
        outcome(&garbage)
    );
    assert!(
        matches!(outcome(&huge), Outcome::Failed { ref code, .. } if code == "too_large"),
        "{:?}",
        outcome(&huge)
    );
    assert!(
        matches!(outcome(&missing), Outcome::Failed { ref code, .. } if code == "upload_missing"),
        "{:?}",
        outcome(&missing)
    );
    assert_eq!(reports.len(), 4, "{reports:?}");
}

#[tokio::test]
async fn a_direct_s3_invocation_is_handled_and_storage_errors_are_returned_for_retry() {
    let env = Env::new().await;
    let (upload, body) = env.upload(Visibility::Private, jpeg(320, 240)).await;
    let event: Value = serde_json::from_str(&body).unwrap();
    let handler = env.handler(env.blobs.clone()).await;
    assert_eq!(handler.handle(event.clone()).await.unwrap(), json!({}));
    let reports = env.reports(1).await;
    assert!(matches!(reports[0].outcome, Outcome::Ready { .. }));

    let failing = env
        .handler(Arc::new(FailingReads {
            inner: env.blobs.clone(),
            fail_key: upload.key.clone(),
        }))
        .await;
    let err = failing.handle(event).await.unwrap_err();
    assert!(err.to_string().contains("unavailable"), "{err}");
}

/// The real `bootstrap` binary, as Lambda runs it: environment, Runtime API
/// polling, responses.
#[tokio::test]
async fn the_thumbnail_binary_runs_under_the_lambda_runtime_api() {
    let env = Env::new().await;
    let api = RuntimeApi::start("runway-test-thumbnail", Duration::from_secs(60)).await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_thumbnail"))
        .envs(api.env("runway-test-thumbnail", 2048))
        .env(
            "RUNWAY_STORAGE_URL",
            format!("s3://{}/runway media", env.bucket),
        )
        .env("RUNWAY_MEDIA__RESULTS_QUEUE_URL", &env.results)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    api.wait_first_poll(Duration::from_secs(30)).await;

    let test = api
        .invoke(
            sqs_event(&[(
                "t",
                fixture("s3-test-event.json", &[("bucket", &env.bucket)]),
            )]),
            Duration::from_secs(30),
        )
        .await;
    assert_eq!(
        failures(&test.result.clone().unwrap()),
        Vec::<String>::new()
    );

    let (upload, body) = env.upload(Visibility::Private, jpeg(2000, 1500)).await;
    let done = api
        .invoke(sqs_event(&[("u", body)]), Duration::from_secs(60))
        .await;
    assert_eq!(
        failures(&done.result.clone().unwrap()),
        Vec::<String>::new()
    );
    let reports = env.reports(1).await;
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].media_id, upload.media_id);
    assert!(matches!(reports[0].outcome, Outcome::Ready { .. }));

    // Something that is not an event at all is the function's error, posted
    // to the Runtime API's error endpoint.
    let bad = api
        .invoke(
            json!({"Records": [{"eventSource": "aws:sqs", "body": 7}]}),
            Duration::from_secs(30),
        )
        .await;
    assert!(bad.result.is_err(), "{bad:?}");
    assert!(child.try_wait().unwrap().is_none(), "the function exited");
    child.kill().await.unwrap();
}
