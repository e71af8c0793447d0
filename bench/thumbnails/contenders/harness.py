"""The loop shared by the Python contenders of bench/thumbnails (pyvips and
Pillow): argument parsing, warm-up, choosing the number of timed iterations
from a time budget, timing, and writing the last iteration's variants.

A contender module defines ``NAME`` and ``once(data, fmt, quality)``, which
returns ``{"thumb": bytes, "small": bytes, "large": bytes}`` and raises
``Unsupported`` when it cannot read the input.
"""

import argparse
import json
import math
import os
import resource
import sys
import time


class Unsupported(Exception):
    """The contender cannot read this input (for example HEIC in Pillow)."""


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("input")
    p.add_argument("out")
    p.add_argument("--format", choices=["webp", "jpeg"], default="webp")
    p.add_argument("--quality", type=int, default=80)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--min-iterations", type=int, default=5)
    p.add_argument("--max-iterations", type=int, default=50)
    p.add_argument("--budget-seconds", type=float, default=5.0)
    return p.parse_args()


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main(once, threads):
    a = parse_args()
    with open(a.input, "rb") as f:
        data = f.read()
    last = 0.0
    for _ in range(max(1, a.warmup)):
        t = time.perf_counter()
        try:
            once(data, a.format, a.quality)
        except Unsupported as e:
            print(json.dumps({"status": "unsupported", "detail": str(e)}))
            return
        last = time.perf_counter() - t
    wanted = math.ceil(a.budget_seconds / max(last, 1e-6))
    iterations = min(max(wanted, a.min_iterations), max(a.max_iterations, a.min_iterations))
    cpu0 = cpu_seconds()
    t0 = time.perf_counter()
    result = None
    for _ in range(iterations):
        result = once(data, a.format, a.quality)
    wall = time.perf_counter() - t0
    cpu = cpu_seconds() - cpu0
    os.makedirs(a.out, exist_ok=True)
    ext = "jpg" if a.format == "jpeg" else "webp"
    outputs = {}
    for name, encoded in result.items():
        path = os.path.join(a.out, f"{name}.{ext}")
        with open(path, "wb") as f:
            f.write(encoded)
        outputs[name] = path
    print(json.dumps({
        "status": "ok",
        "iterations": iterations,
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "threads": threads,
        "outputs": outputs,
    }))
    sys.stdout.flush()
