//! bench/push's runway contender: sends N notifications through
//! `runway_push::Apns`, C at a time, to the fake APNs described by
//! `fake_apns --info FILE` (crates/runway-testkit/examples/fake_apns.rs).
//!
//! ```text
//! apns_bench --info FILE [--count N] [--concurrency C] [--warmup W]
//!            [--connections K] [--token-offset O] [--threads T]
//! ```
//!
//! Each send is what a delivery job does per device: a `Device` with its
//! own token (64 hex digits: the send's number, from O on, so every send
//! goes to a distinct token) and a rendered `Message` with its own
//! delivery id (`apns-id`), sent with `Provider::send`; `futures`'
//! `buffer_unordered(C)` keeps C sends in flight, as the delivery job does
//! with `push.concurrency`. W untimed sends first open the connection and
//! let the fake raise its stream limit. Prints one JSON line: counts, the
//! timed loop's wall and CPU seconds (this process, all threads, from
//! /proc/self/stat) and peak RSS (VmHWM).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures::StreamExt;
use runway_push::{Apns, ApnsConfig, Device, Message, Outcome, Platform, Provider};
use secrecy::SecretString;

fn usage() -> ! {
    eprintln!(
        "usage: apns_bench --info FILE [--count N] [--concurrency C] [--warmup W] [--connections K] [--token-offset O] [--threads T]"
    );
    std::process::exit(2);
}

/// CPU seconds (user + system, every thread) of this process so far.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime: fields 14 and 15 of stat(5) (USER_HZ = 100).
    (ticks(11) + ticks(12)) / 100.0
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The notification every contender sends: an alert with a title and body.
fn template() -> Message {
    let mut m = Message::new(uuid::Uuid::nil());
    m.title = Some("Benchmark".into());
    m.body = Some("Hello from bench/push".into());
    m
}

async fn send_many(
    apns: &Apns,
    template: &Message,
    from: u64,
    count: u64,
    concurrency: usize,
) -> BTreeMap<String, u64> {
    futures::stream::iter(from..from + count)
        .map(|i| async move {
            let device = Device::new(Platform::Ios, format!("{i:064x}"));
            let mut message = template.clone();
            message.delivery_id = uuid::Uuid::new_v4();
            apns.send(&device, &message).await
        })
        .buffer_unordered(concurrency)
        .fold(BTreeMap::new(), |mut counts, outcome| async move {
            let key = match &outcome {
                Outcome::Delivered { .. } => "delivered".to_string(),
                other => format!("{other:?}"),
            };
            *counts.entry(key).or_insert(0) += 1;
            counts
        })
        .await
}

fn main() {
    // `--threads N`: tokio worker threads (default: one per core, as
    // `#[tokio::main]` and the runway binary use).
    let argv: Vec<String> = std::env::args().collect();
    let threads = argv
        .iter()
        .position(|a| a == "--threads")
        .and_then(|i| argv.get(i + 1))
        .map(|v| v.parse::<usize>().unwrap_or_else(|_| usage()));
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = threads {
        runtime.worker_threads(n);
    }
    runtime
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(run());
}

async fn run() {
    let mut info = None;
    let (mut count, mut concurrency, mut warmup, mut connections, mut offset) =
        (200_000u64, 256usize, 5_000u64, 1usize, 0u64);
    let mut args = std::env::args().skip(1);
    let num = |args: &mut std::iter::Skip<std::env::Args>| -> u64 {
        args.next()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| usage())
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            "--info" => info = Some(args.next().unwrap_or_else(|| usage())),
            "--count" => count = num(&mut args),
            "--concurrency" => concurrency = num(&mut args) as usize,
            "--warmup" => warmup = num(&mut args),
            "--connections" => connections = num(&mut args) as usize,
            "--token-offset" => offset = num(&mut args),
            "--threads" => {
                num(&mut args); // read by main
            }
            _ => usage(),
        }
    }
    let Some(info) = info else { usage() };
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&info).expect("read --info")).expect("JSON");
    let s = |k: &str| info[k].as_str().expect(k).to_string();

    let mut config = ApnsConfig::new(
        SecretString::from(s("key_pem")),
        s("key_id"),
        s("team_id"),
        "com.example.runway",
    );
    config.production_url = s("url");
    config.sandbox_url = s("url");
    config.ca_pem = Some(s("ca_pem"));
    config.connections = connections;
    config.request_timeout = Duration::from_secs(30);
    let apns = Apns::new(config).expect("APNs config");
    let template = template();

    // Untimed: connect, TLS, the fake lifts its stream limit after the
    // first valid token; then a steady state.
    let warm = send_many(&apns, &template, offset, warmup, concurrency).await;
    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    let counts = send_many(&apns, &template, offset + warmup, count, concurrency).await;
    let seconds = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let delivered = counts.get("delivered").copied().unwrap_or(0);
    println!(
        "{}",
        serde_json::json!({
            "contender": "runway",
            "count": count,
            "concurrency": concurrency,
            "connections": connections,
            "tokio_worker_threads": tokio::runtime::Handle::current().metrics().num_workers(),
            "warmup": warmup,
            "warmup_outcomes": warm,
            "delivered": delivered,
            "outcomes": counts,
            "seconds": seconds,
            "cpu_seconds": cpu,
            "notifications_per_second": delivered as f64 / seconds,
            "cpu_seconds_per_10k": cpu / (count as f64) * 10_000.0,
            "peak_rss_kib": peak_rss_kib(),
        })
    );
}
