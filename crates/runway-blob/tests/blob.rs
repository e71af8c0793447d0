//! One behaviour suite for every `BlobStore`: the local directory and S3
//! (on moto).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use runway_blob::{BlobStore, LocalBlobStore, S3BlobStore, SignedRequest};

struct Store {
    store: Arc<dyn BlobStore>,
    _dir: Option<tempfile::TempDir>,
}

fn local() -> Store {
    let dir = tempfile::tempdir().unwrap();
    let store =
        LocalBlobStore::new(dir.path().join("blobs"), vec![7; 32], "http://127.0.0.1:9").unwrap();
    Store {
        store: Arc::new(store),
        _dir: Some(dir),
    }
}

async fn s3() -> Store {
    let bucket = runway_testkit::fresh_bucket().await;
    let store = S3BlobStore::from_env(&bucket, "prefix/inside")
        .await
        .unwrap();
    Store {
        store: Arc::new(store),
        _dir: None,
    }
}

macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod local {
            $(#[tokio::test]
            async fn $name() { super::$name(super::local().store).await; })*
        }
        mod s3 {
            $(#[tokio::test]
            async fn $name() { super::$name(super::s3().await.store).await; })*
        }
    };
}

suite!(
    put_get_head_delete,
    list_and_delete_prefix,
    invalid_keys_are_rejected,
    presigned_get_serves_the_object,
    presigned_put_binds_type_and_length,
);

async fn put_get_head_delete(store: Arc<dyn BlobStore>) {
    assert!(store.get("a/b.webp").await.unwrap().is_none());
    assert!(store.head("a/b.webp").await.unwrap().is_none());
    let body = Bytes::from_static(b"RIFF....WEBPVP8 fake but bytes are bytes");
    store
        .put(
            "a/b.webp",
            body.clone(),
            "image/webp",
            Some("public, max-age=31536000, immutable"),
        )
        .await
        .unwrap();
    let blob = store.get("a/b.webp").await.unwrap().unwrap();
    assert_eq!(blob.bytes, body);
    assert_eq!(blob.meta.content_type.as_deref(), Some("image/webp"));
    assert_eq!(
        blob.meta.cache_control.as_deref(),
        Some("public, max-age=31536000, immutable")
    );
    let head = store.head("a/b.webp").await.unwrap().unwrap();
    assert_eq!(head.size, body.len() as u64);
    // Overwrite.
    store
        .put("a/b.webp", Bytes::from_static(b"v2"), "image/webp", None)
        .await
        .unwrap();
    assert_eq!(
        store.get("a/b.webp").await.unwrap().unwrap().bytes,
        Bytes::from_static(b"v2")
    );
    store.delete("a/b.webp").await.unwrap();
    store.delete("a/b.webp").await.unwrap();
    assert!(store.get("a/b.webp").await.unwrap().is_none());
}

async fn list_and_delete_prefix(store: Arc<dyn BlobStore>) {
    for k in ["u1/x.jpg", "u1/sub/y.jpg", "u2/z.jpg", "u10/w.jpg"] {
        store
            .put(k, Bytes::from_static(b"1"), "image/jpeg", None)
            .await
            .unwrap();
    }
    assert_eq!(
        store.list("u1/").await.unwrap(),
        vec!["u1/sub/y.jpg", "u1/x.jpg"]
    );
    assert_eq!(store.list("").await.unwrap().len(), 4);
    assert_eq!(store.delete_prefix("u1/").await.unwrap(), 2);
    assert_eq!(store.list("").await.unwrap(), vec!["u10/w.jpg", "u2/z.jpg"]);
    assert_eq!(store.delete_prefix("nobody/").await.unwrap(), 0);
}

async fn invalid_keys_are_rejected(store: Arc<dyn BlobStore>) {
    for bad in ["../etc/passwd", "/abs", "a//b", "with space"] {
        assert!(
            store
                .put(bad, Bytes::new(), "text/plain", None)
                .await
                .is_err(),
            "{bad}"
        );
        assert!(store.get(bad).await.is_err(), "{bad}");
        assert!(
            store
                .presign_put(bad, "image/jpeg", 1, Duration::from_secs(60))
                .await
                .is_err()
        );
    }
}

async fn presigned_get_serves_the_object(store: Arc<dyn BlobStore>) {
    store
        .put("p/g.txt", Bytes::from_static(b"hello"), "text/plain", None)
        .await
        .unwrap();
    let req = store
        .presign_get("p/g.txt", Duration::from_secs(300))
        .await
        .unwrap();
    assert_eq!(req.method, "GET");
    assert!(req.expires_at > SystemTime::now());
    if store.kind() == "s3" {
        // Fetch it as a client would (moto serves it; it does not check signatures).
        let body = reqwest::get(&req.url).await.unwrap();
        assert!(body.status().is_success());
        assert_eq!(body.bytes().await.unwrap(), "hello");
        assert!(req.url.contains("X-Amz-Signature="));
        assert!(req.url.contains("X-Amz-Expires=300"));
    } else {
        assert!(
            req.url
                .starts_with("http://127.0.0.1:9/files/p/g.txt?expires=")
        );
    }
}

fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.to_string())
}

async fn presigned_put_binds_type_and_length(store: Arc<dyn BlobStore>) {
    let req = store
        .presign_put("up/photo.jpg", "image/jpeg", 11, Duration::from_secs(600))
        .await
        .unwrap();
    assert_eq!(req.method, "PUT");
    let headers: std::collections::HashMap<_, _> = req.headers.iter().cloned().collect();
    assert_eq!(
        headers.get("content-type").map(String::as_str),
        Some("image/jpeg")
    );
    if store.kind() == "s3" {
        // Both headers are part of the signature, so S3 rejects any other
        // type or size.
        let signed = query_param(&req.url, "X-Amz-SignedHeaders").unwrap();
        let signed: Vec<&str> = signed.split(';').collect();
        assert!(signed.contains(&"content-type"), "{signed:?}");
        assert!(signed.contains(&"content-length"), "{signed:?}");
        assert!(signed.contains(&"host"));
        assert_eq!(
            query_param(&req.url, "X-Amz-Expires").as_deref(),
            Some("600")
        );
        // The upload itself, as a phone would send it.
        let resp = reqwest::Client::new()
            .put(&req.url)
            .header("content-type", "image/jpeg")
            .body("hello world")
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{}", resp.status());
        let stored = store.head("up/photo.jpg").await.unwrap().unwrap();
        assert_eq!(stored.size, 11);
        assert_eq!(stored.content_type.as_deref(), Some("image/jpeg"));
    } else {
        assert_eq!(
            headers.get("content-length").map(String::as_str),
            Some("11")
        );
    }
}

#[tokio::test]
async fn local_presigned_urls_verify_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalBlobStore::new(dir.path(), vec![9; 32], "https://api.example.com/").unwrap();
    let req = store
        .presign_put("u/a.jpg", "image/jpeg", 1234, Duration::from_secs(60))
        .await
        .unwrap();
    let url = url::Url::parse(&req.url).unwrap();
    assert_eq!(url.path(), "/files/u/a.jpg");
    let expires: u64 = query_param(&req.url, "expires").unwrap().parse().unwrap();
    let sig = query_param(&req.url, "signature").unwrap();
    let now = SystemTime::now();
    let good = SignedRequest {
        method: "PUT",
        key: "u/a.jpg",
        expires,
        signature: &sig,
        content_type: Some("image/jpeg"),
        content_length: Some(1234),
    };
    let grant = store.verify(&good, now).unwrap();
    assert_eq!(grant.content_length, 1234);
    let tampered = format!("x{}", &sig[1..]);
    for (what, req, at) in [
        (
            "other length",
            SignedRequest {
                content_length: Some(1235),
                ..good
            },
            now,
        ),
        (
            "other type",
            SignedRequest {
                content_type: Some("image/png"),
                ..good
            },
            now,
        ),
        (
            "other key",
            SignedRequest {
                key: "u/b.jpg",
                ..good
            },
            now,
        ),
        (
            "longer expiry",
            SignedRequest {
                expires: expires + 3600,
                ..good
            },
            now,
        ),
        (
            "as GET",
            SignedRequest {
                method: "GET",
                content_type: None,
                content_length: None,
                ..good
            },
            now,
        ),
        ("expired", good, now + Duration::from_secs(120)),
        (
            "tampered",
            SignedRequest {
                signature: &tampered,
                ..good
            },
            now,
        ),
    ] {
        assert!(store.verify(&req, at).is_err(), "{what} accepted");
    }
    // A store with another key rejects the URL.
    let other = LocalBlobStore::new(dir.path(), vec![8; 32], "https://api.example.com").unwrap();
    assert!(other.verify(&good, now).is_err());
}

/// Direct uploads: S3 announces new objects on an SQS queue. The first
/// message is S3's `s3:TestEvent`; then one event per object, key encoded.
#[tokio::test]
async fn s3_object_created_notifications_arrive_on_sqs() {
    use aws_sdk_s3::types::{Event, NotificationConfiguration, QueueConfiguration};
    use runway_blob::events::{S3Notification, parse_notification};

    let bucket = runway_testkit::fresh_bucket().await;
    let (queue_url, _dlq) = runway_testkit::fresh_queue(5).await;
    let sqs = runway_testkit::sqs_client().await;
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    let s3 = runway_testkit::s3_client().await;
    s3.put_bucket_notification_configuration()
        .bucket(&bucket)
        .notification_configuration(
            NotificationConfiguration::builder()
                .queue_configurations(
                    QueueConfiguration::builder()
                        .queue_arn(arn)
                        .events(Event::S3ObjectCreated)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let store = S3BlobStore::from_env(&bucket, "").await.unwrap();
    store
        .put(
            "uploads/u1/My Photo.jpg".replace(' ', "-").as_str(),
            Bytes::from_static(b"jpeg"),
            "image/jpeg",
            None,
        )
        .await
        .unwrap();

    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while seen.len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "notifications missing: {seen:?}"
        );
        let out = sqs
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        for m in out.messages() {
            seen.push(parse_notification(m.body().unwrap()).unwrap());
        }
    }
    assert_eq!(seen[0], S3Notification::Test, "S3's test event comes first");
    let S3Notification::Created(objects) = &seen[1] else {
        panic!("{:?}", seen[1])
    };
    assert_eq!(objects[0].bucket, bucket);
    assert_eq!(objects[0].key, "uploads/u1/My-Photo.jpg");
    assert_eq!(objects[0].size, 4);
}
