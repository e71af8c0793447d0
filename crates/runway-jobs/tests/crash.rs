//! A job survives `kill -9` of the worker process and completes exactly once.
//!
//! This test binary is its own worker: run with `RUNWAY_CRASH_CHILD=<dir>`, it
//! becomes a worker process over the SQLite queue in `<dir>` (see `child`).
//! Otherwise it is a libtest-compatible harness (so nextest can list and run
//! it) whose test spawns, kills and restarts that worker.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use libtest_mimic::{Arguments, Failed, Trial};
use runway_jobs::{Backoff, DbQueue, Job, JobError, Queue, Registry, Worker, WorkerConfig};
use runway_store::{Db, DbOptions};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

const CHILD_ENV: &str = "RUNWAY_CRASH_CHILD";
const LEASE: Duration = Duration::from_secs(2);

fn main() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        child(PathBuf::from(dir));
        return;
    }
    let args = Arguments::from_args();
    let tests = vec![Trial::test(
        "job_survives_kill_9_and_completes_exactly_once",
        job_survives_kill_9,
    )];
    libtest_mimic::run(&args, tests).exit();
}

/// A job whose visible effect is a line in `effects.log`, written at most once
/// per job id (the idempotent handler), and which waits for `release` to exist
/// before doing it, so the test can kill the process mid-run.
#[derive(Serialize, Deserialize)]
struct RecordEffect {
    token: String,
}

#[derive(Clone)]
struct ChildCtx {
    dir: PathBuf,
}

#[async_trait]
impl Job for RecordEffect {
    const KIND: &'static str = "test.record_effect";
    type Context = ChildCtx;

    async fn run(&self, ctx: &ChildCtx) -> Result<(), JobError> {
        append(
            &ctx.dir.join("started.log"),
            &format!("{} {}", std::process::id(), self.token),
        );
        while !ctx.dir.join("release").exists() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let marker = ctx.dir.join(format!("effect-{}", self.token));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&marker)
        {
            Ok(_) => append(&ctx.dir.join("effects.log"), &self.token),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }
}

fn append(path: &Path, line: &str) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    writeln!(f, "{line}").unwrap();
    f.sync_all().unwrap();
}

async fn open_queue(dir: &Path) -> DbQueue {
    let db = Db::connect(
        &format!("sqlite://{}/jobs.db", dir.display()),
        &DbOptions::default(),
    )
    .await
    .unwrap();
    db.migrate().await.unwrap();
    DbQueue::new(db, "default")
}

fn child(dir: PathBuf) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let queue = open_queue(&dir).await;
        let worker = Worker::new(
            std::sync::Arc::new(queue),
            Registry::new().register::<RecordEffect>(),
            ChildCtx { dir: dir.clone() },
            WorkerConfig {
                concurrency: 2,
                poll_interval: Duration::from_millis(50),
                lease: LEASE,
                max_attempts: 5,
                backoff: Backoff {
                    base: Duration::from_millis(100),
                    max: Duration::from_secs(1),
                },
                shutdown_grace: Duration::from_secs(10),
                job_timeout: Duration::from_secs(60),
            },
        );
        let cancel = CancellationToken::new();
        let on_term = cancel.clone();
        tokio::spawn(async move {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).unwrap();
            term.recv().await;
            on_term.cancel();
        });
        worker.run(cancel).await;
    });
}

/// A worker process, killed and reaped if the test fails part-way.
struct WorkerProcess(Child);

impl WorkerProcess {
    fn pid(&self) -> nix::unistd::Pid {
        nix::unistd::Pid::from_raw(self.0.id() as i32)
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_child(dir: &Path) -> WorkerProcess {
    WorkerProcess(
        Command::new(std::env::current_exe().unwrap())
            .env(CHILD_ENV, dir)
            .stdin(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

fn wait_for(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) -> Result<(), Failed> {
    let deadline = Instant::now() + timeout;
    while !check() {
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}").into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn job_survives_kill_9() -> Result<(), Failed> {
    let dir = tempfile::tempdir()?;
    let rt = tokio::runtime::Runtime::new()?;
    let queue = rt.block_on(open_queue(dir.path()));
    let job_id = rt.block_on(
        RecordEffect {
            token: "job-1".into(),
        }
        .enqueue(&queue),
    )?;

    // 1. The first worker claims the job and is killed with SIGKILL mid-run.
    let mut first = spawn_child(dir.path());
    let started = dir.path().join("started.log");
    wait_for("first run to start", Duration::from_secs(30), || {
        !lines(&started).is_empty()
    })?;
    nix::sys::signal::kill(first.pid(), nix::sys::signal::Signal::SIGKILL)?;
    first.0.wait()?;
    let killed_at = Instant::now();
    assert!(lines(&dir.path().join("effects.log")).is_empty());

    // The job is still there, leased to a dead process.
    let state = rt.block_on(queue.message_state(&job_id))?;
    assert_eq!(state.map(|s| s.1), Some("running".to_string()));

    // 2. A new worker picks it up once the lease expires and finishes it.
    std::fs::write(dir.path().join("release"), b"")?;
    let mut second = spawn_child(dir.path());
    let effects = dir.path().join("effects.log");
    wait_for("the job to complete", Duration::from_secs(30), || {
        !lines(&effects).is_empty()
    })?;
    assert!(
        killed_at.elapsed() >= LEASE - Duration::from_millis(200),
        "redelivered before the lease expired"
    );
    wait_for(
        "the job to be acknowledged",
        Duration::from_secs(10),
        || rt.block_on(queue.message_state(&job_id)).unwrap().is_none(),
    )?;

    // 3. SIGTERM: the worker drains and exits cleanly.
    nix::sys::signal::kill(second.pid(), nix::sys::signal::Signal::SIGTERM)?;
    let status = second.0.wait()?;
    assert!(status.success(), "worker exit status {status}");

    let runs = lines(&started);
    assert_eq!(
        runs.len(),
        2,
        "one killed run and one completed run: {runs:?}"
    );
    assert_ne!(
        runs[0].split(' ').next(),
        runs[1].split(' ').next(),
        "the second run is in the new process"
    );
    assert_eq!(
        lines(&effects),
        vec!["job-1".to_string()],
        "effect exactly once"
    );
    let stats = rt.block_on(queue.stats())?;
    assert_eq!((stats.depth, stats.dead), (0, 0));
    Ok(())
}
