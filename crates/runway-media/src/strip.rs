//! Stage 1d: remove metadata from an original, keeping its pixels and its
//! orientation.
//!
//! Every format is rewritten by the same walker that validated it in
//! `probe`; kept segments, chunks and blocks are copied byte for byte, and
//! anything after the end of the image (after EOI, IEND, the RIFF container
//! or the GIF trailer) is dropped, since trailers are a classic hiding place
//! for metadata, secondary images and polyglot payloads.
//!
//! - JPEG: drops APP1 (EXIF, XMP), APP13 (IPTC/Photoshop), COM, APP0 other
//!   than JFIF (JFXX thumbnails) and APP2..APP15 except the APP2
//!   `ICC_PROFILE` chunks and the APP14 `Adobe` segment. Adobe is kept
//!   although it is an APPn: its transform flag decides whether 3 and 4
//!   component data is YCbCr/YCCK or RGB/CMYK, so dropping it changes the
//!   colours. When the EXIF orientation is not 1, a minimal APP1 EXIF holding
//!   only the orientation is written back.
//! - PNG: drops `eXIf`, `tEXt`, `iTXt`, `zTXt` and `tIME`; keeps everything
//!   else (`iCCP`, `gAMA`, `cHRM`, `sRGB`, `pHYs`, APNG chunks, ...). When
//!   the EXIF orientation is not 1, a minimal `eXIf` holding only the
//!   orientation is written back right after `IHDR`.
//! - WebP: drops the `XMP ` chunk and the `EXIF` chunk and clears their VP8X
//!   flags; when the EXIF orientation is not 1, a minimal `EXIF` chunk with
//!   only the orientation takes the old one's place and its flag stays.
//! - GIF: carries no location metadata; drops comment extensions and
//!   application extensions other than `NETSCAPE2.0` (the loop count).
//! - HEIF/AVIF: rewritten in place, not rebuilt. Metadata items are
//!   addressed by absolute offsets in `iloc` and removing one would mean
//!   relocating every item, so the payloads of `Exif` and `mime` (XMP and
//!   other) items are overwritten with a same-length payload instead: an
//!   Exif block holding only the orientation (or nothing), an empty XMP
//!   packet, or zeros. Every other byte, the image items and their `irot`,
//!   `imir` and `clap` included, is unchanged. What it cannot scrub with
//!   certainty (image sequences, metadata in another item or file) is
//!   `Error::StripUnsupported`; see `strip/heif.rs`.

mod heif;

use crate::probe::{self, gif, jpeg, png, webp};
use crate::{Error, ImageKind, sniff};

/// Returns a copy of `bytes` without metadata. `kind` must be what the bytes
/// really are (as reported by `inspect`).
///
/// For HEIC/HEIF and AVIF the copy has the same length as the original and
/// differs only inside metadata payloads; see the module documentation for
/// the few layouts that return [`Error::StripUnsupported`].
pub fn strip_metadata(bytes: &[u8], kind: ImageKind) -> Result<Vec<u8>, Error> {
    if sniff::sniff(bytes)? != kind {
        return Err(Error::UnsupportedType);
    }
    let info = probe::probe(bytes, kind)?;
    match kind {
        ImageKind::Jpeg => strip_jpeg(bytes, info.orientation),
        ImageKind::Png => strip_png(bytes, png::exif_orientation(bytes)),
        ImageKind::WebP => strip_webp(bytes, webp::exif_orientation(bytes)),
        ImageKind::Gif => strip_gif(bytes),
        ImageKind::Heif | ImageKind::Avif => heif::strip(bytes, kind),
    }
}

/// A big-endian TIFF header and one IFD with the single Orientation
/// (0x0112, SHORT) entry: 26 bytes, all the EXIF an original keeps.
pub(crate) fn minimal_tiff(orientation: u16) -> Vec<u8> {
    let mut tiff = b"MM\0\x2A\0\0\0\x08".to_vec();
    tiff.extend_from_slice(&[0x00, 0x01, 0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01]);
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    tiff
}

/// An APP1 segment holding [`minimal_tiff`].
pub(crate) fn minimal_exif_app1(orientation: u16) -> Vec<u8> {
    let mut seg = vec![0xFF, 0xE1, 0x00, 34];
    seg.extend_from_slice(b"Exif\0\0");
    seg.extend_from_slice(&minimal_tiff(orientation));
    seg
}

fn keep_jpeg_segment(marker: u8, payload: &[u8]) -> bool {
    match marker {
        0xE0 => payload.starts_with(b"JFIF\0"),
        0xE2 => payload.starts_with(b"ICC_PROFILE\0"),
        0xEE => payload.starts_with(b"Adobe"),
        0xE1 | 0xE3..=0xEF | 0xFE => false,
        _ => true,
    }
}

fn strip_jpeg(bytes: &[u8], orientation: Option<u16>) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut exif = orientation.filter(|&o| o != 1).map(minimal_exif_app1);
    jpeg::walk(bytes, |part| {
        let (range, keep, is_jfif) = match part {
            jpeg::Part::Segment {
                marker,
                range,
                payload,
            } => (
                range,
                keep_jpeg_segment(marker, payload),
                marker == 0xE0 && payload.starts_with(b"JFIF\0"),
            ),
            jpeg::Part::Standalone { range } | jpeg::Part::Entropy { range } => {
                (range, true, false)
            }
        };
        // The EXIF APP1 goes right after SOI, or after a leading JFIF APP0.
        if !is_jfif && let Some(app1) = exif.take() {
            out.extend_from_slice(&app1);
        }
        if keep {
            out.extend_from_slice(bytes.get(range).ok_or(Error::Truncated)?);
        }
        Ok(())
    })?;
    out.extend_from_slice(&[0xFF, 0xD9]);
    Ok(out)
}

fn strip_png(bytes: &[u8], orientation: Option<u16>) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(png::SIGNATURE);
    let mut exif = orientation
        .filter(|&o| o != 1)
        .map(|o| png_chunk(b"eXIf", &minimal_tiff(o)));
    png::walk(bytes, |chunk| {
        if !matches!(&chunk.kind, b"eXIf" | b"tEXt" | b"iTXt" | b"zTXt" | b"tIME") {
            out.extend_from_slice(bytes.get(chunk.range).ok_or(Error::Truncated)?);
        }
        // eXIf must precede IDAT: right after IHDR.
        if &chunk.kind == b"IHDR"
            && let Some(exif) = exif.take()
        {
            out.extend_from_slice(&exif);
        }
        Ok(())
    })?;
    Ok(out)
}

pub(crate) fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(kind);
    chunk.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    chunk.extend_from_slice(&crc.finalize().to_be_bytes());
    chunk
}

fn strip_webp(bytes: &[u8], orientation: Option<u16>) -> Result<Vec<u8>, Error> {
    let mut body = Vec::with_capacity(bytes.len());
    body.extend_from_slice(b"WEBP");
    // An EXIF chunk exists only in extended (VP8X) files: keep the
    // orientation there in a minimal EXIF chunk, in the old one's place.
    let keep_orientation = orientation.filter(|&o| o != 1);
    webp::walk(bytes, |chunk| {
        let whole = bytes.get(chunk.range).ok_or(Error::Truncated)?;
        match &chunk.fourcc {
            b"EXIF" => {
                if let Some(o) = keep_orientation {
                    let tiff = minimal_tiff(o);
                    body.extend_from_slice(b"EXIF");
                    body.extend_from_slice(&(tiff.len() as u32).to_le_bytes());
                    body.extend_from_slice(&tiff);
                }
            }
            b"XMP " => {}
            b"VP8X" => {
                let start = body.len();
                body.extend_from_slice(whole);
                let cleared = if keep_orientation.is_some() {
                    webp::FLAG_XMP
                } else {
                    webp::FLAG_EXIF | webp::FLAG_XMP
                };
                if let Some(flags) = body.get_mut(start + 8) {
                    *flags &= !cleared;
                }
            }
            _ => body.extend_from_slice(whole),
        }
        Ok(())
    })?;
    let size = u32::try_from(body.len()).map_err(|_| Error::Corrupt("webp: too large"))?;
    let mut out = Vec::with_capacity(body.len() + 8);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

fn strip_gif(bytes: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(bytes.len());
    gif::walk(bytes, |block| {
        let (range, keep) = match block {
            gif::Block::Header { range } | gif::Block::Image { range, .. } => (range, true),
            gif::Block::Extension {
                label,
                range,
                first,
            } => (
                range,
                !(label == 0xFE || (label == 0xFF && first != b"NETSCAPE2.0")),
            ),
        };
        if keep {
            out.extend_from_slice(bytes.get(range).ok_or(Error::Truncated)?);
        }
        Ok(())
    })?;
    out.push(0x3B);
    Ok(out)
}
