//! Stages 5 and 6: resize the upright image into each preset's size with a
//! Lanczos3 filter (`fast_image_resize`, SIMD) and encode it without any
//! metadata. Variants are independent, so they are produced in parallel on
//! scoped threads when more than one core is available, unless the caller
//! caps the threads ([`Options::max_threads`](crate::Options::max_threads)).

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use crate::decode::Pixels;
use crate::{Error, Fit, Format, Preset};

/// Where a variant comes from and how big it is, in the coordinates of the
/// full-resolution upright image (so the plan does not depend on the DCT
/// scale the decoder picked).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Plan {
    /// Output size.
    pub(crate) width: u32,
    pub(crate) height: u32,
    /// The source rectangle: left, top, width, height.
    pub(crate) crop: (f64, f64, f64, f64),
    /// The size the whole upright image is scaled to before cropping: what
    /// the decoder must at least deliver.
    pub(crate) scaled: (u32, u32),
}

/// `a * b / c`, rounded to nearest, at least 1.
fn mul_div_round(a: u32, b: u32, c: u32) -> u32 {
    let (a, b, c) = (u64::from(a), u64::from(b), u64::from(c.max(1)));
    ((a * b * 2 + c) / (2 * c)).clamp(1, u64::from(u32::MAX)) as u32
}

/// Plans one variant of a `w`×`h` upright image.
pub(crate) fn plan(fit: Fit, w: u32, h: u32) -> Plan {
    let full = (0.0, 0.0, f64::from(w), f64::from(h));
    match fit {
        Fit::Within {
            width: bw,
            height: bh,
        } => {
            let (width, height) = if w <= bw && h <= bh {
                (w, h)
            } else if u64::from(w) * u64::from(bh) >= u64::from(h) * u64::from(bw) {
                (bw, mul_div_round(h, bw, w))
            } else {
                (mul_div_round(w, bh, h), bh)
            };
            Plan {
                width,
                height,
                crop: full,
                scaled: (width, height),
            }
        }
        Fit::Cover {
            width: bw,
            height: bh,
        } => {
            if w >= bw && h >= bh {
                // Scale so the box is covered, then crop the centre.
                let r = (f64::from(bw) / f64::from(w)).max(f64::from(bh) / f64::from(h));
                let (cw, ch) = (
                    (f64::from(bw) / r).min(f64::from(w)),
                    (f64::from(bh) / r).min(f64::from(h)),
                );
                let scaled = (
                    ((f64::from(w) * r).ceil() as u32).clamp(bw, w),
                    ((f64::from(h) * r).ceil() as u32).clamp(bh, h),
                );
                Plan {
                    width: bw,
                    height: bh,
                    crop: ((f64::from(w) - cw) / 2.0, (f64::from(h) - ch) / 2.0, cw, ch),
                    scaled,
                }
            } else {
                // Never upscale: crop the centre to at most the box.
                let (cw, ch) = (w.min(bw), h.min(bh));
                Plan {
                    width: cw,
                    height: ch,
                    crop: (
                        f64::from((w - cw) / 2),
                        f64::from((h - ch) / 2),
                        f64::from(cw),
                        f64::from(ch),
                    ),
                    scaled: (w, h),
                }
            }
        }
    }
}

/// One encoded variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// The preset's name.
    pub name: String,
    pub width: u32,
    pub height: u32,
    /// `image/webp` or `image/jpeg`.
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

fn pixel_type(channels: u8) -> PixelType {
    if channels == 4 {
        PixelType::U8x4
    } else {
        PixelType::U8x3
    }
}

/// Resizes `img` (the upright image, possibly decoded at a reduced scale
/// from a `full`-sized original) to `plan`'s size and crop.
pub(crate) fn resize(img: &Pixels, full: (u32, u32), plan: &Plan) -> Result<Pixels, Error> {
    let failed = |e: &dyn std::fmt::Display| Error::EncodeFailed(format!("resize: {e}"));
    let pt = pixel_type(img.channels);
    let src = ImageRef::new(img.width, img.height, &img.data, pt).map_err(|e| failed(&e))?;
    let (sx, sy) = (
        f64::from(img.width) / f64::from(full.0.max(1)),
        f64::from(img.height) / f64::from(full.1.max(1)),
    );
    let (left, top, cw, ch) = plan.crop;
    let (left, top) = (left * sx, top * sy);
    let (cw, ch) = (
        (cw * sx).min(f64::from(img.width) - left),
        (ch * sy).min(f64::from(img.height) - top),
    );
    let mut dst = Image::new(plan.width, plan.height, pt);
    let options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
        .crop(left, top, cw, ch);
    Resizer::new()
        .resize(&src, &mut dst, &options)
        .map_err(|e| failed(&e))?;
    Pixels::new(plan.width, plan.height, img.channels, dst.into_vec())
}

/// Encodes `img` with no metadata of any kind.
pub(crate) fn encode(img: &Pixels, format: Format) -> Result<Vec<u8>, Error> {
    match format {
        Format::WebP { quality } => {
            let encoder = if img.channels == 4 {
                webp::Encoder::from_rgba(&img.data, img.width, img.height)
            } else {
                webp::Encoder::from_rgb(&img.data, img.width, img.height)
            };
            let memory = encoder
                .encode_simple(false, f32::from(quality))
                .map_err(|e| Error::EncodeFailed(format!("webp: {e:?}")))?;
            Ok(memory.to_vec())
        }
        Format::Jpeg { quality } => {
            let rgb: Vec<u8>;
            let data = if img.channels == 4 {
                // JPEG has no alpha: composite onto white.
                rgb = img
                    .data
                    .chunks_exact(4)
                    .flat_map(|p| {
                        let a = u16::from(p[3]);
                        let over = |c: u8| ((u16::from(c) * a + 255 * (255 - a) + 127) / 255) as u8;
                        [over(p[0]), over(p[1]), over(p[2])]
                    })
                    .collect();
                &rgb
            } else {
                &img.data
            };
            let mut out = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
                .encode(data, img.width, img.height, image::ExtendedColorType::Rgb8)
                .map_err(|e| Error::EncodeFailed(format!("jpeg: {e}")))?;
            Ok(out)
        }
    }
}

fn make(img: &Pixels, full: (u32, u32), preset: &Preset) -> Result<Variant, Error> {
    let plan = plan(preset.fit, full.0, full.1);
    let resized = if (img.width, img.height) == (plan.width, plan.height)
        && plan.crop == (0.0, 0.0, f64::from(full.0), f64::from(full.1))
    {
        None
    } else {
        Some(resize(img, full, &plan)?)
    };
    let bytes = encode(resized.as_ref().unwrap_or(img), preset.format)?;
    Ok(Variant {
        name: preset.name.clone(),
        width: plan.width,
        height: plan.height,
        content_type: preset.format.content_type(),
        bytes,
    })
}

/// Produces every preset's variant from the upright image `img`, which may
/// be smaller than the `full`-sized upright original. Uses up to
/// `max_threads` threads (0 counts as 1), never more than there are presets;
/// with one, everything runs on the calling thread, otherwise on scoped
/// threads. The result is in preset order and does not depend on the number
/// of threads.
pub(crate) fn make_all(
    img: &Pixels,
    full: (u32, u32),
    presets: &[Preset],
    max_threads: usize,
) -> Result<Vec<Variant>, Error> {
    let workers = max_threads.min(presets.len());
    if workers <= 1 {
        return presets.iter().map(|p| make(img, full, p)).collect();
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<Variant, Error>>>> = Mutex::new(vec![None; presets.len()]);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(preset) = presets.get(i) else { break };
                    let result = make(img, full, preset);
                    if let Ok(mut slots) = results.lock() {
                        slots[i] = Some(result);
                    }
                }
            });
        }
    });
    results
        .into_inner()
        .map_err(|_| Error::EncodeFailed("a worker thread failed".into()))?
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(Error::EncodeFailed("a worker thread failed".into()))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_keeps_aspect_and_never_upscales() {
        let large = Fit::Within {
            width: 1440,
            height: 1440,
        };
        let p = plan(large, 1170, 2532);
        assert_eq!((p.width, p.height), (665, 1440));
        let p = plan(large, 3024, 4032);
        assert_eq!((p.width, p.height), (1080, 1440));
        let p = plan(large, 800, 600);
        assert_eq!((p.width, p.height), (800, 600));
    }

    #[test]
    fn cover_crops_the_centre() {
        let thumb = Fit::Cover {
            width: 256,
            height: 256,
        };
        let p = plan(thumb, 1024, 512);
        assert_eq!((p.width, p.height), (256, 256));
        assert_eq!(p.crop, (256.0, 0.0, 512.0, 512.0));
        assert_eq!(p.scaled, (512, 256));
        // Smaller than the box on one side: cropped, not scaled.
        let p = plan(thumb, 200, 400);
        assert_eq!((p.width, p.height), (200, 256));
        assert_eq!(p.crop, (0.0, 72.0, 200.0, 256.0));
    }
}
