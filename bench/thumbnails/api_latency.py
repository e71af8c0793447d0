#!/usr/bin/env python3
"""Upload -> ready latency through the real API (run by `bench/thumbnails/run --api`).

Starts `runway serve` (a release build) on a free loopback port with a fresh
data directory, waits for GET /readyz to answer 200, registers a user, then
uploads the same photo N times with `POST /v1/media?wait=30s` (multipart
field `file`), each expecting 201 with {"status": "ready"}: the server
answers when the variants exist, so the request's round trip is the
upload -> ready latency. Reports p50 / p99 (nearest rank) and writes
bench/results/api_latency.{md,json}.

Only loopback traffic, a bounded number of requests, and the server is
stopped (SIGTERM, then SIGKILL after 10 s) whatever happens.
"""

import argparse
import datetime
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


class NotYetAvailable(Exception):
    """The route answered 404: the media API is not built yet."""


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(method, url, body=None, headers=None, timeout=60):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_ready(base, server, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"runway serve exited with {server.returncode} before it was ready")
        try:
            status, _ = request("GET", f"{base}/readyz", timeout=2)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"GET /readyz did not answer 200 within {timeout} s")


def multipart(field, filename, content_type, data):
    boundary = f"runway-bench-{uuid.uuid4().hex}"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
            f"filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n").encode()
    body = head + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def percentile(sorted_values, p):
    """Nearest-rank percentile."""
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def measure(a, base):
    email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
    creds = json.dumps({"email": email, "password": "bench-password-" + uuid.uuid4().hex}).encode()
    status, body = request("POST", f"{base}/v1/auth/register", creds, {"Content-Type": "application/json"})
    if status not in (200, 201):
        raise RuntimeError(f"register answered {status}: {body[:300]!r}")
    token = json.loads(body)["access_token"]
    with open(a.image, "rb") as f:
        data = f.read()
    payload, content_type = multipart("file", os.path.basename(a.image), "image/jpeg", data)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}
    url = f"{base}/v1/media?wait=30s"
    latencies = []
    for i in range(a.warmup + a.uploads):
        t = time.perf_counter()
        status, body = request("POST", url, payload, headers, timeout=60)
        elapsed = time.perf_counter() - t
        if status == 404:
            raise NotYetAvailable(f"POST /v1/media answered 404: {body[:200]!r}")
        if status != 201:
            raise RuntimeError(f"upload {i} answered {status}: {body[:300]!r}")
        answer = json.loads(body)
        if answer.get("status") != "ready":
            raise RuntimeError(f"upload {i} was not ready after wait=30s: {answer}")
        if i >= a.warmup:
            latencies.append(elapsed)
    return latencies


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runway", default=os.path.join(ROOT, "target", "release", "runway"))
    p.add_argument("--image", default=os.path.join(os.environ.get(
        "BENCH_IMAGES_DIR", os.path.join(ROOT, "..", "shared", "bench-images")), "photo-12mp.jpg"))
    p.add_argument("--uploads", type=int, default=30)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--results", default=os.path.join(ROOT, "bench", "results"))
    p.add_argument("--command", default=" ".join(sys.argv))
    a = p.parse_args()

    data_dir = tempfile.mkdtemp(prefix="runway-bench-api-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNWAY_")}
    log_path = os.path.join(data_dir, "serve.log")
    log = open(log_path, "wb")
    server = subprocess.Popen([a.runway, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data_dir],
                              stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    try:
        wait_ready(base, server)
        latencies = measure(a, base)
    except NotYetAvailable as e:
        print(f"api_latency: not run: {e}. The media upload API is not there yet.", file=sys.stderr)
        return 3
    except Exception as e:  # noqa: BLE001 (report, then stop the server)
        print(f"api_latency: failed: {e}\n--- serve log (tail) ---", file=sys.stderr)
        log.flush()
        with open(log_path, "rb") as f:
            sys.stderr.write(f.read()[-3000:].decode(errors="replace"))
        return 1
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
        shutil.rmtree(data_dir, ignore_errors=True)

    values = sorted(latencies)
    result = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": a.command,
        "image": os.path.basename(a.image),
        "uploads": len(values),
        "warmup_uploads": a.warmup,
        "p50_seconds": percentile(values, 50),
        "p99_seconds": percentile(values, 99),
        "min_seconds": values[0],
        "max_seconds": values[-1],
        "nproc": os.cpu_count(),
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    os.makedirs(a.results, exist_ok=True)
    with open(os.path.join(a.results, "api_latency.json"), "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    with open(os.path.join(a.results, "api_latency.md"), "w") as f:
        f.write(
            "# Upload -> ready latency through `runway serve`\n\n"
            f"Measured {result['date']} by `{a.command}`; {result['nproc']} cores, load average "
            f"{result['loadavg']} at the end.\n\n"
            f"`POST /v1/media?wait=30s` of {result['image']} on loopback, {len(values)} uploads one after "
            f"the other after {a.warmup} warm-up uploads; each returned 201 with status `ready`.\n\n"
            "| p50 | p99 (nearest rank) | min | max |\n| ---: | ---: | ---: | ---: |\n"
            f"| {result['p50_seconds'] * 1000:.0f} ms | {result['p99_seconds'] * 1000:.0f} ms "
            f"| {result['min_seconds'] * 1000:.0f} ms | {result['max_seconds'] * 1000:.0f} ms |\n")
    print(f"api_latency: p50 {result['p50_seconds'] * 1000:.0f} ms, p99 {result['p99_seconds'] * 1000:.0f} ms "
          f"over {len(values)} uploads")
    return 0


if __name__ == "__main__":
    sys.exit(main())
