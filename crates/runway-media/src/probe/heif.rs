//! HEIF/AVIF: walk the ISO-BMFF boxes (ISO/IEC 14496-12, 23008-12) to find
//! the primary item (`pitm`) and its `ispe`, `irot` and `imir` properties via
//! `ipma`. Hand-written: the few boxes needed are fixed-layout, and the
//! crates that parse HEIF (libheif bindings) are C decoders.

use super::{Details, Inspection};
use crate::bytes::Cursor;
use crate::{Error, ImageKind};

/// One box: its type and its body.
pub(crate) struct Bx<'a> {
    pub(crate) kind: [u8; 4],
    /// Where `body` starts in the data the box was read from.
    pub(crate) body_start: usize,
    pub(crate) body: &'a [u8],
}

/// Reads the boxes in `data` one after the other.
pub(crate) fn boxes(data: &[u8]) -> impl Iterator<Item = Result<Bx<'_>, Error>> {
    let mut c = Cursor::new(data);
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed || c.remaining() == 0 {
            return None;
        }
        let next = (|| {
            let start = c.pos();
            let size = c.u32_be()?;
            let kind = c.array::<4>()?;
            let size = match size {
                0 => (data.len() - start) as u64,
                1 => c.u64_be()?,
                n => u64::from(n),
            };
            let header = (c.pos() - start) as u64;
            let body_len = size
                .checked_sub(header)
                .ok_or(Error::Corrupt("heif: bad box size"))?;
            let body_start = c.pos();
            let body = c.take(usize::try_from(body_len).map_err(|_| Error::Truncated)?)?;
            Ok(Bx {
                kind,
                body_start,
                body,
            })
        })();
        failed = next.is_err();
        Some(next)
    })
}

fn find<'a>(data: &'a [u8], kind: &[u8; 4]) -> Result<Option<&'a [u8]>, Error> {
    for b in boxes(data) {
        let b = b?;
        if &b.kind == kind {
            return Ok(Some(b.body));
        }
    }
    Ok(None)
}

/// Splits a FullBox body into (version, flags, rest).
pub(crate) fn full_box(body: &[u8]) -> Result<(u8, u32, &[u8]), Error> {
    let mut c = Cursor::new(body);
    let vf = c.u32_be()?;
    Ok((
        (vf >> 24) as u8,
        vf & 0x00FF_FFFF,
        body.get(4..).unwrap_or(&[]),
    ))
}

pub(crate) fn probe(bytes: &[u8], kind: ImageKind) -> Result<Inspection, Error> {
    // Walk the whole top level, so a truncated `mdat` is caught here.
    let mut meta = None;
    for b in boxes(bytes) {
        let b = b?;
        if &b.kind == b"meta" && meta.is_none() {
            meta = Some(b.body);
        }
    }
    let (_, _, meta) = full_box(meta.ok_or(Error::Corrupt("heif: no meta box"))?)?;
    let (version, _, pitm) =
        full_box(find(meta, b"pitm")?.ok_or(Error::Corrupt("heif: no pitm"))?)?;
    let mut c = Cursor::new(pitm);
    let primary = if version == 0 {
        u32::from(c.u16_be()?)
    } else {
        c.u32_be()?
    };
    let iprp = find(meta, b"iprp")?.ok_or(Error::Corrupt("heif: no iprp"))?;
    let ipco = find(iprp, b"ipco")?.ok_or(Error::Corrupt("heif: no ipco"))?;

    // Property indices (1-based into ipco) associated with the primary item.
    let mut indices = Vec::new();
    for b in boxes(iprp) {
        let b = b?;
        if &b.kind != b"ipma" {
            continue;
        }
        let (version, flags, body) = full_box(b.body)?;
        let mut c = Cursor::new(body);
        let entries = c.u32_be()?;
        for _ in 0..entries {
            let item = if version < 1 {
                u32::from(c.u16_be()?)
            } else {
                c.u32_be()?
            };
            let count = c.u8()?;
            for _ in 0..count {
                let index = if flags & 1 == 1 {
                    c.u16_be()? & 0x7FFF
                } else {
                    u16::from(c.u8()? & 0x7F)
                };
                if item == primary && index != 0 && indices.len() < 256 {
                    indices.push(usize::from(index));
                }
            }
        }
    }

    let (mut size, mut rotation, mut mirror) = (None, None, None);
    for (i, b) in boxes(ipco).enumerate() {
        let b = b?;
        if !indices.contains(&(i + 1)) {
            continue;
        }
        match &b.kind {
            b"ispe" if size.is_none() => {
                let (_, _, body) = full_box(b.body)?;
                let mut c = Cursor::new(body);
                size = Some((c.u32_be()?, c.u32_be()?));
            }
            b"irot" => rotation = Some(u16::from(Cursor::new(b.body).u8()? & 0x03) * 90),
            b"imir" => mirror = Some(Cursor::new(b.body).u8()? & 0x01),
            _ => {}
        }
    }
    let (width, height) = size.ok_or(Error::Corrupt("heif: primary item has no ispe"))?;
    Ok(Inspection {
        kind,
        width,
        height,
        frames: 1,
        alpha: false,
        orientation: None,
        details: Details::Heif { rotation, mirror },
    })
}
