//! ICC/nclx → sRGB: pixels in a declared colour space come out in sRGB;
//! sRGB, missing and unusable profiles leave the pixels untouched.

use image::{ExtendedColorType, ImageEncoder, RgbImage};

use crate::build::*;
use runway_media::{Fit, Format, Limits, Preset, Processed, process};

/// 64×16: four 16×16 patches (aligned to JPEG blocks, so that a q100
/// encoding keeps each colour): saturated red, grey, orange, green.
const PATCHES: [[u8; 3]; 4] = [[255, 0, 0], [128, 128, 128], [200, 120, 80], [60, 180, 90]];

fn patches() -> RgbImage {
    RgbImage::from_fn(64, 16, |x, _| image::Rgb(PATCHES[(x / 16) as usize]))
}

/// Encodes [`patches`], with the given ICC profile if any.
type Encode = fn(Option<Vec<u8>>) -> Vec<u8>;

fn as_is() -> Vec<Preset> {
    vec![
        Preset::new(
            "as-is",
            Fit::Within {
                width: 1000,
                height: 1000,
            },
        )
        .with_format(Format::Jpeg { quality: 100 }),
    ]
}

fn png(icc: Option<Vec<u8>>) -> Vec<u8> {
    let img = patches();
    let mut out = Vec::new();
    let mut encoder = image::codecs::png::PngEncoder::new(&mut out);
    if let Some(icc) = icc {
        encoder.set_icc_profile(icc).expect("PNG takes a profile");
    }
    encoder
        .write_image(img.as_raw(), 64, 16, ExtendedColorType::Rgb8)
        .expect("encode PNG");
    out
}

fn webp(icc: Option<Vec<u8>>) -> Vec<u8> {
    let img = patches();
    let mut out = Vec::new();
    let mut encoder = image::codecs::webp::WebPEncoder::new_lossless(&mut out);
    if let Some(icc) = icc {
        encoder.set_icc_profile(icc).expect("WebP takes a profile");
    }
    encoder
        .write_image(img.as_raw(), 64, 16, ExtendedColorType::Rgb8)
        .expect("encode WebP");
    out
}

/// The profile in two APP2 chunks, so that the decoder must join them.
fn jpeg(icc: Option<Vec<u8>>) -> Vec<u8> {
    let img = patches();
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 100)
        .encode(img.as_raw(), 64, 16, ExtendedColorType::Rgb8)
        .expect("encode JPEG");
    match icc {
        Some(icc) => insert_after_soi(&plain, &icc_app2(&icc, 2)),
        None => plain,
    }
}

/// The colour at the centre of each patch of the only variant.
fn patch_colours(p: &Processed) -> Vec<[u8; 3]> {
    let img = image::load_from_memory(&p.variants[0].bytes)
        .expect("variant decodes")
        .into_rgb8();
    (0..4).map(|i| img.get_pixel(i * 16 + 8, 8).0).collect()
}

fn close(a: [u8; 3], b: [u8; 3], tolerance: u8) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= tolerance)
}

#[test]
fn the_expected_values_are_right() {
    // A reference value worked out by hand with CSS Color 4's linear
    // Display P3 → sRGB matrix (rows 1.2249 −0.2249 0; −0.0421 1.0421 0;
    // −0.0196 −0.0786 1.0983) and the sRGB curve: Display P3 (200, 120, 80)
    // is sRGB (213, 115, 70).
    let c = expected_srgb(DISPLAY_P3, [200, 120, 80]);
    assert!(close(c, [213, 115, 70], 1), "{c:?}");
    assert_eq!(expected_srgb(DISPLAY_P3, [255, 0, 0]), [255, 0, 0]);
    assert_eq!(expected_srgb(SRGB, [200, 120, 80]), [200, 120, 80]);
}

#[test]
fn display_p3_is_converted_to_srgb_in_png_jpeg_and_webp() {
    let p3 = icc_profile(DISPLAY_P3, "Display P3 (test)");
    for (name, bytes) in [
        ("png", png(Some(p3.clone()))),
        ("jpeg", jpeg(Some(p3.clone()))),
        ("webp", webp(Some(p3.clone()))),
    ] {
        let p = process(&bytes, &Limits::default(), &as_is()).unwrap();
        let got = patch_colours(&p);
        for (i, source) in PATCHES.into_iter().enumerate() {
            let want = expected_srgb(DISPLAY_P3, source);
            assert!(
                close(got[i], want, 3),
                "{name}: P3 {source:?} became {:?}, want {want:?}",
                got[i]
            );
        }
        // Pure P3 red is outside sRGB: clipped to pure sRGB red.
        assert!(close(got[0], [255, 0, 0], 3), "{name}: {:?}", got[0]);
        // Grey stays grey.
        assert!(close(got[1], [128, 128, 128], 2), "{name}: {:?}", got[1]);
        // A mid orange comes out more saturated than taken as sRGB.
        assert!(got[2][0] >= 209 && got[2][2] <= 74, "{name}: {:?}", got[2]);
    }
}

#[test]
fn srgb_missing_and_unusable_profiles_change_nothing() {
    let srgb = icc_profile(SRGB, "sRGB (test)");
    let make: [(&str, Encode); 3] = [("png", png), ("jpeg", jpeg), ("webp", webp)];
    for (name, make) in make {
        let plain = process(&make(None), &Limits::default(), &as_is()).unwrap();
        let got = patch_colours(&plain);
        for (i, source) in PATCHES.into_iter().enumerate() {
            assert!(close(got[i], source, 2), "{name}: {:?}", got[i]);
        }
        let unusable: [&[u8]; 3] = [&srgb, b"not an ICC profile", &srgb[..100]];
        for icc in unusable {
            let p = process(&make(Some(icc.to_vec())), &Limits::default(), &as_is()).unwrap();
            assert_eq!(p.variants, plain.variants, "{name}: {} bytes", icc.len());
        }
    }
}

/// The bench WebP embeds the classic HP "sRGB IEC61966-2.1" profile (3144
/// bytes, `curv` tables rather than a `para` curve): recognised as sRGB, so
/// its variants are exactly those of the same file without the profile.
#[test]
fn bench_webp_srgb_profile_is_recognised() {
    let bench = bench_image("photo-2048.webp");
    assert_eq!(&bench[30..34], b"ICCP");
    let len = u32::from_le_bytes(bench[34..38].try_into().unwrap()) as usize;
    let mut without = bench[..30].to_vec();
    without.extend_from_slice(&bench[38 + len + len % 2..]);
    without[20] &= !0x20; // the VP8X ICC flag
    let riff = (without.len() - 8) as u32;
    without[4..8].copy_from_slice(&riff.to_le_bytes());
    let presets = [Preset::small()];
    let a = process(&bench, &Limits::default(), &presets).unwrap();
    let b = process(&without, &Limits::default(), &presets).unwrap();
    assert_eq!(a.variants, b.variants);
}

/// The bench HEIC with a `colr` property added to its primary item: a
/// non-essential association in `ipma` and the property at the end of
/// `ipco`, with box sizes and `iloc` offsets moved as in
/// `process::bench_heic_turned`.
fn bench_heic_with_colr(colr_body: &[u8]) -> Vec<u8> {
    let mut d = bench_image("photo-12mp.heic");
    let prop = bmff(b"colr", colr_body);
    let n = prop.len() as u32;
    let at = |d: &[u8], o: usize| u32::from_be_bytes(d[o..o + 4].try_into().unwrap());
    let add = |d: &mut Vec<u8>, o: usize, by: u32| {
        let v = at(d, o) + by;
        d[o..o + 4].copy_from_slice(&v.to_be_bytes());
    };
    assert_eq!(&d[370..374], b"ipma");
    assert_eq!(d[384], 3);
    d[384] = 4;
    d.insert(388, 0x04); // property 4, not essential
    d.splice(366..366, prop);
    add(&mut d, 366 + n as usize, 1); // ipma
    add(&mut d, 203, n); // ipco
    add(&mut d, 195, n + 1); // iprp
    add(&mut d, 28, n + 1); // meta
    add(&mut d, 107, n + 1); // iloc base offsets
    add(&mut d, 125, n + 1);
    d
}

#[test]
fn heic_colr_icc_profile_is_applied() {
    let mut colr = b"prof".to_vec();
    colr.extend(icc_profile(DISPLAY_P3, "Display P3 (test)"));
    let presets = [Preset::new(
        "l",
        Fit::Within {
            width: 480,
            height: 480,
        },
    )
    .with_format(Format::Jpeg { quality: 95 })];
    let plain = process(
        &bench_image("photo-12mp.heic"),
        &Limits::default(),
        &presets,
    )
    .unwrap();
    let p3 = process(&bench_heic_with_colr(&colr), &Limits::default(), &presets).unwrap();
    assert_eq!((p3.width, p3.height), (plain.width, plain.height));
    let decode = |p: &Processed| {
        image::load_from_memory(&p.variants[0].bytes)
            .unwrap()
            .into_rgb8()
    };
    let (plain, p3) = (decode(&plain), decode(&p3));
    // Where P3 → sRGB moves a colour noticeably (the photo's saturated
    // parts), the pixel is what it makes of the plain decode, give or take
    // JPEG noise, and clearly not the plain decode itself.
    let (mut converted, mut identity, mut n) = (0u64, 0u64, 0u64);
    for (a, b) in plain.pixels().zip(p3.pixels()) {
        let want = expected_srgb(DISPLAY_P3, a.0);
        if (0..3).all(|i| want[i].abs_diff(a.0[i]) < 6) {
            continue;
        }
        converted += (0..3)
            .map(|i| u64::from(b.0[i].abs_diff(want[i])))
            .sum::<u64>();
        identity += (0..3)
            .map(|i| u64::from(b.0[i].abs_diff(a.0[i])))
            .sum::<u64>();
        n += 3;
    }
    assert!(n > 3 * 2000, "only {} saturated pixels", n / 3);
    let (converted, identity) = (converted as f64 / n as f64, identity as f64 / n as f64);
    assert!(
        converted < 2.5 && identity > 2.0 * converted,
        "mean error as P3→sRGB {converted:.2}, as unchanged {identity:.2}"
    );
}
