//! strip_metadata on HEIC/HEIF: metadata payloads overwritten in place,
//! every other byte (and so the pixels and `irot`/`imir`) unchanged.

use std::ops::Range;
use std::sync::OnceLock;

use crate::build::*;
use proptest::prelude::*;
use runway_media::{Error, ImageKind, Limits, inspect, strip_metadata};

/// The Exif fields kamadak-exif reads from a HEIF (it follows `iinf`/`iloc`
/// itself), or `None` when it finds no Exif at all.
fn exif_tags(heif: &[u8]) -> Option<Vec<exif::Tag>> {
    let exif = exif::Reader::new()
        .read_from_container(&mut std::io::Cursor::new(heif))
        .ok()?;
    Some(exif.fields().map(|f| f.tag).collect())
}

fn has_gps(heif: &[u8]) -> bool {
    exif::Reader::new()
        .read_from_container(&mut std::io::Cursor::new(heif))
        .is_ok_and(|e| e.fields().any(|f| f.tag.context() == exif::Context::Gps))
}

/// Where `a` and `b` (of equal length) differ, as a list of byte ranges.
fn differences(a: &[u8], b: &[u8]) -> Vec<Range<usize>> {
    assert_eq!(a.len(), b.len());
    let mut out: Vec<Range<usize>> = Vec::new();
    for i in (0..a.len()).filter(|&i| a[i] != b[i]) {
        match out.last_mut() {
            Some(r) if r.end == i => r.end = i + 1,
            _ => out.push(i..i + 1),
        }
    }
    out
}

/// Whether every byte of `inner` is in one of `outer` (which may touch).
fn within(inner: &Range<usize>, outer: &[Range<usize>]) -> bool {
    inner.clone().all(|i| outer.iter().any(|o| o.contains(&i)))
}

/// libheif's decode of the primary image: (width, height, interleaved RGB rows).
fn libheif_rgb(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    use libheif_rs::{ColorSpace, HeifContext, LibHeif, RgbChroma};
    // Initialised once and never dropped (dropping deinitialises libheif).
    static LIB: OnceLock<LibHeif> = OnceLock::new();
    let lib = LIB.get_or_init(LibHeif::new);
    let ctx = HeifContext::read_from_bytes(bytes).expect("libheif reads it");
    let handle = ctx.primary_image_handle().expect("primary image");
    let image = lib
        .decode(&handle, ColorSpace::Rgb(RgbChroma::Rgb), None)
        .expect("libheif decodes it");
    let plane = image.planes().interleaved.expect("interleaved");
    let row = plane.width as usize * 3;
    let rows = (0..plane.height as usize)
        .flat_map(|y| plane.data[y * plane.stride..y * plane.stride + row].to_vec())
        .collect();
    (plane.width, plane.height, rows)
}

/// The bench HEIC's Exif item: item 2, one extent at 0x3918a2, 310 bytes
/// (`heif-info`; also checked by walking `iloc` by hand). Its Exif has
/// orientation 6 and a GPS IFD.
const BENCH_EXIF: Range<usize> = 0x3918a2..0x3918a2 + 0x136;

#[test]
fn bench_heic_loses_gps_and_keeps_pixels_and_orientation() {
    let original = bench_image("photo-12mp.heic");
    assert!(has_gps(&original));
    let stripped = strip_metadata(&original, ImageKind::Heif).unwrap();

    // Same length, changed only inside the Exif payload.
    assert_eq!(stripped.len(), original.len());
    for d in differences(&original, &stripped) {
        assert!(
            within(&d, &[BENCH_EXIF]),
            "changed outside the Exif item: {d:?}"
        );
    }
    // No GPS, nothing but the orientation left in a valid Exif block.
    assert!(!has_gps(&stripped));
    assert_eq!(exif_tags(&stripped), Some(vec![exif::Tag::Orientation]));
    let exif = &stripped[BENCH_EXIF];
    assert_eq!(&exif[..4], &[0, 0, 0, 0], "exif_tiff_header_offset");
    assert!(exif[4 + 26..].iter().all(|&b| b == 0), "zero padding");
    assert_eq!(
        u16::from_be_bytes([exif[4 + 18], exif[4 + 19]]),
        6,
        "the orientation tag keeps its value"
    );
    // The container says exactly what it said before, `irot`/`imir` included.
    assert_eq!(
        inspect(&stripped, &Limits::default()),
        inspect(&original, &Limits::default())
    );
    // libheif decodes the same pixels.
    let (w, h, before) = libheif_rgb(&original);
    let (w2, h2, after) = libheif_rgb(&stripped);
    assert_eq!((w, h), (4032, 3024));
    assert_eq!((w2, h2), (w, h));
    assert!(before == after, "the pixels changed");
    // Stripping again changes nothing.
    assert_eq!(
        strip_metadata(&stripped, ImageKind::Heif).unwrap(),
        stripped
    );
}

#[test]
fn turned_heic_keeps_its_irot() {
    let original = crate::process::bench_heic_turned();
    let stripped = strip_metadata(&original, ImageKind::Heif).unwrap();
    assert!(!has_gps(&stripped));
    let info = inspect(&stripped, &Limits::default()).unwrap();
    assert_eq!(info, inspect(&original, &Limits::default()).unwrap());
    assert_eq!(
        info.details,
        runway_media::Details::Heif {
            rotation: Some(90),
            mirror: None
        }
    );
    // Only the (moved) Exif payload differs.
    let moved = BENCH_EXIF.start + 10..BENCH_EXIF.end + 10;
    for d in differences(&original, &stripped) {
        assert!(within(&d, std::slice::from_ref(&moved)), "{d:?}");
    }
}

const XMP: &[u8] = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'><rdf:Description exif:GPSLatitude='48,51.48N'/></rdf:RDF></x:xmpmeta>";
const EMPTY_XMP: &[u8] = b"<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"/>";

/// Exif (with GPS), XMP, a C2PA-like MIME item and a deflated XMP, after
/// the primary image.
fn metadata_items() -> Vec<HeifItem> {
    vec![
        HeifItem::new(b"Exif", &heif_exif(6)),
        HeifItem::mime("application/rdf+xml", XMP),
        HeifItem::mime("application/c2pa", b"claim: shot at 48.8582 N, 2.2945 E"),
        HeifItem {
            encoding: "deflate",
            ..HeifItem::mime("application/rdf+xml", b"x\x9c compressed GPS")
        },
    ]
}

/// Checks one stripped synthetic file against the builder's item ranges:
/// only metadata payloads changed, and they hold what the rewrite promises.
fn check_stripped(built: &BuiltHeif, items: &[HeifItem], stripped: &[u8]) {
    let original = &built.bytes;
    assert_eq!(stripped.len(), original.len());
    let metadata: Vec<Range<usize>> = built.ranges[1..].iter().flatten().cloned().collect();
    for d in differences(original, stripped) {
        assert!(within(&d, &metadata), "changed outside metadata: {d:?}");
    }
    // The image item is byte-identical.
    for r in &built.ranges[0] {
        assert_eq!(stripped[r.clone()], original[r.clone()]);
    }
    for (item, ranges) in items.iter().zip(&built.ranges[1..]) {
        let payload: Vec<u8> = ranges
            .iter()
            .flat_map(|r| stripped[r.clone()].to_vec())
            .collect();
        match (&item.item_type, item.content_type, item.encoding) {
            (b"Exif", ..) => {
                assert_eq!(&payload[..4], &[0, 0, 0, 0]);
                let exif = exif::Reader::new()
                    .read_raw(payload[4..].to_vec())
                    .expect("a valid TIFF");
                let tags: Vec<_> = exif.fields().map(|f| f.tag).collect();
                assert_eq!(tags, [exif::Tag::Orientation]);
            }
            (b"mime", "application/rdf+xml", "") => {
                assert!(payload.starts_with(EMPTY_XMP));
                assert!(payload[EMPTY_XMP.len()..].iter().all(|&b| b == b' '));
            }
            _ => assert!(payload.iter().all(|&b| b == 0), "{item:?}"),
        }
    }
    for secret in [&b"GPSLatitude"[..], b"48.8582", b"GPS"] {
        assert!(
            !find(stripped, secret),
            "{}",
            String::from_utf8_lossy(secret)
        );
    }
    assert!(!find(stripped, &LATITUDE.map(u32::to_le_bytes).concat()));
    assert_eq!(
        inspect(stripped, &Limits::default()),
        inspect(original, &Limits::default())
    );
    assert_eq!(strip_metadata(stripped, ImageKind::Heif).unwrap(), stripped);
}

#[test]
fn metadata_items_are_scrubbed_in_every_iloc_layout() {
    let layouts = [
        IlocLayout {
            version: 0,
            ..IlocLayout::default()
        },
        IlocLayout::default(),
        IlocLayout {
            version: 2,
            offset_size: 8,
            length_size: 8,
            base_size: 8,
        },
        IlocLayout {
            version: 1,
            offset_size: 4,
            length_size: 8,
            base_size: 4,
        },
    ];
    for layout in layouts {
        for split in [false, true] {
            for in_idat in [false, true] {
                if in_idat && layout.version == 0 {
                    continue;
                }
                let items: Vec<HeifItem> = metadata_items()
                    .into_iter()
                    .map(|it| HeifItem {
                        split,
                        in_idat,
                        ..it
                    })
                    .collect();
                let built = heif_with_items(layout, &items);
                assert!(find(&built.bytes, b"GPSLatitude"));
                assert!(has_gps(&built.bytes));
                let stripped = strip_metadata(&built.bytes, ImageKind::Heif)
                    .unwrap_or_else(|e| panic!("{layout:?} split {split} idat {in_idat}: {e}"));
                check_stripped(&built, &items, &stripped);
                if !in_idat && !split {
                    assert_eq!(exif_tags(&stripped), Some(vec![exif::Tag::Orientation]));
                }
            }
        }
    }
}

#[test]
fn exif_without_orientation_and_tiny_payloads() {
    // Orientation 1: an Exif block with an empty IFD0.
    let built = heif_with_items(
        IlocLayout::default(),
        &[HeifItem::new(b"Exif", &heif_exif(1))],
    );
    let stripped = strip_metadata(&built.bytes, ImageKind::Heif).unwrap();
    let payload = &stripped[built.ranges[1][0].clone()];
    assert_eq!(&payload[..18], b"\0\0\0\0MM\0\x2A\0\0\0\x08\0\0\0\0\0\0");
    assert!(payload[18..].iter().all(|&b| b == 0));
    assert_eq!(exif_tags(&stripped), Some(vec![]));
    assert!(!has_gps(&stripped));

    // Too short for any valid block: zeros (Exif) or spaces (XMP).
    let built = heif_with_items(
        IlocLayout::default(),
        &[
            HeifItem::new(b"Exif", b"\0\0\0\0II*\0GPS"),
            HeifItem::mime("application/rdf+xml; charset=utf-8", b"<GPS/>"),
        ],
    );
    let stripped = strip_metadata(&built.bytes, ImageKind::Heif).unwrap();
    assert_eq!(stripped[built.ranges[1][0].clone()], [0; 11]);
    assert_eq!(&stripped[built.ranges[2][0].clone()], b"      ");
}

#[test]
fn files_without_metadata_are_returned_unchanged() {
    let built = heif_with_items(IlocLayout::default(), &[]);
    assert_eq!(
        strip_metadata(&built.bytes, ImageKind::Heif).unwrap(),
        built.bytes
    );
    // Header-only HEIC without iinf or iloc.
    let bare = heic(64, 48);
    assert_eq!(strip_metadata(&bare, ImageKind::Heif).unwrap(), bare);
}

#[test]
fn avif_is_stripped_the_same_way() {
    let mut built = heif_with_items(IlocLayout::default(), &metadata_items());
    built.bytes[16..20].copy_from_slice(b"avif");
    built.bytes[8..12].copy_from_slice(b"avif");
    assert_eq!(
        inspect(&built.bytes, &Limits::default()).unwrap().kind,
        ImageKind::Avif
    );
    let stripped = strip_metadata(&built.bytes, ImageKind::Avif).unwrap();
    assert!(!find(&stripped, b"GPS"));
    assert_eq!(stripped.len(), built.bytes.len());
}

/// Finds the `iloc` entry of `item` in a file built with the default
/// layout (version 1, 4-byte offsets and lengths, no base offset) and
/// returns the position of its construction method field (the data
/// reference index follows at +2, the first extent's offset at +6 and its
/// length at +10).
fn iloc_entry(bytes: &[u8], item: u16) -> usize {
    let iloc = bytes.windows(4).position(|w| w == b"iloc").unwrap() + 4;
    // version/flags, sizes, item_count
    let mut at = iloc + 4 + 2 + 2;
    loop {
        let id = u16::from_be_bytes([bytes[at], bytes[at + 1]]);
        let extents = u16::from_be_bytes([bytes[at + 6], bytes[at + 7]]) as usize;
        if id == item {
            return at + 2;
        }
        at += 8 + extents * 8;
    }
}

#[test]
fn layouts_it_cannot_scrub_are_refused() {
    let unsupported = Err(Error::StripUnsupported(ImageKind::Heif));
    let exif = [HeifItem::new(b"Exif", &heif_exif(6))];
    let base = heif_with_items(IlocLayout::default(), &exif).bytes;

    // Exif data constructed from another item (method 2).
    let mut f = base.clone();
    let at = iloc_entry(&f, 2);
    f[at + 1] = 2;
    assert_eq!(strip_metadata(&f, ImageKind::Heif), unsupported);

    // Exif data in another file (data_reference_index 1).
    let mut f = base.clone();
    f[at + 3] = 1;
    assert_eq!(strip_metadata(&f, ImageKind::Heif), unsupported);

    // Exif extent pointing into the meta box rather than mdat.
    let mut f = base.clone();
    f[at + 6..at + 10].copy_from_slice(&40u32.to_be_bytes());
    assert_eq!(strip_metadata(&f, ImageKind::Heif), unsupported);

    // An image sequence.
    let mut f = base.clone();
    f.extend(bmff(b"moov", &bmff(b"mvhd", &[0; 100])));
    assert_eq!(strip_metadata(&f, ImageKind::Heif), unsupported);

    // An Exif extent over the image's bytes: scrubbing would damage it.
    let built = heif_with_items(IlocLayout::default(), &exif);
    let mut f = built.bytes.clone();
    let image = built.ranges[0][0].clone();
    f[at + 6..at + 10].copy_from_slice(&(image.start as u32 + 2).to_be_bytes());
    assert_eq!(
        strip_metadata(&f, ImageKind::Heif),
        Err(Error::Corrupt("heif: a metadata item overlaps image data"))
    );

    // An Exif extent past the end of the file.
    let mut f = base.clone();
    f[at + 10..at + 14].copy_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(
        strip_metadata(&f, ImageKind::Heif).unwrap_err().code(),
        "corrupt"
    );
}

fn arbitrary_item() -> impl Strategy<Value = HeifItem> {
    (
        0usize..4,
        proptest::collection::vec(any::<u8>(), 0..80),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(kind, payload, in_idat, split)| {
            let mut it = match kind {
                0 => HeifItem::new(b"Exif", &[heif_exif(6), payload].concat()),
                1 => HeifItem::mime("application/rdf+xml", &[XMP, &payload].concat()),
                2 => HeifItem::mime("application/json", &payload),
                _ => HeifItem::new(b"hvt1", &payload),
            };
            it.in_idat = in_idat;
            it.split = split;
            it
        })
}

fn arbitrary_layout() -> impl Strategy<Value = IlocLayout> {
    (
        0u8..3,
        prop_oneof![Just(4u8), Just(8)],
        prop_oneof![Just(4u8), Just(8)],
        prop_oneof![Just(0u8), Just(4), Just(8)],
    )
        .prop_map(
            |(version, offset_size, length_size, base_size)| IlocLayout {
                version,
                offset_size,
                length_size,
                base_size,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any layout and mix of items: only metadata payloads change.
    #[test]
    fn generated_files_lose_only_their_metadata(
        layout in arbitrary_layout(),
        mut items in proptest::collection::vec(arbitrary_item(), 0..6),
    ) {
        if layout.version == 0 {
            for it in &mut items {
                it.in_idat = false;
            }
        }
        let built = heif_with_items(layout, &items);
        let stripped = strip_metadata(&built.bytes, ImageKind::Heif).expect("strips");
        let metadata: Vec<Range<usize>> = items
            .iter()
            .zip(&built.ranges[1..])
            .filter(|(it, _)| &it.item_type != b"hvt1")
            .flat_map(|(_, r)| r.clone())
            .collect();
        for d in differences(&built.bytes, &stripped) {
            prop_assert!(within(&d, &metadata), "changed outside metadata: {:?}", d);
        }
        for (it, ranges) in items.iter().zip(&built.ranges[1..]) {
            let payload: Vec<u8> = ranges.iter().flat_map(|r| stripped[r.clone()].to_vec()).collect();
            if &it.item_type == b"hvt1" {
                prop_assert_eq!(payload, it.payload.clone());
            } else {
                prop_assert!(!find(&payload, b"GPS"));
            }
        }
    }

    /// Mutated files never panic; whatever is accepted keeps its length and
    /// inspects as before.
    #[test]
    fn mutated_files_never_panic(
        layout in arbitrary_layout(),
        items in proptest::collection::vec(arbitrary_item(), 0..4),
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        cut in proptest::option::of(any::<usize>()),
    ) {
        let items: Vec<HeifItem> = items
            .into_iter()
            .map(|it| HeifItem { in_idat: it.in_idat && layout.version > 0, ..it })
            .collect();
        let mut bytes = heif_with_items(layout, &items).bytes;
        // Flip bytes in the header boxes, where the structure is.
        let header = bytes.len().min(400);
        for (i, x) in flips {
            bytes[i % header] ^= x;
        }
        if let Some(cut) = cut {
            bytes.truncate(cut % (bytes.len() + 1));
        }
        if let Ok(stripped) = strip_metadata(&bytes, ImageKind::Heif) {
            prop_assert_eq!(stripped.len(), bytes.len());
            prop_assert_eq!(
                inspect(&stripped, &Limits::default()),
                inspect(&bytes, &Limits::default())
            );
        }
    }
}
