#!/usr/bin/env python3
"""bench/push driver: runway's APNs sender against @parse/node-apn, both
against the same local fake APNs, h2load against that fake for its
ceiling, and a 1M-device fan-out through `runway serve`. Writes
bench/results/push.{md,json}.

Run it through ./run, which installs node-apn and h2load and builds the
Rust side first. See README.md for what each figure means. Standard
library only (the fan-out's database is filled with python's sqlite3).
"""

import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import shlex
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
GNU_TIME = "/usr/bin/time"
TOPIC = "com.example.runway"
# The payload both senders produce for the template notification (checked
# against what runway-push serializes: see README.md).
PAYLOAD = b'{"aps":{"alert":{"title":"Benchmark","body":"Hello from bench/push"}}}'
TARGETS = {"throughput": 20_000, "ratio": 5.0, "fanout_devices": 1_000_000, "fanout_rss_mib": 150}


# ---------------------------------------------------------------- machine

def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=60).stdout.strip()
    except Exception as e:  # noqa: BLE001 (best effort)
        return f"unknown ({e})"


def machine_busy_seconds():
    """CPU seconds (all cores) the machine has spent busy since boot."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / 100.0


def machine_info():
    return {
        "nproc": sh("nproc"),
        "cpu": sh("lscpu | sed -n 's/^Model name: *//p' | head -1"),
        "memory": sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo"),
        "kernel": platform.release(),
        "os": sh(". /etc/os-release && echo \"$PRETTY_NAME\""),
        "loadavg_at_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def versions():
    lock = json.load(open(os.path.join(HERE, "package-lock.json")))
    pkgs = lock.get("packages", {})
    crate = sh(f"sed -n 's/^version = \"\\(.*\\)\"/\\1/p' {shlex.quote(os.path.join(ROOT, 'Cargo.toml'))} | head -1")
    return {
        "runway": f"workspace {crate} ({sh('rustc -V')}, release profile)",
        "@parse/node-apn": pkgs.get("node_modules/@parse/node-apn", {}).get("version", "?"),
        "node": sh("node -v"),
        "h2load": sh("h2load --version"),
        "sqlite3 (python, for the fan-out's data)": sqlite3.sqlite_version,
    }


def wait_until_quiet(a):
    """Waits (at most a.quiet_wait s) until other work keeps fewer than
    a.quiet_cores cores busy; returns (cores busy, quiet?)."""
    deadline = time.monotonic() + a.quiet_wait
    while True:
        b0, t0 = machine_busy_seconds(), time.monotonic()
        time.sleep(1.0)
        busy = (machine_busy_seconds() - b0) / (time.monotonic() - t0)
        if busy < a.quiet_cores:
            return busy, True
        if time.monotonic() >= deadline:
            print(f"(machine still busy: {busy:.2f} cores; measuring anyway)", end=" ", flush=True)
            return busy, False


# ---------------------------------------------------------------- fake APNs

class Fake:
    """One fake_apns process (fresh per measurement: its counters and CPU
    time are that measurement's)."""

    def __init__(self, binary, workdir, name, record=False):
        self.info_path = os.path.join(workdir, f"{name}.json")
        if os.path.exists(self.info_path):
            os.remove(self.info_path)
        cmd = [binary, "--info", self.info_path] + (["--record"] if record else [])
        self.stdout = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(cmd, stdout=self.stdout, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not os.path.exists(self.info_path):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"bench: fake_apns did not start ({' '.join(cmd)})")
            time.sleep(0.02)
        self.info = json.load(open(self.info_path))

    def stop(self):
        """SIGTERM; returns the fake's closing stats line."""
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)
        self.stdout.seek(0)
        lines = [l for l in self.stdout.read().decode().splitlines() if l.startswith("{")]
        return json.loads(lines[-1]) if lines else {}


def run_child(cmd, env=None, timeout=900):
    """Runs one contender under GNU time: (exit code, stdout, stderr, CPU
    seconds, peak RSS KiB) of that child alone, from wait4."""
    with tempfile.NamedTemporaryFile() as usage, tempfile.TemporaryFile() as err:
        p = subprocess.run([GNU_TIME, "-o", usage.name, "-f", "%U %S %M", *cmd], stdout=subprocess.PIPE,
                           stderr=err, stdin=subprocess.DEVNULL, env=env, check=False, timeout=timeout)
        err.seek(0)
        stderr = err.read().decode(errors="replace")
        fields = (usage.read().decode().strip().splitlines() or [""])[-1].split()
        cpu = float(fields[0]) + float(fields[1]) if len(fields) == 3 else 0.0
        rss = int(fields[2]) if len(fields) == 3 else 0
        return p.returncode, p.stdout.decode(errors="replace"), stderr, cpu, rss


def sender(a, contender, workdir, run_no):
    """One run of one sender against a fresh fake."""
    fake = Fake(a.fake, workdir, f"fake-{contender}-{run_no}")
    flags = ["--info", fake.info_path, "--count", str(a.count), "--concurrency", str(a.concurrency),
             "--warmup", str(a.warmup)]
    cmd = {"runway": [a.runway_sender],
           "node-apn": ["node", os.path.join(HERE, "node_apn_bench.js")]}[contender] + flags
    env = dict(os.environ)
    busy0, t0 = machine_busy_seconds(), time.monotonic()
    code, stdout, stderr, cpu, rss = run_child(cmd, env=env)
    span = time.monotonic() - t0
    busy = machine_busy_seconds() - busy0
    stats = fake.stop()
    r = {"contender": contender, "run": run_no, "command": " ".join(shlex.quote(c) for c in cmd),
         "child_cpu_seconds": cpu, "peak_rss_kib_wait4": rss, "fake": stats,
         "machine_cores_busy": round(busy / span, 3)}
    lines = [l for l in stdout.splitlines() if l.startswith("{")]
    if code != 0 or not lines:
        r.update(status="failed", detail=(stderr or stdout).strip()[-800:])
        return r
    r.update(json.loads(lines[-1]))
    r["status"] = "ok" if r["delivered"] == r["count"] else "incomplete"
    # The fake ran for the whole child (start-up and warm-up too): its cores
    # busy over that span, and the sender's over its timed loop.
    r["fake_cores_busy"] = round(stats.get("cpu_seconds", 0.0) / span, 3)
    r["fake_cpu_seconds_per_10k"] = stats.get("cpu_seconds", 0.0) / max(stats.get("requests", 0), 1) * 10_000
    r["sender_cores_busy"] = round(r["cpu_seconds"] / r["seconds"], 3)
    return r


def h2load(a, workdir, run_no):
    """h2load against a fresh fake: same path shape, headers, payload,
    concurrency and connection count as the senders, a valid provider
    token. Returns its rate and the fake's CPU."""
    fake = Fake(a.fake, workdir, f"fake-h2load-{run_no}")
    payload = os.path.join(workdir, "payload.json")
    with open(payload, "wb") as f:
        f.write(PAYLOAD)
    token = "f" * 64
    n = a.count + a.warmup
    cmd = ["h2load", "-n", str(n), "-c", "1", "-t", "1", "-m", str(a.concurrency), "-d", payload,
           "-H", f"authorization: bearer {fake.info['jwt']}", "-H", f"apns-topic: {TOPIC}",
           "-H", "apns-push-type: alert", "-H", "apns-priority: 10", "-H", "content-type: application/json",
           f"{fake.info['url']}/3/device/{token}"]
    shown = [c if not c.startswith("authorization:") else "authorization: bearer <JWT signed with the fake's key>"
             for c in cmd]
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    span = time.monotonic() - t0
    stats = fake.stop()
    r = {"contender": "h2load", "run": run_no, "command": " ".join(shlex.quote(c) for c in shown),
         "requests": n, "fake": stats}
    out = p.stdout
    try:
        finished = next(l for l in out.splitlines() if l.startswith("finished in"))
        value, unit = re.match(r"finished in ([\d.]+)(ms|s|us),", finished).groups()
        seconds = float(value) * {"s": 1.0, "ms": 1e-3, "us": 1e-6}[unit]
        status = next(l for l in out.splitlines() if l.startswith("status codes:"))
        ok2xx = int(status.split(":")[1].split()[0])
    except (StopIteration, ValueError, IndexError, AttributeError):
        r.update(status="failed", detail=(p.stderr or out).strip()[-800:])
        return r
    # The fake starts a connection at 1 stream, as APNs does; h2load opens
    # -m streams before that SETTINGS frame arrives, and the fake refuses
    # the excess (REFUSED_STREAM): those few are counted, not retried.
    r.update(status="ok" if ok2xx >= n - a.concurrency else "incomplete", seconds=seconds,
             notifications_per_second=ok2xx / seconds, status_2xx=ok2xx,
             fake_cores_busy=round(stats.get("cpu_seconds", 0.0) / span, 3),
             fake_cpu_seconds_per_10k=stats.get("cpu_seconds", 0.0) / max(stats.get("requests", 0), 1) * 10_000,
             summary=[l for l in out.splitlines() if l.startswith(("finished in", "requests:", "status codes:"))])
    return r


# ---------------------------------------------------------------- fan-out

def fill_database(db, devices, per_user, topic):
    """`devices` iOS devices, `per_user` per account, every account
    subscribed to `topic`: written straight into runway's SQLite schema
    (crates/runway-store/migrations/sqlite), as the API would (token_hash
    is hex SHA-256 of 'ios:<token>')."""
    now = int(time.time() * 1000)
    users = (devices + per_user - 1) // per_user
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-200000")
    # Ids ordered like uuid v7 (runway's own ids): a time prefix, then a counter.
    prefix = (now << 80) | (0x7 << 76) | (0x2 << 62)
    user_ids = [str(uuid.UUID(int=prefix | (1 << 40) | i)) for i in range(users)]
    with con:
        con.executemany("INSERT INTO users (id, email, password_hash, created_at) VALUES (?, ?, ?, ?)",
                        ((u, f"bench{i}@example.com", "!", now) for i, u in enumerate(user_ids)))
        con.executemany("INSERT INTO topic_subscriptions (topic, user_id, created_at) VALUES (?, ?, ?)",
                        ((topic, u, now) for u in user_ids))

        def rows():
            for i in range(devices):
                token = f"{i:064x}"
                yield (str(uuid.UUID(int=prefix | (2 << 40) | i)), user_ids[i // per_user], "ios",
                       hashlib.sha256(f"ios:{token}".encode()).hexdigest(), token, "production", now, now)

        con.executemany("INSERT INTO devices (id, user_id, platform, token_hash, token, environment, created_at, "
                        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows())
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return users


AUDIENCE_SQL = {
    # runway-store's `audience_page` (crates/runway-store/src/push.rs), copied.
    "user": ("SELECT d.id FROM devices d JOIN users u ON u.id = d.user_id AND u.deleted_at IS NULL "
             "WHERE d.user_id IN (?) AND d.id > ? AND d.updated_at >= ? ORDER BY d.id LIMIT ?"),
    # (the topic parameter moved first here so both queries take (param, after, fresh, limit))
    "topic": ("SELECT d.id FROM devices d JOIN users u ON u.id = d.user_id AND u.deleted_at IS NULL "
              "WHERE EXISTS (SELECT 1 FROM topic_subscriptions t WHERE t.topic = ? AND t.user_id = d.user_id) "
              "AND d.id > ? AND d.updated_at >= ? ORDER BY d.id LIMIT ?"),
}


def time_audience_pages(db, devices, audience, page=500):
    """Seconds for one page of the fan-out's audience query at the start,
    middle and end of the audience (a fan-out step runs one such query),
    with its plan. A page should not cost more as the audience grows."""
    con = sqlite3.connect(db)
    param = (con.execute("SELECT user_id FROM devices ORDER BY id LIMIT 1").fetchone()[0]
             if audience == "user" else "bench")
    sql = AUDIENCE_SQL[audience]
    out = {"audience": audience, "page": page, "pages": [],
           "plan": " / ".join(row[-1] for row in con.execute("EXPLAIN QUERY PLAN " + sql, (param, "", 0, page)))}
    for label, offset in (("first", None), ("middle", devices // 2), ("last", devices - page)):
        after = "" if offset is None else con.execute("SELECT id FROM devices ORDER BY id LIMIT 1 OFFSET ?",
                                                      (offset,)).fetchone()[0]
        t0 = time.perf_counter()
        n = len(con.execute(sql, (param, after, 0, page)).fetchall())
        out["pages"].append({"page": label, "seconds": round(time.perf_counter() - t0, 4), "rows": n})
    con.close()
    mean = statistics.mean(p["seconds"] for p in out["pages"])
    out["projected_paging_seconds"] = round(mean * devices / page, 1)
    return out


def topic_probe(a, workdir):
    """The topic audience at the same size, without sending: the same
    number of devices, --fanout-per-user per account, every account
    subscribed to topic `bench`; times pages of the topic query."""
    data = os.path.join(workdir, "topic-probe")
    os.makedirs(data)
    p = subprocess.run([a.runway, "--data-dir", data, "migrate"], capture_output=True, text=True, check=False)
    if p.returncode != 0:
        return {"status": "failed", "detail": p.stderr.strip()[-800:]}
    db = os.path.join(data, "runway.db")
    t0 = time.monotonic()
    users = fill_database(db, a.fanout_devices, a.fanout_per_user, "bench")
    r = {"status": "ok", "devices": a.fanout_devices, "users": users, "fill_seconds": round(time.monotonic() - t0, 1)}
    r.update(time_audience_pages(db, a.fanout_devices, "topic"))
    for f in os.listdir(data):
        if f.startswith("runway.db"):
            os.remove(os.path.join(data, f))
    return r


def http_json(method, url, key=None, body=None, timeout=30):
    req = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode())
    req.add_header("content-type", "application/json")
    if key:
        req.add_header("authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def proc_status(pid):
    """(VmRSS KiB, VmHWM KiB, CPU seconds) of a live process."""
    rss = hwm = 0
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
        rest = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        cpu = (int(rest[11]) + int(rest[12])) / 100.0
    except (OSError, IndexError, ValueError):
        return rss, hwm, 0.0
    return rss, hwm, cpu


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fanout(a, workdir):
    """1M devices in the database, `runway serve` (API + workers in one
    process) with APNs pointed at a fresh fake, one notification to a topic
    every account is subscribed to; waits for `completed`."""
    data = os.path.join(workdir, "fanout-data")
    os.makedirs(data)
    per_user = a.fanout_devices if a.fanout_audience == "user" else a.fanout_per_user
    r = {"devices": a.fanout_devices, "devices_per_user": per_user, "audience": a.fanout_audience,
         "status": "failed"}
    base = [a.runway, "--data-dir", data]
    p = subprocess.run(base + ["migrate"], capture_output=True, text=True, check=False)
    if p.returncode != 0:
        r["detail"] = p.stderr.strip()[-800:]
        return r
    t0 = time.monotonic()
    db = os.path.join(data, "runway.db")
    r["users"] = fill_database(db, a.fanout_devices, per_user, "bench")
    r["fill_seconds"] = round(time.monotonic() - t0, 1)
    r["audience_pages"] = time_audience_pages(db, a.fanout_devices, a.fanout_audience)
    first_user = sqlite3.connect(db).execute("SELECT id FROM users ORDER BY id LIMIT 1").fetchone()[0]
    r["database_bytes"] = sum(os.path.getsize(os.path.join(data, f)) for f in os.listdir(data)
                              if f.startswith("runway.db"))
    p = subprocess.run(base + ["admin", "create-key", "--scope", "notifications:send", "--name", "bench-push"],
                       capture_output=True, text=True, check=False)
    if p.returncode != 0:
        r["detail"] = p.stderr.strip()[-800:]
        return r
    key = p.stdout.strip().splitlines()[-1].strip()

    fake = Fake(a.fake, workdir, "fake-fanout")
    with open(os.path.join(workdir, "apns.p8"), "w") as f:
        f.write(fake.info["key_pem"])
    with open(os.path.join(workdir, "apns-ca.pem"), "w") as f:
        f.write(fake.info["ca_pem"])
    port = free_port()
    env = dict(os.environ)
    settings = {
        "RUNWAY_PUSH__IOS": "apns",
        "RUNWAY_PUSH__APNS_KEY_FILE": os.path.join(workdir, "apns.p8"),
        "RUNWAY_PUSH__APNS_KEY_ID": fake.info["key_id"],
        "RUNWAY_PUSH__APNS_TEAM_ID": fake.info["team_id"],
        "RUNWAY_PUSH__APNS_TOPIC": TOPIC,
        "RUNWAY_PUSH__APNS_URL": fake.info["url"],
        "RUNWAY_PUSH__CA_FILE": os.path.join(workdir, "apns-ca.pem"),
        "RUNWAY_LOG_FILTER": "warn",
    }
    settings.update(dict(kv.split("=", 1) for kv in a.fanout_env))
    env.update(settings)
    r["runway_env"] = {k: v for k, v in settings.items() if k.startswith(("RUNWAY_PUSH__BATCH", "RUNWAY_PUSH__CONC",
                                                                          "RUNWAY_JOBS", "RUNWAY_PUSH__APNS_CONN",
                                                                          "RUNWAY_DATABASE", "RUNWAY_LOG"))}
    cmd = base + ["serve", "--listen", f"127.0.0.1:{port}"]
    r["command"] = " ".join(shlex.quote(c) for c in cmd)
    log = open(os.path.join(workdir, "runway-serve.log"), "wb")
    serve = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if http_json("GET", f"{url}/readyz", timeout=2)[0] == 200:
                    break
            except (OSError, ValueError):
                pass
            if serve.poll() is not None or time.monotonic() > deadline:
                r["detail"] = "runway serve did not become ready: " + open(log.name, errors="replace").read()[-800:]
                return r
            time.sleep(0.1)
        _, hwm_idle, cpu_idle = proc_status(serve.pid)
        r["rss_kib_ready"] = hwm_idle
        busy0 = machine_busy_seconds()
        t0 = time.monotonic()
        target = {"user_ids": [first_user]} if a.fanout_audience == "user" else {"topic": "bench"}
        r["target"] = target
        code, sent = http_json("POST", f"{url}/v1/notifications", key,
                               {**target, "title": "Benchmark", "body": "Hello from bench/push"})
        if code not in (200, 201, 202):
            r["detail"] = f"POST /v1/notifications answered {code}: {sent}"
            return r
        nid = sent["id"]
        samples, last = [], None
        deadline = t0 + a.fanout_timeout
        while True:
            time.sleep(1.0)
            rss, hwm, cpu = proc_status(serve.pid)
            _, s = http_json("GET", f"{url}/v1/notifications/{nid}", key)
            elapsed = time.monotonic() - t0
            counts = (s or {}).get("counts", {})
            samples.append({"t": round(elapsed, 1), "rss_kib": rss, "cpu_seconds": round(cpu - cpu_idle, 2),
                            "counts": counts})
            done = sum(counts.get(k, 0) for k in ("sent", "failed", "pruned"))
            if last is None or elapsed - last >= 15:
                print(f"\n  fan-out {elapsed:5.0f} s: {counts} rss {rss / 1024:.0f} MiB", end="", flush=True)
                last = elapsed
            if (s or {}).get("status") == "completed":
                break
            if serve.poll() is not None:
                r["detail"] = "runway serve exited: " + open(log.name, errors="replace").read()[-800:]
                return r
            if time.monotonic() > deadline:
                r.update(status="timeout", detail=f"not completed after {a.fanout_timeout} s ({done} done)")
                break
        wall = time.monotonic() - t0
        rss, hwm, cpu = proc_status(serve.pid)
        busy = machine_busy_seconds() - busy0
        final = http_json("GET", f"{url}/v1/notifications/{nid}", key)[1]
        # The completion poll has a 1 s period: the wall time is at most 1 s late.
        r.update(notification=final, seconds=round(wall, 1), peak_rss_kib=hwm, cpu_seconds=round(cpu - cpu_idle, 1),
                 machine_cores_busy=round(busy / wall, 3), samples=samples)
        sent_n = final.get("counts", {}).get("sent", 0)
        r["notifications_per_second"] = sent_n / wall
        r["cpu_seconds_per_10k"] = (cpu - cpu_idle) / max(sent_n, 1) * 10_000
        if r.get("status") != "timeout":
            r["status"] = "ok" if sent_n == a.fanout_devices else "incomplete"
    finally:
        if serve.poll() is None:
            _, hwm, _ = proc_status(serve.pid)
            r["peak_rss_kib"] = max(r.get("peak_rss_kib", 0), hwm)
            serve.send_signal(signal.SIGTERM)
            try:
                serve.wait(timeout=60)
            except subprocess.TimeoutExpired:
                serve.kill()
        r["fake"] = fake.stop()
        r["fake_cores_busy"] = round(r["fake"].get("cpu_seconds", 0.0) / r["seconds"], 3) if r.get("seconds") else None
        log.close()
        r["log_tail"] = open(log.name, errors="replace").read()[-2000:]
    return r


# ---------------------------------------------------------------- report

def median(runs, key):
    vals = [r[key] for r in runs if r.get("status") == "ok" and key in r]
    return statistics.median(vals) if vals else None


def summarize(runs):
    out = {}
    for c in ("runway", "node-apn", "h2load"):
        rs = [r for r in runs if r["contender"] == c]
        ok = [r for r in rs if r.get("status") == "ok"]
        s = {"runs": len(rs), "ok_runs": len(ok),
             "notifications_per_second": median(rs, "notifications_per_second"),
             "all_notifications_per_second": [round(r["notifications_per_second"]) for r in ok],
             "fake_cores_busy": median(rs, "fake_cores_busy"),
             "fake_cpu_seconds_per_10k": median(rs, "fake_cpu_seconds_per_10k")}
        if c != "h2load":
            s.update(cpu_seconds_per_10k=median(rs, "cpu_seconds_per_10k"),
                     peak_rss_kib=median(rs, "peak_rss_kib_wait4"),
                     sender_cores_busy=median(rs, "sender_cores_busy"),
                     machine_cores_busy=median(rs, "machine_cores_busy"))
        out[c] = s
    return out


def targets(summary, fan):
    rw, na, h2 = summary["runway"], summary["node-apn"], summary["h2load"]
    out = []
    if rw["notifications_per_second"]:
        x = rw["notifications_per_second"]
        out.append({"what": f"runway's sender ≥ {TARGETS['throughput']:,} notifications/s on this "
                            f"{sh('nproc')}-core machine (sender and fake APNs sharing it)",
                    "measured": f"{x:,.0f}/s (median of {rw['ok_runs']})",
                    "verdict": "MET" if x >= TARGETS["throughput"] else "MISSED", "value": x})
    if rw["notifications_per_second"] and na["notifications_per_second"]:
        x = rw["notifications_per_second"] / na["notifications_per_second"]
        c = na["cpu_seconds_per_10k"] / rw["cpu_seconds_per_10k"]
        out.append({"what": f"runway ≥ {TARGETS['ratio']:g}× node-apn's throughput",
                    "measured": f"{x:.2f}× ({rw['notifications_per_second']:,.0f} vs "
                                f"{na['notifications_per_second']:,.0f}/s); by CPU per notification {c:.2f}×",
                    "verdict": "MET" if x >= TARGETS["ratio"] else "MISSED", "value": x})
    if h2["notifications_per_second"] and rw["notifications_per_second"]:
        x = h2["notifications_per_second"] / rw["notifications_per_second"]
        out.append({"what": "the fake APNs is not the bottleneck (h2load's rate against it above runway's)",
                    "measured": f"h2load {h2['notifications_per_second']:,.0f}/s = {x:.2f}× runway's",
                    "verdict": "MET" if x > 1.2 else "NOT SHOWN", "value": x})
    if fan and fan.get("seconds"):
        rss = fan.get("peak_rss_kib", 0) / 1024
        complete = fan["status"] == "ok"
        out.append({"what": f"{fan['devices']:,}-device fan-out completes with runway's peak RSS "
                            f"< {TARGETS['fanout_rss_mib']} MB",
                    "measured": f"{'completed' if complete else fan['status']} in {fan['seconds']:.0f} s "
                                f"({fan['notifications_per_second']:,.0f}/s), peak RSS {rss:.0f} MiB "
                                f"({rss * 1.048576:.0f} MB)",
                    "verdict": "MET" if complete and rss * 1.048576 < TARGETS["fanout_rss_mib"] else "MISSED",
                    "value": {"seconds": fan["seconds"], "peak_rss_mib": rss}})
    elif fan:
        out.append({"what": "1M-device fan-out", "measured": f"{fan.get('status')}: {fan.get('detail', '')[:300]}",
                    "verdict": "NOT MEASURED", "value": None})
    return out


def bounds(doc):
    """What the CPU figures allow on this machine, whoever the sender is."""
    s = doc["summary"]
    cores = float(doc["machine"]["nproc"] or 2)
    out = []
    for c in ("runway", "node-apn"):
        x = s[c]
        if x["cpu_seconds_per_10k"] and x["fake_cpu_seconds_per_10k"]:
            per = (x["cpu_seconds_per_10k"] + x["fake_cpu_seconds_per_10k"]) / 10_000
            bound = cores / per
            out.append(f"- {c}: its own {x['cpu_seconds_per_10k'] / 10_000 * 1e6:.1f} µs of CPU per notification plus "
                       f"the fake's {x['fake_cpu_seconds_per_10k'] / 10_000 * 1e6:.1f} µs: {cores:g} cores can carry at "
                       f"most {bound:,.0f}/s; measured {fmt(x['notifications_per_second'])}/s "
                       f"({x['notifications_per_second'] / bound:.0%} of that).")
    h, na = s["h2load"]["notifications_per_second"], s["node-apn"]["notifications_per_second"]
    if h and na:
        out.append(f"- The fake's ceiling (h2load, {h:,.0f}/s) is {h / na:.2f}× node-apn's throughput: on this "
                   "machine, against this fake, no sender can show a larger throughput ratio than that.")
    return out or ["- (not enough contenders measured)"]


def fmt(x, d=0):
    return "–" if x is None else f"{x:,.{d}f}"


def write_report(a, doc):
    s, fan = doc["summary"], doc.get("fanout")
    info = doc["machine"]
    L = [
        "# bench/push: runway's APNs sender vs @parse/node-apn, against one fake APNs",
        "",
        f"Command: `{doc['command']}`  ",
        f"Date: {doc['date']}; the whole run took {doc['elapsed_seconds'] / 60:.1f} min.",
        "",
        f"Each sender run: {a.count:,} notifications (after {a.warmup:,} untimed), {a.concurrency} in flight, one "
        "HTTP/2 connection, every notification to a distinct 64-hex-digit token, the same alert payload "
        f"(`{PAYLOAD.decode()}`, {len(PAYLOAD)} bytes) and headers; a fresh fake APNs process "
        "(crates/runway-testkit/examples/fake_apns.rs: TLS, HTTP/2, the provider token checked on every request, "
        f"its ES256 signature once per token string and connection; counting only) per run. {a.repeats} runs per contender, alternating; medians below.",
        "",
        "## Machine",
        "",
        f"- nproc: {info['nproc']}; CPU: {info['cpu']}; memory: {info['memory']}; {info['os']}, kernel {info['kernel']}",
        f"- load average (1, 5, 15 min) at start: {info['loadavg_at_start']}; at end: {info['loadavg_at_end']}",
        "",
        "## Versions",
        "",
    ] + [f"- {k}: {v}" for k, v in doc["versions"].items()] + [
        "",
        "## Senders (median of runs)",
        "",
        "| contender | notifications/s | vs node-apn | CPU-s / 10k | sender cores busy | fake cores busy "
        "| fake CPU-s / 10k | machine cores busy | peak RSS MiB | runs (notifications/s) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    na = s["node-apn"]["notifications_per_second"]
    for c in ("runway", "node-apn"):
        x = s[c]
        vs = x["notifications_per_second"] / na if x["notifications_per_second"] and na else None
        L.append(f"| {c} | {fmt(x['notifications_per_second'])} | {fmt(vs, 2) + '×' if vs else '–'} "
                 f"| {fmt(x['cpu_seconds_per_10k'], 2)} | {fmt(x['sender_cores_busy'], 2)} "
                 f"| {fmt(x['fake_cores_busy'], 2)} | {fmt(x['fake_cpu_seconds_per_10k'], 2)} "
                 f"| {fmt(x['machine_cores_busy'], 2)} "
                 f"| {fmt((x['peak_rss_kib'] or 0) / 1024)} | {', '.join(f'{v:,}' for v in x['all_notifications_per_second'])} |")
    h = s["h2load"]
    L += ["", "## The fake's ceiling (h2load)", "",
          f"h2load, same path shape, headers, payload, {a.concurrency} streams on one connection, a valid provider "
          f"token: **{fmt(h['notifications_per_second'])} requests/s** (median; runs: "
          f"{', '.join(f'{v:,}' for v in h['all_notifications_per_second'])}), the fake keeping "
          f"{fmt(h['fake_cores_busy'], 2)} cores busy ({fmt(h['fake_cpu_seconds_per_10k'], 2)} CPU-s per 10k requests).",
          ""]
    if fan:
        L += ["## 1M-device fan-out through `runway serve`", ""]
        if fan.get("seconds"):
            n = fan.get("notification", {})
            who = (f"one account owning all of them; `POST /v1/notifications` `{json.dumps(fan['target'])}`"
                   if fan["audience"] == "user" else
                   f"{fan['devices_per_user']} per account, {fan['users']:,} accounts, all subscribed to topic "
                   f"`bench`; `POST /v1/notifications` `{json.dumps(fan['target'])}`")
            L += [f"- {fan['devices']:,} iOS devices ({who}, with a title and body) written into a fresh SQLite "
                  f"database ({fan['database_bytes'] / 2**20:.0f} MiB) in {fan['fill_seconds']} s; `runway serve` "
                  f"(API and workers in one process; default settings{', plus ' + json.dumps(fan['runway_env']) if fan['runway_env'] else ''}) "
                  "with APNs pointed at a fresh fake.",
                  f"- status: **{n.get('status')}** after **{fan['seconds']:.0f} s** "
                  f"(POST to `completed`, polled every second): {fmt(fan['notifications_per_second'])} notifications/s; "
                  f"counts {json.dumps(n.get('counts'))}; the fake answered {fan['fake'].get('requests', 0):,} requests "
                  f"({fan['fake'].get('delivered', 0):,} with 200).",
                  f"- runway's peak RSS (VmHWM): **{fan['peak_rss_kib'] / 1024:.0f} MiB** "
                  f"({fan['peak_rss_kib'] * 1.024 / 1000:.0f} MB); {fan['rss_kib_ready'] / 1024:.0f} MiB when ready.",
                  f"- runway's CPU: {fan['cpu_seconds']:.0f} s ({fan['cpu_seconds_per_10k']:.2f} CPU-s per 10k); "
                  f"machine cores busy {fan['machine_cores_busy']:.2f}; the fake {fmt(fan['fake_cores_busy'], 2)}.",
                  f"- command: `{fan['command']}`", "",
                  ]
        else:
            L += [f"- {fan.get('status')}: {fan.get('detail', '')[:600]}", ""]
        probes = [("this fan-out's audience", fan.get("audience_pages"))]
        if (doc.get("topic_probe") or {}).get("pages"):
            t = doc["topic_probe"]
            probes.append((f"a topic: {t['devices']:,} devices, {t['users']:,} accounts all subscribed "
                           f"(filled in {t['fill_seconds']} s, not sent)", t))
        L += ["One page of the fan-out's audience query (runway-store's `audience_page` SQL, run with python's "
              "sqlite3 on the same kind of database; each fan-out step runs one, one after the other):", "",
              "| audience | page size | first page s | middle page s | last page s | pages × mean page time s "
              "| plan |", "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
        for label, pr in probes:
            if pr:
                t = {p["page"]: p["seconds"] for p in pr["pages"]}
                L.append(f"| {label} | {pr['page']} | {t['first']:.4f} | {t['middle']:.4f} | {t['last']:.4f} "
                         f"| {pr['projected_paging_seconds']:,.0f} | `{pr['plan']}` |")
        L.append("")

    L += ["## Targets (issue 4)", ""] + [f"- {t['verdict']}: {t['what']} — {t['measured']}" for t in doc["targets"]]
    L += ["", "## Notes", ""] + [f"- {n}" for n in NOTES]
    L += ["", "## Bounds on this machine (computed from the figures above)", ""] + bounds(doc) 
    if doc.get("analysis"):
        L += ["", "## Analysis", ""] + doc["analysis"]
    L.append("")
    with open(os.path.join(a.results, "push.md"), "w") as f:
        f.write("\n".join(L))


NOTES = [
    "notifications/s = notifications answered 200 / wall seconds of the timed loop (the sender's own clock). "
    "CPU-s / 10k = the sender process's user + system CPU over the timed loop (all its threads: /proc/self/stat "
    "for runway, process.cpuUsage() for node) per 10,000 notifications. Sender / fake / machine cores busy = CPU "
    "seconds per wall second of the sender over its loop, of the fake over the child's lifetime, and of the "
    "whole machine (/proc/stat). Peak RSS = ru_maxrss of the sender's process (GNU time, wait4).",
    "Both senders share the 2 cores with the fake APNs: a sender's throughput here is bounded by what the "
    "fake leaves it. The fake's CPU per request is the same whoever sends, so CPU-s / 10k is the "
    "cleaner comparison of the senders' own cost.",
    "runway: crates/runway-push/examples/apns_bench.rs, `runway_push::Apns` (hyper HTTP/2 + rustls), "
    "`futures::stream::buffer_unordered(C)` over `Provider::send`, tokio's multi-threaded runtime (one worker "
    "per core), as the delivery job runs it. node-apn: bench/push/node_apn_bench.js, C async workers each awaiting "
    "`provider.send(notification, token)`; one Notification per send (its own apns-id).",
    "h2load sends the same request (one token, the senders use distinct ones) as fast as the fake answers; "
    "it shows what the fake can serve on this machine with a near-free client, so a sender far below it is "
    "not limited by the fake.",
    "The fan-out time includes everything runway does per device: paging the audience, writing a "
    "pending delivery row, the delivery job's claim and result writes in SQLite, and the APNs send.",
]


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--runway-sender", help="apns_bench example binary")
    p.add_argument("--fake", help="fake_apns example binary")
    p.add_argument("--runway", help="runway binary (release)")
    p.add_argument("--count", type=int, default=200_000, help="timed notifications per sender run")
    p.add_argument("--warmup", type=int, default=5_000, help="untimed notifications before each timed loop")
    p.add_argument("--concurrency", type=int, default=256, help="sends in flight (and h2load streams)")
    p.add_argument("--repeats", type=int, default=3, help="runs per contender")
    p.add_argument("--contenders", default="runway,node-apn,h2load")
    p.add_argument("--fanout-devices", type=int, default=1_000_000, help="0 skips the fan-out")
    p.add_argument("--fanout-audience", choices=["user", "topic"], default="user",
                   help="notify one account owning every device (user), or a topic every account is "
                        "subscribed to (topic, with --fanout-per-user devices per account)")
    p.add_argument("--fanout-per-user", type=int, default=2, help="devices per account with --fanout-audience topic")
    p.add_argument("--fanout-timeout", type=float, default=900, help="give up on the fan-out after this long")
    p.add_argument("--fanout-env", action="append", default=[], metavar="KEY=VALUE",
                   help="extra environment for `runway serve` (e.g. RUNWAY_PUSH__BATCH_SIZE=1000)")
    p.add_argument("--no-topic-probe", dest="topic_probe", action="store_false",
                   help="skip timing the topic audience query on a same-size database")
    p.add_argument("--quiet-cores", type=float, default=0.3)
    p.add_argument("--quiet-wait", type=float, default=120)
    p.add_argument("--results", default=os.path.join(ROOT, "bench", "results"))
    p.add_argument("--analysis", help="a file of Markdown lines to add as the report's analysis")
    p.add_argument("--command", default=" ".join(shlex.quote(x) for x in sys.argv))
    p.add_argument("--rewrite-report", action="store_true",
                   help="measure nothing: rewrite push.md from push.json (e.g. after editing analysis.md)")
    a = p.parse_args()
    contenders = a.contenders.split(",")
    if a.rewrite_report:
        with open(os.path.join(a.results, "push.json")) as f:
            doc = json.load(f)
        doc["analysis"] = open(a.analysis).read().strip().splitlines() if a.analysis else doc.get("analysis", [])
        for k, v in doc["settings"].items():
            setattr(a, k, v)
        with open(os.path.join(a.results, "push.json"), "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
        write_report(a, doc)
        print(f"bench: rewrote {os.path.join(a.results, 'push.md')} from push.json")
        return

    if not (a.runway_sender and a.fake and a.runway):
        p.error("--runway-sender, --fake and --runway are required")
    started = time.time()
    info = machine_info()
    info["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-push-") as workdir:
        for run_no in range(1, a.repeats + 1):
            order = contenders if run_no % 2 else list(reversed(contenders))
            for c in order:
                print(f"bench: {c} run {run_no} ...", end=" ", flush=True)
                before, quiet = wait_until_quiet(a)
                r = h2load(a, workdir, run_no) if c == "h2load" else sender(a, c, workdir, run_no)
                r.update(other_cores_busy_before=round(before, 3), quiet_before=quiet)
                runs.append(r)
                if r.get("status") in ("ok", "incomplete"):
                    extra = "" if c == "h2load" else (f", {r['cpu_seconds_per_10k']:.2f} CPU-s/10k, sender "
                                                      f"{r['sender_cores_busy']:.2f} cores")
                    print(f"{r['status']}: {r['notifications_per_second']:,.0f}/s{extra}, fake "
                          f"{r.get('fake_cores_busy', 0):.2f} cores", flush=True)
                else:
                    print(f"{r['status']}: {' '.join(r.get('detail', '').split())[:300]}", flush=True)
        fan = None
        if a.fanout_devices > 0:
            print(f"bench: fan-out to {a.fanout_devices:,} devices ...", end=" ", flush=True)
            wait_until_quiet(a)
            fan = fanout(a, workdir)
            print(f"\nbench: fan-out {fan['status']}: {fan.get('seconds', '–')} s, peak RSS "
                  f"{fan.get('peak_rss_kib', 0) / 1024:.0f} MiB {fan.get('detail', '')[:300]}", flush=True)
        probe = None
        if a.fanout_devices > 0 and a.topic_probe and a.fanout_audience == "user":
            print(f"bench: topic audience probe at {a.fanout_devices:,} devices ...", end=" ", flush=True)
            probe = topic_probe(a, workdir)
            print(", ".join(f"{p['page']} page {p['seconds']:.3f} s" for p in probe.get("pages", [])) or probe,
                  flush=True)
    info["loadavg_at_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    summary = summarize(runs)
    doc = {
        "date": info["date"],
        "command": a.command,
        "elapsed_seconds": round(time.time() - started, 1),
        "machine": info,
        "versions": versions(),
        "settings": {"count": a.count, "warmup": a.warmup, "concurrency": a.concurrency, "repeats": a.repeats,
                     "connections": 1, "payload": PAYLOAD.decode(), "topic": TOPIC,
                     "fanout_devices": a.fanout_devices, "fanout_audience": a.fanout_audience,
                     "fanout_per_user": a.fanout_per_user},
        "summary": summary,
        "targets": [],
        "runs": runs,
        "fanout": fan,
        "topic_probe": probe,
        "analysis": open(a.analysis).read().strip().splitlines() if a.analysis and os.path.exists(a.analysis) else [],
    }
    doc["targets"] = targets(summary, fan)
    os.makedirs(a.results, exist_ok=True)
    with open(os.path.join(a.results, "push.json"), "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    write_report(a, doc)
    print(f"bench: wrote {os.path.join(a.results, 'push.md')} and push.json")
    for t in doc["targets"]:
        print(f"bench: {t['verdict']}: {t['what']} — {t['measured']}")


if __name__ == "__main__":
    main()
