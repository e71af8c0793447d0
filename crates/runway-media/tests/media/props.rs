//! Property tests: no input makes sniff → probe → limits → strip, or
//! decode → orient → resize → encode → placeholder (`process`), panic.

use crate::build::*;
use proptest::prelude::*;
use runway_media::{ImageKind, Limits, Preset, inspect, process, strip_metadata};

const KINDS: [ImageKind; 6] = [
    ImageKind::Jpeg,
    ImageKind::Png,
    ImageKind::WebP,
    ImageKind::Gif,
    ImageKind::Heif,
    ImageKind::Avif,
];

fn unlimited() -> Limits {
    Limits {
        max_pixels: u64::MAX,
        max_width: u32::MAX,
        max_height: u32::MAX,
        max_frames: u32::MAX,
        max_bytes: u64::MAX,
    }
}

/// Runs every stage; any `Err` must carry a known code. When strip succeeds,
/// its output must inspect to the same result as the input.
fn exercise(bytes: &[u8]) {
    const CODES: [&str; 12] = [
        "unsupported_type",
        "truncated",
        "corrupt",
        "too_large",
        "too_many_pixels",
        "dimensions_too_large",
        "too_many_frames",
        "strip_unsupported",
        "decode_unsupported",
        "decode_failed",
        "encode_failed",
        "invalid_preset",
    ];
    // Small limits keep a mutated header from making the decoders allocate
    // (and fill) a large frame on every case.
    let small = Limits {
        max_pixels: 1 << 16,
        ..Limits::default()
    };
    match process(bytes, &small, &Preset::defaults()) {
        Ok(p) => {
            assert_eq!(p.variants.len(), 3);
            assert!(p.variants.iter().all(|v| !v.bytes.is_empty()));
        }
        Err(e) => assert!(CODES.contains(&e.code()), "{e}"),
    }
    let _ = inspect(bytes, &Limits::default()).map_err(|e| assert!(CODES.contains(&e.code())));
    let probed = inspect(bytes, &unlimited());
    for kind in KINDS {
        match strip_metadata(bytes, kind) {
            Ok(stripped) => {
                let before = probed
                    .clone()
                    .expect("strip accepted what inspect rejected");
                assert_eq!(before.kind, kind);
                let mut after = inspect(&stripped, &unlimited()).expect("stripped output inspects");
                // Orientation 1 is the default and is not written back.
                if before.orientation == Some(1) {
                    after.orientation = Some(1);
                }
                assert_eq!(after, before);
            }
            Err(e) => assert!(CODES.contains(&e.code()), "{e}"),
        }
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let anmf = riff_chunk(b"ANMF", &[0; 16]);
    vec![
        insert_after_soi(
            &encoded_jpeg(),
            &[
                segment(0xE1, &exif_with_gps(6)),
                segment(0xE2, b"ICC_PROFILE\0\x01\x01x"),
                segment(0xFE, b"c"),
            ],
        ),
        png(
            4,
            4,
            &[actl(2), fctl(0), fctl(1), png_chunk(b"tEXt", b"a\0b")],
        ),
        gif(4, 4, &[NETSCAPE, COMMENT, XMP_APP], 2),
        webp(&[
            vp8x(0x3E, 8, 8),
            riff_chunk(b"ANIM", &[0; 6]),
            anmf.clone(),
            anmf,
            riff_chunk(b"EXIF", b"II*\0"),
        ]),
        webp(&[vp8l(9, 7, true)]),
        heic(64, 48),
        heif_with_items(
            IlocLayout::default(),
            &[
                HeifItem::new(b"Exif", &heif_exif(6)),
                HeifItem {
                    in_idat: true,
                    ..HeifItem::mime("application/rdf+xml", b"<x:xmpmeta/>")
                },
            ],
        )
        .bytes,
    ]
}

/// Real, decodable images (every seed above is header-only), so mutations
/// reach the pixel decoders.
fn decodable_seeds() -> Vec<Vec<u8>> {
    let img = image::RgbaImage::from_fn(24, 16, |x, y| {
        image::Rgba([
            (x * 10) as u8,
            (y * 15) as u8,
            90,
            if x < 12 { 255 } else { 128 },
        ])
    });
    let mut out = Vec::new();
    for format in [
        image::ImageFormat::Png,
        image::ImageFormat::WebP,
        image::ImageFormat::Gif,
    ] {
        let mut buf = std::io::Cursor::new(Vec::new());
        img.write_to(&mut buf, format).expect("encode seed");
        out.push(buf.into_inner());
    }
    out.push(insert_after_soi(
        &encoded_jpeg(),
        &[segment(0xE1, &exif_with_gps(6))],
    ));
    out.push(include_bytes!("../fixtures/cmyk-red-blue.jpg").to_vec());
    out
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, u8),
    Remove(usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        1 => any::<usize>().prop_map(Mutation::Remove),
        1 => any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len().max(1);
        match *m {
            Mutation::Flip(i, b) if !bytes.is_empty() => bytes[i % len] ^= b,
            Mutation::Insert(i, b) => bytes.insert(i % (bytes.len() + 1), b),
            Mutation::Remove(i) if !bytes.is_empty() => {
                bytes.remove(i % len);
            }
            Mutation::Truncate(i) => bytes.truncate(i % len),
            _ => {}
        }
    }
    bytes
}

#[test]
fn decodable_seeds_process() {
    for seed in decodable_seeds() {
        process(&seed, &Limits::default(), &Preset::defaults()).expect("seed processes");
        exercise(&seed);
    }
}

#[test]
fn seeds_are_valid() {
    for seed in seeds() {
        assert!(inspect(&seed, &Limits::default()).is_ok());
        exercise(&seed);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        exercise(&bytes);
    }

    #[test]
    fn random_bytes_behind_a_magic_never_panic(
        magic in 0usize..6,
        tail in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let mut bytes = match magic {
            0 => b"\xFF\xD8\xFF".to_vec(),
            1 => b"\x89PNG\r\n\x1a\n".to_vec(),
            2 => b"GIF89a".to_vec(),
            3 => b"RIFF\0\x02\0\0WEBPVP8X".to_vec(),
            4 => b"\0\0\0\x14ftypheic\0\0\0\0mif1".to_vec(),
            _ => b"\0\0\0\x14ftypavif\0\0\0\0mif1".to_vec(),
        };
        bytes.extend(tail);
        exercise(&bytes);
    }

    #[test]
    fn mutated_valid_images_never_panic(
        seed in 0usize..7,
        mutations in proptest::collection::vec(mutation(), 1..8),
    ) {
        let seeds = seeds();
        exercise(&apply(seeds[seed].clone(), &mutations));
    }

    #[test]
    fn mutated_decodable_images_never_panic(
        seed in 0usize..5,
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let seeds = decodable_seeds();
        exercise(&apply(seeds[seed].clone(), &mutations));
    }
}
