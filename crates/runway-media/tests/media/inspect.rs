//! sniff → probe → limits, through the public `inspect`.

use crate::alloc::allocated_by;
use crate::build::*;
use runway_media::{
    Details, Error, ImageKind, Inspection, JpegColor, JpegProcess, Limits, WebPEncoding, inspect,
};

fn unlimited() -> Limits {
    Limits {
        max_pixels: u64::MAX,
        max_width: u32::MAX,
        max_height: u32::MAX,
        max_frames: u32::MAX,
        max_bytes: u64::MAX,
    }
}

#[test]
fn bench_jpeg_12mp() {
    // `file` reports: baseline, precision 8, 4032x3024, components 3. (It also
    // says orientation=upper-right, but the IFD0 Orientation tag is 6 when
    // dumped by hand; `file` shows the ResolutionUnit value, 2.)
    let info = inspect(&bench_image("photo-12mp.jpg"), &Limits::default()).unwrap();
    assert_eq!(
        info,
        Inspection {
            kind: ImageKind::Jpeg,
            width: 4032,
            height: 3024,
            frames: 1,
            alpha: false,
            orientation: Some(6),
            details: Details::Jpeg {
                process: JpegProcess::Baseline,
                color: JpegColor::YCbCr
            },
        }
    );
}

#[test]
fn bench_heic_12mp() {
    let info = inspect(&bench_image("photo-12mp.heic"), &Limits::default()).unwrap();
    assert_eq!(info.kind, ImageKind::Heif);
    assert_eq!((info.width, info.height, info.frames), (4032, 3024, 1));
    assert_eq!(
        info.details,
        Details::Heif {
            rotation: None,
            mirror: None
        }
    );
}

#[test]
fn bench_webp_2048() {
    let info = inspect(&bench_image("photo-2048.webp"), &Limits::default()).unwrap();
    assert_eq!(info.kind, ImageKind::WebP);
    assert_eq!((info.width, info.height, info.frames), (2048, 2048, 1));
    assert_eq!(
        info.details,
        Details::WebP {
            encoding: WebPEncoding::Extended,
            animated: false
        }
    );
}

#[test]
fn bench_png_screenshot() {
    // `file` reports: PNG image data, 1170 x 2532, 8-bit/color RGB, non-interlaced.
    let info = inspect(&bench_image("screenshot-1170x2532.png"), &Limits::default()).unwrap();
    assert_eq!(info.kind, ImageKind::Png);
    assert_eq!((info.width, info.height, info.frames), (1170, 2532, 1));
    assert!(!info.alpha);
    assert_eq!(
        info.details,
        Details::Png {
            bit_depth: 8,
            color_type: 2,
            interlaced: false,
            animated: false
        }
    );
}

#[test]
fn png_bomb_is_rejected_from_its_header_with_bounded_memory() {
    let bomb = png(40_000, 40_000, &[]);
    assert!(bomb.len() < 100, "the bomb is {} bytes", bomb.len());
    let (result, allocated) = allocated_by(|| inspect(&bomb, &Limits::default()));
    let err = result.unwrap_err();
    assert_eq!(err.code(), "dimensions_too_large");
    assert!(allocated < 4096, "probing allocated {allocated} bytes");

    // With the side limits lifted, the pixel limit still holds.
    let sides_only = Limits {
        max_width: 100_000,
        max_height: 100_000,
        ..Limits::default()
    };
    let (result, allocated) = allocated_by(|| inspect(&bomb, &sides_only));
    assert_eq!(
        result.unwrap_err(),
        Error::TooManyPixels {
            pixels: 1_600_000_000,
            max: 50_000_000
        }
    );
    assert!(allocated < 4096, "probing allocated {allocated} bytes");
}

#[test]
fn limits_are_enforced_at_their_boundaries() {
    let l = Limits::default();
    assert!(inspect(&png(20_000, 2_500, &[]), &l).is_ok());
    assert_eq!(
        inspect(&png(20_001, 10, &[]), &l).unwrap_err().code(),
        "dimensions_too_large"
    );
    assert_eq!(
        inspect(&png(10, 20_001, &[]), &l).unwrap_err().code(),
        "dimensions_too_large"
    );
    assert_eq!(
        inspect(&png(10_000, 5_001, &[]), &l).unwrap_err().code(),
        "too_many_pixels"
    );
    let small = Limits { max_bytes: 10, ..l };
    assert_eq!(
        inspect(&png(1, 1, &[]), &small).unwrap_err(),
        Error::TooLarge {
            bytes: png(1, 1, &[]).len() as u64,
            max: 10
        }
    );
}

#[test]
fn frames_are_counted_per_format() {
    let apng = png(8, 8, &[actl(3), fctl(0), fctl(1), fctl(2)]);
    let info = inspect(&apng, &Limits::default()).unwrap();
    assert_eq!(info.frames, 3);
    assert!(matches!(info.details, Details::Png { animated: true, .. }));
    // acTL cannot understate the frame count.
    let lying = png(8, 8, &[actl(1), fctl(0), fctl(1), fctl(2), fctl(3)]);
    assert_eq!(inspect(&lying, &unlimited()).unwrap().frames, 4);
    let two = Limits {
        max_frames: 2,
        ..Limits::default()
    };
    assert_eq!(
        inspect(&apng, &two).unwrap_err(),
        Error::TooManyFrames { frames: 3, max: 2 }
    );

    let g = gif(10, 20, &[NETSCAPE], 5);
    let info = inspect(&g, &Limits::default()).unwrap();
    assert_eq!((info.width, info.height, info.frames), (10, 20, 5));
    assert_eq!(inspect(&g, &two).unwrap_err().code(), "too_many_frames");

    let anmf = riff_chunk(b"ANMF", &[0; 16]);
    let w = webp(&[
        vp8x(0x12, 300, 200),
        riff_chunk(b"ANIM", &[0; 6]),
        anmf.clone(),
        anmf.clone(),
        anmf,
    ]);
    let info = inspect(&w, &Limits::default()).unwrap();
    assert_eq!(
        (info.width, info.height, info.frames, info.alpha),
        (300, 200, 3, true)
    );
    assert_eq!(inspect(&w, &two).unwrap_err().code(), "too_many_frames");
}

#[test]
fn gif_frames_outside_the_screen_grow_the_canvas() {
    let mut g = gif(10, 10, &[], 1);
    // Image descriptor width is at offset 6+7+6 + 8 (GCE) + 1 + 4.
    let at = 13 + 6 + 8 + 1 + 4;
    g[at..at + 2].copy_from_slice(&30_000u16.to_le_bytes());
    let info = inspect(&g, &unlimited()).unwrap();
    assert_eq!((info.width, info.height), (30_000, 10));
    assert_eq!(
        inspect(&g, &Limits::default()).unwrap_err().code(),
        "dimensions_too_large"
    );
}

#[test]
fn webp_simple_formats() {
    let lossless = webp(&[vp8l(640, 480, true)]);
    let info = inspect(&lossless, &Limits::default()).unwrap();
    assert_eq!((info.width, info.height, info.alpha), (640, 480, true));
    assert_eq!(
        info.details,
        Details::WebP {
            encoding: WebPEncoding::Lossless,
            animated: false
        }
    );
    let mut key = vec![0x50, 0x01, 0x00, 0x9D, 0x01, 0x2A];
    key.extend_from_slice(&800u16.to_le_bytes());
    key.extend_from_slice(&600u16.to_le_bytes());
    let lossy = webp(&[riff_chunk(b"VP8 ", &key)]);
    let info = inspect(&lossy, &Limits::default()).unwrap();
    assert_eq!((info.width, info.height), (800, 600));
    key[3] = 0;
    assert_eq!(
        inspect(&webp(&[riff_chunk(b"VP8 ", &key)]), &Limits::default()),
        Err(Error::Corrupt("webp: bad VP8 start code"))
    );
}

#[test]
fn heif_primary_item_properties_via_ipma() {
    let info = inspect(&heic(5000, 4000), &Limits::default()).unwrap();
    assert_eq!(
        (info.kind, info.width, info.height),
        (ImageKind::Heif, 5000, 4000)
    );
    assert_eq!(
        info.details,
        Details::Heif {
            rotation: Some(90),
            mirror: None
        }
    );
    assert_eq!(
        inspect(&heic(40_000, 40_000), &Limits::default())
            .unwrap_err()
            .code(),
        "dimensions_too_large"
    );
}

#[test]
fn jpeg_from_an_encoder_and_with_exif() {
    let plain = encoded_jpeg();
    let info = inspect(&plain, &Limits::default()).unwrap();
    assert_eq!((info.width, info.height, info.orientation), (16, 16, None));
    let tagged = insert_after_soi(&plain, &[segment(0xE1, &exif_with_gps(6))]);
    assert_eq!(
        inspect(&tagged, &Limits::default()).unwrap().orientation,
        Some(6)
    );

    // The same file relabelled SOF2 reports progressive coding.
    let sof0 = plain.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    let mut progressive = plain.clone();
    progressive[sof0 + 1] = 0xC2;
    assert_eq!(
        inspect(&progressive, &Limits::default()).unwrap().details,
        Details::Jpeg {
            process: JpegProcess::Progressive,
            color: JpegColor::YCbCr
        }
    );

    let mut grey = Vec::new();
    image::codecs::jpeg::JpegEncoder::new(&mut grey)
        .encode(&[128; 8 * 4], 8, 4, image::ExtendedColorType::L8)
        .unwrap();
    let info = inspect(&grey, &Limits::default()).unwrap();
    assert_eq!((info.width, info.height), (8, 4));
    assert!(matches!(
        info.details,
        Details::Jpeg {
            color: JpegColor::Grey,
            ..
        }
    ));
}

#[test]
fn avif_brand_is_reported_separately() {
    let mut avif = heic(64, 48);
    avif[8..12].copy_from_slice(b"avif");
    avif[20..24].copy_from_slice(b"miaf");
    let info = inspect(&avif, &Limits::default()).unwrap();
    assert_eq!(
        (info.kind, info.width, info.height),
        (ImageKind::Avif, 64, 48)
    );
}

#[test]
fn non_images_and_polyglots() {
    let l = Limits::default();
    let code = |b: &[u8]| inspect(b, &l).unwrap_err().code();
    assert_eq!(
        code(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"),
        "unsupported_type"
    );
    assert_eq!(
        code(b"<!doctype html><script>alert(1)</script>"),
        "unsupported_type"
    );
    assert_eq!(code(b"%PDF-1.4\n1 0 obj"), "unsupported_type");
    assert_eq!(code(b""), "truncated");
    // GIF magic followed by HTML: the structure does not parse.
    assert_eq!(
        code(b"GIF89a<html><script>alert(1)</script></html>"),
        "corrupt"
    );
    // JPEG magic whose body is not JPEG.
    assert_eq!(
        code(b"\xFF\xD8\xFF<html><script>alert(1)</script></html>"),
        "corrupt"
    );
    // A real GIF with HTML after the trailer parses; strip drops the tail.
    let mut polyglot = gif(4, 4, &[], 1);
    polyglot.extend_from_slice(b"<script>alert(1)</script>");
    assert!(inspect(&polyglot, &l).is_ok());
}

#[test]
fn truncated_files_are_rejected() {
    let l = Limits::default();
    let jpeg = bench_image("photo-12mp.jpg");
    assert_eq!(inspect(&jpeg[..jpeg.len() / 2], &l), Err(Error::Truncated));
    let p = bench_image("screenshot-1170x2532.png");
    assert_eq!(inspect(&p[..p.len() - 5], &l), Err(Error::Truncated));
    let w = bench_image("photo-2048.webp");
    assert_eq!(inspect(&w[..w.len() - 1], &l), Err(Error::Truncated));
    let h = bench_image("photo-12mp.heic");
    assert_eq!(inspect(&h[..h.len() - 1], &l), Err(Error::Truncated));
    let g = gif(4, 4, &[], 2);
    assert_eq!(inspect(&g[..g.len() - 1], &l), Err(Error::Truncated));
}

#[test]
fn bad_png_crc_is_corrupt() {
    let mut p = png(4, 4, &[]);
    p[8 + 8 + 3] ^= 1; // a width byte inside IHDR
    assert_eq!(
        inspect(&p, &Limits::default()),
        Err(Error::Corrupt("png: bad chunk CRC"))
    );
}

#[test]
fn error_codes_are_stable() {
    let cases = [
        (Error::UnsupportedType, "unsupported_type"),
        (Error::Truncated, "truncated"),
        (Error::Corrupt("x"), "corrupt"),
        (Error::TooLarge { bytes: 2, max: 1 }, "too_large"),
        (
            Error::TooManyPixels { pixels: 2, max: 1 },
            "too_many_pixels",
        ),
        (
            Error::DimensionsTooLarge {
                width: 2,
                height: 2,
                max_width: 1,
                max_height: 1,
            },
            "dimensions_too_large",
        ),
        (
            Error::TooManyFrames { frames: 2, max: 1 },
            "too_many_frames",
        ),
        (
            Error::StripUnsupported(ImageKind::Heif),
            "strip_unsupported",
        ),
    ];
    for (err, code) in cases {
        assert_eq!(err.code(), code, "{err}");
    }
}
