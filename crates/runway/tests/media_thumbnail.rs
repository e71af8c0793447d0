//! `runway media thumbnail`, through the real binary, on images made here:
//! the files it writes, the JSON summaries, a bad file that fails alone,
//! and usage errors.

use std::io::Cursor;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use image::{ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_runway");

fn media_thumbnail(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .args(["media", "thumbnail"])
        .args(args)
        .stdin(Stdio::null());
    for (k, _) in std::env::vars() {
        if k.starts_with("RUNWAY_") {
            cmd.env_remove(k);
        }
    }
    cmd.output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// A 1200×900 landscape JPEG with a gradient.
fn write_jpeg(path: &Path) {
    let img = RgbImage::from_fn(1200, 900, |x, y| {
        Rgb([(x * 255 / 1199) as u8, (y * 255 / 899) as u8, 90])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Jpeg).unwrap();
    std::fs::write(path, out.into_inner()).unwrap();
}

/// A 300×500 portrait PNG with alpha: smaller than `small`, so only `thumb`
/// changes its size.
fn write_png(path: &Path) {
    let img = RgbaImage::from_fn(300, 500, |x, y| {
        Rgba([200, (x % 256) as u8, (y % 256) as u8, 220])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).unwrap();
    std::fs::write(path, out.into_inner()).unwrap();
}

fn summary(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Asserts that a variant entry names an existing file of the stated size,
/// type and dimensions.
fn check_variant(out: &Path, v: &Value, width: u64, height: u64, content_type: &str) {
    assert_eq!(v["width"], width, "{v}");
    assert_eq!(v["height"], height, "{v}");
    assert_eq!(v["content_type"], content_type, "{v}");
    let file = out.join(v["file"].as_str().unwrap());
    let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    assert_eq!(v["bytes"], bytes.len() as u64, "{v}");
    let format = if content_type == "image/jpeg" {
        ImageFormat::Jpeg
    } else {
        ImageFormat::WebP
    };
    let img = image::load_from_memory_with_format(&bytes, format).unwrap();
    assert_eq!(
        (u64::from(img.width()), u64::from(img.height())),
        (width, height)
    );
}

#[test]
fn good_files_get_variants_and_summaries_and_a_bad_file_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    write_jpeg(&dir.path().join("photo.jpg"));
    write_png(&dir.path().join("tall.png"));
    std::fs::write(dir.path().join("notes.txt"), "not an image at all\n").unwrap();
    let out = media_thumbnail(
        dir.path(),
        &["photo.jpg", "notes.txt", "tall.png", "--out", "out"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let printed = stdout(&out);
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), 3, "{printed}");
    assert!(
        lines[0].starts_with("photo.jpg: ok jpeg 1200x900"),
        "{printed}"
    );
    assert!(
        lines[1].starts_with("notes.txt: error unsupported_type"),
        "{printed}"
    );
    assert!(
        lines[2].starts_with("tall.png: ok png 300x500"),
        "{printed}"
    );
    assert!(
        stderr(&out).contains("1 of 3 files failed"),
        "{}",
        stderr(&out)
    );

    let o = dir.path().join("out");
    let photo = summary(&o.join("photo.json"));
    assert_eq!(photo["input"], "photo.jpg");
    assert_eq!(photo["kind"], "jpeg");
    assert_eq!(
        (photo["width"].as_u64(), photo["height"].as_u64()),
        (Some(1200), Some(900))
    );
    assert_eq!(photo["orientation"], 1);
    // large keeps all of 1200×900 (it fits within 1440): no DCT shrink.
    assert_eq!(photo["decode_scale"], 1);
    assert!(photo.get("error").is_none(), "{photo}");
    let placeholder = &photo["placeholder"];
    assert!(
        !placeholder["thumbhash"].as_str().unwrap().is_empty(),
        "{placeholder}"
    );
    let colour = placeholder["dominant_color"].as_str().unwrap();
    assert!(colour.starts_with('#') && colour.len() == 7, "{colour}");
    let variants = photo["variants"].as_object().unwrap();
    assert_eq!(variants.len(), 3);
    check_variant(&o, &variants["thumb"], 256, 256, "image/webp");
    check_variant(&o, &variants["small"], 640, 480, "image/webp");
    check_variant(&o, &variants["large"], 1200, 900, "image/webp");
    assert_eq!(variants["thumb"]["file"], "photo.thumb.webp");
    assert_eq!(photo["original"]["file"], "photo.original.jpg");
    let original = std::fs::read(o.join("photo.original.jpg")).unwrap();
    assert_eq!(photo["original"]["bytes"], original.len() as u64);
    assert!(original.starts_with(&[0xFF, 0xD8, 0xFF]));

    let tall = summary(&o.join("tall.json"));
    assert_eq!(tall["kind"], "png");
    let variants = tall["variants"].as_object().unwrap();
    check_variant(&o, &variants["thumb"], 256, 256, "image/webp");
    check_variant(&o, &variants["small"], 300, 500, "image/webp");
    check_variant(&o, &variants["large"], 300, 500, "image/webp");
    assert!(o.join("tall.original.png").is_file());

    let notes = summary(&o.join("notes.json"));
    assert_eq!(notes["input"], "notes.txt");
    assert_eq!(notes["kind"], Value::Null);
    assert_eq!(notes["error"]["code"], "unsupported_type");
    assert!(
        notes["error"]["detail"]
            .as_str()
            .unwrap()
            .contains("unsupported")
    );
    assert!(notes.get("variants").is_none());
    let written: Vec<String> = std::fs::read_dir(&o)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("notes."))
        .collect();
    assert_eq!(written, ["notes.json"]);
}

#[test]
fn chosen_presets_format_quality_and_one_thread() {
    let dir = tempfile::tempdir().unwrap();
    write_jpeg(&dir.path().join("photo.jpg"));
    let args = [
        "photo.jpg",
        "--out",
        "out",
        "--presets",
        "thumb,large",
        "--format",
        "jpeg",
        "--quality",
        "70",
        "--threads",
        "1",
    ];
    let out = media_thumbnail(dir.path(), &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let o = dir.path().join("out");
    let photo = summary(&o.join("photo.json"));
    let variants = photo["variants"].as_object().unwrap();
    assert_eq!(variants.len(), 2);
    check_variant(&o, &variants["thumb"], 256, 256, "image/jpeg");
    check_variant(&o, &variants["large"], 1200, 900, "image/jpeg");
    assert_eq!(variants["large"]["file"], "photo.large.jpg");
    assert!(!o.join("photo.small.jpg").exists());
}

#[test]
fn missing_files_fail_with_read_failed() {
    let dir = tempfile::tempdir().unwrap();
    let out = media_thumbnail(dir.path(), &["nowhere.jpg", "--out", "out"]);
    assert_eq!(out.status.code(), Some(1));
    let s = summary(&dir.path().join("out/nowhere.json"));
    assert_eq!(s["error"]["code"], "read_failed");
}

#[test]
fn usage_errors_exit_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    write_jpeg(&dir.path().join("photo.jpg"));
    let out = media_thumbnail(
        dir.path(),
        &["photo.jpg", "--out", "out", "--presets", "thumb,huge"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown preset \"huge\" (known: thumb, small, large)"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("out").exists());

    let out = media_thumbnail(dir.path(), &["photo.jpg", "--out", "out", "--quality", "0"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    std::fs::create_dir(dir.path().join("a")).unwrap();
    write_jpeg(&dir.path().join("a/photo.jpg"));
    let out = media_thumbnail(dir.path(), &["photo.jpg", "a/photo.jpg", "--out", "out"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("share the name \"photo\""),
        "{}",
        stderr(&out)
    );
}
