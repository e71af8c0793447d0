//! PNG: walk the chunks (PNG spec §5.3), checking every CRC. Hand-written
//! because the `png` crate's reader is a decoder: it wants to set up
//! row buffers for the IHDR it reads, which is what limits must gate first.

use super::{Details, Inspection};
use crate::bytes::Cursor;
use crate::{Error, ImageKind};

pub(crate) const SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

/// One chunk: its type, its whole byte range (length .. CRC) and its data.
pub(crate) struct Chunk<'a> {
    pub(crate) kind: [u8; 4],
    pub(crate) range: std::ops::Range<usize>,
    pub(crate) data: &'a [u8],
}

/// Walks the signature and every chunk up to and including IEND. Returns the
/// offset just past IEND.
pub(crate) fn walk<'a>(
    bytes: &'a [u8],
    mut visit: impl FnMut(Chunk<'a>) -> Result<(), Error>,
) -> Result<usize, Error> {
    let mut c = Cursor::new(bytes);
    if &c.array::<8>()? != SIGNATURE {
        return Err(Error::UnsupportedType);
    }
    let mut first = true;
    loop {
        let start = c.pos();
        let len = c.u32_be()?;
        if len > 0x7FFF_FFFF {
            return Err(Error::Corrupt("png: chunk length out of range"));
        }
        let kind = c.array::<4>()?;
        if !kind.iter().all(u8::is_ascii_alphabetic) {
            return Err(Error::Corrupt("png: bad chunk type"));
        }
        let data = c.take(len as usize)?;
        let crc = c.u32_be()?;
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&kind);
        hasher.update(data);
        if hasher.finalize() != crc {
            return Err(Error::Corrupt("png: bad chunk CRC"));
        }
        if first && &kind != b"IHDR" {
            return Err(Error::Corrupt("png: first chunk is not IHDR"));
        }
        first = false;
        visit(Chunk {
            kind,
            range: start..c.pos(),
            data,
        })?;
        if &kind == b"IEND" {
            return Ok(c.pos());
        }
    }
}

pub(crate) fn probe(bytes: &[u8]) -> Result<Inspection, Error> {
    let mut ihdr = None;
    let (mut idat, mut trns, mut actl_frames, mut fctl) = (false, false, None, 0u32);
    walk(bytes, |chunk| {
        match &chunk.kind {
            b"IHDR" if ihdr.is_none() => {
                if chunk.data.len() != 13 {
                    return Err(Error::Corrupt("png: bad IHDR length"));
                }
                let mut c = Cursor::new(chunk.data);
                let (width, height) = (c.u32_be()?, c.u32_be()?);
                let [depth, color, compression, filter, interlace] = c.array()?;
                let depth_ok = match color {
                    0 => matches!(depth, 1 | 2 | 4 | 8 | 16),
                    3 => matches!(depth, 1 | 2 | 4 | 8),
                    2 | 4 | 6 => matches!(depth, 8 | 16),
                    _ => false,
                };
                if !depth_ok || compression != 0 || filter != 0 || interlace > 1 {
                    return Err(Error::Corrupt("png: bad IHDR"));
                }
                if width > 0x7FFF_FFFF || height > 0x7FFF_FFFF {
                    return Err(Error::Corrupt("png: dimension out of range"));
                }
                ihdr = Some((width, height, depth, color, interlace == 1));
            }
            b"IHDR" => return Err(Error::Corrupt("png: second IHDR")),
            b"IDAT" => idat = true,
            b"tRNS" => trns = true,
            b"acTL" => {
                let frames = Cursor::new(chunk.data).u32_be()?;
                if frames == 0 {
                    return Err(Error::Corrupt("png: acTL with zero frames"));
                }
                actl_frames = Some(frames);
            }
            b"fcTL" => fctl += 1,
            _ => {}
        }
        Ok(())
    })?;
    let (width, height, bit_depth, color_type, interlaced) =
        ihdr.ok_or(Error::Corrupt("png: no IHDR"))?;
    if !idat {
        return Err(Error::Corrupt("png: no IDAT"));
    }
    // The frame count that limits see is the larger of what acTL claims and
    // how many frame controls are really there, so neither can understate it.
    let frames = actl_frames.map_or(1, |n| n.max(fctl));
    Ok(Inspection {
        kind: ImageKind::Png,
        width,
        height,
        frames,
        alpha: matches!(color_type, 4 | 6) || trns,
        orientation: None,
        details: Details::Png {
            bit_depth,
            color_type,
            interlaced,
            animated: actl_frames.is_some(),
        },
    })
}

/// The EXIF orientation from an `eXIf` chunk, if there is a valid one.
///
/// Not part of [`Inspection`] for PNG: stage 1's `strip_metadata` drops
/// `eXIf`, and the inspection of a stripped file must equal the original's.
/// The decode stage reads it here and applies it to the pixels instead.
pub(crate) fn exif_orientation(bytes: &[u8]) -> Option<u16> {
    let mut found = None;
    walk(bytes, |chunk| {
        if &chunk.kind == b"eXIf" && found.is_none() {
            found = Some(super::jpeg::tiff_orientation(chunk.data));
        }
        Ok(())
    })
    .ok()?;
    found.flatten()
}
