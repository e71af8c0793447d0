//! HEIF/AVIF: metadata items are overwritten in place, so that no item is
//! relocated and every offset in `iloc` stays valid.
//!
//! Metadata lives in items (ISO/IEC 23008-12 §6.4, Annex A): `iinf` gives
//! each item a type, `iloc` the extents that hold its payload, either as
//! file offsets (construction method 0, in practice inside `mdat`) or as
//! offsets into the `meta` box's `idat` (method 1). Removing an item would
//! move every later payload and rewrite `iloc`; instead the payload bytes are
//! replaced by a payload of exactly the same length:
//!
//! - `Exif` items: a valid Exif block (`exif_tiff_header_offset` 0, then a
//!   big-endian TIFF) that holds nothing but the EXIF orientation when it was
//!   not 1, or an empty IFD0 otherwise; the rest is zeros. (A payload too
//!   short for even that becomes all zeros.)
//! - `mime` items (and version 0/1 `infe` entries, which are MIME items):
//!   XMP (`application/rdf+xml`, not content-encoded) becomes an empty
//!   `x:xmpmeta` element padded with spaces; every other MIME payload (C2PA
//!   manifests, JSON, compressed XMP, ...) becomes zeros. MIME items are never
//!   image data.
//!
//! Image items, properties (`irot`, `imir`, `clap`, `colr`, ...), references
//! and every byte outside the metadata payloads are left untouched, so the
//! image decodes to identical pixels with the same orientation.
//!
//! The rewrite refuses ([`Error::StripUnsupported`]) whatever it cannot
//! scrub with certainty: a metadata item whose data is constructed from
//! another item (method 2) or lives in another file (`data_reference_index`
//! not 0), a metadata extent outside `mdat`/`idat`, an `infe` version it
//! does not know, and image sequences (a top-level `moov`, whose tracks may
//! carry timed metadata). A metadata extent that overlaps another item's
//! data is [`Error::Corrupt`]: scrubbing it would damage the image.
//! `uri ` items and item names are not touched.

use std::ops::Range;

use crate::bytes::Cursor;
use crate::probe::heif::{boxes, full_box};
use crate::probe::jpeg::tiff_orientation;
use crate::strip::minimal_tiff;
use crate::{Error, ImageKind};

/// A big-endian TIFF header and an IFD0 with no entries.
const EMPTY_TIFF: &[u8] = b"MM\0\x2A\0\0\0\x08\0\0\0\0\0\0";
/// An XMP document with no properties.
const EMPTY_XMP: &[u8] = b"<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"/>";
/// More extents than any real file has (a 20000×20000 grid of 256×256 tiles
/// is about 6100 items); bounds the work a crafted `iloc` can cause.
const MAX_EXTENTS: usize = 1 << 20;

/// What a metadata item's payload becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Metadata {
    Exif,
    Xmp,
    /// Any other MIME content: zeroed.
    Mime,
}

/// One `iloc` extent, as stored.
#[derive(Debug, Clone, Copy)]
struct Extent {
    item: u32,
    method: u8,
    data_reference: u16,
    base: u64,
    offset: u64,
    /// 0 means "to the end of the file (method 0) or of `idat` (method 1)".
    length: u64,
}

/// The parts of one `meta` box the rewrite needs.
struct Meta<'a> {
    /// Items that carry metadata, in `iinf` order.
    items: Vec<(u32, Metadata)>,
    iloc: Option<&'a [u8]>,
    /// Absolute range of the `idat` body.
    idat: Option<Range<usize>>,
}

pub(crate) fn strip(bytes: &[u8], kind: ImageKind) -> Result<Vec<u8>, Error> {
    let mut metas = Vec::new();
    let mut mdats = Vec::new();
    for b in boxes(bytes) {
        let b = b?;
        let body = b.body_start..b.body_start + b.body.len();
        match &b.kind {
            b"meta" => metas.push(parse_meta(b.body, b.body_start, kind)?),
            b"mdat" => mdats.push(body),
            b"moov" => return Err(Error::StripUnsupported(kind)),
            _ => {}
        }
    }

    // Where every metadata payload is, in order, and what it becomes.
    let mut scrub: Vec<(u32, Metadata, Vec<Range<usize>>)> = Vec::new();
    for meta in &metas {
        let Some(iloc) = meta.iloc else { continue };
        if meta.items.is_empty() {
            continue;
        }
        walk_iloc(iloc, |e| {
            let Some(&(_, what)) = meta.items.iter().find(|(id, _)| *id == e.item) else {
                return Ok(());
            };
            if e.method > 1 || e.data_reference != 0 {
                return Err(Error::StripUnsupported(kind));
            }
            let range = resolve(&e, bytes.len(), meta.idat.as_ref())?;
            let inside = |r: &Range<usize>| r.start <= range.start && range.end <= r.end;
            let contained = if e.method == 0 {
                mdats.iter().any(inside)
            } else {
                meta.idat.as_ref().is_some_and(inside)
            };
            if !contained {
                return Err(Error::StripUnsupported(kind));
            }
            match scrub.iter_mut().find(|(id, ..)| *id == e.item) {
                Some((.., ranges)) => ranges.push(range),
                None => scrub.push((e.item, what, vec![range])),
            }
            Ok(())
        })?;
    }
    if scrub.is_empty() {
        return Ok(bytes.to_vec());
    }

    // No other item may share a byte with a metadata payload.
    for meta in &metas {
        let Some(iloc) = meta.iloc else { continue };
        walk_iloc(iloc, |e| {
            let is_metadata = meta.items.iter().any(|(id, _)| *id == e.item);
            if is_metadata || e.method > 1 || e.data_reference != 0 {
                return Ok(());
            }
            let Ok(range) = resolve(&e, bytes.len(), meta.idat.as_ref()) else {
                // Not in this file: it cannot overlap anything here.
                return Ok(());
            };
            let overlaps = scrub.iter().flat_map(|(.., r)| r).any(|m| {
                range.start < m.end && m.start < range.end && !range.is_empty() && !m.is_empty()
            });
            if overlaps {
                return Err(Error::Corrupt("heif: a metadata item overlaps image data"));
            }
            Ok(())
        })?;
    }

    let mut out = bytes.to_vec();
    for (_, what, ranges) in &scrub {
        let len = ranges.iter().map(|r| r.len()).sum();
        let old: Vec<u8> = ranges
            .iter()
            .flat_map(|r| bytes.get(r.clone()).unwrap_or_default())
            .copied()
            .collect();
        let new = replacement(*what, &old, len);
        let mut from = 0;
        for r in ranges {
            let part = new.get(from..from + r.len()).ok_or(Error::Truncated)?;
            out.get_mut(r.clone())
                .ok_or(Error::Truncated)?
                .copy_from_slice(part);
            from += r.len();
        }
    }
    Ok(out)
}

/// The payload that replaces `old`, exactly `len` bytes long.
fn replacement(what: Metadata, old: &[u8], len: usize) -> Vec<u8> {
    let (mut new, pad) = match what {
        Metadata::Exif => {
            let mut block = vec![0, 0, 0, 0];
            match exif_orientation(old).filter(|&o| o != 1) {
                Some(o) => block.extend_from_slice(&minimal_tiff(o)),
                None => block.extend_from_slice(EMPTY_TIFF),
            }
            (block, 0)
        }
        Metadata::Xmp => (EMPTY_XMP.to_vec(), b' '),
        Metadata::Mime => (Vec::new(), 0),
    };
    if new.len() > len {
        new.clear();
    }
    new.resize(len, pad);
    new
}

/// The EXIF orientation of a HEIF Exif payload: a 4-byte offset from its
/// end to the TIFF header, then the TIFF structure.
fn exif_orientation(payload: &[u8]) -> Option<u16> {
    let mut c = Cursor::new(payload);
    let skip = usize::try_from(c.u32_be().ok()?).ok()?;
    c.skip(skip).ok()?;
    tiff_orientation(payload.get(c.pos()..)?)
}

fn parse_meta(body: &[u8], body_start: usize, kind: ImageKind) -> Result<Meta<'_>, Error> {
    let (_, _, children) = full_box(body)?;
    let children_start = body_start + 4;
    let (mut iinf, mut iloc, mut idat) = (None, None, None);
    // The first of each box counts, as for libheif.
    for b in boxes(children) {
        let b = b?;
        match &b.kind {
            b"iinf" => {
                iinf.get_or_insert(b.body);
            }
            b"iloc" => {
                iloc.get_or_insert(b.body);
            }
            b"idat" => {
                let start = children_start + b.body_start;
                idat.get_or_insert(start..start + b.body.len());
            }
            _ => {}
        }
    }
    let mut items = Vec::new();
    let mut seen = Vec::new();
    if let Some(iinf) = iinf {
        let (version, _, rest) = full_box(iinf)?;
        let mut c = Cursor::new(rest);
        if version == 0 {
            c.u16_be()?;
        } else {
            c.u32_be()?;
        }
        for b in boxes(rest.get(c.pos()..).unwrap_or_default()) {
            let b = b?;
            if &b.kind != b"infe" {
                continue;
            }
            let (id, what) = infe(b.body, kind)?;
            // One item ID with two entries could be image and metadata at once.
            if seen.contains(&id) {
                return Err(Error::Corrupt("heif: duplicate item ID"));
            }
            seen.push(id);
            if let Some(what) = what {
                items.push((id, what));
            }
        }
    }
    Ok(Meta { items, iloc, idat })
}

/// Reads an `infe` body: the item ID, and what the item's payload becomes
/// if it is metadata.
fn infe(body: &[u8], kind: ImageKind) -> Result<(u32, Option<Metadata>), Error> {
    let (version, _, rest) = full_box(body)?;
    let mut c = Cursor::new(rest);
    match version {
        0 | 1 => {
            let id = u32::from(c.u16_be()?);
            c.skip(2)?; // item_protection_index
            string(&mut c); // item_name
            let content_type = string(&mut c);
            let encoding = string(&mut c);
            Ok((id, Some(mime(content_type, encoding))))
        }
        2 | 3 => {
            let id = if version == 2 {
                u32::from(c.u16_be()?)
            } else {
                c.u32_be()?
            };
            c.skip(2)?; // item_protection_index
            let item_type = c.array::<4>()?;
            string(&mut c); // item_name
            let what = match &item_type {
                b"Exif" => Some(Metadata::Exif),
                b"mime" => {
                    let content_type = string(&mut c);
                    let encoding = string(&mut c);
                    Some(mime(content_type, encoding))
                }
                _ => None,
            };
            Ok((id, what))
        }
        _ => Err(Error::StripUnsupported(kind)),
    }
}

fn mime(content_type: &[u8], encoding: &[u8]) -> Metadata {
    let base = content_type
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    if base.eq_ignore_ascii_case(b"application/rdf+xml") && encoding.is_empty() {
        Metadata::Xmp
    } else {
        Metadata::Mime
    }
}

/// A NUL-terminated string; one that runs to the end of the box (some
/// writers leave out the last NUL) or is missing entirely is accepted.
fn string<'a>(c: &mut Cursor<'a>) -> &'a [u8] {
    let mut ahead = *c;
    let rest = ahead.take(c.remaining()).unwrap_or_default();
    match rest.iter().position(|&b| b == 0) {
        Some(n) => {
            let s = c.take(n).unwrap_or_default();
            let _ = c.skip(1);
            s
        }
        None => c.take(c.remaining()).unwrap_or_default(),
    }
}

/// An unsigned integer of 0, 4 or 8 bytes, as `iloc` sizes its fields.
fn sized(c: &mut Cursor<'_>, size: u8) -> Result<u64, Error> {
    match size {
        0 => Ok(0),
        4 => Ok(u64::from(c.u32_be()?)),
        8 => c.u64_be(),
        _ => Err(Error::Corrupt("heif: bad iloc field size")),
    }
}

/// Calls `visit` for every extent of every item in an `iloc` body
/// (ISO/IEC 14496-12 §8.11.3), in order.
fn walk_iloc(body: &[u8], mut visit: impl FnMut(Extent) -> Result<(), Error>) -> Result<(), Error> {
    let (version, _, rest) = full_box(body)?;
    if version > 2 {
        return Err(Error::Corrupt("heif: unknown iloc version"));
    }
    let mut c = Cursor::new(rest);
    let sizes = c.u16_be()?;
    let [offset_size, length_size, base_size, index_size] =
        [12, 8, 4, 0].map(|shift| ((sizes >> shift) & 0x0F) as u8);
    let count = if version < 2 {
        u32::from(c.u16_be()?)
    } else {
        c.u32_be()?
    };
    let mut visited = 0usize;
    for _ in 0..count {
        let item = if version < 2 {
            u32::from(c.u16_be()?)
        } else {
            c.u32_be()?
        };
        let method = if version == 0 {
            0
        } else {
            (c.u16_be()? & 0x0F) as u8
        };
        let data_reference = c.u16_be()?;
        let base = sized(&mut c, base_size)?;
        let extents = c.u16_be()?;
        for _ in 0..extents {
            if version > 0 {
                sized(&mut c, index_size)?;
            }
            let offset = sized(&mut c, offset_size)?;
            let length = sized(&mut c, length_size)?;
            visited += 1;
            if visited > MAX_EXTENTS {
                return Err(Error::Corrupt("heif: too many iloc extents"));
            }
            visit(Extent {
                item,
                method,
                data_reference,
                base,
                offset,
                length,
            })?;
        }
    }
    Ok(())
}

/// The absolute byte range of a method 0 (file) or 1 (`idat`) extent.
fn resolve(
    e: &Extent,
    file_len: usize,
    idat: Option<&Range<usize>>,
) -> Result<Range<usize>, Error> {
    const OUTSIDE: Error = Error::Corrupt("heif: item extent outside its container");
    let container = match e.method {
        0 => 0..file_len,
        1 => idat
            .cloned()
            .ok_or(Error::Corrupt("heif: idat item without idat"))?,
        _ => return Err(Error::Corrupt("heif: unsupported construction method")),
    };
    let start = (container.start as u64)
        .checked_add(e.base)
        .and_then(|s| s.checked_add(e.offset))
        .ok_or(OUTSIDE)?;
    let end = if e.length == 0 {
        container.end as u64
    } else {
        start.checked_add(e.length).ok_or(OUTSIDE)?
    };
    if start > end || end > container.end as u64 {
        return Err(OUTSIDE);
    }
    // Both fit in a usize: they are at most `container.end`.
    Ok(start as usize..end as usize)
}
