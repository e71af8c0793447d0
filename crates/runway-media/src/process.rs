//! Stages 3 to 7 behind one call: inspect, decode once (bounded, shrunk on
//! load where possible), orient once, then every variant and the
//! placeholder from that one upright buffer.

use crate::decode::{self, Pixels};
use crate::orient::{orient, transposes};
use crate::placeholder::{Placeholder, placeholder};
use crate::variants::{Variant, make_all, plan};
use crate::{Details, Error, ImageKind, Inspection, Limits, Preset, inspect, preset, probe};

/// Everything the pipeline made from one upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processed {
    /// The real type of the original.
    pub kind: ImageKind,
    /// Upright width of the original, after EXIF orientation (HEIF: after
    /// libheif's `irot`/`imir`/`clap`).
    pub width: u32,
    /// Upright height of the original, after EXIF orientation (HEIF: after
    /// libheif's `irot`/`imir`/`clap`).
    pub height: u32,
    /// The EXIF orientation that was applied (1 when there was none). Always
    /// 1 for HEIC/HEIF: libheif applies the container's `irot`/`imir` while
    /// decoding, and a HEIF's EXIF orientation is informative only (applying
    /// it as well would turn the image twice, or wrongly when they disagree).
    pub orientation: u16,
    /// The DCT shrink-on-load denominator the JPEG decoder used: 1 (full
    /// size), 2, 4 or 8. Always 1 for other formats. For observability.
    pub decode_scale: u8,
    pub placeholder: Placeholder,
    /// One variant per preset, in preset order.
    pub variants: Vec<Variant>,
}

/// How [`process_with`] may use the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// The most threads that encode variants at the same time (decoding is
    /// always one thread). `1` does all the work on the calling thread, for
    /// callers that already run one image per core (a worker pool, a
    /// Lambda with one vCPU, a benchmark); `0` counts as `1`. The default is
    /// [`std::thread::available_parallelism`]. The output is byte-identical
    /// whatever the value.
    pub max_threads: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_threads: std::thread::available_parallelism().map_or(1, usize::from),
        }
    }
}

impl Options {
    /// Everything on the calling thread.
    pub fn single_threaded() -> Options {
        Options { max_threads: 1 }
    }
}

/// Decodes `bytes` once and produces every preset's variant and a
/// placeholder. JPEG, PNG, WebP, GIF (first frame), HEIC/HEIF and AVIF
/// (primary image, through libheif; AVIF needs dav1d at build time, else
/// [`Error::DecodeUnsupported`]).
///
/// Runs [`inspect`] first, so nothing that fails `limits` reaches a
/// decoder. Never panics; every failure is a typed [`Error`]. Variants are
/// encoded on up to `available_parallelism` threads; [`process_with`] takes
/// a cap.
pub fn process(bytes: &[u8], limits: &Limits, presets: &[Preset]) -> Result<Processed, Error> {
    process_with(bytes, limits, presets, &Options::default())
}

/// [`process`], with [`Options`] (how many threads it may use).
pub fn process_with(
    bytes: &[u8],
    limits: &Limits,
    presets: &[Preset],
    options: &Options,
) -> Result<Processed, Error> {
    process_staged(bytes, limits, presets, options, &mut |_, _, _| {})
}

/// [`process_with`], calling `on_placeholder(placeholder, width, height)`
/// as soon as the image is decoded, before the variants are made: callers
/// can show the placeholder while the (slower) resizing and encoding run.
pub fn process_staged(
    bytes: &[u8],
    limits: &Limits,
    presets: &[Preset],
    options: &Options,
    on_placeholder: &mut dyn FnMut(&Placeholder, u32, u32),
) -> Result<Processed, Error> {
    preset::validate(presets)?;
    let info = inspect(bytes, limits)?;
    let orientation = match info.kind {
        ImageKind::Jpeg => info.orientation,
        ImageKind::Png => probe::png::exif_orientation(bytes),
        ImageKind::WebP => probe::webp::exif_orientation(bytes),
        // libheif applies `irot`/`imir` itself while decoding; EXIF
        // orientation is never applied on top of that.
        ImageKind::Gif | ImageKind::Heif | ImageKind::Avif => None,
    }
    .filter(|o| (1..=8).contains(o))
    .unwrap_or(1);
    let full = if transposes(orientation) || heif_quarter_turn(&info) {
        (info.height, info.width)
    } else {
        (info.width, info.height)
    };
    // The largest size any variant needs from the upright image, then the
    // same in stored orientation for the decoder.
    let need = presets
        .iter()
        .map(|p| plan(p.fit, full.0, full.1).scaled)
        .fold((1, 1), |(w, h), (pw, ph)| (w.max(pw), h.max(ph)));
    let need = if transposes(orientation) {
        (need.1, need.0)
    } else {
        need
    };
    let decoded = decode::decode(bytes, &info, need)?;
    let upright: Pixels = orient(decoded.pixels, orientation);
    // libheif's output is already upright (and `clap` may have cropped it):
    // its size is the truth.
    let full = if matches!(info.kind, ImageKind::Heif | ImageKind::Avif) {
        (upright.width, upright.height)
    } else {
        full
    };
    let placeholder = placeholder(&upright, full)?;
    on_placeholder(&placeholder, full.0, full.1);
    let variants = make_all(&upright, full, presets, options.max_threads)?;
    Ok(Processed {
        kind: info.kind,
        width: full.0,
        height: full.1,
        orientation,
        decode_scale: decoded.scale,
        placeholder,
        variants,
    })
}

/// Whether a HEIF's `irot` turns it by 90° or 270° (width and height swap).
fn heif_quarter_turn(info: &Inspection) -> bool {
    matches!(
        info.details,
        Details::Heif {
            rotation: Some(90 | 270),
            ..
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Fit, Format};

    /// A 900×700 PNG with gradients and alpha, so that every preset really
    /// resizes and encodes something.
    fn sample_png() -> Vec<u8> {
        let img = image::RgbaImage::from_fn(900, 700, |x, y| {
            image::Rgba([
                (x * 255 / 899) as u8,
                (y * 255 / 699) as u8,
                ((x + y) % 256) as u8,
                if (x / 50 + y / 50) % 2 == 0 { 255 } else { 180 },
            ])
        });
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png)
            .expect("encode test image");
        out.into_inner()
    }

    #[test]
    fn one_thread_gives_the_same_bytes_as_the_default() {
        let png = sample_png();
        let mut presets = Preset::defaults();
        presets.push(
            Preset::new(
                "tiny-jpeg",
                Fit::Cover {
                    width: 64,
                    height: 48,
                },
            )
            .with_format(Format::Jpeg { quality: 70 }),
        );
        let limits = Limits::default();
        let default = process(&png, &limits, &presets).expect("default");
        let single =
            process_with(&png, &limits, &presets, &Options::single_threaded()).expect("one thread");
        let many = process_with(&png, &limits, &presets, &Options { max_threads: 8 })
            .expect("eight threads");
        let zero =
            process_with(&png, &limits, &presets, &Options { max_threads: 0 }).expect("zero");
        assert_eq!(default.variants.len(), 4);
        for other in [&single, &many, &zero] {
            assert_eq!(&default, other);
            for (a, b) in default.variants.iter().zip(&other.variants) {
                assert_eq!(a.name, b.name);
                assert!(a.bytes == b.bytes, "{} differs", a.name);
            }
        }
    }
}
