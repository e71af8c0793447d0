//! A standalone fake APNs (`runway_testkit::push::FakeApns`) for
//! bench/push: runway's sender, node-apn and h2load all talk to one of
//! these processes, so each pays the same peer.
//!
//! ```text
//! fake_apns --info FILE [--record] [--delay-ms N]
//! ```
//!
//! Writes FILE (JSON) once it listens: `url`, `host`, `port`, `ca_pem`,
//! `key_pem`, `key_id`, `team_id`, and `jwt`, a provider token signed with
//! the fake's key (for h2load's `authorization` header; valid for an hour).
//! Serves until SIGTERM or SIGINT, then prints one JSON line of counts and of
//! its own CPU time and peak RSS. SIGUSR1 prints the same line and goes on.
//!
//! Requests are only counted (`FakeApns::set_recording(false)`) unless
//! `--record` is given: recording every request keeps its headers and
//! payload in memory, which a million-device fan-out should not pay for.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use runway_testkit::push::FakeApns;
use tokio::signal::unix::{SignalKind, signal};

fn usage() -> ! {
    eprintln!("usage: fake_apns --info FILE [--record] [--delay-ms N]");
    std::process::exit(2);
}

/// A provider token (ES256) the fake accepts: `kid` and `iss` from it,
/// signed with its key, issued now.
fn provider_jwt(fake: &FakeApns) -> String {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
    let der = rcgen::KeyPair::from_pem(&fake.key_pem())
        .expect("the fake's key is PEM")
        .serialize_der();
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der).expect("P-256 key");
    let iat = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = serde_json::json!({"alg": "ES256", "kid": fake.key_id()});
    let claims = serde_json::json!({"iss": fake.team_id(), "iat": iat});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = key
        .sign(&SystemRandom::new(), input.as_bytes())
        .expect("sign");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
}

/// (CPU seconds, user + system, of this process; peak RSS in KiB).
fn own_usage() -> (f64, u64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of stat(5), 12 and 13 here.
    let cpu = (ticks(11) + ticks(12)) / 100.0;
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let hwm = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    (cpu, hwm)
}

fn stats(fake: &FakeApns) -> String {
    let (cpu, rss) = own_usage();
    serde_json::json!({
        "requests": fake.received_count(),
        "delivered": fake.delivered_count(),
        "connections": fake.connections(),
        "max_concurrent_streams_seen": fake.max_concurrent_seen(),
        "stream_limit_violations": fake.stream_limit_violations(),
        "cpu_seconds": cpu,
        "peak_rss_kib": rss,
    })
    .to_string()
}

#[tokio::main]
async fn main() {
    let mut info = None;
    let mut record = false;
    let mut delay_ms = 0u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--info" => info = Some(args.next().unwrap_or_else(|| usage())),
            "--record" => record = true,
            "--delay-ms" => {
                delay_ms = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| usage())
            }
            _ => usage(),
        }
    }
    let Some(info) = info else { usage() };

    let fake = FakeApns::start().await;
    fake.set_recording(record);
    if delay_ms > 0 {
        fake.set_response_delay(std::time::Duration::from_millis(delay_ms));
    }
    let url = fake.url();
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    let doc = serde_json::json!({
        "url": url,
        "host": "127.0.0.1",
        "port": port,
        "ca_pem": fake.ca_pem(),
        "key_pem": fake.key_pem(),
        "key_id": fake.key_id(),
        "team_id": fake.team_id(),
        "jwt": provider_jwt(&fake),
        "pid": std::process::id(),
        "recording": record,
    });
    // Write then rename, so a reader never sees half a file.
    let tmp = format!("{info}.tmp");
    std::fs::write(&tmp, serde_json::to_string_pretty(&doc).unwrap()).expect("write --info");
    std::fs::rename(&tmp, &info).expect("rename --info");

    let mut term = signal(SignalKind::terminate()).unwrap();
    let mut int = signal(SignalKind::interrupt()).unwrap();
    let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = usr1.recv() => println!("{}", stats(&fake)),
        }
    }
    println!("{}", stats(&fake));
}
