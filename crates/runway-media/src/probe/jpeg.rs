//! JPEG: walk the marker segments (ITU T.81 B.1). `img-parts` was considered
//! for this and for stripping, but it silently skips bytes that are not
//! markers between segments; runway wants one strict walker that rejects
//! such files, shared by probe and strip.

use super::{Details, Inspection, JpegColor, JpegProcess};
use crate::bytes::Cursor;
use crate::{Error, ImageKind};

/// One piece of a JPEG file, in file order, with its byte range.
pub(crate) enum Part<'a> {
    /// A marker segment with a length: `FF xx len payload`.
    Segment {
        marker: u8,
        range: std::ops::Range<usize>,
        payload: &'a [u8],
    },
    /// A marker without a length (TEM, RSTn outside a scan).
    Standalone { range: std::ops::Range<usize> },
    /// Entropy-coded data after an SOS segment.
    Entropy { range: std::ops::Range<usize> },
}

pub(crate) const SOS: u8 = 0xDA;
const EOI: u8 = 0xD9;

pub(crate) fn is_sof(marker: u8) -> bool {
    matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC)
}

/// Walks SOI .. EOI, calling `visit` for every part. Returns the offset just
/// past EOI (anything after it is trailing data).
pub(crate) fn walk<'a>(
    data: &'a [u8],
    mut visit: impl FnMut(Part<'a>) -> Result<(), Error>,
) -> Result<usize, Error> {
    let mut c = Cursor::new(data);
    if c.array::<2>()? != [0xFF, 0xD8] {
        return Err(Error::UnsupportedType);
    }
    let (mut seen_sof, mut seen_sos) = (false, false);
    loop {
        let start = c.pos();
        if c.u8()? != 0xFF {
            return Err(Error::Corrupt("jpeg: expected a marker"));
        }
        let marker = loop {
            let b = c.u8()?;
            if b != 0xFF {
                break b;
            }
        };
        match marker {
            EOI if seen_sos => return Ok(c.pos()),
            EOI => return Err(Error::Corrupt("jpeg: no image data")),
            // 0x02..=0xBF are reserved; no encoder writes them.
            0x00 | 0x02..=0xBF | 0xD8 => return Err(Error::Corrupt("jpeg: unexpected marker")),
            0x01 | 0xD0..=0xD7 => visit(Part::Standalone {
                range: start..c.pos(),
            })?,
            _ => {
                let len = c.u16_be()?;
                let payload = c.take(
                    usize::from(len)
                        .checked_sub(2)
                        .ok_or(Error::Corrupt("jpeg: bad length"))?,
                )?;
                if is_sof(marker) {
                    seen_sof = true;
                }
                visit(Part::Segment {
                    marker,
                    range: start..c.pos(),
                    payload,
                })?;
                if marker == SOS {
                    if !seen_sof {
                        return Err(Error::Corrupt("jpeg: scan before frame header"));
                    }
                    seen_sos = true;
                    let begin = c.pos();
                    let end = entropy_end(data, begin)?;
                    visit(Part::Entropy { range: begin..end })?;
                    c = Cursor::at(data, end);
                }
            }
        }
    }
}

/// Finds the first marker after entropy-coded data starting at `from`: an
/// `FF` not followed by a stuffed `00`, an RSTn or another fill `FF`.
fn entropy_end(data: &[u8], from: usize) -> Result<usize, Error> {
    let mut i = from;
    loop {
        let rest = data.get(i..).ok_or(Error::Truncated)?;
        let ff = rest
            .iter()
            .position(|&b| b == 0xFF)
            .ok_or(Error::Truncated)?;
        i += ff;
        match data.get(i + 1) {
            None => return Err(Error::Truncated),
            Some(0x00 | 0xD0..=0xD7) => i += 2,
            Some(0xFF) => i += 1,
            Some(_) => return Ok(i),
        }
    }
}

/// Reads the EXIF orientation from an APP1 payload, if it is EXIF and valid.
pub(crate) fn exif_orientation(app1: &[u8]) -> Option<u16> {
    tiff_orientation(app1.strip_prefix(b"Exif\0\0")?)
}

/// Reads a valid EXIF orientation from a TIFF structure (the body of a JPEG
/// APP1 after `Exif\0\0`, a PNG `eXIf` chunk or a WebP `EXIF` chunk).
pub(crate) fn tiff_orientation(tiff: &[u8]) -> Option<u16> {
    let exif = exif::Reader::new().read_raw(tiff.to_vec()).ok()?;
    let field = exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY)?;
    let value = u16::try_from(field.value.get_uint(0)?).ok()?;
    (1..=8).contains(&value).then_some(value)
}

pub(crate) fn probe(data: &[u8]) -> Result<Inspection, Error> {
    let mut frame: Option<(JpegProcess, u16, u16, u8)> = None;
    let mut orientation = None;
    let mut seen_exif = false;
    let mut adobe_transform = None;
    walk(data, |part| {
        let Part::Segment {
            marker, payload, ..
        } = part
        else {
            return Ok(());
        };
        match marker {
            m if is_sof(m) && frame.is_none() => {
                let mut c = Cursor::new(payload);
                let _precision = c.u8()?;
                let height = c.u16_be()?;
                let width = c.u16_be()?;
                let components = c.u8()?;
                if payload.len() != 6 + 3 * usize::from(components) {
                    return Err(Error::Corrupt("jpeg: bad frame header length"));
                }
                let process = match m & 0x03 {
                    0 if m == 0xC0 => JpegProcess::Baseline,
                    0 | 1 => JpegProcess::Sequential,
                    2 => JpegProcess::Progressive,
                    _ => JpegProcess::Lossless,
                };
                frame = Some((process, width, height, components));
            }
            0xE1 if !seen_exif && payload.starts_with(b"Exif\0\0") => {
                seen_exif = true;
                orientation = exif_orientation(payload);
            }
            0xEE if payload.starts_with(b"Adobe") && payload.len() >= 12 => {
                adobe_transform = Some(payload[11]);
            }
            _ => {}
        }
        Ok(())
    })?;
    let (process, width, height, components) =
        frame.ok_or(Error::Corrupt("jpeg: no frame header"))?;
    let color = match (components, adobe_transform) {
        (1, _) => JpegColor::Grey,
        (3, Some(0)) => JpegColor::Rgb,
        (3, _) => JpegColor::YCbCr,
        (4, Some(2)) => JpegColor::Ycck,
        (4, _) => JpegColor::Cmyk,
        _ => return Err(Error::Corrupt("jpeg: unsupported component count")),
    };
    Ok(Inspection {
        kind: ImageKind::Jpeg,
        width: u32::from(width),
        height: u32::from(height),
        frames: 1,
        alpha: false,
        orientation,
        details: Details::Jpeg { process, color },
    })
}

/// The sample precision (bits) of the first frame header, for the decoder.
pub(crate) fn precision(data: &[u8]) -> Option<u8> {
    let mut found = None;
    walk(data, |part| {
        if let Part::Segment {
            marker, payload, ..
        } = part
            && is_sof(marker)
            && found.is_none()
        {
            found = payload.first().copied();
        }
        Ok(())
    })
    .ok()?;
    found
}
