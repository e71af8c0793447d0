//! Cold start and invocation figures of the thumbnail function, under the
//! local Lambda Runtime API (`runway_testkit::lambda`) with S3 and SQS on
//! moto. Run through `bench/lambda/run`, which builds everything in release
//! mode and writes bench/results/lambda.{md,json}.
//!
//! For each of `--cold-starts` fresh processes of the real `bootstrap`
//! binary: init time (spawn to the first `/next` poll: configuration, AWS
//! clients), then `--invocations` invocations with the same S3 event for
//! `--image` (the first one is the cold invocation), each timed from
//! handing out the event to the posted response, and the process's peak RSS
//! (`VmHWM`) after them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use runway_blob::{BlobStore, S3BlobStore};
use runway_core::domain::{UserId, Visibility};
use runway_testkit::lambda::RuntimeApi;
use runway_thumbnail::Upload;
use serde_json::{Value, json};

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_string())
}

fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn stats(values: &mut [f64]) -> Value {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = values.len();
    json!({
        "n": n,
        "min": values[0],
        "median": values[n / 2],
        "max": values[n - 1],
    })
}

#[tokio::main]
async fn main() {
    let bin = arg("--bin", "target/release/thumbnail");
    let image = arg("--image", "../shared/bench-images/photo-12mp.jpg");
    let cold_starts: usize = arg("--cold-starts", "10").parse().unwrap();
    let invocations: usize = arg("--invocations", "5").parse().unwrap();
    let memory: u32 = arg("--memory-mb", "2048").parse().unwrap();
    let out = arg("--json", "");

    let bytes = std::fs::read(&image).unwrap_or_else(|e| panic!("{image}: {e}"));
    let bucket = runway_testkit::fresh_bucket().await;
    let (results, _dlq) = runway_testkit::fresh_queue(5).await;
    let blobs: Arc<dyn BlobStore> =
        Arc::new(S3BlobStore::from_env(&bucket, "media").await.unwrap());
    let upload = Upload::new(UserId::new(), Visibility::Private, uuid::Uuid::now_v7());
    blobs
        .put(&upload.key, Bytes::from(bytes.clone()), "image/jpeg", None)
        .await
        .unwrap();
    let notification = json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket}, "object": {"key": format!("media/{}", upload.key), "size": bytes.len()}}
    }]});
    let event = json!({"Records": [{
        "messageId": "bench", "receiptHandle": "bench", "body": notification.to_string(),
        "attributes": {}, "messageAttributes": {}, "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:uploads", "awsRegion": "us-east-1"
    }]});
    let sqs = runway_testkit::sqs_client().await;

    let mut init_ms = Vec::new();
    let mut cold_ms = Vec::new();
    let mut warm_ms = Vec::new();
    let mut rss_mib = Vec::new();
    for round in 0..cold_starts {
        let api = RuntimeApi::start("runway-bench-thumbnail", Duration::from_secs(60)).await;
        let spawned = Instant::now();
        let mut child = tokio::process::Command::new(&bin)
            .envs(api.env("runway-bench-thumbnail", memory))
            .env("RUNWAY_STORAGE_URL", format!("s3://{bucket}/media"))
            .env("RUNWAY_MEDIA__RESULTS_QUEUE_URL", &results)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let polled = api.wait_first_poll(Duration::from_secs(30)).await;
        init_ms.push(polled.duration_since(spawned).as_secs_f64() * 1000.0);
        for i in 0..invocations {
            let done = api.invoke(event.clone(), Duration::from_secs(120)).await;
            let response = done.result.expect("invocation failed");
            assert_eq!(response["batchItemFailures"], json!([]), "{response}");
            let ms = done.duration.as_secs_f64() * 1000.0;
            if i == 0 {
                cold_ms.push(ms)
            } else {
                warm_ms.push(ms)
            }
        }
        rss_mib.push(peak_rss_kib(child.id().unwrap()) as f64 / 1024.0);
        child.kill().await.ok();
        // Drain the reports (one per invocation).
        loop {
            let got = sqs
                .receive_message()
                .queue_url(&results)
                .max_number_of_messages(10)
                .send()
                .await
                .unwrap();
            if got.messages().is_empty() {
                break;
            }
            for m in got.messages() {
                sqs.delete_message()
                    .queue_url(&results)
                    .receipt_handle(m.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
        eprintln!(
            "round {}/{cold_starts}: init {:.1} ms, first invocation {:.0} ms, peak RSS {:.0} MiB",
            round + 1,
            init_ms[round],
            cold_ms[round],
            rss_mib[round]
        );
    }
    let report = json!({
        "image": image,
        "image_bytes": bytes.len(),
        "memory_mb_announced": memory,
        "cold_starts": cold_starts,
        "invocations_per_process": invocations,
        "init_ms": stats(&mut init_ms),
        "first_invocation_ms": stats(&mut cold_ms),
        "warm_invocation_ms": if warm_ms.is_empty() { Value::Null } else { stats(&mut warm_ms) },
        "peak_rss_mib": stats(&mut rss_mib),
    });
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
    if !out.is_empty() {
        std::fs::write(&out, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    }
}
