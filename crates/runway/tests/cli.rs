//! The real `runway` binary: subcommands, configuration errors, and
//! graceful shutdown on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_runway");

fn runway(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .env_remove("RUNWAY_CONFIG")
        .env("RUNWAY_LOG_FORMAT", "json")
        .stdin(Stdio::null());
    for (k, _) in std::env::vars() {
        if k.starts_with("RUNWAY_") && k != "RUNWAY_LOG_FORMAT" {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// A `runway` process, killed and reaped if a test fails part-way.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `runway serve` on port 0 and read the bound address from its
/// JSON log. Returns the child and a channel of its remaining log lines.
fn serve(dir: &Path, extra: &[&str]) -> (Proc, SocketAddr, mpsc::Receiver<String>) {
    let mut cmd = runway(dir);
    cmd.args(["serve", "--listen", "127.0.0.1:0"]).args(extra);
    spawn_logged(cmd)
}

/// Spawn and wait for the first log line carrying the bound `addr`.
fn spawn_logged(mut cmd: Command) -> (Proc, SocketAddr, mpsc::Receiver<String>) {
    let mut child = Proc(
        cmd.stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stderr = child.0.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("runway did not report its address");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if let Some(addr) = v["addr"].as_str() {
            return (child, addr.parse().unwrap(), rx);
        }
    }
}

fn http(addr: SocketAddr, request: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// Read one response head (up to the blank line).
fn read_head(conn: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        conn.read_exact(&mut byte).unwrap();
        buf.push(byte[0]);
    }
    String::from_utf8_lossy(&buf).to_string()
}

fn signal(child: &Proc, sig: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.0.id() as i32), sig).unwrap();
}

fn wait_exit(child: &mut Proc, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "runway did not exit in time");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn version_prints_the_crate_version() {
    let dir = tempfile::tempdir().unwrap();
    let out = runway(dir.path()).arg("version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("runway {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn invalid_configuration_exits_non_zero_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = runway(dir.path())
        .arg("migrate")
        .env("RUNWAY_JOBS__CONCURRENCY", "many")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("jobs.concurrency"), "{err}");
    assert!(err.contains("RUNWAY_JOBS__CONCURRENCY"), "{err}");

    let out = runway(dir.path())
        .args(["--config", "missing.toml", "migrate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.toml"));
}

#[test]
fn migrate_creates_the_embedded_database_and_warns_on_unknown_variables() {
    let dir = tempfile::tempdir().unwrap();
    let out = runway(dir.path())
        .arg("migrate")
        .env("RUNWAY_LISTN", "typo")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(dir.path().join("data/runway.db").exists());
    assert!(dir.path().join("data/jwt-secret").exists());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("RUNWAY_LISTN"), "{err}");
    assert!(
        !err.contains("typo"),
        "the value of an unknown variable is not logged"
    );
}

#[test]
fn config_file_env_and_flags_apply_in_order() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("runway.toml"),
        "data_dir = \"from-file\"\n[jobs]\nconcurrency = 3\n",
    )
    .unwrap();
    let out = runway(dir.path())
        .args(["--config", "runway.toml", "migrate"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(dir.path().join("from-file/runway.db").exists());
    let out = runway(dir.path())
        .args(["--config", "runway.toml", "migrate"])
        .env("RUNWAY_DATA_DIR", "from-env")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(dir.path().join("from-env/runway.db").exists());
    let out = runway(dir.path())
        .args([
            "--config",
            "runway.toml",
            "--data-dir",
            "from-flag",
            "migrate",
        ])
        .env("RUNWAY_DATA_DIR", "from-env")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(dir.path().join("from-flag/runway.db").exists());
}

#[test]
fn sigterm_drains_an_in_flight_request_refuses_new_connections_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr, logs) = serve(dir.path(), &[]);
    let health = http(
        addr,
        "GET /healthz HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n",
    );
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");

    let body = r#"{"email":"sigterm@example.com","password":"correct horse battery"}"#;
    let mut conn = TcpStream::connect(addr).unwrap();
    // `Expect: 100-continue`: the server answers "100 Continue" once the
    // handler starts reading the body, which proves the request is in flight.
    write!(
        conn,
        "POST /v1/auth/register HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\ncontent-length: {}\r\nexpect: 100-continue\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    let interim = read_head(&mut conn);
    assert!(interim.starts_with("HTTP/1.1 100"), "{interim}");

    let deadline = Instant::now() + Duration::from_secs(10);
    signal(&child, nix::sys::signal::Signal::SIGTERM);
    loop {
        let line = logs
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("no shutdown log line");
        if line.contains("shutdown requested") {
            break;
        }
    }
    let refused_by = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(addr).is_ok() {
        assert!(Instant::now() < refused_by, "still accepting connections");
        std::thread::sleep(Duration::from_millis(20));
    }
    conn.write_all(body.as_bytes()).unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");

    let status = wait_exit(&mut child, Duration::from_secs(30));
    assert_eq!(status.code(), Some(0));
}

#[test]
fn no_workers_serves_the_api_and_worker_runs_jobs_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (mut api, addr, _logs) = serve(dir.path(), &["--no-workers"]);
    let body = r#"{"email":"split@example.com","password":"correct horse battery"}"#;
    let reg = http(
        addr,
        &format!(
            "POST /v1/auth/register HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(reg.starts_with("HTTP/1.1 201"), "{reg}");
    let json = &reg[reg.find("\r\n\r\n").unwrap() + 4..];
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    let token = v["access_token"].as_str().unwrap();
    let del = http(
        addr,
        &format!(
            "DELETE /v1/me HTTP/1.1\r\nhost: t\r\nauthorization: Bearer {token}\r\nconnection: close\r\n\r\n"
        ),
    );
    assert!(del.starts_with("HTTP/1.1 202"), "{del}");
    let metrics = || {
        http(
            addr,
            "GET /metrics HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n",
        )
    };
    // The API process runs no jobs: the deletion job stays queued.
    assert!(metrics().contains("runway_jobs_queue_depth 1"));

    // A worker process sharing the data dir runs it, with its own probes.
    let mut cmd = runway(dir.path());
    cmd.arg("worker").env("RUNWAY_WORKER_LISTEN", "127.0.0.1:0");
    let (mut worker, worker_addr, _worker_logs) = spawn_logged(cmd);
    let ready = http(
        worker_addr,
        "GET /readyz HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n",
    );
    assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");
    let worker_metrics = http(
        worker_addr,
        "GET /metrics HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n",
    );
    assert!(
        worker_metrics.contains("runway_jobs_succeeded_total"),
        "{worker_metrics}"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while !metrics().contains("runway_jobs_queue_depth 0") {
        assert!(Instant::now() < deadline, "worker did not run the job");
        std::thread::sleep(Duration::from_millis(50));
    }
    signal(&worker, nix::sys::signal::Signal::SIGTERM);
    assert_eq!(
        wait_exit(&mut worker, Duration::from_secs(30)).code(),
        Some(0)
    );
    signal(&api, nix::sys::signal::Signal::SIGINT);
    assert_eq!(wait_exit(&mut api, Duration::from_secs(30)).code(), Some(0));
}

fn http_bytes(addr: SocketAddr, head: &str, body: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    String::from_utf8_lossy(&out).to_string()
}

fn json_body(response: &str) -> serde_json::Value {
    serde_json::from_str(&response[response.find("\r\n\r\n").unwrap() + 4..]).unwrap()
}

/// kill -9 of the worker while it decodes a photo loses nothing: the job's
/// lease expires, another worker runs it again, and the record ends `ready`
/// with exactly one set of files.
#[test]
fn a_worker_killed_mid_processing_still_ends_ready() {
    let dir = tempfile::tempdir().unwrap();
    let (mut api, addr, _logs) = serve(dir.path(), &["--no-workers"]);
    let creds = r#"{"email":"crash@example.com","password":"correct horse battery"}"#;
    let reg = http(
        addr,
        &format!(
            "POST /v1/auth/register HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{creds}",
            creds.len()
        ),
    );
    assert!(reg.starts_with("HTTP/1.1 201"), "{reg}");
    let reg = json_body(&reg);
    let token = reg["access_token"].as_str().unwrap().to_string();
    let user_id = reg["user"]["id"].as_str().unwrap().to_string();

    // HEIC decoding takes long enough to kill the worker in the middle.
    let photo = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bench-images/photo-12mp.heic"),
    )
    .unwrap();
    let mut body = b"--XyZ\r\ncontent-disposition: form-data; name=\"file\"; filename=\"p.heic\"\r\ncontent-type: application/octet-stream\r\n\r\n".to_vec();
    body.extend(&photo);
    body.extend(b"\r\n--XyZ--\r\n");
    let up = http_bytes(
        addr,
        &format!(
            "POST /v1/media HTTP/1.1\r\nhost: t\r\nauthorization: Bearer {token}\r\ncontent-type: multipart/form-data; boundary=XyZ\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        ),
        &body,
    );
    assert!(up.starts_with("HTTP/1.1 202"), "{up}");
    let id = json_body(&up)["id"].as_str().unwrap().to_string();
    let status = || {
        json_body(&http(
            addr,
            &format!(
                "GET /v1/media/{id} HTTP/1.1\r\nhost: t\r\nauthorization: Bearer {token}\r\nconnection: close\r\n\r\n"
            ),
        ))
    };

    let worker = |dir: &Path| {
        let mut cmd = runway(dir);
        cmd.arg("worker")
            .env("RUNWAY_WORKER_LISTEN", "127.0.0.1:0")
            .env("RUNWAY_JOBS__LEASE_SECS", "2")
            .env("RUNWAY_JOBS__POLL_INTERVAL_MS", "100");
        spawn_logged(cmd)
    };
    let (first, _, first_logs) = worker(dir.path());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let line = first_logs
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the worker did not start processing");
        if line.contains("processing media") {
            break;
        }
    }
    signal(&first, nix::sys::signal::Signal::SIGKILL);
    drop(first);
    assert_eq!(
        status()["status"],
        "processing",
        "killed before it finished"
    );

    let (mut second, _, _second_logs) = worker(dir.path());
    let deadline = Instant::now() + Duration::from_secs(60);
    let done = loop {
        let s = status();
        if s["status"] != "processing" {
            break s;
        }
        assert!(Instant::now() < deadline, "never finished: {s}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(done["status"], "ready", "{done}");
    assert_eq!(done["variants"]["thumb"]["width"], 256);
    // One original and three variants: the rerun wrote the same keys.
    let files = dir
        .path()
        .join(format!("data/blobs/private/{user_id}/{id}"));
    let count = std::fs::read_dir(&files).unwrap().count();
    assert_eq!(count, 4, "{}", files.display());
    assert!(
        !dir.path()
            .join(format!("data/blobs/uploads/{user_id}/{id}"))
            .exists(),
        "the staged upload is removed"
    );
    signal(&second, nix::sys::signal::Signal::SIGTERM);
    assert_eq!(
        wait_exit(&mut second, Duration::from_secs(30)).code(),
        Some(0)
    );
    signal(&api, nix::sys::signal::Signal::SIGTERM);
    assert_eq!(wait_exit(&mut api, Duration::from_secs(30)).code(), Some(0));
}

/// `runway admin create-key` prints the key alone on its last line, and
/// kill -9 of a worker in the middle of a push fan-out loses nothing and
/// sends nothing twice: a second worker finishes, and every device is
/// delivered exactly once or — for sends in flight at the kill, which may
/// or may not have reached APNs — recorded failed as `interrupted`.
#[test]
fn a_worker_killed_mid_fan_out_still_reaches_every_device() {
    use runway_testkit::push::FakeApns;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let apns = rt.block_on(FakeApns::start());
    // Slow answers keep sends in flight when the worker dies.
    apns.set_response_delay(Duration::from_millis(150));
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("apns-ca.pem");
    std::fs::write(&ca, apns.ca_pem()).unwrap();
    let key_file = dir.path().join("apns.p8");
    std::fs::write(&key_file, apns.key_pem()).unwrap();
    let push_env = |cmd: &mut Command| {
        cmd.env("RUNWAY_PUSH__IOS", "apns")
            .env("RUNWAY_PUSH__APNS_KEY_FILE", &key_file)
            .env("RUNWAY_PUSH__APNS_KEY_ID", apns.key_id())
            .env("RUNWAY_PUSH__APNS_TEAM_ID", apns.team_id())
            .env("RUNWAY_PUSH__APNS_TOPIC", "com.example.app")
            .env("RUNWAY_PUSH__APNS_URL", apns.url())
            .env("RUNWAY_PUSH__CA_FILE", &ca)
            .env("RUNWAY_PUSH__REQUEST_TIMEOUT_SECS", "1")
            .env("RUNWAY_PUSH__BATCH_SIZE", "10")
            .env("RUNWAY_PUSH__CONCURRENCY", "4")
            .env("RUNWAY_JOBS__LEASE_SECS", "2")
            .env("RUNWAY_JOBS__CONCURRENCY", "2")
            .env("RUNWAY_JOBS__POLL_INTERVAL_MS", "50");
    };
    let mut cmd = runway(dir.path());
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--no-workers"]);
    push_env(&mut cmd);
    let (mut api, addr, _logs) = spawn_logged(cmd);

    let post = |path: &str, auth: &str, body: &str| {
        json_body(&http(
            addr,
            &format!(
                "POST {path} HTTP/1.1\r\nhost: t\r\nauthorization: Bearer {auth}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            ),
        ))
    };
    let reg = post(
        "/v1/auth/register",
        "none",
        r#"{"email":"fanout@example.com","password":"correct horse battery"}"#,
    );
    let jwt = reg["access_token"].as_str().unwrap().to_string();
    let user_id = reg["user"]["id"].as_str().unwrap().to_string();
    const DEVICES: usize = 40;
    let tokens: Vec<String> = (0..DEVICES).map(|i| format!("{i:064x}")).collect();
    for t in &tokens {
        let d = post(
            "/v1/devices",
            &jwt,
            &format!(r#"{{"platform":"ios","token":"{t}"}}"#),
        );
        assert!(d["id"].is_string(), "{d}");
    }

    // The CLI's key: alone on the last line of stdout.
    let mut cmd = runway(dir.path());
    cmd.args([
        "admin",
        "create-key",
        "--scope",
        "notifications:send",
        "--name",
        "crash-test",
    ]);
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let key = stdout.lines().last().unwrap().trim().to_string();
    assert!(key.starts_with("rwk_") && !key.contains(' '), "{stdout}");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains(&key),
        "the key is not logged"
    );

    let sent = post(
        "/v1/notifications",
        &key,
        &format!(r#"{{"user_ids":["{user_id}"],"title":"crash test"}}"#),
    );
    let id = sent["id"].as_str().expect("accepted").to_string();
    let status = || {
        json_body(&http(
            addr,
            &format!(
                "GET /v1/notifications/{id} HTTP/1.1\r\nhost: t\r\nauthorization: Bearer {key}\r\nconnection: close\r\n\r\n"
            ),
        ))
    };

    let worker = || {
        let mut cmd = runway(dir.path());
        cmd.arg("worker").env("RUNWAY_WORKER_LISTEN", "127.0.0.1:0");
        push_env(&mut cmd);
        spawn_logged(cmd)
    };
    let (first, _, _first_logs) = worker();
    let deadline = Instant::now() + Duration::from_secs(30);
    while apns.received().len() < 8 {
        assert!(Instant::now() < deadline, "the first worker sent nothing");
        std::thread::sleep(Duration::from_millis(10));
    }
    signal(&first, nix::sys::signal::Signal::SIGKILL);
    drop(first);
    let at_kill = apns.received().len();
    assert!(
        at_kill < DEVICES,
        "killed before it finished ({at_kill} sent)"
    );

    let (mut second, _, _second_logs) = worker();
    let deadline = Instant::now() + Duration::from_secs(90);
    let done = loop {
        let s = status();
        if s["status"] == "completed" {
            break s;
        }
        assert!(Instant::now() < deadline, "never completed: {s}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(done["counts"]["targeted"], DEVICES, "{done}");
    assert_eq!(done["counts"]["pending"], 0, "{done}");
    eprintln!("after the kill: {}", done["counts"]);
    let sent = done["counts"]["sent"].as_u64().unwrap() as usize;
    let failed = done["counts"]["failed"].as_u64().unwrap() as usize;
    assert_eq!(sent + failed, DEVICES, "{done}");
    // Only sends in flight at the kill can be interrupted: at most
    // jobs.concurrency (2) delivery jobs × push.concurrency (4).
    assert!(failed <= 8, "{done}");
    for f in done["failures"].as_array().unwrap() {
        assert!(
            f["reason"].as_str().unwrap().starts_with("interrupted"),
            "{f}"
        );
    }

    // Nothing was sent twice, and everything recorded sent arrived.
    let received = apns.received();
    let mut per_token: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for r in &received {
        *per_token.entry(r.token.as_str()).or_default() += 1;
    }
    assert!(
        per_token.values().all(|&n| n == 1),
        "a device got the notification twice"
    );
    assert!(
        per_token.len() >= sent,
        "{} arrived, {sent} recorded sent",
        per_token.len()
    );
    signal(&second, nix::sys::signal::Signal::SIGTERM);
    assert_eq!(
        wait_exit(&mut second, Duration::from_secs(30)).code(),
        Some(0)
    );
    signal(&api, nix::sys::signal::Signal::SIGTERM);
    assert_eq!(wait_exit(&mut api, Duration::from_secs(30)).code(), Some(0));
    drop(rt);
}
