//! GIF: walk the blocks (GIF89a spec §17 onwards) to count image
//! descriptors. Hand-written: the `gif` crate decodes frames to count them.

use super::{Details, Inspection};
use crate::bytes::Cursor;
use crate::{Error, ImageKind};

/// One block of a GIF, in file order.
pub(crate) enum Block<'a> {
    /// Header, logical screen descriptor and global colour table.
    Header { range: std::ops::Range<usize> },
    /// Image descriptor, local colour table and LZW data.
    Image {
        range: std::ops::Range<usize>,
        /// Right and bottom edges of the frame on the canvas.
        right: u32,
        bottom: u32,
    },
    /// An extension: label and the whole block including its sub-blocks.
    Extension {
        label: u8,
        range: std::ops::Range<usize>,
        /// The first sub-block's data (the application identifier for 0xFF).
        first: &'a [u8],
    },
}

fn color_table_len(packed: u8) -> usize {
    if packed & 0x80 == 0 {
        0
    } else {
        3 << ((packed & 0x07) + 1)
    }
}

/// Skips data sub-blocks up to and including the terminator; returns the first one.
fn sub_blocks<'a>(c: &mut Cursor<'a>) -> Result<&'a [u8], Error> {
    let mut first = None;
    loop {
        let n = c.u8()?;
        if n == 0 {
            return Ok(first.unwrap_or(&[]));
        }
        let data = c.take(usize::from(n))?;
        first.get_or_insert(data);
    }
}

/// Walks every block up to the trailer. Returns the offset just past it.
pub(crate) fn walk<'a>(
    bytes: &'a [u8],
    mut visit: impl FnMut(Block<'a>) -> Result<(), Error>,
) -> Result<usize, Error> {
    let mut c = Cursor::new(bytes);
    let version = c.array::<6>()?;
    if &version != b"GIF87a" && &version != b"GIF89a" {
        return Err(Error::UnsupportedType);
    }
    c.skip(4)?;
    let packed = c.u8()?;
    c.skip(2)?;
    c.skip(color_table_len(packed))?;
    visit(Block::Header { range: 0..c.pos() })?;
    loop {
        let start = c.pos();
        match c.u8()? {
            0x3B => return Ok(c.pos()),
            0x2C => {
                let left = u32::from(c.u16_le()?);
                let top = u32::from(c.u16_le()?);
                let width = u32::from(c.u16_le()?);
                let height = u32::from(c.u16_le()?);
                let packed = c.u8()?;
                c.skip(color_table_len(packed))?;
                let min_code_size = c.u8()?;
                if !(1..=11).contains(&min_code_size) {
                    return Err(Error::Corrupt("gif: bad LZW code size"));
                }
                sub_blocks(&mut c)?;
                visit(Block::Image {
                    range: start..c.pos(),
                    right: left + width,
                    bottom: top + height,
                })?;
            }
            0x21 => {
                let label = c.u8()?;
                let first = sub_blocks(&mut c)?;
                visit(Block::Extension {
                    label,
                    range: start..c.pos(),
                    first,
                })?;
            }
            _ => return Err(Error::Corrupt("gif: unknown block")),
        }
    }
}

pub(crate) fn probe(bytes: &[u8]) -> Result<Inspection, Error> {
    let mut c = Cursor::new(bytes);
    let version = c.array::<6>()?;
    let screen_width = u32::from(c.u16_le()?);
    let screen_height = u32::from(c.u16_le()?);
    let (mut width, mut height, mut frames) = (screen_width, screen_height, 0u32);
    walk(bytes, |block| {
        if let Block::Image { right, bottom, .. } = block {
            // Frames may extend past the logical screen; a decoder that
            // honours them needs the larger canvas, so limits see it.
            width = width.max(right);
            height = height.max(bottom);
            frames = frames.saturating_add(1);
        }
        Ok(())
    })?;
    Ok(Inspection {
        kind: ImageKind::Gif,
        width,
        height,
        frames,
        alpha: true,
        orientation: None,
        details: Details::Gif { version },
    })
}
