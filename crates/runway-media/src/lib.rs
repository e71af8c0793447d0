//! runway's pure image pipeline. No HTTP, no AWS, no database, no async:
//! bytes in, bytes or typed errors out, so the API workers and the thumbnail
//! Lambda run exactly the same code.
//!
//! # Pipeline
//!
//! An upload goes through these stages, in order:
//!
//! 1. **sniff** — the real type from magic bytes only (JPEG, PNG, WebP, GIF,
//!    HEIF/HEIC, AVIF). File names and `Content-Type` are never trusted;
//!    SVG, HTML, XML, PDF and text are rejected.
//! 2. **limits** — dimensions and frame count are read from the headers
//!    (the *probe*, which never decodes pixels) and checked against
//!    [`Limits`] before any decoder may allocate, so a decompression bomb
//!    costs a few header reads.
//! 3. **decode** — pixels, into a bounded buffer, converted once to sRGB
//!    from the profile the file declares (ICC in JPEG, PNG, WebP and HEIF,
//!    or HEIF `nclx`), so Display P3 photos keep their saturation.
//! 4. **orient** — apply EXIF orientation (HEIF `irot`/`imir` are applied
//!    by libheif during decoding).
//! 5. **resize** — the variants (thumbnails) the API serves.
//! 6. **encode** — variants re-encoded without metadata.
//! 7. **placeholder** — a thumbhash, dimensions and dominant colour, so
//!    clients can show the photo's shape and colours before it loads.
//!
//! [`inspect`] implements stages 1 and 2; [`strip_metadata`] removes
//! location and other metadata from the stored original while keeping its
//! pixels and orientation (HEIC/HEIF and AVIF in place: metadata item
//! payloads are overwritten, nothing is relocated); [`process`] runs stages
//! 3 to 7 for JPEG, PNG, WebP, GIF (first frame), HEIC/HEIF and AVIF
//! (primary image): one bounded decode
//! (JPEG shrinks on load in the DCT domain), orientation applied once,
//! Lanczos3 resizing into each [`Preset`] (`thumb`, `small`, `large` or
//! custom), lossy WebP (or JPEG) variants without metadata, and a
//! [`Placeholder`].
//!
//! HEIC/HEIF is decoded by libheif (compiled from source with cmake; HEVC
//! through the system libde265), with its security limits set from the
//! inspected size. libheif applies the container's `irot`/`imir` (and
//! `clap`) itself, so EXIF orientation is never applied to HEIC on top of
//! it (in HEIF it is informative only) and [`Processed::orientation`] is
//! always 1 for HEIC; the upright size libheif produced is
//! [`Processed::width`]×[`Processed::height`].
//!
//! AVIF is decoded the same way, libheif using the system's dav1d; a build
//! made without `libdav1d-dev` returns [`Error::DecodeUnsupported`] for it.
//! Not yet done (issue 3): AVIF as a variant output format.
//!
//! Every function returns an [`Error`] with a stable [`Error::code`] and
//! never panics, whatever the input: the walkers read through a
//! bounds-checked cursor, and property tests feed them random bytes and
//! mutated headers.
//!
//! ```
//! use runway_media::{inspect, Limits, Error};
//!
//! let svg = b"<svg xmlns='http://www.w3.org/2000/svg'/>";
//! let err = inspect(svg, &Limits::default()).unwrap_err();
//! assert_eq!(err, Error::UnsupportedType);
//! assert_eq!(err.code(), "unsupported_type");
//! ```

mod bytes;
mod color;
mod decode;
mod error;
/// The fuzz target's body and seed corpus; see `fuzz/README.md`.
#[doc(hidden)]
pub mod fuzzing;
mod limits;
mod orient;
mod placeholder;
mod preset;
mod probe;
mod process;
mod sniff;
mod strip;
mod variants;

pub use error::Error;
pub use limits::Limits;
pub use placeholder::Placeholder;
pub use preset::{Fit, Format, MAX_VARIANT_SIDE, Preset};
pub use probe::{Details, Inspection, JpegColor, JpegProcess, WebPEncoding};
pub use process::{Options, process_staged, process_with};
pub use process::{Processed, process};
pub use sniff::{ImageKind, file_extension};
pub use strip::strip_metadata;
pub use variants::Variant;

/// Stages 1 and 2: checks the size, sniffs the type, probes the headers and
/// enforces `limits`, without decoding pixels.
pub fn inspect(bytes: &[u8], limits: &Limits) -> Result<Inspection, Error> {
    limits.check_bytes(bytes.len())?;
    let kind = sniff::sniff(bytes)?;
    let inspection = probe::probe(bytes, kind)?;
    limits.check(&inspection)?;
    Ok(inspection)
}
