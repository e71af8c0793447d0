//! WebP: walk the RIFF chunks and read the VP8, VP8L or VP8X header
//! (RFC 9649). Hand-written: the headers are a few bytes each, and
//! `image-webp` would decode.

use super::{Details, Inspection, WebPEncoding};
use crate::bytes::Cursor;
use crate::{Error, ImageKind};

pub(crate) const FLAG_ALPHA: u8 = 0x10;
pub(crate) const FLAG_EXIF: u8 = 0x08;
pub(crate) const FLAG_XMP: u8 = 0x04;
pub(crate) const FLAG_ANIMATION: u8 = 0x02;

/// One RIFF chunk: its FourCC, its whole byte range including the pad byte,
/// and its payload.
pub(crate) struct Chunk<'a> {
    pub(crate) fourcc: [u8; 4],
    pub(crate) range: std::ops::Range<usize>,
    pub(crate) payload: &'a [u8],
}

/// Walks every chunk inside the RIFF container. Returns the offset of the
/// end of the RIFF container (anything after it is trailing data).
pub(crate) fn walk<'a>(
    bytes: &'a [u8],
    mut visit: impl FnMut(Chunk<'a>) -> Result<(), Error>,
) -> Result<usize, Error> {
    let mut c = Cursor::new(bytes);
    if &c.array::<4>()? != b"RIFF" {
        return Err(Error::UnsupportedType);
    }
    let riff_size = c.u32_le()? as usize;
    if &c.array::<4>()? != b"WEBP" {
        return Err(Error::UnsupportedType);
    }
    let end = riff_size.checked_add(8).ok_or(Error::Truncated)?;
    let body = bytes.get(..end).ok_or(Error::Truncated)?;
    if riff_size < 4 || !riff_size.is_multiple_of(2) {
        return Err(Error::Corrupt("webp: bad RIFF size"));
    }
    let mut c = Cursor::at(body, 12);
    if c.remaining() == 0 {
        return Err(Error::Truncated);
    }
    while c.remaining() > 0 {
        let start = c.pos();
        let fourcc = c.array::<4>()?;
        let size = c.u32_le()? as usize;
        let payload = c.take(size)?;
        if !size.is_multiple_of(2) {
            c.skip(1)?;
        }
        visit(Chunk {
            fourcc,
            range: start..c.pos(),
            payload,
        })?;
    }
    Ok(end)
}

/// Width and height from a `VP8 ` key frame header (RFC 6386 §9.1).
fn vp8_size(payload: &[u8]) -> Result<(u32, u32), Error> {
    let mut c = Cursor::new(payload);
    let tag = c.u24_le()?;
    if tag & 1 != 0 {
        return Err(Error::Corrupt("webp: VP8 frame is not a key frame"));
    }
    if c.array::<3>()? != [0x9D, 0x01, 0x2A] {
        return Err(Error::Corrupt("webp: bad VP8 start code"));
    }
    let width = u32::from(c.u16_le()? & 0x3FFF);
    let height = u32::from(c.u16_le()? & 0x3FFF);
    Ok((width, height))
}

/// Width, height and alpha hint from a `VP8L` header.
fn vp8l_size(payload: &[u8]) -> Result<(u32, u32, bool), Error> {
    let mut c = Cursor::new(payload);
    if c.u8()? != 0x2F {
        return Err(Error::Corrupt("webp: bad VP8L signature"));
    }
    let bits = c.u32_le()?;
    if bits >> 29 != 0 {
        return Err(Error::Corrupt("webp: unknown VP8L version"));
    }
    let width = (bits & 0x3FFF) + 1;
    let height = ((bits >> 14) & 0x3FFF) + 1;
    Ok((width, height, bits >> 28 & 1 == 1))
}

pub(crate) fn probe(bytes: &[u8]) -> Result<Inspection, Error> {
    let mut first: Option<[u8; 4]> = None;
    let mut header = None;
    let mut vp8x_flags = 0u8;
    let (mut anim, mut frames, mut bitstream) = (false, 0u32, false);
    walk(bytes, |chunk| {
        let is_first = first.is_none();
        if is_first {
            first = Some(chunk.fourcc);
        }
        match (&chunk.fourcc, is_first) {
            (b"VP8 ", true) => {
                let (w, h) = vp8_size(chunk.payload)?;
                header = Some((w, h, false, WebPEncoding::Lossy));
            }
            (b"VP8L", true) => {
                let (w, h, alpha) = vp8l_size(chunk.payload)?;
                header = Some((w, h, alpha, WebPEncoding::Lossless));
            }
            (b"VP8X", true) => {
                let mut c = Cursor::new(chunk.payload);
                vp8x_flags = c.u8()?;
                c.skip(3)?;
                let w = c.u24_le()? + 1;
                let h = c.u24_le()? + 1;
                header = Some((w, h, vp8x_flags & FLAG_ALPHA != 0, WebPEncoding::Extended));
            }
            (_, true) => return Err(Error::Corrupt("webp: unknown first chunk")),
            (b"VP8 ", false) => {
                vp8_size(chunk.payload)?;
                bitstream = true;
            }
            (b"VP8L", false) => {
                vp8l_size(chunk.payload)?;
                bitstream = true;
            }
            (b"ANIM", false) => anim = true,
            (b"ANMF", false) => frames = frames.saturating_add(1),
            (b"VP8X", false) => return Err(Error::Corrupt("webp: second VP8X")),
            _ => {}
        }
        Ok(())
    })?;
    let (width, height, alpha, encoding) = header.ok_or(Error::Truncated)?;
    let animated = vp8x_flags & FLAG_ANIMATION != 0;
    let frames = match encoding {
        WebPEncoding::Extended if animated => {
            if !anim {
                return Err(Error::Corrupt("webp: animation without ANIM"));
            }
            frames
        }
        WebPEncoding::Extended if !bitstream => {
            return Err(Error::Corrupt("webp: extended file without image data"));
        }
        _ => 1,
    };
    Ok(Inspection {
        kind: ImageKind::WebP,
        width,
        height,
        frames,
        alpha,
        orientation: None,
        details: Details::WebP { encoding, animated },
    })
}

/// The EXIF orientation from an `EXIF` chunk, if there is a valid one (some
/// writers prefix the TIFF data with `Exif\0\0`, as in JPEG).
///
/// Not part of [`Inspection`] for WebP, for the same reason as PNG's.
pub(crate) fn exif_orientation(bytes: &[u8]) -> Option<u16> {
    let mut found = None;
    walk(bytes, |chunk| {
        if &chunk.fourcc == b"EXIF" && found.is_none() {
            let tiff = chunk
                .payload
                .strip_prefix(b"Exif\0\0")
                .unwrap_or(chunk.payload);
            found = Some(super::jpeg::tiff_orientation(tiff));
        }
        Ok(())
    })
    .ok()?;
    found.flatten()
}
