//! process: one decode, oriented once, into every variant and a placeholder.

use std::io::Cursor;

use crate::build::*;
use image::{GenericImageView, ImageFormat, Rgba, RgbaImage};
use runway_media::{Fit, Format, ImageKind, Limits, Preset, Processed, inspect, process};

/// A preset large enough that a small test image is never resized.
fn as_is(format: Format) -> Vec<Preset> {
    vec![
        Preset::new(
            "as-is",
            Fit::Within {
                width: 1000,
                height: 1000,
            },
        )
        .with_format(format),
    ]
}

fn encode(img: &RgbaImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    match format {
        ImageFormat::Jpeg => image::DynamicImage::ImageRgba8(img.clone())
            .into_rgb8()
            .write_to(&mut out, format),
        _ => img.write_to(&mut out, format),
    }
    .expect("encode test image");
    out.into_inner()
}

/// Decodes a variant back with `image`, checking its stated size and type.
fn decode_variant(p: &Processed, name: &str) -> image::DynamicImage {
    let v = p.variants.iter().find(|v| v.name == name).expect(name);
    let format = match v.content_type {
        "image/webp" => ImageFormat::WebP,
        "image/jpeg" => ImageFormat::Jpeg,
        other => panic!("unexpected content type {other}"),
    };
    let img = image::load_from_memory_with_format(&v.bytes, format).expect("variant decodes");
    assert_eq!((img.width(), img.height()), (v.width, v.height), "{name}");
    img
}

fn sizes(p: &Processed) -> Vec<(&str, u32, u32)> {
    p.variants
        .iter()
        .map(|v| (v.name.as_str(), v.width, v.height))
        .collect()
}

/// No EXIF, XMP or orientation survives into a variant.
fn assert_no_metadata(p: &Processed) {
    for v in &p.variants {
        assert!(
            !find(&v.bytes, b"Exif") && !find(&v.bytes, b"EXIF"),
            "{}",
            v.name
        );
        assert!(!find(&v.bytes, b"XMP") && !find(&v.bytes, b"<x:xmpmeta"));
        let info = inspect(&v.bytes, &Limits::default()).expect("variant inspects");
        assert_eq!(info.orientation, None, "{}", v.name);
    }
}

fn close(a: Rgba<u8>, b: [u8; 3], tolerance: u8) -> bool {
    a.0[..3]
        .iter()
        .zip(b)
        .all(|(&x, y)| x.abs_diff(y) <= tolerance)
}

const RED: [u8; 3] = [255, 0, 0];
const GREEN: [u8; 3] = [0, 255, 0];
const BLUE: [u8; 3] = [0, 0, 255];

#[test]
fn bench_jpeg_is_oriented_and_shrunk_on_load() {
    let bytes = bench_image("photo-12mp.jpg");
    let p = process(&bytes, &Limits::default(), &Preset::defaults()).unwrap();
    assert_eq!((p.kind, p.orientation), (ImageKind::Jpeg, 6));
    assert_eq!((p.width, p.height), (3024, 4032));
    assert_eq!((p.placeholder.width, p.placeholder.height), (3024, 4032));
    // `large` needs 1080×1440 upright = 1440×1080 stored: 1/2 gives
    // 2016×1512, 1/4 would give 1008×756.
    assert_eq!(p.decode_scale, 2);
    assert_eq!(
        sizes(&p),
        [
            ("thumb", 256, 256),
            ("small", 480, 640),
            ("large", 1080, 1440)
        ]
    );
    for name in ["thumb", "small", "large"] {
        decode_variant(&p, name);
    }
    assert_no_metadata(&p);
    assert!(p.variants.iter().all(|v| v.content_type == "image/webp"));
    assert!(p.placeholder.dominant_color.starts_with('#'));
    assert_eq!(p.placeholder.dominant_color.len(), 7);
    assert!(!p.placeholder.thumbhash.is_empty());

    // A thumbnail alone can be decoded at 1/8.
    let thumb_only = process(&bytes, &Limits::default(), &[Preset::thumb()]).unwrap();
    assert_eq!(thumb_only.decode_scale, 8);
    assert_eq!(sizes(&thumb_only), [("thumb", 256, 256)]);
}

#[test]
fn bench_png_screenshot() {
    let bytes = bench_image("screenshot-1170x2532.png");
    let p = process(&bytes, &Limits::default(), &Preset::defaults()).unwrap();
    assert_eq!((p.width, p.height, p.decode_scale), (1170, 2532, 1));
    assert_eq!(
        sizes(&p),
        [
            ("thumb", 256, 256),
            ("small", 296, 640),
            ("large", 665, 1440)
        ]
    );
    for name in ["thumb", "small", "large"] {
        decode_variant(&p, name);
    }
    assert_no_metadata(&p);
}

#[test]
fn bench_webp() {
    let bytes = bench_image("photo-2048.webp");
    let info = inspect(&bytes, &Limits::default()).unwrap();
    let p = process(&bytes, &Limits::default(), &Preset::defaults()).unwrap();
    assert_eq!((p.width, p.height), (info.width, info.height));
    for v in &p.variants {
        decode_variant(&p, &v.name);
        assert!(v.width <= p.width && v.height <= p.height);
    }
    let large = &p.variants[2];
    assert_eq!(
        large.width.max(large.height),
        1440.min(p.width.max(p.height))
    );
    assert_no_metadata(&p);
}

/// The 12 MP HEIC: 4032×3024 in its `ispe`, no `irot`/`imir`; its EXIF
/// says orientation 6, which HEIF makes informative only. libheif (checked
/// independently with Debian's libheif 1.15 `heif-info` and `heif-convert`:
/// 4032×3024) decodes it landscape, and that is what must come out: EXIF
/// orientation is never applied on top of libheif's transforms.
#[test]
fn bench_heic_is_decoded_upright_by_libheif() {
    let bytes = bench_image("photo-12mp.heic");
    let info = inspect(&bytes, &Limits::default()).unwrap();
    assert_eq!(
        (info.kind, info.width, info.height),
        (ImageKind::Heif, 4032, 3024)
    );
    let p = process(&bytes, &Limits::default(), &Preset::defaults()).unwrap();
    assert_eq!(
        (p.kind, p.orientation, p.decode_scale),
        (ImageKind::Heif, 1, 1)
    );
    assert_eq!((p.width, p.height), (4032, 3024));
    assert_eq!((p.placeholder.width, p.placeholder.height), (4032, 3024));
    assert_eq!(
        sizes(&p),
        [
            ("thumb", 256, 256),
            ("small", 640, 480),
            ("large", 1440, 1080)
        ]
    );
    for name in ["thumb", "small", "large"] {
        let img = decode_variant(&p, name);
        // A photo, not a blank or garbage buffer: the pixels vary.
        let first = img.get_pixel(0, 0);
        assert!(img.pixels().any(|(_, _, px)| px != first), "{name}");
    }
    assert_no_metadata(&p);
    assert!(p.variants.iter().all(|v| v.content_type == "image/webp"));
    assert!(p.placeholder.dominant_color.starts_with('#'));
    assert_eq!(p.placeholder.dominant_color.len(), 7);
    assert!(!p.placeholder.thumbhash.is_empty());
}

/// The bench HEIC with an `irot` (90° anticlockwise) added to its primary
/// item: a 9-byte box at the end of `ipco`, one more essential `ipma`
/// association, the enclosing box sizes and the `iloc` base offsets moved
/// by the 10 inserted bytes. Debian's libheif 1.15 (`heif-info`,
/// `heif-convert`) reads the result as 3024×4032.
pub fn bench_heic_turned() -> Vec<u8> {
    let mut d = bench_image("photo-12mp.heic");
    let at = |d: &[u8], o: usize| u32::from_be_bytes(d[o..o + 4].try_into().unwrap());
    let add = |d: &mut Vec<u8>, o: usize, n: u32| {
        let v = at(d, o) + n;
        d[o..o + 4].copy_from_slice(&v.to_be_bytes());
    };
    // The layout this relies on (see `heif-info`): meta at 28, iloc at 87
    // (v0, 4-byte offsets, two items), iprp at 195, ipco at 203, ipma at 366
    // with one entry of three associations.
    for (o, kind) in [(32, b"meta"), (91, b"iloc"), (199, b"iprp"), (207, b"ipco")] {
        assert_eq!(&d[o..o + 4], kind);
    }
    assert_eq!(&d[370..374], b"ipma");
    assert_eq!((at(&d, 107), at(&d, 125), d[384]), (0x1a6, 0x3918a2, 3));
    d[384] = 4;
    d.insert(388, 0x84);
    d.splice(366..366, *b"\0\0\0\x09irot\x01");
    add(&mut d, 375, 1); // ipma
    add(&mut d, 203, 9); // ipco
    add(&mut d, 195, 10); // iprp
    add(&mut d, 28, 10); // meta
    add(&mut d, 107, 10); // iloc base offsets
    add(&mut d, 125, 10);
    d
}

/// Mean absolute difference of two same-sized images' RGB samples.
fn mean_diff(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let sum: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(&x, &y)| u64::from(x.abs_diff(y)))
        .sum();
    sum as f64 / a.as_raw().len() as f64
}

#[test]
fn heic_irot_is_applied_once_by_libheif() {
    let plain = bench_image("photo-12mp.heic");
    let turned = bench_heic_turned();
    let info = inspect(&turned, &Limits::default()).unwrap();
    // Stored size; the probe sees the rotation.
    assert_eq!((info.width, info.height), (4032, 3024));
    let p = process(&turned, &Limits::default(), &Preset::defaults()).unwrap();
    assert_eq!((p.width, p.height, p.orientation), (3024, 4032, 1));
    assert_eq!(
        sizes(&p),
        [
            ("thumb", 256, 256),
            ("small", 480, 640),
            ("large", 1080, 1440)
        ]
    );
    // Same pixels as the plain file turned 90° anticlockwise.
    let q = process(&plain, &Limits::default(), &[Preset::large()]).unwrap();
    let want = image::imageops::rotate270(&decode_variant(&q, "large").into_rgb8());
    let got = decode_variant(&p, "large").into_rgb8();
    let anticlockwise = mean_diff(&got, &want);
    let clockwise = mean_diff(
        &got,
        &image::imageops::rotate90(&decode_variant(&q, "large").into_rgb8()),
    );
    assert!(
        anticlockwise < 4.0 && clockwise > 2.0 * anticlockwise,
        "{anticlockwise} {clockwise}"
    );
}

#[test]
fn truncated_heic_is_a_typed_error() {
    let bytes = bench_image("photo-12mp.heic");
    for cut in [16, 200, 400, 2000, bytes.len() / 2, bytes.len() - 1] {
        let err = process(&bytes[..cut], &Limits::default(), &Preset::defaults()).unwrap_err();
        assert!(
            ["truncated", "corrupt", "decode_failed"].contains(&err.code()),
            "cut at {cut}: {err}"
        );
    }
    // Cut in half with the `mdat` size patched to match, so the probe
    // passes and libheif itself meets the missing coded data.
    let mut at = 0;
    let mdat = loop {
        let size = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        if &bytes[at + 4..at + 8] == b"mdat" {
            break at;
        }
        assert!(size >= 8, "no mdat");
        at += size;
    };
    let cut = bytes.len() / 2;
    assert!(cut > mdat + 8);
    let mut patched = bytes[..cut].to_vec();
    patched[mdat..mdat + 4].copy_from_slice(&((cut - mdat) as u32).to_be_bytes());
    inspect(&patched, &Limits::default()).expect("the probe accepts it");
    let err = process(&patched, &Limits::default(), &Preset::defaults()).unwrap_err();
    assert_eq!(err.code(), "decode_failed", "{err}");

    // Limits still apply before libheif sees the file.
    let tight = Limits {
        max_pixels: 1_000_000,
        ..Limits::default()
    };
    let err = process(&bytes, &tight, &Preset::defaults()).unwrap_err();
    assert_eq!(err.code(), "too_many_pixels");
}

/// 64×32 stored: a red 16×16 block at (0, 0), a green one at (16, 0), the
/// rest blue.
fn asymmetric() -> RgbaImage {
    RgbaImage::from_fn(64, 32, |x, y| match (x / 16, y / 16) {
        (0, 0) => Rgba([255, 0, 0, 255]),
        (1, 0) => Rgba([0, 255, 0, 255]),
        _ => Rgba([0, 0, 255, 255]),
    })
}

/// Where the stored pixel (sx, sy) of a w×h image appears once upright.
fn upright(o: u16, sx: u32, sy: u32, w: u32, h: u32) -> (u32, u32) {
    match o {
        1 => (sx, sy),
        2 => (w - 1 - sx, sy),
        3 => (w - 1 - sx, h - 1 - sy),
        4 => (sx, h - 1 - sy),
        5 => (sy, sx),
        6 => (h - 1 - sy, sx),
        7 => (h - 1 - sy, w - 1 - sx),
        8 => (sy, w - 1 - sx),
        _ => unreachable!(),
    }
}

fn with_orientation(kind: ImageKind, o: u16) -> Vec<u8> {
    let tiff = exif_with_gps(o)[6..].to_vec();
    match kind {
        ImageKind::Jpeg => insert_after_soi(
            &encode(&asymmetric(), ImageFormat::Jpeg),
            &[segment(0xE1, &exif_with_gps(o))],
        ),
        ImageKind::Png => {
            let plain = encode(&asymmetric(), ImageFormat::Png);
            // Signature (8) + IHDR (25), then eXIf.
            [&plain[..33], &png_chunk(b"eXIf", &tiff), &plain[33..]].concat()
        }
        ImageKind::WebP => {
            let plain = encode(&asymmetric(), ImageFormat::WebP);
            assert_eq!(&plain[12..16], b"VP8L");
            webp(&[
                vp8x(0x08, 64, 32),
                plain[12..].to_vec(),
                riff_chunk(b"EXIF", &tiff),
            ])
        }
        _ => unreachable!(),
    }
}

#[test]
fn every_exif_orientation_is_applied_once() {
    for kind in [ImageKind::Jpeg, ImageKind::Png, ImageKind::WebP] {
        for o in 1..=8u16 {
            let bytes = with_orientation(kind, o);
            let p = process(
                &bytes,
                &Limits::default(),
                &as_is(Format::Jpeg { quality: 95 }),
            )
            .unwrap_or_else(|e| panic!("{kind:?} {o}: {e}"));
            assert_eq!(p.orientation, o, "{kind:?}");
            let dims = if o >= 5 { (32, 64) } else { (64, 32) };
            assert_eq!((p.width, p.height), dims, "{kind:?} {o}");
            let img = decode_variant(&p, "as-is");
            assert_eq!(img.dimensions(), dims);
            for (stored, colour) in [((8, 8), RED), ((24, 8), GREEN), ((40, 24), BLUE)] {
                let (x, y) = upright(o, stored.0, stored.1, 64, 32);
                let px = img.get_pixel(x, y);
                assert!(close(px, colour, 48), "{kind:?} {o}: {px:?} at ({x}, {y})");
            }
            assert_no_metadata(&p);
        }
    }
}

#[test]
fn cmyk_jpeg_becomes_rgb() {
    // Made with ImageMagick: `convert -size 8x8 xc:red -size 8x8 xc:blue
    // +append -colorspace CMYK -quality 95` (Adobe APP14, inverted CMYK).
    let bytes = include_bytes!("../fixtures/cmyk-red-blue.jpg");
    let p = process(
        bytes,
        &Limits::default(),
        &as_is(Format::Jpeg { quality: 100 }),
    )
    .unwrap();
    let img = decode_variant(&p, "as-is");
    assert_eq!(img.dimensions(), (16, 8));
    assert!(
        close(img.get_pixel(2, 4), RED, 40),
        "{:?}",
        img.get_pixel(2, 4)
    );
    assert!(
        close(img.get_pixel(13, 4), BLUE, 40),
        "{:?}",
        img.get_pixel(13, 4)
    );
}

#[test]
fn sixteen_bit_png() {
    let img = image::ImageBuffer::<image::Rgb<u16>, _>::from_fn(8, 8, |x, _| {
        if x < 4 {
            image::Rgb([65535, 0, 0])
        } else {
            image::Rgb([0, 0, 32896])
        }
    });
    let mut bytes = Cursor::new(Vec::new());
    img.write_to(&mut bytes, ImageFormat::Png).unwrap();
    let p = process(
        bytes.get_ref(),
        &Limits::default(),
        &as_is(Format::Jpeg { quality: 100 }),
    )
    .unwrap();
    let out = decode_variant(&p, "as-is");
    assert!(close(out.get_pixel(1, 1), RED, 16));
    assert!(close(out.get_pixel(6, 1), [0, 0, 128], 16));
}

/// A zlib stream with one stored (uncompressed) deflate block.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01, 0x01];
    let len = data.len() as u16;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(data);
    let (mut a, mut b) = (1u32, 0u32);
    for &d in data {
        a = (a + u32::from(d)) % 65521;
        b = (b + a) % 65521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

#[test]
fn palette_png_with_transparency_keeps_alpha_in_webp() {
    // 4×2, 8-bit indices: left half entry 0 (opaque red), right half entry 1
    // (transparent blue).
    let rows = [0u8, 0, 0, 1, 1, 0, 0, 0, 1, 1];
    let bytes = [
        b"\x89PNG\r\n\x1a\n".to_vec(),
        ihdr(4, 2, 8, 3),
        png_chunk(b"PLTE", &[255, 0, 0, 0, 0, 255]),
        png_chunk(b"tRNS", &[255, 0]),
        png_chunk(b"IDAT", &zlib_stored(&rows)),
        png_chunk(b"IEND", &[]),
    ]
    .concat();
    let p = process(
        &bytes,
        &Limits::default(),
        &as_is(Format::WebP { quality: 80 }),
    )
    .unwrap();
    let out = decode_variant(&p, "as-is");
    assert!(out.color().has_alpha(), "WebP variant lost its alpha");
    let (left, right) = (out.get_pixel(0, 0), out.get_pixel(3, 1));
    assert!(close(left, RED, 40) && left.0[3] > 240, "{left:?}");
    assert!(right.0[3] < 16, "{right:?}");
}

#[test]
fn rgba_png_keeps_alpha_in_webp() {
    let img = RgbaImage::from_fn(32, 16, |x, _| {
        if x < 16 {
            Rgba([0, 255, 0, 255])
        } else {
            Rgba([0, 255, 0, 0])
        }
    });
    let bytes = encode(&img, ImageFormat::Png);
    let p = process(&bytes, &Limits::default(), &Preset::defaults()).unwrap();
    let out = decode_variant(&p, "large");
    assert!(out.get_pixel(4, 8).0[3] > 240);
    assert!(out.get_pixel(28, 8).0[3] < 16);
}

#[test]
fn grey_png_and_grey_jpeg() {
    let grey = image::GrayImage::from_pixel(10, 6, image::Luma([90]));
    let mut png = Cursor::new(Vec::new());
    grey.write_to(&mut png, ImageFormat::Png).unwrap();
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 95)
        .encode(grey.as_raw(), 10, 6, image::ExtendedColorType::L8)
        .unwrap();
    for bytes in [png.into_inner(), jpeg] {
        let p = process(
            &bytes,
            &Limits::default(),
            &as_is(Format::Jpeg { quality: 95 }),
        )
        .unwrap();
        let out = decode_variant(&p, "as-is");
        assert!(close(out.get_pixel(5, 3), [90, 90, 90], 6));
        assert_eq!(p.placeholder.dominant_color, "#5a5a5a");
    }
}

#[test]
fn gif_gives_its_first_frame() {
    let frame = |c: [u8; 4]| image::Frame::new(RgbaImage::from_pixel(12, 12, Rgba(c)));
    let mut bytes = Vec::new();
    {
        let mut enc = image::codecs::gif::GifEncoder::new(&mut bytes);
        enc.encode_frames([frame([255, 0, 0, 255]), frame([0, 0, 255, 255])])
            .unwrap();
    }
    assert_eq!(inspect(&bytes, &Limits::default()).unwrap().frames, 2);
    let p = process(
        &bytes,
        &Limits::default(),
        &as_is(Format::Jpeg { quality: 95 }),
    )
    .unwrap();
    let out = decode_variant(&p, "as-is");
    assert!(
        close(out.get_pixel(6, 6), RED, 40),
        "{:?}",
        out.get_pixel(6, 6)
    );
}

#[test]
fn small_images_are_never_upscaled() {
    let img = RgbaImage::from_pixel(100, 50, Rgba([10, 20, 30, 255]));
    let bytes = encode(&img, ImageFormat::Jpeg);
    let p = process(&bytes, &Limits::default(), &Preset::defaults()).unwrap();
    assert_eq!(p.decode_scale, 1);
    assert_eq!(
        sizes(&p),
        [("thumb", 100, 50), ("small", 100, 50), ("large", 100, 50)]
    );
    for name in ["thumb", "small", "large"] {
        decode_variant(&p, name);
    }
}

#[test]
fn cover_crop_is_exact_and_centred() {
    // Thirds: red | green | blue. The centred square is all green.
    let img = RgbaImage::from_fn(900, 300, |x, _| match x / 300 {
        0 => Rgba([255, 0, 0, 255]),
        1 => Rgba([0, 255, 0, 255]),
        _ => Rgba([0, 0, 255, 255]),
    });
    let bytes = encode(&img, ImageFormat::Png);
    let p = process(&bytes, &Limits::default(), &[Preset::thumb()]).unwrap();
    let thumb = decode_variant(&p, "thumb");
    assert_eq!(thumb.dimensions(), (256, 256));
    for (x, y) in [(4, 4), (128, 128), (251, 251)] {
        assert!(close(thumb.get_pixel(x, y), GREEN, 40), "{x},{y}");
    }
}

#[test]
fn custom_presets_and_jpeg_output() {
    let img = RgbaImage::from_pixel(400, 200, Rgba([200, 100, 50, 255]));
    let bytes = encode(&img, ImageFormat::Png);
    let presets = [
        Preset::new(
            "banner",
            Fit::Cover {
                width: 300,
                height: 100,
            },
        )
        .with_format(Format::Jpeg { quality: 85 }),
        Preset::new(
            "tiny",
            Fit::Within {
                width: 50,
                height: 50,
            },
        ),
    ];
    let p = process(&bytes, &Limits::default(), &presets).unwrap();
    assert_eq!(sizes(&p), [("banner", 300, 100), ("tiny", 50, 25)]);
    assert_eq!(p.variants[0].content_type, "image/jpeg");
    assert_eq!(p.variants[1].content_type, "image/webp");
    decode_variant(&p, "banner");
    decode_variant(&p, "tiny");
    assert_no_metadata(&p);
}

#[test]
fn typed_errors() {
    let jpeg = encoded_jpeg();
    let bad = |presets: &[Preset]| process(&jpeg, &Limits::default(), presets).unwrap_err();
    let zero = Preset::new(
        "z",
        Fit::Within {
            width: 0,
            height: 10,
        },
    );
    assert_eq!(bad(&[zero]).code(), "invalid_preset");
    assert_eq!(
        bad(&[Preset::thumb(), Preset::thumb()]).code(),
        "invalid_preset"
    );
    let q0 = Preset::thumb().with_format(Format::WebP { quality: 0 });
    assert_eq!(bad(&[q0]).code(), "invalid_preset");

    // Limits are enforced before decoding.
    let tight = Limits {
        max_pixels: 100,
        ..Limits::default()
    };
    assert_eq!(
        process(&jpeg, &tight, &Preset::defaults())
            .unwrap_err()
            .code(),
        "too_many_pixels"
    );
    // A PNG whose headers are fine but whose IDAT holds no pixels.
    let err = process(&png(4, 4, &[]), &Limits::default(), &Preset::defaults()).unwrap_err();
    assert_eq!(err.code(), "decode_failed", "{err}");
    // A HEIC whose boxes pass the probe but that has no items for libheif.
    let err = process(&heic(64, 48), &Limits::default(), &Preset::defaults()).unwrap_err();
    assert_eq!(err.code(), "decode_failed", "{err}");
    // A JPEG cut inside its entropy-coded data.
    let cut = &jpeg[..jpeg.len() - 40];
    let err = process(cut, &Limits::default(), &Preset::defaults()).unwrap_err();
    assert!(
        ["truncated", "decode_failed"].contains(&err.code()),
        "{err}"
    );
}
