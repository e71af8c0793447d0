//! `runway media thumbnail`: run the image pipeline (`runway-media`) on
//! local files, exactly as the workers do on uploads, and write what it made
//! to a directory. It needs no configuration, database or async runtime.
//!
//! For every input `DIR/<stem>.json` summarises the result; the variants are
//! `DIR/<stem>.<preset>.<ext>` and the metadata-stripped original is
//! `DIR/<stem>.original.<ext>` (skipped, and said so in the summary, for
//! types whose metadata cannot be stripped in place, such as HEIC). A file
//! that fails records its error code in its summary and the others go on;
//! the exit code is 1 when any file failed and 2 for a usage error.

use std::collections::HashSet;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use clap::ValueEnum;
use runway_media::{Format, ImageKind, Limits, Options, Preset, Processed, process_with};
use serde_json::{Map, Value, json};

/// Work on local image files.
#[derive(clap::Subcommand, Debug)]
pub enum MediaCommand {
    /// Make the variants (thumbnails), the metadata-stripped original and a
    /// JSON summary of each FILE, as an upload would get them.
    Thumbnail(ThumbnailArgs),
}

#[derive(clap::Args, Debug)]
pub struct ThumbnailArgs {
    /// Image files to process.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Directory to write into (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Presets to make, comma-separated, from thumb (256×256 cover), small
    /// (within 640) and large (within 1440) [default: all three].
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    presets: Option<Vec<String>>,
    /// Encoding of the variants.
    #[arg(long, value_enum, default_value_t = OutputFormat::Webp)]
    format: OutputFormat,
    /// Encoder quality, 1 to 100.
    #[arg(long, value_name = "N", default_value_t = 80,
          value_parser = clap::value_parser!(u8).range(1..=100))]
    quality: u8,
    /// Most threads encoding the variants of one file [default: one per
    /// core]. Files are processed one after the other.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OutputFormat {
    Webp,
    Jpeg,
}

pub fn run(command: MediaCommand) -> ExitCode {
    match command {
        MediaCommand::Thumbnail(args) => thumbnail(&args),
    }
}

fn thumbnail(args: &ThumbnailArgs) -> ExitCode {
    let presets = match presets(args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("runway: {e}");
            return ExitCode::from(2);
        }
    };
    let mut stems = HashSet::new();
    for file in &args.files {
        let Some(stem) = stem(file) else {
            eprintln!("runway: {} is not a file name", file.display());
            return ExitCode::from(2);
        };
        if !stems.insert(stem.clone()) {
            eprintln!(
                "runway: two inputs share the name {stem:?}; their outputs would overwrite each other"
            );
            return ExitCode::from(2);
        }
    }
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        eprintln!("runway: cannot create {}: {e}", args.out.display());
        return ExitCode::FAILURE;
    }
    let options = match args.threads {
        Some(n) => Options {
            max_threads: usize::from(n),
        },
        None => Options::default(),
    };
    let mut failed = 0;
    for file in &args.files {
        // Checked above: every input has a stem.
        let stem = stem(file).unwrap_or_default();
        let outcome = one(file, &stem, &args.out, &presets, &options);
        if !outcome.ok {
            failed += 1;
        }
        let summary = args.out.join(format!("{stem}.json"));
        let written = serde_json::to_vec_pretty(&outcome.summary)
            .map_err(std::io::Error::other)
            .and_then(|mut json| {
                json.push(b'\n');
                std::fs::write(&summary, json)
            });
        match written {
            Ok(()) => println!("{}: {}", file.display(), outcome.line),
            Err(e) => {
                if outcome.ok {
                    failed += 1;
                }
                println!(
                    "{}: {}; cannot write {}: {e}",
                    file.display(),
                    outcome.line,
                    summary.display()
                );
            }
        }
    }
    if failed > 0 {
        eprintln!("runway: {failed} of {} files failed", args.files.len());
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The named presets, in the order given, encoded as asked.
fn presets(args: &ThumbnailArgs) -> Result<Vec<Preset>, String> {
    let format = match args.format {
        OutputFormat::Webp => Format::WebP {
            quality: args.quality,
        },
        OutputFormat::Jpeg => Format::Jpeg {
            quality: args.quality,
        },
    };
    let defaults = Preset::defaults();
    let Some(names) = &args.presets else {
        return Ok(defaults
            .into_iter()
            .map(|p| p.with_format(format))
            .collect());
    };
    let known = || {
        defaults
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut chosen: Vec<Preset> = Vec::new();
    for name in names {
        let name = name.trim();
        let preset = defaults
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| format!("unknown preset {name:?} (known: {})", known()))?;
        if chosen.iter().any(|p| p.name == name) {
            return Err(format!("preset {name:?} is named twice"));
        }
        chosen.push(preset.clone().with_format(format));
    }
    if chosen.is_empty() {
        return Err(format!("--presets names none of {}", known()));
    }
    Ok(chosen)
}

fn stem(path: &Path) -> Option<String> {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
}

/// What became of one input: its summary, the line to print, and whether
/// it succeeded.
struct Outcome {
    summary: Value,
    line: String,
    ok: bool,
}

fn kind_name(kind: ImageKind) -> &'static str {
    match kind {
        ImageKind::Jpeg => "jpeg",
        ImageKind::Png => "png",
        ImageKind::WebP => "webp",
        ImageKind::Gif => "gif",
        ImageKind::Heif => "heif",
        ImageKind::Avif => "avif",
    }
}

/// Reads at most one byte more than the limit allows, so an oversized file
/// is refused by the pipeline (`too_large`) without being read whole.
fn read_bounded(path: &Path, limits: &Limits) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    File::open(path)?
        .take(limits.max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn failure(mut summary: Map<String, Value>, code: &str, detail: String) -> Outcome {
    let line = format!("error {code}: {detail}");
    summary.insert("error".into(), json!({ "code": code, "detail": detail }));
    Outcome {
        summary: Value::Object(summary),
        line,
        ok: false,
    }
}

fn one(path: &Path, stem: &str, out: &Path, presets: &[Preset], options: &Options) -> Outcome {
    let limits = Limits::default();
    let mut summary = Map::new();
    summary.insert("input".into(), json!(path.display().to_string()));
    let bytes = match read_bounded(path, &limits) {
        Ok(b) => b,
        Err(e) => {
            summary.insert("kind".into(), Value::Null);
            return failure(summary, "read_failed", e.to_string());
        }
    };
    let processed = match process_with(&bytes, &limits, presets, options) {
        Ok(p) => p,
        Err(e) => {
            // The type, when it is one at all, helps reading the error.
            let kind = runway_media::inspect(&bytes, &limits)
                .ok()
                .map(|i| kind_name(i.kind));
            summary.insert("kind".into(), json!(kind));
            return failure(summary, e.code(), e.to_string());
        }
    };
    describe(&mut summary, &processed);

    let mut variants = Map::new();
    let mut sizes = Vec::new();
    for v in &processed.variants {
        let name = format!(
            "{stem}.{}.{}",
            v.name,
            runway_media::file_extension(v.content_type)
        );
        if let Err(e) = std::fs::write(out.join(&name), &v.bytes) {
            return failure(summary, "write_failed", format!("{name}: {e}"));
        }
        sizes.push(format!(
            "{} {}x{} ({} bytes)",
            v.name,
            v.width,
            v.height,
            v.bytes.len()
        ));
        variants.insert(
            v.name.clone(),
            json!({
                "file": name,
                "width": v.width,
                "height": v.height,
                "content_type": v.content_type,
                "bytes": v.bytes.len(),
            }),
        );
    }
    summary.insert("variants".into(), Value::Object(variants));

    let original = match runway_media::strip_metadata(&bytes, processed.kind) {
        Ok(stripped) => {
            let name = format!(
                "{stem}.original.{}",
                runway_media::file_extension(processed.kind.mime())
            );
            if let Err(e) = std::fs::write(out.join(&name), &stripped) {
                return failure(summary, "write_failed", format!("{name}: {e}"));
            }
            summary.insert(
                "original".into(),
                json!({
                    "file": name,
                    "content_type": processed.kind.mime(),
                    "bytes": stripped.len(),
                }),
            );
            format!("original stripped ({} bytes)", stripped.len())
        }
        Err(e) => {
            summary.insert("original".into(), Value::Null);
            summary.insert(
                "original_skipped".into(),
                json!({ "code": e.code(), "detail": e.to_string() }),
            );
            format!("original not written ({})", e.code())
        }
    };
    let line = format!(
        "ok {} {}x{} -> {}; {original}",
        kind_name(processed.kind),
        processed.width,
        processed.height,
        sizes.join(", ")
    );
    Outcome {
        summary: Value::Object(summary),
        line,
        ok: true,
    }
}

fn describe(summary: &mut Map<String, Value>, p: &Processed) {
    summary.insert("kind".into(), json!(kind_name(p.kind)));
    summary.insert("width".into(), json!(p.width));
    summary.insert("height".into(), json!(p.height));
    summary.insert("orientation".into(), json!(p.orientation));
    summary.insert("decode_scale".into(), json!(p.decode_scale));
    summary.insert(
        "placeholder".into(),
        json!({
            "thumbhash": STANDARD.encode(&p.placeholder.thumbhash),
            "dominant_color": p.placeholder.dominant_color,
        }),
    );
}
