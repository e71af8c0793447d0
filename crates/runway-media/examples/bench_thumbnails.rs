//! The runway contender of `bench/thumbnails`: an in-process loop over
//! [`runway_media::process_with`] on one thread, exactly what a worker does
//! with one upload (inspect, one bounded decode, orientation, the three
//! default presets and the placeholder).
//!
//! ```text
//! cargo run --release -p runway-media --example bench_thumbnails -- \
//!     INPUT OUT_DIR [--format webp|jpeg] [--quality 80] [--warmup 2] \
//!     [--min-iterations 5] [--max-iterations 50] [--budget-seconds 5]
//! ```
//!
//! The input is read into memory once. After `--warmup` untimed iterations
//! the number of timed iterations is chosen from the last warm-up's time so
//! that the loop takes about `--budget-seconds`, within the bounds. Prints
//! one JSON object: iterations, wall seconds and CPU seconds (user + system,
//! from `/proc/self/stat`) of the timed loop, and the variant files of the
//! last iteration, written to OUT_DIR as `<preset>.<ext>`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use runway_media::{Format, Limits, Options, Preset, process_with};

struct Args {
    input: PathBuf,
    out: PathBuf,
    format: Format,
    warmup: u32,
    min_iterations: u32,
    max_iterations: u32,
    budget: Duration,
}

fn parse_args() -> Result<Args, String> {
    let mut positional = Vec::new();
    let (mut format, mut quality) = ("webp".to_string(), 80u8);
    let (mut warmup, mut min_iterations, mut max_iterations, mut budget) = (2, 5, 50, 5.0f64);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        let bad = |name: &str| format!("bad value for {name}");
        match arg.as_str() {
            "--format" => format = value("--format")?,
            "--quality" => quality = value("--quality")?.parse().map_err(|_| bad("--quality"))?,
            "--warmup" => warmup = value("--warmup")?.parse().map_err(|_| bad("--warmup"))?,
            "--min-iterations" => {
                min_iterations = value(&arg)?.parse().map_err(|_| bad(&arg))?;
            }
            "--max-iterations" => {
                max_iterations = value(&arg)?.parse().map_err(|_| bad(&arg))?;
            }
            "--budget-seconds" => budget = value(&arg)?.parse().map_err(|_| bad(&arg))?,
            other if other.starts_with("--") => return Err(format!("unknown flag {other}")),
            _ => positional.push(PathBuf::from(arg)),
        }
    }
    let [input, out] = <[PathBuf; 2]>::try_from(positional)
        .map_err(|_| "usage: bench_thumbnails INPUT OUT_DIR [flags]".to_string())?;
    let format = match format.as_str() {
        "webp" => Format::WebP { quality },
        "jpeg" => Format::Jpeg { quality },
        other => return Err(format!("unknown format {other}")),
    };
    Ok(Args {
        input,
        out,
        format,
        warmup: warmup.max(1),
        min_iterations: min_iterations.max(1),
        max_iterations: max_iterations.max(min_iterations.max(1)),
        budget: Duration::try_from_secs_f64(budget)
            .map_err(|_| "bad value for --budget-seconds".to_string())?,
    })
}

/// User + system CPU seconds of this process (all threads), from
/// `/proc/self/stat` (fields 14 and 15, in USER_HZ = 100 ticks per second).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may contain spaces; the fields after it do not.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // `rest` starts at field 3 (state), so field n is at index n - 3.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn run(args: &Args) -> Result<String, String> {
    let bytes =
        std::fs::read(&args.input).map_err(|e| format!("reading {}: {e}", args.input.display()))?;
    let presets: Vec<Preset> = Preset::defaults()
        .into_iter()
        .map(|p| p.with_format(args.format))
        .collect();
    let limits = Limits::default();
    let options = Options::single_threaded();
    let once = || process_with(&bytes, &limits, &presets, &options);

    let mut last = Duration::ZERO;
    for _ in 0..args.warmup {
        let start = Instant::now();
        if let Err(e) = once() {
            // Not a crash: the driver reports the contender as unsupported
            // for this input.
            return Ok(format!(
                "{{\"status\":\"unsupported\",\"detail\":{}}}",
                json_str(&format!("{}: {e}", e.code()))
            ));
        }
        last = start.elapsed();
    }
    let wanted = (args.budget.as_secs_f64() / last.as_secs_f64().max(1e-6)).ceil();
    let iterations = (wanted as u32).clamp(args.min_iterations, args.max_iterations);

    let cpu0 = cpu_seconds().ok_or("cannot read /proc/self/stat")?;
    let start = Instant::now();
    let mut processed = None;
    for _ in 0..iterations {
        processed = Some(once().map_err(|e| e.to_string())?);
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds().ok_or("cannot read /proc/self/stat")? - cpu0;

    let processed = processed.ok_or("no iteration ran")?;
    std::fs::create_dir_all(&args.out).map_err(|e| e.to_string())?;
    let mut outputs = Vec::new();
    for v in &processed.variants {
        let ext = if v.content_type == "image/jpeg" {
            "jpg"
        } else {
            "webp"
        };
        let path = args.out.join(format!("{}.{ext}", v.name));
        std::fs::write(&path, &v.bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        outputs.push(format!(
            "{}:{}",
            json_str(&v.name),
            json_str(&path.display().to_string())
        ));
    }
    Ok(format!(
        "{{\"status\":\"ok\",\"iterations\":{iterations},\"wall_seconds\":{wall},\
         \"cpu_seconds\":{cpu},\"decode_scale\":{},\"threads\":1,\"outputs\":{{{}}}}}",
        processed.decode_scale,
        outputs.join(",")
    ))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("bench_thumbnails: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench_thumbnails: {e}");
            ExitCode::FAILURE
        }
    }
}
