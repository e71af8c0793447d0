//! The one error type of the crate. Every variant has a stable `code()` that
//! the HTTP edge can put in a problem+json body unchanged.

use crate::ImageKind;

/// Why an upload was rejected. Never a panic: every malformed input ends here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The magic bytes are not one of the supported image types (this covers
    /// SVG, HTML, XML, PDF, text and anything else).
    #[error("unsupported image type")]
    UnsupportedType,
    /// The file ends before its structure does.
    #[error("image is truncated")]
    Truncated,
    /// The magic bytes name a supported type but the structure does not parse.
    #[error("image is corrupt: {0}")]
    Corrupt(&'static str),
    /// The file is larger than `Limits::max_bytes`.
    #[error("image is {bytes} bytes, more than the limit of {max}")]
    TooLarge { bytes: u64, max: u64 },
    /// width × height is more than `Limits::max_pixels`.
    #[error("image has {pixels} pixels, more than the limit of {max}")]
    TooManyPixels { pixels: u64, max: u64 },
    /// A side is longer than `Limits::max_width` / `Limits::max_height`.
    #[error("image is {width}x{height}, more than the limit of {max_width}x{max_height}")]
    DimensionsTooLarge {
        width: u32,
        height: u32,
        max_width: u32,
        max_height: u32,
    },
    /// More animation frames than `Limits::max_frames`.
    #[error("image has {frames} frames, more than the limit of {max}")]
    TooManyFrames { frames: u32, max: u32 },
    /// Metadata cannot be removed from this file with certainty, so it must
    /// not be stored as is. Only HEIC/HEIF and AVIF layouts that the in-place
    /// rewrite does not handle: image sequences (a `moov` box), metadata
    /// items built from another item or stored in another file, metadata
    /// outside `mdat`/`idat`, or an unknown `infe` version.
    #[error("stripping metadata is not supported for {0:?}")]
    StripUnsupported(ImageKind),
    /// This build cannot decode this container's pixels: AVIF when libheif
    /// was built without an AV1 decoder (dav1d; see the crate documentation).
    #[error("decoding is not supported for {0:?}")]
    DecodeUnsupported(ImageKind),
    /// The headers were valid but the pixel data could not be decoded, or the
    /// decoder disagreed with the headers.
    #[error("image could not be decoded: {0}")]
    DecodeFailed(String),
    /// A variant could not be encoded.
    #[error("variant could not be encoded: {0}")]
    EncodeFailed(String),
    /// A [`Preset`](crate::Preset) is unusable (empty or duplicate name, zero
    /// or oversized box, quality outside 1..=100). A configuration error.
    #[error("invalid preset: {0}")]
    InvalidPreset(String),
}

impl Error {
    /// Every value [`Error::code`] can return, for callers that store a code
    /// and must map it back to a `'static` string.
    pub const CODES: [&'static str; 12] = [
        "unsupported_type",
        "truncated",
        "corrupt",
        "too_large",
        "too_many_pixels",
        "dimensions_too_large",
        "too_many_frames",
        "strip_unsupported",
        "decode_unsupported",
        "decode_failed",
        "encode_failed",
        "invalid_preset",
    ];

    /// A stable, machine-readable code. Never change an existing value.
    pub fn code(&self) -> &'static str {
        match self {
            Error::UnsupportedType => "unsupported_type",
            Error::Truncated => "truncated",
            Error::Corrupt(_) => "corrupt",
            Error::TooLarge { .. } => "too_large",
            Error::TooManyPixels { .. } => "too_many_pixels",
            Error::DimensionsTooLarge { .. } => "dimensions_too_large",
            Error::TooManyFrames { .. } => "too_many_frames",
            Error::StripUnsupported(_) => "strip_unsupported",
            Error::DecodeUnsupported(_) => "decode_unsupported",
            Error::DecodeFailed(_) => "decode_failed",
            Error::EncodeFailed(_) => "encode_failed",
            Error::InvalidPreset(_) => "invalid_preset",
        }
    }
}
