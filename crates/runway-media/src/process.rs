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

/// Decodes `bytes` once and produces every preset's variant and a
/// placeholder. JPEG, PNG, WebP, GIF (first frame) and HEIC/HEIF (primary
/// image, through libheif); AVIF returns [`Error::DecodeUnsupported`].
///
/// Runs [`inspect`] first, so nothing that fails `limits` reaches a
/// decoder. Never panics; every failure is a typed [`Error`].
pub fn process(bytes: &[u8], limits: &Limits, presets: &[Preset]) -> Result<Processed, Error> {
    preset::validate(presets)?;
    let info = inspect(bytes, limits)?;
    let orientation = match info.kind {
        ImageKind::Jpeg => info.orientation,
        ImageKind::Png => probe::png::exif_orientation(bytes),
        ImageKind::WebP => probe::webp::exif_orientation(bytes),
        // libheif applies `irot`/`imir` itself while decoding; EXIF
        // orientation is never applied on top of that.
        ImageKind::Gif | ImageKind::Heif => None,
        ImageKind::Avif => return Err(Error::DecodeUnsupported(info.kind)),
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
    let full = if info.kind == ImageKind::Heif {
        (upright.width, upright.height)
    } else {
        full
    };
    let variants = make_all(&upright, full, presets)?;
    let placeholder = placeholder(&upright, full)?;
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
