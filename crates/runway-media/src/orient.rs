//! Stage 4: apply the EXIF orientation (1..=8) to the decoded pixels, once,
//! so that every variant and the placeholder are upright and nothing
//! downstream (browsers, apps) has to honour a tag the variants no longer
//! carry.

use crate::decode::Pixels;

/// Whether `orientation` swaps width and height (5, 6, 7 and 8).
pub(crate) fn transposes(orientation: u16) -> bool {
    (5..=8).contains(&orientation)
}

/// The stored pixel shown at `(x, y)` of the upright image, for a stored
/// image of `w`×`h`. Orientation semantics follow EXIF 2.32 §4.6.4 (0x0112).
fn source(orientation: u16, x: u32, y: u32, w: u32, h: u32) -> (u32, u32) {
    match orientation {
        2 => (w - 1 - x, y),         // mirrored horizontally
        3 => (w - 1 - x, h - 1 - y), // rotated 180°
        4 => (x, h - 1 - y),         // mirrored vertically
        5 => (y, x),                 // transposed
        6 => (y, h - 1 - x),         // rotated 90° clockwise to display
        7 => (w - 1 - y, h - 1 - x), // transversed
        8 => (w - 1 - y, x),         // rotated 90° anticlockwise to display
        _ => (x, y),
    }
}

/// Returns the upright image. Orientation 1, or anything outside 2..=8,
/// returns the input unchanged.
pub(crate) fn orient(img: Pixels, orientation: u16) -> Pixels {
    if !(2..=8).contains(&orientation) {
        return img;
    }
    let (w, h) = (img.width, img.height);
    let (ow, oh) = if transposes(orientation) {
        (h, w)
    } else {
        (w, h)
    };
    let c = usize::from(img.channels);
    let mut out = vec![0u8; img.data.len()];
    for (y, row) in out.chunks_exact_mut(ow as usize * c).enumerate() {
        for (x, px) in row.chunks_exact_mut(c).enumerate() {
            let (sx, sy) = source(orientation, x as u32, y as u32, w, h);
            let at = (sy as usize * w as usize + sx as usize) * c;
            px.copy_from_slice(&img.data[at..at + c]);
        }
    }
    Pixels {
        width: ow,
        height: oh,
        channels: img.channels,
        data: out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3×2 RGB image whose red channel numbers the pixels 0..6 row by row.
    fn numbered() -> Pixels {
        let data = (0..6u8).flat_map(|i| [i, 0, 0]).collect();
        Pixels::new(3, 2, 3, data).unwrap()
    }

    fn reds(p: &Pixels) -> Vec<u8> {
        p.data.chunks_exact(3).map(|c| c[0]).collect()
    }

    #[test]
    fn every_orientation_maps_pixels_as_exif_says() {
        // Stored:  0 1 2
        //          3 4 5
        let cases: [(u16, (u32, u32), [u8; 6]); 8] = [
            (1, (3, 2), [0, 1, 2, 3, 4, 5]),
            (2, (3, 2), [2, 1, 0, 5, 4, 3]),
            (3, (3, 2), [5, 4, 3, 2, 1, 0]),
            (4, (3, 2), [3, 4, 5, 0, 1, 2]),
            (5, (2, 3), [0, 3, 1, 4, 2, 5]),
            (6, (2, 3), [3, 0, 4, 1, 5, 2]),
            (7, (2, 3), [5, 2, 4, 1, 3, 0]),
            (8, (2, 3), [2, 5, 1, 4, 0, 3]),
        ];
        for (o, dims, expected) in cases {
            let out = orient(numbered(), o);
            assert_eq!((out.width, out.height), dims, "orientation {o}");
            assert_eq!(reds(&out), expected, "orientation {o}");
        }
    }
}
