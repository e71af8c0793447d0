//! Stage 3: decode once, into a bounded 8-bit sRGB buffer.
//!
//! Only ever called on an [`Inspection`] that passed [`Limits`](crate::Limits),
//! and every decoder gets its own explicit bound derived from the inspected
//! dimensions, so a file whose pixel data disagrees with its headers fails
//! instead of allocating more than the headers promised.
//!
//! - JPEG goes through `jpeg-decoder` (pure Rust), which can scale in the DCT
//!   domain while decoding (shrink-on-load by 1/2, 1/4 or 1/8). The largest
//!   factor is chosen that still leaves at least as many pixels as the
//!   biggest variant needs. Grey becomes RGB; CMYK and YCCK (which the
//!   decoder already returns as plain, non-inverted CMYK, undoing the Adobe
//!   inversion) become RGB by `(255 - C)(255 - K) / 255`; lossless 9–16 bit
//!   grey is reduced to 8 bits.
//! - PNG, WebP and GIF go through `image` with `image::Limits` set (it has
//!   no default bound). 16-bit, palette and grey become 8-bit RGB, or RGBA
//!   when the image has an alpha channel. GIF and animated WebP/APNG give
//!   their first frame.
//!
//! - HEIC/HEIF goes through libheif (built from source, HEVC via the
//!   system libde265), with the context's security limits lowered to the
//!   inspected size. libheif applies `irot`, `imir` and `clap` while
//!   decoding, so the result is already upright: no EXIF orientation is
//!   applied on top. The primary image becomes 8-bit RGB, or RGBA when it
//!   has an alpha channel. AVIF goes the same way: libheif decodes AV1 with
//!   the system's dav1d when it was found at build time (`libdav1d-dev`, see
//!   `scripts/install-deps`); a build without it returns
//!   `Error::DecodeUnsupported` for AVIF.
//!
//! Each decoder also reports the colour profile the file declares (JPEG
//! `APP2 ICC_PROFILE`, PNG `iCCP`, WebP `ICCP`, HEIF `colr`), and the
//! pixels are converted from it to sRGB once, right here (see `color`).

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

use crate::color::{self, Profile};
use crate::{Details, Error, ImageKind, Inspection, JpegProcess, probe};

/// An 8-bit image: RGB (`channels == 3`) or RGBA (`channels == 4`), rows
/// top to bottom, no padding.
#[derive(Debug, Clone)]
pub(crate) struct Pixels {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) channels: u8,
    pub(crate) data: Vec<u8>,
}

impl Pixels {
    pub(crate) fn new(width: u32, height: u32, channels: u8, data: Vec<u8>) -> Result<Self, Error> {
        let expected = (width as usize)
            .checked_mul(height as usize)
            .and_then(|n| n.checked_mul(usize::from(channels)));
        if expected != Some(data.len()) {
            return Err(Error::DecodeFailed(
                "pixel buffer has the wrong size".into(),
            ));
        }
        Ok(Pixels {
            width,
            height,
            channels,
            data,
        })
    }
}

/// What the decoder produced, and the DCT scale denominator it used (1, 2,
/// 4 or 8; always 1 for formats other than JPEG).
pub(crate) struct Decoded {
    pub(crate) pixels: Pixels,
    pub(crate) scale: u8,
}

/// Decodes `bytes`, which `info` describes, into sRGB pixels. `need` is the
/// smallest size, in stored (unoriented) pixels, that the variants need;
/// JPEG decoding may shrink to it.
pub(crate) fn decode(bytes: &[u8], info: &Inspection, need: (u32, u32)) -> Result<Decoded, Error> {
    // The decoders (and the colour conversion) are third-party code: a panic
    // in one must still end as a typed error, never take the worker down.
    let run = || {
        let (mut decoded, profile) = match info.kind {
            ImageKind::Jpeg => decode_jpeg(bytes, info, need),
            ImageKind::Png => decode_image(bytes, info, image::ImageFormat::Png),
            ImageKind::WebP => decode_image(bytes, info, image::ImageFormat::WebP),
            ImageKind::Gif => decode_image(bytes, info, image::ImageFormat::Gif),
            ImageKind::Heif | ImageKind::Avif => decode_heif(bytes, info),
        }?;
        if let Some(profile) = profile {
            color::to_srgb(&mut decoded.pixels, &profile);
        }
        Ok(decoded)
    };
    let decoded = catch_unwind(AssertUnwindSafe(run))
        .map_err(|_| Error::DecodeFailed("decoder panicked".into()))??;
    Ok(decoded)
}

/// The largest DCT shrink (8, 4, 2 or 1) after which a `width`×`height`
/// image is still at least `need` on both sides.
pub(crate) fn jpeg_scale(width: u32, height: u32, need: (u32, u32)) -> u8 {
    [8u8, 4, 2]
        .into_iter()
        .find(|&d| {
            width.div_ceil(u32::from(d)) >= need.0 && height.div_ceil(u32::from(d)) >= need.1
        })
        .unwrap_or(1)
}

/// A decoder's output and the colour profile the file declares, if any.
type WithProfile = (Decoded, Option<Profile>);

fn decode_jpeg(bytes: &[u8], info: &Inspection, need: (u32, u32)) -> Result<WithProfile, Error> {
    let failed = |e: jpeg_decoder::Error| Error::DecodeFailed(format!("jpeg: {e}"));
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    // The output buffer for the inspected size (4 bytes per pixel at most,
    // or 2 for 16-bit grey), plus room for the decoder's working planes.
    let pixels = u64::from(info.width) * u64::from(info.height);
    let bound =
        usize::try_from(pixels.saturating_mul(4).saturating_add(1 << 20)).unwrap_or(usize::MAX);
    decoder.set_max_decoding_buffer_size(bound);
    decoder.read_info().map_err(failed)?;
    let header = decoder
        .info()
        .ok_or_else(|| Error::DecodeFailed("jpeg: no frame header".into()))?;
    if (u32::from(header.width), u32::from(header.height)) != (info.width, info.height) {
        return Err(Error::DecodeFailed(
            "jpeg: frame size differs from the header".into(),
        ));
    }
    // Lossless JPEG is not DCT-coded, so it cannot shrink while decoding.
    let lossless = matches!(
        info.details,
        Details::Jpeg {
            process: JpegProcess::Lossless,
            ..
        }
    );
    let mut scale = if lossless {
        1
    } else {
        jpeg_scale(info.width, info.height, need)
    };
    let (mut width, mut height) = (info.width, info.height);
    if scale > 1 {
        let d = u32::from(scale);
        // Both fit in u16: they are at most the JPEG's own u16 dimensions.
        let (w, h) = (
            u16::try_from(info.width.div_ceil(d)).unwrap_or(u16::MAX),
            u16::try_from(info.height.div_ceil(d)).unwrap_or(u16::MAX),
        );
        let (sw, sh) = decoder.scale(w, h).map_err(failed)?;
        (width, height) = (u32::from(sw), u32::from(sh));
        scale = [8u8, 4, 2, 1]
            .into_iter()
            .find(|&d| info.width.div_ceil(u32::from(d)) == width)
            .unwrap_or(1);
    }
    let data = decoder.decode().map_err(failed)?;
    let profile = decoder.icc_profile().map(Profile::Icc);
    let pixels = width as usize * height as usize;
    use jpeg_decoder::PixelFormat;
    let rgb = match header.pixel_format {
        PixelFormat::L8 if data.len() == pixels => grey_to_rgb(&data),
        PixelFormat::L16 if data.len() == pixels * 2 => {
            let shift = probe::jpeg::precision(bytes).unwrap_or(16).clamp(8, 16) - 8;
            let grey: Vec<u8> = data
                .chunks_exact(2)
                .map(|c| (u16::from_ne_bytes([c[0], c[1]]) >> shift).min(255) as u8)
                .collect();
            grey_to_rgb(&grey)
        }
        PixelFormat::RGB24 if data.len() == pixels * 3 => data,
        PixelFormat::CMYK32 if data.len() == pixels * 4 => data
            .chunks_exact(4)
            .flat_map(|p| {
                let k = 255 - u16::from(p[3]);
                let ink = |c: u8| ((255 - u16::from(c)) * k / 255) as u8;
                [ink(p[0]), ink(p[1]), ink(p[2])]
            })
            .collect(),
        _ => {
            return Err(Error::DecodeFailed(
                "jpeg: unsupported sample format".into(),
            ));
        }
    };
    let decoded = Decoded {
        pixels: Pixels::new(width, height, 3, rgb)?,
        scale,
    };
    Ok((decoded, profile))
}

fn grey_to_rgb(grey: &[u8]) -> Vec<u8> {
    grey.iter().flat_map(|&g| [g, g, g]).collect()
}

fn decode_image(
    bytes: &[u8],
    info: &Inspection,
    format: image::ImageFormat,
) -> Result<WithProfile, Error> {
    use image::ImageDecoder;
    let failed = |e: image::ImageError| Error::DecodeFailed(format!("{format:?}: {e}"));
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(info.width);
    limits.max_image_height = Some(info.height);
    // The decoded frame at up to 16 bits per RGBA channel, plus slack for
    // the decoders' own buffers.
    let frame = u64::from(info.width) * u64::from(info.height) * 8;
    limits.max_alloc = Some(frame.saturating_add(16 << 20));
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits.clone());
    let mut decoder = reader.into_decoder().map_err(failed)?;
    // What `ImageReader::decode` checks before decoding.
    limits.reserve(decoder.total_bytes()).map_err(failed)?;
    // A profile that cannot be read is ignored, as an unusable one is.
    let profile = decoder.icc_profile().ok().flatten().map(Profile::Icc);
    let img = image::DynamicImage::from_decoder(decoder).map_err(failed)?;
    if (img.width(), img.height()) != (info.width, info.height) {
        return Err(Error::DecodeFailed(format!(
            "{format:?}: decoded size differs from the header"
        )));
    }
    let (channels, data) = if img.color().has_alpha() {
        (4, img.into_rgba8().into_raw())
    } else {
        (3, img.into_rgb8().into_raw())
    };
    let decoded = Decoded {
        pixels: Pixels::new(info.width, info.height, channels, data)?,
        scale: 1,
    };
    Ok((decoded, profile))
}

/// libheif's global state: initialised once, never torn down (a
/// `heif_deinit` racing another thread's decode would be unsound).
fn libheif() -> &'static libheif_rs::LibHeif {
    static LIBHEIF: OnceLock<libheif_rs::LibHeif> = OnceLock::new();
    LIBHEIF.get_or_init(libheif_rs::LibHeif::new)
}

/// Decodes the primary image of a HEIF file, upright (libheif applies the
/// `irot`/`imir`/`clap` transforms itself).
fn decode_heif(bytes: &[u8], info: &Inspection) -> Result<WithProfile, Error> {
    use libheif_rs::{ColorSpace, CompressionFormat, HeifContext, RgbChroma};
    let failed = |e: libheif_rs::HeifError| Error::DecodeFailed(format!("heif: {e}"));
    let lib = libheif();
    if info.kind == ImageKind::Avif
        && lib
            .decoder_descriptors(1, Some(CompressionFormat::Av1))
            .is_empty()
    {
        return Err(Error::DecodeUnsupported(info.kind));
    }
    let mut ctx = HeifContext::new().map_err(failed)?;
    // Stage 2 accepted the primary item's `ispe`; nothing libheif allocates
    // for may be larger. Total memory: the coded planes, the RGBA output and
    // the conversion buffers, with slack for the HEVC decoder.
    let pixels = u64::from(info.width) * u64::from(info.height);
    let mut limits = ctx.security_limits();
    limits.set_max_image_size_pixels(pixels.max(1));
    limits.set_max_total_memory(pixels.saturating_mul(16).saturating_add(256 << 20));
    ctx.set_security_limits(&limits).map_err(failed)?;
    ctx.read_bytes(bytes).map_err(failed)?;
    let handle = ctx.primary_image_handle().map_err(failed)?;
    // Upright size: `ispe` is the stored size, turned by a quarter-turn
    // `irot`; `clap` may only make it smaller.
    let (width, height) = (handle.width(), handle.height());
    if width == 0 || height == 0 || u64::from(width) * u64::from(height) > pixels {
        return Err(Error::DecodeFailed(
            "heif: image size disagrees with the header".into(),
        ));
    }
    let profile = heif_profile(&handle);
    let (chroma, channels) = if handle.has_alpha_channel() {
        (RgbChroma::Rgba, 4u8)
    } else {
        (RgbChroma::Rgb, 3u8)
    };
    let image = lib
        .decode(&handle, ColorSpace::Rgb(chroma), None)
        .map_err(failed)?;
    let planes = image.planes();
    let plane = planes
        .interleaved
        .ok_or_else(|| Error::DecodeFailed("heif: no interleaved plane".into()))?;
    if (plane.width, plane.height) != (width, height)
        || plane.storage_bits_per_pixel != channels * 8
    {
        return Err(Error::DecodeFailed(
            "heif: decoded image differs from the header".into(),
        ));
    }
    let row = width as usize * usize::from(channels);
    let mut data = Vec::with_capacity(row * height as usize);
    for y in 0..height as usize {
        let start = y * plane.stride;
        let line = plane
            .data
            .get(start..start + row)
            .ok_or_else(|| Error::DecodeFailed("heif: short pixel plane".into()))?;
        data.extend_from_slice(line);
    }
    let decoded = Decoded {
        pixels: Pixels::new(width, height, channels, data)?,
        scale: 1,
    };
    Ok((decoded, profile))
}

/// The primary image's `colr`: an ICC profile (`prof`, `rICC`) or `nclx`
/// code points. (libheif uses the `nclx` matrix coefficients itself, to
/// turn YCbCr into RGB; primaries and transfer are left to us.)
fn heif_profile(handle: &libheif_rs::ImageHandle) -> Option<Profile> {
    use libheif_rs::{ColorProfile, color_profile_types};
    if let Some(raw) = handle.color_profile_raw()
        && matches!(
            raw.profile_type(),
            color_profile_types::PROF | color_profile_types::R_ICC
        )
        && !raw.data.is_empty()
    {
        return Some(Profile::Icc(raw.data));
    }
    let nclx = handle.color_profile_nclx()?;
    Some(Profile::Cicp {
        primaries: nclx.color_primaries() as u8,
        transfer: nclx.transfer_characteristics() as u8,
    })
}
