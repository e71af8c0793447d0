//! AVIF through libheif and the system's dav1d: decoded, converted, stripped.
//!
//! The fixtures were written with Pillow 13 (its wheels bundle libavif and
//! aom) at quality 90, speed 6:
//! - `asymmetric.avif` (383 bytes): 64×32 RGB, a red 16×16 block at (0, 0),
//!   a green one at (16, 0), the rest blue; `colr` nclx 1/13/6, full range.
//! - `alpha-exif-gps.avif` (683 bytes): 32×32 RGBA, top half red at alpha
//!   128, bottom half opaque blue, with an Exif item holding a GPS IFD
//!   (LatitudeRef N, 48° 51' 29").

use crate::build::*;
use image::GenericImageView;
use runway_media::{
    Fit, Format, ImageKind, Limits, Preset, Processed, inspect, process, strip_metadata,
};

const ASYMMETRIC: &[u8] = include_bytes!("../fixtures/asymmetric.avif");
const ALPHA_GPS: &[u8] = include_bytes!("../fixtures/alpha-exif-gps.avif");

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

fn variant(p: &Processed) -> image::DynamicImage {
    image::load_from_memory(&p.variants[0].bytes).expect("variant decodes")
}

fn close(a: [u8; 4], b: [u8; 4], tolerance: u8) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= tolerance)
}

#[test]
fn avif_is_decoded() {
    let info = inspect(ASYMMETRIC, &Limits::default()).unwrap();
    assert_eq!(
        (info.kind, info.width, info.height),
        (ImageKind::Avif, 64, 32)
    );
    let p = process(
        ASYMMETRIC,
        &Limits::default(),
        &as_is(Format::Jpeg { quality: 95 }),
    )
    .unwrap();
    assert_eq!(
        (p.kind, p.width, p.height, p.orientation),
        (ImageKind::Avif, 64, 32, 1)
    );
    let img = variant(&p);
    for ((x, y), want) in [
        ((8, 8), [255, 0, 0, 255]),
        ((24, 8), [0, 255, 0, 255]),
        ((40, 24), [0, 0, 255, 255]),
    ] {
        let got = img.get_pixel(x, y).0;
        assert!(close(got, want, 24), "({x}, {y}): {got:?}");
    }
    // The default presets work too.
    let p = process(ASYMMETRIC, &Limits::default(), &Preset::defaults()).unwrap();
    assert_eq!(p.variants.len(), 3);
}

#[test]
fn avif_alpha_is_kept() {
    let p = process(
        ALPHA_GPS,
        &Limits::default(),
        &as_is(Format::WebP { quality: 90 }),
    )
    .unwrap();
    assert_eq!((p.width, p.height), (32, 32));
    let img = variant(&p).into_rgba8();
    let (top, bottom) = (img.get_pixel(16, 4).0, img.get_pixel(16, 28).0);
    assert!(close(top, [255, 0, 0, 128], 24), "{top:?}");
    assert!(close(bottom, [0, 0, 255, 255], 24), "{bottom:?}");
}

#[test]
fn avif_gps_is_stripped_in_place() {
    let gps = |b: &[u8]| {
        exif::Reader::new()
            .read_from_container(&mut std::io::Cursor::new(b))
            .is_ok_and(|e| e.fields().any(|f| f.tag.context() == exif::Context::Gps))
    };
    assert!(gps(ALPHA_GPS));
    let stripped = strip_metadata(ALPHA_GPS, ImageKind::Avif).unwrap();
    assert_eq!(stripped.len(), ALPHA_GPS.len());
    assert!(!gps(&stripped));
    // The latitude's rationals, 48/1 and 51/1, are gone.
    let latitude = [0, 0, 0, 48, 0, 0, 0, 1, 0, 0, 0, 51];
    assert!(find(ALPHA_GPS, &latitude));
    assert!(!find(&stripped, &latitude));
    let presets = as_is(Format::WebP { quality: 90 });
    let a = process(ALPHA_GPS, &Limits::default(), &presets).unwrap();
    let b = process(&stripped, &Limits::default(), &presets).unwrap();
    assert_eq!(a, b, "same pixels, so the same variant bytes");
}
