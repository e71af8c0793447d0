//! Stages 3 to 7 behind one call: inspect, decode once (bounded, shrunk on
//! load where possible), orient once, then every variant and the
//! placeholder from that one upright buffer.

use crate::decode::{self, Pixels};
use crate::orient::{orient, transposes};
use crate::placeholder::{Placeholder, placeholder};
use crate::variants::{Variant, make_all, plan};
use crate::{Error, ImageKind, Limits, Preset, inspect, preset, probe};

/// Everything the pipeline made from one upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processed {
    /// The real type of the original.
    pub kind: ImageKind,
    /// Upright width of the original, after EXIF orientation.
    pub width: u32,
    /// Upright height of the original, after EXIF orientation.
    pub height: u32,
    /// The EXIF orientation that was applied (1 when there was none).
    pub orientation: u16,
    /// The DCT shrink-on-load denominator the JPEG decoder used: 1 (full
    /// size), 2, 4 or 8. Always 1 for other formats. For observability.
    pub decode_scale: u8,
    pub placeholder: Placeholder,
    /// One variant per preset, in preset order.
    pub variants: Vec<Variant>,
}

/// Decodes `bytes` once and produces every preset's variant and a
/// placeholder. JPEG, PNG, WebP and GIF (first frame); HEIC/HEIF and AVIF
/// return [`Error::DecodeUnsupported`].
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
        ImageKind::Gif => None,
        ImageKind::Heif | ImageKind::Avif => return Err(Error::DecodeUnsupported(info.kind)),
    }
    .filter(|o| (1..=8).contains(o))
    .unwrap_or(1);
    let full = if transposes(orientation) {
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
