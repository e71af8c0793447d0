#!/usr/bin/env python3
"""bench/thumbnails driver: runs every contender on every input, each in its
own child process, then scores the variants of the last iteration against a
float reference and writes bench/results/thumbnails.{md,json}.

Run it through ./run, which installs the dependencies and builds the Rust
harness first. See README.md for what each figure means.
"""

import argparse
import datetime
import json
import math
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import PIL
import pyvips
from PIL import Image, ImageOps, features
from skimage.metrics import structural_similarity

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))

INPUTS = ["photo-12mp.jpg", "photo-12mp.heic", "photo-2048.webp", "screenshot-1170x2532.png"]
CONTENDERS = ["runway", "sharp", "pyvips", "pillow", "vipsthumbnail"]
PRESETS = ["thumb", "small", "large"]
# The boxes of the three presets: (width, height, cover?).
BOXES = {"thumb": (256, 256, True), "small": (640, 640, False), "large": (1440, 1440, False)}

# The same environment for every contender: single-threaded libvips and
# libuv pools, and glibc limited to two malloc arenas (RECIPES.md).
CHILD_ENV = {"MALLOC_ARENA_MAX": "2", "VIPS_CONCURRENCY": "1", "UV_THREADPOOL_SIZE": "1"}
GNU_TIME = "/usr/bin/time"
# The crop window of a cover variant is slid along its cropped axis by up to
# this many output pixels, in steps of 1/8 pixel, and the best SSIM is kept.
ALIGN_PIXELS = 1.0
ALIGN_STEP = 0.125


def child_env():
    env = dict(os.environ)
    env.update(CHILD_ENV)
    return env


def machine_busy_seconds():
    """CPU seconds (all cores) the whole machine has spent busy since boot,
    from /proc/stat (USER_HZ = 100)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / 100.0


def wait_until_quiet(a):
    """Waits (at most a.quiet_wait seconds) until the machine's other work
    keeps less than a.quiet_cores cores busy, sampled over one second.
    Returns (cores busy at the last sample, whether it was quiet)."""
    deadline = time.monotonic() + a.quiet_wait
    said = False
    while True:
        b0, t0 = machine_busy_seconds(), time.monotonic()
        time.sleep(1.0)
        busy = (machine_busy_seconds() - b0) / (time.monotonic() - t0)
        if busy < a.quiet_cores:
            return busy, True
        if time.monotonic() >= deadline:
            print(f"(machine still busy: {busy:.2f} cores; measuring anyway)", end=" ", flush=True)
            return busy, False
        if not said:
            print(f"(waiting: other work keeps {busy:.2f} cores busy)", end=" ", flush=True)
            said = True


def run_child(cmd):
    """Runs one child process under GNU time; returns (exit code, stdout,
    stderr, cpu seconds, peak RSS KiB).

    GNU time takes them from wait4 on that child alone: its user + system
    CPU and its ru_maxrss. The child is forked from GNU time (about 1 MiB
    resident) rather than from this driver: on Linux a child's ru_maxrss
    starts from its parent's resident size at fork (it survives exec), and
    this driver holds decoded references of hundreds of MiB."""
    with tempfile.NamedTemporaryFile() as usage, tempfile.TemporaryFile() as err:
        p = subprocess.run([GNU_TIME, "-o", usage.name, "-f", "%U %S %M", *cmd], stdout=subprocess.PIPE,
                           stderr=err, stdin=subprocess.DEVNULL, env=child_env(), check=False)
        err.seek(0)
        stderr = err.read().decode(errors="replace")
        fields = (usage.read().decode().strip().splitlines() or [""])[-1].split()
        cpu = float(fields[0]) + float(fields[1]) if len(fields) == 3 else 0.0
        rss = int(fields[2]) if len(fields) == 3 else 0
        return p.returncode, p.stdout.decode(errors="replace"), stderr, cpu, rss


def loop_flags(a, fmt):
    return ["--format", fmt, "--quality", str(a.quality), "--warmup", str(a.warmup),
            "--min-iterations", str(a.min_iterations), "--max-iterations", str(a.max_iterations),
            "--budget-seconds", str(a.budget_seconds)]


def in_process(a, contender, path, fmt, out):
    """An in-process loop contender: the child reports its own loop timing,
    the driver adds the child's rusage."""
    py = os.path.join(HERE, ".venv", "bin", "python")
    cmd = {
        "runway": [a.runway_harness],
        "sharp": ["node", os.path.join(HERE, "contenders", "sharp.js")],
        "pyvips": [py, os.path.join(HERE, "contenders", "pyvips_bench.py")],
        "pillow": [py, os.path.join(HERE, "contenders", "pillow_bench.py")],
    }[contender] + [path, out] + loop_flags(a, fmt)
    code, stdout, stderr, cpu, rss = run_child(cmd)
    result = {"command": " ".join(shlex.quote(c) for c in cmd)}
    lines = [l for l in stdout.splitlines() if l.startswith("{")]
    if code != 0 or not lines:
        result.update(status="failed", detail=(stderr or stdout).strip()[-800:])
        return result
    result.update(json.loads(lines[-1]))
    result["child_cpu_seconds"] = cpu
    result["peak_rss_kib"] = rss
    return result


def vipsthumbnail(a, path, fmt, out):
    """vipsthumbnail is a command: one process per preset, so an iteration
    is three process runs, timed from this driver. CPU is the sum of the
    runs' rusage, peak RSS the largest run's."""
    os.makedirs(out, exist_ok=True)
    ext = "jpg" if fmt == "jpeg" else "webp"
    size = {"thumb": ["-s", "256x256", "-m", "centre"],
            "small": ["-s", "640x640>"],
            "large": ["-s", "1440x1440>"]}
    cmds = {name: ["vipsthumbnail", path] + size[name]
            + ["-o", os.path.join(out, f"{name}.{ext}[Q={a.quality},strip]")] for name in PRESETS}
    stats = {"cpu": 0.0, "rss": 0, "all_cpu": 0.0}

    def once():
        for name in PRESETS:
            code, _, stderr, cpu, rss = run_child(cmds[name])
            if code != 0:
                return stderr.strip()[-800:] or f"exit code {code}"
            stats["cpu"] += cpu
            stats["all_cpu"] += cpu
            stats["rss"] = max(stats["rss"], rss)
        return None

    result = {"command": " ; ".join(" ".join(shlex.quote(c) for c in cmds[n]) for n in PRESETS)}
    last = 0.0
    for _ in range(max(1, a.warmup)):
        t = time.perf_counter()
        failed = once()
        if failed:
            result.update(status="unsupported", detail=failed)
            return result
        last = time.perf_counter() - t
    iterations = min(max(math.ceil(a.budget_seconds / max(last, 1e-6)), a.min_iterations),
                     max(a.max_iterations, a.min_iterations))
    stats["cpu"] = 0.0
    t0 = time.perf_counter()
    for _ in range(iterations):
        failed = once()
        if failed:
            result.update(status="failed", detail=failed)
            return result
    wall = time.perf_counter() - t0
    result.update(status="ok", iterations=iterations, wall_seconds=wall, cpu_seconds=stats["cpu"],
                  child_cpu_seconds=stats["all_cpu"], peak_rss_kib=stats["rss"],
                  threads="VIPS_CONCURRENCY=1, one process per preset",
                  outputs={n: os.path.join(out, f"{n}.{ext}") for n in PRESETS})
    return result


# ---------------------------------------------------------------- quality

def luma(rgb):
    """BT.601 luma of gamma-encoded sRGB, as float32, from an HxWx3 array."""
    rgb = rgb.astype(np.float32)
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]


def flatten(arr):
    """RGB(A) uint8 array to RGB float32, alpha composited onto white (what
    a JPEG variant gets, and how a WebP with alpha is viewed on white)."""
    if arr.ndim == 2:
        arr = np.stack([arr] * 3, axis=-1)
    if arr.shape[-1] == 4:
        alpha = arr[..., 3:4].astype(np.float32) / 255.0
        return arr[..., :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
    if arr.shape[-1] == 2:
        alpha = arr[..., 1:2].astype(np.float32) / 255.0
        grey = arr[..., 0:1].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
        return np.concatenate([grey] * 3, axis=-1)
    return arr[..., :3].astype(np.float32)


def reference_luma(path):
    """The full-resolution, fully decoded, upright image as float luma.

    HEIC through libvips/libheif (libheif applies irot/imir); everything
    else through Pillow, with no draft mode, and ImageOps.exif_transpose."""
    if path.lower().endswith((".heic", ".heif")):
        arr = pyvips.Image.new_from_file(path).numpy()
    else:
        im = ImageOps.exif_transpose(Image.open(path))
        if im.mode not in ("RGB", "RGBA"):
            im = im.convert("RGBA" if "A" in im.mode or "transparency" in im.info else "RGB")
        arr = np.asarray(im)
    return luma(flatten(arr))


class Reference:
    """Resizes the float luma of the original to any variant's size with
    Pillow's Lanczos (a=3) in 32-bit float ('F' mode, no reducing_gap).

    A cover variant (thumb) is the centred box of its aspect ratio. Where a
    library puts a centred crop differs by a fraction of a pixel (libvips
    rounds the crop offset after resizing; runway and Pillow crop at the
    exact centre), and SSIM drops steeply for such a shift, so it is scored
    against crop windows slid along the cropped axis by up to ALIGN_PIXELS
    output pixels and the best is kept; the unshifted score is kept too."""

    def __init__(self, path):
        self.y = Image.fromarray(reference_luma(path), "F")
        self.cache = {}

    def get(self, preset, width, height, shift=0.0):
        key = (preset, width, height, shift)
        if key not in self.cache:
            W, H = self.y.size
            if BOXES[preset][2]:
                aspect = width / height
                # The window never leaves the image: with no slack on the
                # cropped axis (a square original) every shift is the centre.
                if W / H > aspect:
                    cw, ch = H * aspect, H
                    left = min(max((W - cw) / 2 + shift * cw / width, 0.0), W - cw)
                    box = (left, 0, left + cw, H)
                else:
                    cw, ch = W, W / aspect
                    top = min(max((H - ch) / 2 + shift * ch / height, 0.0), H - ch)
                    box = (0, top, W, top + ch)
            else:
                box = (0, 0, W, H)
            ref = self.y.resize((width, height), Image.Resampling.LANCZOS, box=box)
            self.cache[key] = np.clip(np.asarray(ref, dtype=np.float32), 0.0, 255.0)
        return self.cache[key]

    @property
    def size(self):
        return self.y.size


def ssim(a, b):
    return float(structural_similarity(a, b, data_range=255.0, gaussian_weights=True, sigma=1.5,
                                       use_sample_covariance=False))


def score(reference, preset, path):
    """(width, height, SSIM, unshifted SSIM, shift) of one variant file."""
    im = Image.open(path)
    im.load()
    if im.mode not in ("RGB", "RGBA", "L", "LA"):
        im = im.convert("RGBA")
    y = luma(flatten(np.asarray(im)))
    plain = ssim(reference.get(preset, im.width, im.height), y)
    best, shift = plain, 0.0
    if BOXES[preset][2]:
        steps = round(ALIGN_PIXELS / ALIGN_STEP)
        for k in range(-steps, steps + 1):
            if k:
                s = ssim(reference.get(preset, im.width, im.height, k * ALIGN_STEP), y)
                if s > best:
                    best, shift = s, k * ALIGN_STEP
    return im.width, im.height, best, plain, shift


# ---------------------------------------------------------------- report

def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception as e:  # noqa: BLE001 (machine info is best effort)
        return f"unknown ({e})"


def machine_info():
    cpu = sh("lscpu | sed -n 's/^Model name: *//p' | head -1")
    mem = sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")
    return {
        "nproc": sh("nproc"),
        "cpu": cpu,
        "memory": mem,
        "kernel": platform.release(),
        "os": sh(". /etc/os-release && echo \"$PRETTY_NAME\""),
        "loadavg_at_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def versions(a):
    git = sh(f"git -C {shlex.quote(ROOT)} rev-parse --short HEAD")
    dirty = sh(f"git -C {shlex.quote(ROOT)} status --porcelain --untracked-files=no")
    return {
        "runway": f"{git}{' + uncommitted changes' if dirty else ''} ({sh('rustc -V')}, release profile)",
        "sharp": sh(f"cd {shlex.quote(HERE)} && node -e 'const s=require(\"sharp\");"
                    "console.log(`sharp ${s.versions.sharp}, libvips ${s.versions.vips} (prebuilt), "
                    "libwebp ${s.versions.webp}, mozjpeg ${s.versions.mozjpeg}, node ${process.version}`)'"),
        "pyvips": f"pyvips {pyvips.__version__}, libvips {pyvips.version(0)}.{pyvips.version(1)}."
                  f"{pyvips.version(2)} (Debian libvips42)",
        "pillow": f"Pillow {PIL.__version__}, libjpeg-turbo {features.version('libjpeg_turbo')}, "
                  f"libwebp {features.version('webp')}, Python {platform.python_version()}",
        "vipsthumbnail": sh("vipsthumbnail --vips-version") + " (Debian libvips-tools)",
    }


def fmt_num(x, digits=2):
    return "–" if x is None else f"{x:.{digits}f}"


def ratio(a, b):
    return a / b if a and b else None


def write_report(a, runs, info, vers, command, elapsed):
    by = {(r["input"], r["format"], r["contender"]): r for r in runs}
    others = sorted(r["other_cores_busy_during"] for r in runs) or [0.0]
    max_other, median_other = others[-1], others[len(others) // 2]
    not_quiet = sum(1 for r in runs if not r["quiet_before"])
    lines = [
        "# Thumbnails: runway vs sharp, pyvips, Pillow and vipsthumbnail",
        "",
        f"Measured {info['date']} by `{command}` (took {elapsed / 60:.1f} min).",
        "Methodology and the meaning of every column: [bench/thumbnails/README.md](../thumbnails/README.md).",
        *([f"Note: {a.note}"] if a.note else []),
        "",
        "Each iteration makes the same three presets from one input: `thumb` 256×256 cover-cropped "
        "around the centre, `small` within 640×640, `large` within 1440×1440, never upscaled, "
        f"at quality {a.quality}. Every contender is single-threaded and runs in its own child process "
        f"with `{' '.join(f'{k}={v}' for k, v in CHILD_ENV.items())}`.",
        "",
        "## Machine",
        "",
        f"- nproc: {info['nproc']}; CPU: {info['cpu']}; memory: {info['memory']}; {info['os']}, kernel {info['kernel']}",
        f"- load average (1, 5, 15 min) at start: {info['loadavg_at_start']}; at end: {info['loadavg_at_end']}",
        f"- other work while contenders ran: at most {max_other:.2f} cores busy (median {median_other:.2f}); "
        f"{not_quiet} of {len(runs)} measurements started without a quiet machine "
        f"(threshold {a.quiet_cores} cores, waited up to {a.quiet_wait:.0f} s)",
        "",
        "## Versions",
        "",
    ]
    lines += [f"- {k}: {v}" for k, v in vers.items()]
    for fmt in a.formats:
        lines += ["", f"## {'WebP' if fmt == 'webp' else 'JPEG'} q{a.quality}", "",
                  "| input | contender | presets/s | vs sharp | CPU-s / image | peak RSS MiB | bytes (3 variants) "
                  "| SSIM thumb | SSIM small | SSIM large | thumb unaligned | CPU / wall | iterations | other load |",
                  "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for inp in a.inputs:
            sharp = by.get((inp, fmt, "sharp"), {})
            for c in a.contenders:
                r = by.get((inp, fmt, c))
                if r is None:
                    continue
                if r["status"] != "ok":
                    lines.append(f"| {inp} | {c} | {r['status']} | | | | | | | | | | | |")
                    continue
                vs = ratio(r["presets_per_second"], sharp.get("presets_per_second"))
                s = r.get("ssim", {})
                lines.append(
                    f"| {inp} | {c} | {r['presets_per_second']:.2f} | {fmt_num(vs) + '×' if vs else '–'} "
                    f"| {r['cpu_seconds_per_image']:.3f} | {r['peak_rss_kib'] / 1024:.0f} "
                    f"| {r['output_bytes']['total']:,} | {fmt_num(s.get('thumb'), 4)} | {fmt_num(s.get('small'), 4)} "
                    f"| {fmt_num(s.get('large'), 4)} | {fmt_num(r['ssim_unaligned'].get('thumb'), 4)} "
                    f"| {r['cpu_per_wall']:.2f} | {r['iterations']} | {r['other_cores_busy_during']:.2f} |")
    lines += ["", "## Targets (issue 3)", ""]
    for t in targets(a, by):
        lines.append(f"- {t['verdict']}: {t['what']} — {t['measured']}")
    if not targets(a, by):
        lines.append("- not measured in this run (they need photo-12mp.jpg or photo-12mp.heic with runway, "
                     "sharp and vipsthumbnail)")
    unsupported = [r for r in runs if r["status"] != "ok"]
    if unsupported:
        lines += ["", "## Not measured", ""]
        for r in unsupported:
            detail = " ".join(r.get("detail", "").split())[:300]
            lines.append(f"- {r['contender']} on {r['input']} ({r['format']}): {r['status']}: {detail}")
    lines += ["", "## Notes", ""] + [f"- {n}" for n in NOTES] + [""]
    with open(os.path.join(a.results, "thumbnails.md"), "w") as f:
        f.write("\n".join(lines))


NOTES = [
    "presets/s = 3 × timed iterations / wall seconds of the timed loop (after warm-up); vs sharp = "
    "that throughput / sharp's on the same input and format. CPU-s / image = user + system CPU of the "
    "timed loop / iterations (in-process contenders read their own rusage around the loop; "
    "vipsthumbnail is the sum of its processes' rusage); CPU / wall above 1 means the contender kept "
    "more than one core busy despite the single-thread settings. Peak RSS = ru_maxrss of the contender's own "
    "child process (from wait4, through GNU time; for vipsthumbnail the largest of its processes), so it "
    "includes each runtime's baseline (node + V8, CPython).",
    "other load = cores kept busy by anything else on the machine while the contender ran (all busy CPU "
    "from /proc/stat minus the contender's own); before each measurement the driver waits (up to "
    "--quiet-wait seconds) until other work keeps fewer than --quiet-cores cores busy. A high value "
    "means that row was disturbed.",
    "sharp and pyvips decode the input once per preset (that is how their pipelines work, each with "
    "shrink-on-load); runway and Pillow decode once per iteration and resize three times; "
    "vipsthumbnail is one process per preset, so its figures include process start-up.",
    "runway's iteration is the whole `runway_media::process_with` call with max_threads = 1: "
    "inspect, decode, orient, three variants and also the thumbhash placeholder, which no other "
    "contender computes.",
    "SSIM is computed on BT.601 luma of gamma-encoded sRGB against Pillow's float (mode F) "
    "Lanczos3 resize of the full-resolution, fully decoded, EXIF-oriented original (HEIC decoded by "
    "libvips/libheif), with Gaussian windows (σ = 1.5) as in Wang et al. For the cover-cropped thumb "
    "the reference crop window is slid by up to ±1 output pixel (1/8 px steps) along the cropped axis "
    "and the best score is kept, because libraries place a centred crop up to half a pixel apart and "
    "SSIM punishes that shift far more than any resampling difference; the unshifted score is the "
    "'thumb unaligned' column.",
]


def targets(a, by):
    out = []

    def get(inp, fmt, c):
        r = by.get((inp, fmt, c))
        return r if r and r["status"] == "ok" else None

    for fmt in a.formats:
        label = f"{'WebP' if fmt == 'webp' else 'JPEG'} q{a.quality}"
        rw, sp = get("photo-12mp.jpg", fmt, "runway"), get("photo-12mp.jpg", fmt, "sharp")
        if rw and sp:
            x = rw["presets_per_second"] / sp["presets_per_second"]
            c = sp["cpu_seconds_per_image"] / rw["cpu_seconds_per_image"]
            out.append({"what": f"runway ≥ 1.5× sharp's throughput on photo-12mp.jpg, {label}",
                        "measured": f"{x:.2f}× ({rw['presets_per_second']:.2f} vs {sp['presets_per_second']:.2f} presets/s); "
                                    f"by CPU time per image {c:.2f}× ({rw['cpu_seconds_per_image']:.3f} vs "
                                    f"{sp['cpu_seconds_per_image']:.3f} s); other load during the two runs "
                                    f"{rw['other_cores_busy_during']:.2f} and {sp['other_cores_busy_during']:.2f} cores",
                        "verdict": "MET" if x >= 1.5 else "MISSED", "value": x})
            diffs = {p: rw["ssim"][p] - sp["ssim"][p] for p in PRESETS}
            worst = min(diffs.values())
            out.append({"what": f"runway's SSIM within 0.005 of sharp's on photo-12mp.jpg, {label}",
                        "measured": ", ".join(f"{p} {d:+.4f}" for p, d in diffs.items()) + " (runway − sharp)",
                        "verdict": "MET" if all(abs(d) <= 0.005 for d in diffs.values())
                        else ("MET (runway better by more than 0.005)" if worst >= -0.005 else "MISSED"),
                        "value": diffs})
            rr, sr = rw["peak_rss_kib"] / 1024, sp["peak_rss_kib"] / 1024
            out.append({"what": f"runway's peak RSS no higher than sharp's on photo-12mp.jpg, {label}",
                        "measured": f"{rr:.0f} MiB vs {sr:.0f} MiB",
                        "verdict": "MET" if rr <= sr else "MISSED", "value": [rr, sr]})
        rw, vt = get("photo-12mp.heic", fmt, "runway"), get("photo-12mp.heic", fmt, "vipsthumbnail")
        if rw and vt:
            x = rw["presets_per_second"] / vt["presets_per_second"]
            c = rw["cpu_seconds_per_image"] / vt["cpu_seconds_per_image"]
            out.append({"what": f"runway's HEIC throughput within 10% of vipsthumbnail's, {label}",
                        "measured": f"{x:.2f}× ({rw['presets_per_second']:.2f} vs {vt['presets_per_second']:.2f} "
                                    f"presets/s); CPU per image {c:.2f}× vipsthumbnail's; runway's CPU / wall "
                                    f"{rw['cpu_per_wall']:.2f}; other load {rw['other_cores_busy_during']:.2f} and "
                                    f"{vt['other_cores_busy_during']:.2f} cores",
                        "verdict": "MET" if x >= 0.9 else "MISSED", "value": x})
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--runway-harness", required=True)
    p.add_argument("--images", default=os.environ.get("BENCH_IMAGES_DIR",
                                                      os.path.join(ROOT, "..", "shared", "bench-images")))
    p.add_argument("--inputs", default=",".join(INPUTS))
    p.add_argument("--contenders", default=",".join(CONTENDERS))
    p.add_argument("--formats", default="webp,jpeg")
    p.add_argument("--quality", type=int, default=80)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--min-iterations", type=int, default=5)
    p.add_argument("--max-iterations", type=int, default=60)
    p.add_argument("--budget-seconds", type=float, default=4.0,
                   help="aim for a timed loop of about this long per input, format and contender")
    p.add_argument("--quiet-cores", type=float, default=0.2,
                   help="before each measurement, wait until other work keeps fewer cores than this busy")
    p.add_argument("--quiet-wait", type=float, default=300,
                   help="wait at most this many seconds for that, then measure anyway (and say so)")
    p.add_argument("--out", default=os.path.join(HERE, "out"))
    p.add_argument("--results", default=os.path.join(ROOT, "bench", "results"))
    p.add_argument("--command", default=" ".join(shlex.quote(x) for x in sys.argv))
    p.add_argument("--note", default="", help="a sentence about this run, printed under the command")
    a = p.parse_args()
    a.inputs = a.inputs.split(",")
    a.contenders = a.contenders.split(",")
    a.formats = a.formats.split(",")
    a.images = os.path.abspath(a.images)

    started = time.time()
    info = machine_info()
    info["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    vers = versions(a)
    shutil.rmtree(a.out, ignore_errors=True)
    runs = []
    for inp in a.inputs:
        path = os.path.join(a.images, inp)
        if not os.path.isfile(path):
            sys.exit(f"bench: no input {path} (set BENCH_IMAGES_DIR or --images)")
        reference = None
        for fmt in a.formats:
            for c in a.contenders:
                out = os.path.join(a.out, inp, fmt, c)
                print(f"bench: {inp} {fmt} {c} ...", end=" ", flush=True)
                before, quiet = wait_until_quiet(a)
                load = os.getloadavg()[0]
                busy0, t0 = machine_busy_seconds(), time.monotonic()
                r = vipsthumbnail(a, path, fmt, out) if c == "vipsthumbnail" else in_process(a, c, path, fmt, out)
                busy = machine_busy_seconds() - busy0
                span = time.monotonic() - t0
                # Whatever else kept the machine busy while this contender ran
                # (its own process excluded; the driver only waits meanwhile).
                other = max(0.0, busy - r.get("child_cpu_seconds", 0.0)) / span
                r.update(input=inp, format=fmt, contender=c, loadavg_1min_before=load,
                         other_cores_busy_before=round(before, 3), quiet_before=quiet,
                         other_cores_busy_during=round(other, 3))
                if r["status"] == "ok":
                    n = r["iterations"]
                    r["presets_per_second"] = 3 * n / r["wall_seconds"]
                    r["cpu_seconds_per_image"] = r["cpu_seconds"] / n
                    # Above 1: the contender kept more than one core busy.
                    r["cpu_per_wall"] = r["cpu_seconds"] / r["wall_seconds"]
                    if reference is None:
                        reference = Reference(path)
                    r["output_bytes"], r["dimensions"], r["ssim"] = {}, {}, {}
                    r["ssim_unaligned"], r["crop_shift_pixels"] = {}, {}
                    for preset in PRESETS:
                        f = r["outputs"][preset]
                        r["output_bytes"][preset] = os.path.getsize(f)
                        try:
                            w, h, best, plain, shift = score(reference, preset, f)
                        except Exception as e:  # noqa: BLE001 (keep the run going, say why)
                            r.setdefault("ssim_errors", {})[preset] = str(e)
                            w, h, best, plain, shift = 0, 0, float("nan"), float("nan"), 0.0
                        r["dimensions"][preset] = [w, h]
                        r["ssim"][preset] = best
                        r["ssim_unaligned"][preset] = plain
                        if BOXES[preset][2]:
                            r["crop_shift_pixels"][preset] = shift
                    r["output_bytes"]["total"] = sum(r["output_bytes"][p] for p in PRESETS)
                    print(f"{r['presets_per_second']:.2f} presets/s, {r['cpu_seconds_per_image']:.3f} CPU-s/image, "
                          f"{r['peak_rss_kib'] / 1024:.0f} MiB, {r['output_bytes']['total']} bytes, SSIM "
                          + "/".join(f"{r['ssim'][p]:.4f}" for p in PRESETS)
                          + f", other work {other:.2f} cores", flush=True)
                else:
                    print(f"{r['status']}: {' '.join(r.get('detail', '').split())[:160]}", flush=True)
                runs.append(r)
    info["loadavg_at_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    elapsed = time.time() - started
    os.makedirs(a.results, exist_ok=True)
    by = {(r["input"], r["format"], r["contender"]): r for r in runs}
    doc = {
        "date": info["date"],
        "command": a.command,
        "note": a.note,
        "elapsed_seconds": round(elapsed, 1),
        "machine": info,
        "versions": vers,
        "settings": {"quality": a.quality, "warmup": a.warmup, "min_iterations": a.min_iterations,
                     "max_iterations": a.max_iterations, "budget_seconds": a.budget_seconds,
                     "child_env": CHILD_ENV, "images": a.images, "quiet_cores": a.quiet_cores,
                     "quiet_wait": a.quiet_wait},
        "targets": targets(a, by),
        "runs": runs,
    }
    with open(os.path.join(a.results, "thumbnails.json"), "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    write_report(a, runs, info, vers, a.command, elapsed)
    print(f"bench: wrote {os.path.join(a.results, 'thumbnails.md')} and thumbnails.json")
    for t in doc["targets"]:
        print(f"bench: {t['verdict']}: {t['what']} — {t['measured']}")


if __name__ == "__main__":
    main()
