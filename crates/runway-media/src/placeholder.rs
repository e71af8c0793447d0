//! Stage 7: what a client shows before a variant loads: a ThumbHash (a
//! ~25-byte blurry preview that keeps the aspect ratio and alpha), the
//! dominant colour and the upright dimensions.

use crate::decode::Pixels;
use crate::variants::{plan, resize};
use crate::{Error, Fit};

/// A placeholder for one upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    /// ThumbHash bytes (<https://evanw.github.io/thumbhash/>); clients
    /// usually receive them base64-encoded.
    pub thumbhash: Vec<u8>,
    /// The most common colour, as `#rrggbb`.
    pub dominant_color: String,
    /// Upright width, after EXIF orientation.
    pub width: u32,
    /// Upright height, after EXIF orientation.
    pub height: u32,
}

/// ThumbHash only accepts images of at most 100×100.
const THUMBHASH_MAX: u32 = 100;

/// Builds the placeholder from the upright image `img` (possibly decoded at
/// a reduced scale from the `full`-sized upright original).
pub(crate) fn placeholder(img: &Pixels, full: (u32, u32)) -> Result<Placeholder, Error> {
    let fit = Fit::Within {
        width: THUMBHASH_MAX,
        height: THUMBHASH_MAX,
    };
    let small_plan = plan(fit, img.width, img.height);
    let small = resize(img, (img.width, img.height), &small_plan)?;
    let rgba: Vec<u8> = if small.channels == 4 {
        small.data
    } else {
        small
            .data
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect()
    };
    let (w, h) = (small.width as usize, small.height as usize);
    let thumbhash = thumbhash::rgba_to_thumb_hash(w, h, &rgba);
    let [r, g, b] = dominant(&rgba);
    Ok(Placeholder {
        thumbhash,
        dominant_color: format!("#{r:02x}{g:02x}{b:02x}"),
        width: full.0,
        height: full.1,
    })
}

/// The mean colour of the most populated bucket of a 4-bit-per-channel
/// histogram, weighted by alpha (fully transparent pixels do not count).
/// Falls back to black for a fully transparent image.
fn dominant(rgba: &[u8]) -> [u8; 3] {
    let mut count = vec![0u64; 4096];
    let mut sum = vec![[0u64; 3]; 4096];
    for p in rgba.chunks_exact(4) {
        let a = u64::from(p[3]);
        let bucket =
            usize::from(p[0] >> 4) << 8 | usize::from(p[1] >> 4) << 4 | usize::from(p[2] >> 4);
        count[bucket] += a;
        for (s, &c) in sum[bucket].iter_mut().zip(&p[..3]) {
            *s += u64::from(c) * a;
        }
    }
    let best = (0..4096).max_by_key(|&i| count[i]).unwrap_or(0);
    match count[best] {
        0 => [0, 0, 0],
        n => sum[best].map(|s| ((s + n / 2) / n) as u8),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dominant_colour_is_the_biggest_bucket() {
        let mut rgba = Vec::new();
        for _ in 0..10 {
            rgba.extend_from_slice(&[200, 10, 10, 255]);
        }
        for _ in 0..3 {
            rgba.extend_from_slice(&[0, 0, 250, 255]);
        }
        // Many transparent green pixels count for nothing.
        for _ in 0..50 {
            rgba.extend_from_slice(&[0, 255, 0, 0]);
        }
        assert_eq!(dominant(&rgba), [200, 10, 10]);
        assert_eq!(dominant(&[0, 0, 0, 0]), [0, 0, 0]);
    }
}
