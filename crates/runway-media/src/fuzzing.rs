//! The body of the `pipeline` fuzz target (`fuzz/` at the repository
//! root), kept here so that a stable test replays it over [`seeds`] and
//! any saved regressions: CI runs the same code path as libFuzzer does.
//!
//! Not part of the pipeline's API: [`pipeline`] panics when an invariant
//! breaks, which is what a fuzzer needs and what production code must never
//! do.

use crate::{
    Error, Fit, Format, ImageKind, Inspection, Limits, Preset, inspect, process, strip_metadata,
};

/// Tight limits, so every input decodes quickly and no mutated header makes
/// a decoder fill a large frame.
pub fn limits() -> Limits {
    Limits {
        max_pixels: 1 << 20,
        max_width: 4096,
        max_height: 4096,
        max_frames: 64,
        max_bytes: 1 << 20,
    }
}

/// Two small presets: a WebP cover crop and a JPEG fit.
pub fn presets() -> Vec<Preset> {
    vec![
        Preset::new(
            "t",
            Fit::Cover {
                width: 32,
                height: 32,
            },
        ),
        Preset::new(
            "s",
            Fit::Within {
                width: 48,
                height: 40,
            },
        )
        .with_format(Format::Jpeg { quality: 70 }),
    ]
}

fn unlimited() -> Limits {
    Limits {
        max_pixels: u64::MAX,
        max_width: u32::MAX,
        max_height: u32::MAX,
        max_frames: u32::MAX,
        max_bytes: u64::MAX,
    }
}

/// Whether kamadak-exif finds any GPS field in the file's EXIF.
fn has_gps(bytes: &[u8]) -> bool {
    exif::Reader::new()
        .read_from_container(&mut std::io::Cursor::new(bytes))
        .is_ok_and(|e| e.fields().any(|f| f.tag.context() == exif::Context::Gps))
}

/// sniff → limits → decode → orient → variants → placeholder, then strip;
/// panics if any stage breaks its contract.
///
/// - [`process`] fails exactly when [`inspect`] fails (with the same error)
///   or with a decode/encode error; when it succeeds, every variant is
///   non-empty, of its preset's type, and no larger than its box or the
///   upright original.
/// - [`strip_metadata`] with the sniffed kind either fails or returns a file
///   that inspects as the original did, has no GPS field kamadak-exif can
///   read, and can be stripped again; HEIF/AVIF keep their length. With any
///   other kind it fails.
pub fn pipeline(data: &[u8]) {
    let limits = limits();
    let presets = presets();
    let inspected = inspect(data, &limits);
    match process(data, &limits, &presets) {
        Ok(p) => {
            let info = inspected.expect("process accepted what inspect rejected");
            assert_eq!(p.kind, info.kind);
            assert_eq!(p.variants.len(), presets.len());
            assert_eq!(
                (p.placeholder.width, p.placeholder.height),
                (p.width, p.height)
            );
            for (v, preset) in p.variants.iter().zip(&presets) {
                assert_eq!(v.name, preset.name);
                assert_eq!(v.content_type, preset.format.content_type());
                assert!(!v.bytes.is_empty());
                let (Fit::Cover { width, height } | Fit::Within { width, height }) = preset.fit;
                assert!(v.width >= 1 && v.height >= 1);
                assert!(v.width <= width.min(p.width), "{v:?}");
                assert!(v.height <= height.min(p.height), "{v:?}");
            }
        }
        Err(e) => {
            if let Err(first) = &inspected {
                assert_eq!(&e, first, "process and inspect disagree");
            } else {
                assert!(
                    matches!(
                        e,
                        Error::DecodeFailed(_)
                            | Error::DecodeUnsupported(_)
                            | Error::EncodeFailed(_)
                    ),
                    "inspect passed, then {e:?}"
                );
            }
        }
    }

    let Ok(before) = inspect(data, &unlimited()) else {
        return;
    };
    for kind in KINDS {
        let result = strip_metadata(data, kind);
        if kind != before.kind {
            assert!(result.is_err(), "stripped as {kind:?} a {:?}", before.kind);
            continue;
        }
        let Ok(stripped) = result else { continue };
        check_stripped(data, &before, &stripped);
        let again = strip_metadata(&stripped, kind).expect("a stripped file strips again");
        check_stripped(data, &before, &again);
    }
}

const KINDS: [ImageKind; 6] = [
    ImageKind::Jpeg,
    ImageKind::Png,
    ImageKind::WebP,
    ImageKind::Gif,
    ImageKind::Heif,
    ImageKind::Avif,
];

fn check_stripped(original: &[u8], before: &Inspection, stripped: &[u8]) {
    let mut after = inspect(stripped, &unlimited()).expect("the stripped file inspects");
    // Orientation 1 is the default and is not written back.
    if before.orientation == Some(1) && after.orientation.is_none() {
        after.orientation = Some(1);
    }
    assert_eq!(&after, before);
    assert!(!has_gps(stripped), "GPS survived stripping");
    if matches!(before.kind, ImageKind::Heif | ImageKind::Avif) {
        assert_eq!(stripped.len(), original.len());
    }
}

/// Small, valid inputs of every kind, with metadata to strip: the seed
/// corpus (`fuzz/README.md` says how to write them out for libFuzzer).
/// Every one inspects; all but the HEIF (whose image payload is not real
/// HEVC) decode.
pub fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let rgba = image::RgbaImage::from_fn(24, 16, |x, y| {
        image::Rgba([
            (x * 10) as u8,
            (y * 15) as u8,
            90,
            if x < 12 { 255 } else { 128 },
        ])
    });
    let encode = |img: image::DynamicImage, format: image::ImageFormat| {
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, format).expect("encode a seed");
        out.into_inner()
    };
    let png = encode(rgba.clone().into(), image::ImageFormat::Png);
    let grey16 = image::DynamicImage::ImageLuma16(image::ImageBuffer::from_fn(9, 7, |x, y| {
        image::Luma([(x * 7000 + y * 300) as u16])
    }));
    let jpeg = encode(
        image::DynamicImage::ImageRgba8(rgba.clone())
            .into_rgb8()
            .into(),
        image::ImageFormat::Jpeg,
    );
    let tiff = tiff_with_gps(6);
    let mut exif_app1 = b"Exif\0\0".to_vec();
    exif_app1.extend_from_slice(&tiff);
    let jpeg_exif = [
        &jpeg[..2],
        &segment(0xE1, &exif_app1),
        &segment(0xE2, b"ICC_PROFILE\0\x01\x01fake"),
        &segment(0xFE, b"a comment"),
        &jpeg[2..],
    ]
    .concat();
    // eXIf (with GPS) right after IHDR: signature (8) + IHDR (25).
    let png_exif = [&png[..33], &png_chunk(b"eXIf", &tiff), &png[33..]].concat();
    let webp = encode(rgba.clone().into(), image::ImageFormat::WebP);
    let mut heif_exif = 0u32.to_be_bytes().to_vec();
    heif_exif.extend_from_slice(&tiff);
    vec![
        ("png-rgba", png),
        ("png-grey16", encode(grey16, image::ImageFormat::Png)),
        ("png-exif", png_exif),
        ("gif", encode(rgba.clone().into(), image::ImageFormat::Gif)),
        ("webp-lossless", webp),
        ("jpeg", jpeg),
        ("jpeg-exif-gps", jpeg_exif),
        ("heif-metadata-items", heif_with_metadata(&heif_exif)),
    ]
}

fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0xFF, marker];
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    crate::strip::png_chunk(kind, data)
}

/// A little-endian TIFF: IFD0 with Orientation and a GPS IFD pointer; the
/// GPS IFD holds LatitudeRef `N`.
fn tiff_with_gps(orientation: u16) -> Vec<u8> {
    let mut t = b"II\x2A\x00\x08\x00\x00\x00".to_vec();
    t.extend_from_slice(&2u16.to_le_bytes());
    t.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0]);
    t.extend_from_slice(&orientation.to_le_bytes());
    t.extend_from_slice(&[0, 0]);
    t.extend_from_slice(&[0x25, 0x88, 4, 0, 1, 0, 0, 0]);
    t.extend_from_slice(&38u32.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    // GPS IFD at 38.
    t.extend_from_slice(&1u16.to_le_bytes());
    t.extend_from_slice(&[0x01, 0x00, 2, 0, 2, 0, 0, 0, b'N', 0, 0, 0]);
    t.extend_from_slice(&0u32.to_le_bytes());
    t
}

fn bmff(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out
}

fn full(kind: &[u8; 4], version: u8, body: &[u8]) -> Vec<u8> {
    let mut b = vec![version, 0, 0, 0];
    b.extend_from_slice(body);
    bmff(kind, &b)
}

/// A 16×16 HEIC, header only (item 1's payload is not HEVC), with an Exif
/// item in `mdat` and an XMP item in `idat`.
fn heif_with_metadata(exif: &[u8]) -> Vec<u8> {
    let image: &[u8] = b"not HEVC";
    let xmp: &[u8] = b"<x:xmpmeta><GPSLatitude>48,51N</GPSLatitude></x:xmpmeta>";
    let ftyp = bmff(b"ftyp", b"heic\0\0\0\0mif1heic");
    let meta = |mdat_body: u32| {
        let mut hdlr = vec![0; 4];
        hdlr.extend_from_slice(b"pict");
        hdlr.extend_from_slice(&[0; 13]);
        // iloc v1, 4-byte offsets and lengths, no base offset, 3 items.
        let mut iloc = vec![0x44, 0x00, 0, 3];
        for (id, method, offset, len) in [
            (1u16, 0u8, mdat_body, image.len()),
            (2, 0, mdat_body + image.len() as u32, exif.len()),
            (3, 1, 0, xmp.len()),
        ] {
            iloc.extend_from_slice(&id.to_be_bytes());
            iloc.extend_from_slice(&[0, method, 0, 0, 0, 1]);
            iloc.extend_from_slice(&offset.to_be_bytes());
            iloc.extend_from_slice(&(len as u32).to_be_bytes());
        }
        let mut iinf = vec![0, 3];
        iinf.extend(full(b"infe", 2, b"\0\x01\0\0hvc1\0"));
        iinf.extend(full(b"infe", 2, b"\0\x02\0\0Exif\0"));
        iinf.extend(full(b"infe", 2, b"\0\x03\0\0mime\0application/rdf+xml\0"));
        let mut ispe = 16u32.to_be_bytes().to_vec();
        ispe.extend_from_slice(&16u32.to_be_bytes());
        let ipco = bmff(b"ipco", &full(b"ispe", 0, &ispe));
        let ipma = full(b"ipma", 0, &[0, 0, 0, 1, 0, 1, 1, 0x81]);
        full(
            b"meta",
            0,
            &[
                full(b"hdlr", 0, &hdlr),
                full(b"pitm", 0, &[0, 1]),
                full(b"iloc", 1, &iloc),
                full(b"iinf", 0, &iinf),
                bmff(b"iprp", &[ipco, ipma].concat()),
                bmff(b"idat", xmp),
            ]
            .concat(),
        )
    };
    let mdat_body = (ftyp.len() + meta(0).len() + 8) as u32;
    [
        ftyp,
        meta(mdat_body),
        bmff(b"mdat", &[image, exif].concat()),
    ]
    .concat()
}
