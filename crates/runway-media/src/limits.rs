//! Stage 1c: refuse an image before any decoder allocates for it.
//!
//! Limits are checked on the probe result, which costs a few header reads no
//! matter what the header claims: a 40000×40000 PNG of a few kilobytes is
//! rejected without allocating anything proportional to its dimensions.

use crate::{Error, Inspection};

/// Upper bounds for an accepted upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Width × height (of one frame). Default 50 000 000.
    pub max_pixels: u64,
    /// Default 20 000.
    pub max_width: u32,
    /// Default 20 000.
    pub max_height: u32,
    /// Animation frames. Default 1000.
    pub max_frames: u32,
    /// Size of the encoded file. Default 50 MiB.
    pub max_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_pixels: 50_000_000,
            max_width: 20_000,
            max_height: 20_000,
            max_frames: 1000,
            max_bytes: 50 * 1024 * 1024,
        }
    }
}

impl Limits {
    /// Checks the encoded size. Run first: it needs nothing but the length.
    pub fn check_bytes(&self, len: usize) -> Result<(), Error> {
        let bytes = len as u64;
        if bytes > self.max_bytes {
            return Err(Error::TooLarge {
                bytes,
                max: self.max_bytes,
            });
        }
        Ok(())
    }

    /// Checks what the probe found: sides, then pixels, then frames.
    pub fn check(&self, image: &Inspection) -> Result<(), Error> {
        if image.width > self.max_width || image.height > self.max_height {
            return Err(Error::DimensionsTooLarge {
                width: image.width,
                height: image.height,
                max_width: self.max_width,
                max_height: self.max_height,
            });
        }
        let pixels = u64::from(image.width) * u64::from(image.height);
        if pixels > self.max_pixels {
            return Err(Error::TooManyPixels {
                pixels,
                max: self.max_pixels,
            });
        }
        if image.frames > self.max_frames {
            return Err(Error::TooManyFrames {
                frames: image.frames,
                max: self.max_frames,
            });
        }
        Ok(())
    }
}
