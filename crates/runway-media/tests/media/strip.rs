//! strip_metadata: metadata gone, pixels and orientation kept.

use crate::build::*;
use runway_media::{Error, ImageKind, Limits, inspect, strip_metadata};

mod heif;

fn latitude_bytes() -> Vec<u8> {
    LATITUDE.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[test]
fn jpeg_gps_is_removed_and_image_data_is_byte_identical() {
    let plain = encoded_jpeg();
    let xmp = segment(
        0xE1,
        b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>GPSLatitude</x:xmpmeta>",
    );
    let iptc = segment(0xED, b"Photoshop 3.0\08BIM\x04\x04\0\0\0\0\0\x05Paris");
    let comment = segment(0xFE, b"taken at home");
    let icc = segment(0xE2, b"ICC_PROFILE\0\x01\x01fake-profile-bytes");
    let mpf = segment(0xE2, b"MPF\0II*\0");
    let original = insert_after_soi(
        &plain,
        &[
            segment(0xE1, &exif_with_gps(6)),
            xmp,
            iptc,
            comment,
            icc.clone(),
            mpf,
        ],
    );
    assert!(jpeg_has_gps(&original));
    assert!(find(&original, &latitude_bytes()));

    let stripped = strip_metadata(&original, ImageKind::Jpeg).unwrap();

    assert!(!jpeg_has_gps(&stripped));
    assert!(!find(&stripped, &latitude_bytes()));
    for gone in [&b"xmpmeta"[..], b"Paris", b"taken at home", b"MPF\0"] {
        assert!(!find(&stripped, gone), "{}", String::from_utf8_lossy(gone));
    }
    assert!(
        find(&stripped, &icc),
        "the ICC profile segment is kept whole"
    );
    assert_eq!(
        image_data_segments(&stripped),
        image_data_segments(&original)
    );
    // Orientation survives as a minimal EXIF.
    assert_eq!(
        inspect(&stripped, &Limits::default()).unwrap().orientation,
        Some(6)
    );
    // And the pixels decode identically.
    let a = image::load_from_memory(&original).unwrap().to_rgb8();
    let b = image::load_from_memory(&stripped).unwrap().to_rgb8();
    assert_eq!(a, b);
}

#[test]
fn jpeg_with_orientation_1_gets_no_exif_back() {
    let original = insert_after_soi(&encoded_jpeg(), &[segment(0xE1, &exif_with_gps(1))]);
    let stripped = strip_metadata(&original, ImageKind::Jpeg).unwrap();
    assert!(!find(&stripped, b"Exif\0\0"));
    assert_eq!(
        inspect(&stripped, &Limits::default()).unwrap().orientation,
        None
    );
}

#[test]
fn bench_jpeg_loses_gps_keeps_orientation_and_scan() {
    let original = bench_image("photo-12mp.jpg");
    assert!(jpeg_has_gps(&original));
    let stripped = strip_metadata(&original, ImageKind::Jpeg).unwrap();
    assert!(!jpeg_has_gps(&stripped));
    assert!(stripped.len() < original.len());
    let info = inspect(&stripped, &Limits::default()).unwrap();
    assert_eq!(
        (info.width, info.height, info.orientation),
        (4032, 3024, Some(6))
    );
    // Only the orientation tag is left in the EXIF.
    let exif = exif::Reader::new()
        .read_from_container(&mut std::io::Cursor::new(&stripped))
        .unwrap();
    let tags: Vec<_> = exif.fields().map(|f| f.tag).collect();
    assert_eq!(tags, [exif::Tag::Orientation]);
    // Tables, frame header and scan are byte-identical (up to EOI).
    let (a, b) = (
        image_data_segments(&original),
        image_data_segments(&stripped),
    );
    assert_eq!(a.len(), b.len());
    let last = a.len() - 1;
    assert_eq!(a[..last], b[..last]);
    assert!(
        a[last].1.starts_with(&b[last].1),
        "the scan is a prefix: only trailing data went"
    );
    // Stripping is idempotent.
    assert_eq!(
        strip_metadata(&stripped, ImageKind::Jpeg).unwrap(),
        stripped
    );
}

/// The 26-byte big-endian TIFF with only Orientation that strip writes back.
fn orientation_only_tiff(orientation: u16) -> Vec<u8> {
    let mut t = b"MM\0\x2A\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01".to_vec();
    t.extend_from_slice(&orientation.to_be_bytes());
    t.extend_from_slice(&[0; 6]);
    t
}

#[test]
fn png_text_and_exif_chunks_are_dropped() {
    let keep = [
        png_chunk(b"iCCP", b"icc\0\0\x78\x01"),
        png_chunk(b"gAMA", &45455u32.to_be_bytes()),
        png_chunk(b"cHRM", &[0; 32]),
        png_chunk(b"sRGB", &[0]),
        png_chunk(b"pHYs", &[0, 0, 11, 19, 0, 0, 11, 19, 1]),
    ];
    let exif_payload = exif_with_gps(6)[6..].to_vec();
    let drop = [
        png_chunk(b"eXIf", &exif_payload),
        png_chunk(b"tEXt", b"Comment\0shot in Paris"),
        png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta/>"),
        png_chunk(b"zTXt", b"Raw profile type exif\0\0\x78\x01"),
        png_chunk(b"tIME", &[7, 234, 12, 1, 12, 0, 0]),
    ];
    let original = png(4, 4, &[keep.to_vec(), drop.to_vec()].concat());
    let stripped = strip_metadata(&original, ImageKind::Png).unwrap();
    // Orientation 6 survives, alone, in a minimal eXIf right after IHDR.
    let expected = [
        vec![png_chunk(b"eXIf", &orientation_only_tiff(6))],
        keep.to_vec(),
    ]
    .concat();
    assert_eq!(stripped, png(4, 4, &expected));
    assert!(!find(&stripped, &latitude_bytes()));
    // Orientation 1 needs no EXIF at all.
    let upright = png(
        4,
        4,
        &[
            vec![png_chunk(b"eXIf", &exif_with_gps(1)[6..])],
            keep.to_vec(),
        ]
        .concat(),
    );
    assert_eq!(
        strip_metadata(&upright, ImageKind::Png).unwrap(),
        png(4, 4, &keep)
    );

    let shot = bench_image("screenshot-1170x2532.png");
    let stripped = strip_metadata(&shot, ImageKind::Png).unwrap();
    let info = inspect(&stripped, &Limits::default()).unwrap();
    assert_eq!((info.width, info.height), (1170, 2532));
}

#[test]
fn webp_exif_and_xmp_chunks_and_flags_are_dropped() {
    let image = vp8l(64, 32, false);
    let exif = riff_chunk(b"EXIF", &exif_with_gps(6)[6..]);
    let xmp = riff_chunk(b"XMP ", b"<x:xmpmeta/>");
    let icc = riff_chunk(b"ICCP", b"fake-icc");
    let original = webp(&[
        vp8x(0x20 | 0x08 | 0x04, 64, 32),
        icc.clone(),
        image.clone(),
        exif,
        xmp,
    ]);
    let stripped = strip_metadata(&original, ImageKind::WebP).unwrap();
    // Orientation 6 survives, alone, in a minimal EXIF chunk (flag kept).
    assert_eq!(
        stripped,
        webp(&[
            vp8x(0x20 | 0x08, 64, 32),
            icc.clone(),
            image.clone(),
            riff_chunk(b"EXIF", &orientation_only_tiff(6)),
        ])
    );
    assert!(!find(&stripped, &latitude_bytes()));
    let upright = webp(&[
        vp8x(0x20 | 0x08, 64, 32),
        icc.clone(),
        image.clone(),
        riff_chunk(b"EXIF", &exif_with_gps(1)[6..]),
    ]);
    assert_eq!(
        strip_metadata(&upright, ImageKind::WebP).unwrap(),
        webp(&[vp8x(0x20, 64, 32), icc, image])
    );

    let bench = bench_image("photo-2048.webp");
    assert!(find(&bench, b"EXIF"));
    let stripped = strip_metadata(&bench, ImageKind::WebP).unwrap();
    assert!(!find(&stripped, b"EXIF"));
    assert_eq!(stripped[20] & 0x0C, 0, "EXIF and XMP flags cleared");
    assert_eq!(stripped[20], bench[20] & !0x0C);
    let info = inspect(&stripped, &Limits::default()).unwrap();
    assert_eq!((info.width, info.height), (2048, 2048));
    assert_eq!(
        stripped[..],
        bench[..stripped.len()]
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                if i == 4 || i == 5 || i == 6 || i == 7 || i == 20 {
                    stripped[i]
                } else {
                    b
                }
            })
            .collect::<Vec<_>>()[..],
        "everything before the EXIF chunk is unchanged"
    );
}

#[test]
fn gif_drops_comments_and_foreign_application_extensions() {
    let mut original = gif(4, 4, &[NETSCAPE, COMMENT, XMP_APP], 2);
    original.extend_from_slice(b"<script>alert(1)</script>");
    let stripped = strip_metadata(&original, ImageKind::Gif).unwrap();
    assert_eq!(stripped, gif(4, 4, &[NETSCAPE], 2));
}

#[test]
fn the_kind_must_match_the_bytes() {
    let p = png(4, 4, &[]);
    assert_eq!(
        strip_metadata(&p, ImageKind::Jpeg),
        Err(Error::UnsupportedType)
    );
    assert_eq!(
        strip_metadata(b"<svg/>", ImageKind::Png),
        Err(Error::UnsupportedType)
    );
}
