//! Hand-built test images: every header written byte by byte, so the tests
//! say exactly what they feed the walkers.

use std::path::PathBuf;

pub fn bench_image(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/bench-images")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

// ---------- PNG ----------

pub fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut h = crc32fast::Hasher::new();
    h.update(kind);
    h.update(data);
    out.extend_from_slice(&h.finalize().to_be_bytes());
    out
}

pub fn ihdr(width: u32, height: u32, depth: u8, color: u8) -> Vec<u8> {
    let mut d = width.to_be_bytes().to_vec();
    d.extend_from_slice(&height.to_be_bytes());
    d.extend_from_slice(&[depth, color, 0, 0, 0]);
    png_chunk(b"IHDR", &d)
}

/// A PNG with the given IHDR size and extra chunks between IHDR and IDAT.
pub fn png(width: u32, height: u32, extra: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(ihdr(width, height, 8, 6));
    for c in extra {
        out.extend_from_slice(c);
    }
    // A stored (uncompressed) zlib stream; the probe never inflates it.
    out.extend(png_chunk(
        b"IDAT",
        &[0x78, 0x01, 0x01, 0x00, 0x00, 0xFF, 0xFF, 0, 0, 0, 1],
    ));
    out.extend(png_chunk(b"IEND", &[]));
    out
}

pub fn actl(frames: u32) -> Vec<u8> {
    let mut d = frames.to_be_bytes().to_vec();
    d.extend_from_slice(&0u32.to_be_bytes());
    png_chunk(b"acTL", &d)
}

pub fn fctl(seq: u32) -> Vec<u8> {
    let mut d = seq.to_be_bytes().to_vec();
    d.extend_from_slice(&[0; 22]);
    png_chunk(b"fcTL", &d)
}

// ---------- GIF ----------

pub const NETSCAPE: &[u8] = b"\x21\xFF\x0BNETSCAPE2.0\x03\x01\x00\x00\x00";
pub const COMMENT: &[u8] = b"\x21\xFE\x0Dshot in Paris\x00";
pub const XMP_APP: &[u8] = b"\x21\xFF\x0BXMP DataXMP\x05<xmp>\x00";

/// A GIF89a with a 2-colour global table, the given extensions and `frames` 1-pixel... frames.
pub fn gif(width: u16, height: u16, extensions: &[&[u8]], frames: usize) -> Vec<u8> {
    let mut out = b"GIF89a".to_vec();
    out.extend_from_slice(&width.to_le_bytes());
    out.extend_from_slice(&height.to_le_bytes());
    out.extend_from_slice(&[0x80, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF]);
    for e in extensions {
        out.extend_from_slice(e);
    }
    for _ in 0..frames {
        out.extend_from_slice(b"\x21\xF9\x04\x00\x0A\x00\x00\x00");
        out.push(0x2C);
        for v in [0u16, 0, width, height] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&[0x00, 0x02, 0x02, 0x4C, 0x01, 0x00]);
    }
    out.push(0x3B);
    out
}

// ---------- WebP ----------

pub fn riff_chunk(fourcc: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut out = fourcc.to_vec();
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(payload);
    if payload.len() % 2 == 1 {
        out.push(0);
    }
    out
}

pub fn webp(chunks: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = chunks.concat();
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&((body.len() + 4) as u32).to_le_bytes());
    out.extend_from_slice(b"WEBP");
    out.extend(body);
    out
}

pub fn vp8l(width: u32, height: u32, alpha: bool) -> Vec<u8> {
    let bits = (width - 1) | ((height - 1) << 14) | (u32::from(alpha) << 28);
    let mut p = vec![0x2F];
    p.extend_from_slice(&bits.to_le_bytes());
    p.extend_from_slice(&[0, 0, 0]);
    riff_chunk(b"VP8L", &p)
}

pub fn vp8x(flags: u8, width: u32, height: u32) -> Vec<u8> {
    let mut p = vec![flags, 0, 0, 0];
    p.extend_from_slice(&(width - 1).to_le_bytes()[..3]);
    p.extend_from_slice(&(height - 1).to_le_bytes()[..3]);
    riff_chunk(b"VP8X", &p)
}

// ---------- HEIF ----------

pub fn bmff(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out
}

pub fn full(kind: &[u8; 4], version: u8, flags: u32, body: &[u8]) -> Vec<u8> {
    let mut b = ((u32::from(version) << 24) | flags).to_be_bytes().to_vec();
    b.extend_from_slice(body);
    bmff(kind, &b)
}

/// A HEIC whose primary item 1 has `ispe` (width × height) and `irot` 1 (90°);
/// item 2 (a thumbnail) has a different `ispe` that must be ignored.
pub fn heic(width: u32, height: u32) -> Vec<u8> {
    let ftyp = bmff(b"ftyp", b"heic\0\0\0\0mif1heic");
    let mut hdlr = vec![0; 4];
    hdlr.extend_from_slice(b"pict");
    hdlr.extend_from_slice(&[0; 13]);
    let mut ispe = width.to_be_bytes().to_vec();
    ispe.extend_from_slice(&height.to_be_bytes());
    let thumb = full(b"ispe", 0, 0, &[0, 0, 0, 64, 0, 0, 0, 48]);
    let ipco = bmff(
        b"ipco",
        &[thumb, full(b"ispe", 0, 0, &ispe), bmff(b"irot", &[1])].concat(),
    );
    // entry_count 2: item 2 → property 1; item 1 → properties 2 (essential) and 3.
    let ipma = full(
        b"ipma",
        0,
        0,
        &[0, 0, 0, 2, 0, 2, 1, 0x01, 0, 1, 2, 0x82, 0x03],
    );
    let meta = full(
        b"meta",
        0,
        0,
        &[
            full(b"hdlr", 0, 0, &hdlr),
            full(b"pitm", 0, 0, &[0, 1]),
            bmff(b"iprp", &[ipco, ipma].concat()),
        ]
        .concat(),
    );
    [ftyp, meta, bmff(b"mdat", &[0; 16])].concat()
}

// ---------- JPEG ----------

/// A 16×16 baseline JPEG from the `image` crate's encoder.
pub fn encoded_jpeg() -> Vec<u8> {
    let pixels: Vec<u8> = (0..16 * 16 * 3).map(|i| (i * 7 % 251) as u8).collect();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode(&pixels, 16, 16, image::ExtendedColorType::Rgb8)
        .expect("encode");
    out
}

pub fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0xFF, marker];
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// 48°51'29" N, the GPS latitude written into test EXIF.
pub const LATITUDE: [u32; 6] = [48, 1, 51, 1, 29, 1];

/// An APP1 EXIF payload (little-endian TIFF) with Orientation and a GPS IFD.
pub fn exif_with_gps(orientation: u16) -> Vec<u8> {
    let mut t = b"II\x2A\x00\x08\x00\x00\x00".to_vec();
    // IFD0 at 8: two entries.
    t.extend_from_slice(&2u16.to_le_bytes());
    t.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0]);
    t.extend_from_slice(&orientation.to_le_bytes());
    t.extend_from_slice(&[0, 0]);
    t.extend_from_slice(&[0x25, 0x88, 4, 0, 1, 0, 0, 0]);
    t.extend_from_slice(&38u32.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    // GPS IFD at 38: LatitudeRef "N", Latitude → rationals at 68.
    t.extend_from_slice(&2u16.to_le_bytes());
    t.extend_from_slice(&[0x01, 0x00, 2, 0, 2, 0, 0, 0, b'N', 0, 0, 0]);
    t.extend_from_slice(&[0x02, 0x00, 5, 0, 3, 0, 0, 0]);
    t.extend_from_slice(&68u32.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(t.len(), 68);
    for v in LATITUDE {
        t.extend_from_slice(&v.to_le_bytes());
    }
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend(t);
    payload
}

/// Inserts segments right after SOI.
pub fn insert_after_soi(jpeg: &[u8], segments: &[Vec<u8>]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    for s in segments {
        out.extend_from_slice(s);
    }
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// Every marker segment before the first SOS as (marker, whole segment),
/// then the rest of the file as one item with marker 0xDA.
pub fn jpeg_segments(jpeg: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    let mut i = 2;
    loop {
        assert_eq!(jpeg[i], 0xFF, "marker at {i}");
        let marker = jpeg[i + 1];
        if marker == 0xDA {
            out.push((marker, jpeg[i..].to_vec()));
            return out;
        }
        let len = usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]));
        out.push((marker, jpeg[i..i + 2 + len].to_vec()));
        i += 2 + len;
    }
}

/// The segments that carry image data or decoding tables (everything but APPn and COM).
pub fn image_data_segments(jpeg: &[u8]) -> Vec<(u8, Vec<u8>)> {
    jpeg_segments(jpeg)
        .into_iter()
        .filter(|(m, _)| !matches!(m, 0xE0..=0xEF | 0xFE))
        .collect()
}

/// Whether any EXIF in the file has a GPS field, read with kamadak-exif.
pub fn jpeg_has_gps(jpeg: &[u8]) -> bool {
    jpeg_segments(jpeg).iter().any(|(m, seg)| {
        *m == 0xE1
            && seg[4..].starts_with(b"Exif\0\0")
            && exif::Reader::new()
                .read_raw(seg[10..].to_vec())
                .is_ok_and(|e| e.fields().any(|f| f.tag.context() == exif::Context::Gps))
    })
}

pub fn find(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
