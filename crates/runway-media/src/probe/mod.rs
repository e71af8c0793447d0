//! Stage 1b: dimensions, frame count and a few format facts, read from the
//! headers without decoding a single pixel.
//!
//! Every format has a small hand-written walker here rather than a decoder
//! crate: decoders want to allocate for the image they are about to decode,
//! and the point of this stage is to decide from a few header bytes whether
//! that allocation may happen at all. The walkers are also reused by
//! `strip`, so the bytes that were validated are exactly the bytes that are
//! rewritten (no second parser that might disagree). Every read goes through
//! the bounds-checked [`Cursor`](crate::bytes::Cursor).

pub(crate) mod gif;
pub(crate) mod heif;
pub(crate) mod jpeg;
pub(crate) mod png;
pub(crate) mod webp;

use crate::{Error, ImageKind};

/// What `inspect` learned about an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    pub kind: ImageKind,
    /// Stored width in pixels, before any EXIF orientation or `irot` is applied.
    pub width: u32,
    /// Stored height in pixels, before any EXIF orientation or `irot` is applied.
    pub height: u32,
    /// 1 for still images; the animation frame count otherwise.
    pub frames: u32,
    /// Whether the image may carry an alpha channel.
    pub alpha: bool,
    /// EXIF orientation (1..=8) when the file carries a valid one.
    pub orientation: Option<u16>,
    pub details: Details,
}

/// Format-specific facts the decode stage needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Details {
    Jpeg {
        process: JpegProcess,
        color: JpegColor,
    },
    Png {
        bit_depth: u8,
        color_type: u8,
        interlaced: bool,
        /// An APNG (`acTL` present).
        animated: bool,
    },
    WebP {
        encoding: WebPEncoding,
        animated: bool,
    },
    Gif {
        /// `GIF87a` or `GIF89a`.
        version: [u8; 6],
    },
    Heif {
        /// Anticlockwise rotation from `irot`, in degrees (0, 90, 180, 270).
        rotation: Option<u16>,
        /// Mirror axis from `imir` (0 vertical, 1 horizontal).
        mirror: Option<u8>,
    },
}

/// The JPEG coding process, from the SOFn marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JpegProcess {
    /// SOF0.
    Baseline,
    /// SOF1, SOF5, SOF9, SOF13: extended sequential.
    Sequential,
    /// SOF2, SOF6, SOF10, SOF14.
    Progressive,
    /// SOF3, SOF7, SOF11, SOF15.
    Lossless,
}

/// The JPEG colour model, from the component count and the Adobe APP14 transform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JpegColor {
    Grey,
    YCbCr,
    /// 3 components with Adobe transform 0.
    Rgb,
    Cmyk,
    Ycck,
}

/// How a WebP is coded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebPEncoding {
    /// Simple format, `VP8 ` chunk.
    Lossy,
    /// Simple format, `VP8L` chunk.
    Lossless,
    /// Extended format, `VP8X` chunk (alpha, animation, ICC or metadata).
    Extended,
}

/// Walks the structure of an image of a known kind.
pub fn probe(bytes: &[u8], kind: ImageKind) -> Result<Inspection, Error> {
    let inspection = match kind {
        ImageKind::Jpeg => jpeg::probe(bytes)?,
        ImageKind::Png => png::probe(bytes)?,
        ImageKind::WebP => webp::probe(bytes)?,
        ImageKind::Gif => gif::probe(bytes)?,
        ImageKind::Heif | ImageKind::Avif => heif::probe(bytes, kind)?,
    };
    if inspection.width == 0 || inspection.height == 0 {
        return Err(Error::Corrupt("zero width or height"));
    }
    if inspection.frames == 0 {
        return Err(Error::Corrupt("no frames"));
    }
    Ok(inspection)
}
