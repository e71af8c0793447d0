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

/// One item of [`heif_with_items`]: its `infe` type, content type and
/// encoding (for `mime`), payload, and where the payload is stored.
#[derive(Debug, Clone)]
pub struct HeifItem {
    pub item_type: [u8; 4],
    pub content_type: &'static str,
    pub encoding: &'static str,
    pub payload: Vec<u8>,
    /// In the `meta` box's `idat` (construction method 1) instead of `mdat`.
    pub in_idat: bool,
    /// Stored as two extents, the second one at the end of `mdat` or `idat`.
    pub split: bool,
}

impl HeifItem {
    pub fn new(item_type: &[u8; 4], payload: &[u8]) -> HeifItem {
        HeifItem {
            item_type: *item_type,
            content_type: "",
            encoding: "",
            payload: payload.to_vec(),
            in_idat: false,
            split: false,
        }
    }

    pub fn mime(content_type: &'static str, payload: &[u8]) -> HeifItem {
        HeifItem {
            content_type,
            ..HeifItem::new(b"mime", payload)
        }
    }
}

/// How [`heif_with_items`] writes `iloc`.
#[derive(Debug, Clone, Copy)]
pub struct IlocLayout {
    /// 0, 1 or 2 (`idat` items need 1 or 2).
    pub version: u8,
    /// 4 or 8.
    pub offset_size: u8,
    /// 4 or 8.
    pub length_size: u8,
    /// 0, 4 or 8: when not 0, each item's base offset is the start of its
    /// container and extent offsets are relative to it.
    pub base_size: u8,
}

impl Default for IlocLayout {
    fn default() -> Self {
        IlocLayout {
            version: 1,
            offset_size: 4,
            length_size: 4,
            base_size: 0,
        }
    }
}

/// A HEIF built by [`heif_with_items`], with the absolute byte ranges that
/// hold each item's payload (item 1, the primary `hvc1` image, first).
pub struct BuiltHeif {
    pub bytes: Vec<u8>,
    pub ranges: Vec<Vec<std::ops::Range<usize>>>,
}

fn sized_be(v: u64, size: u8) -> Vec<u8> {
    match size {
        0 => vec![],
        4 => (v as u32).to_be_bytes().to_vec(),
        8 => v.to_be_bytes().to_vec(),
        _ => panic!("size {size}"),
    }
}

/// A 64×48 HEIC (header only: the `hvc1` payload is not real HEVC) whose
/// primary item 1 is followed by `items` (IDs 2, 3, ...), each with an
/// `infe` (version 2) and its payload located through `iloc` as `layout` says.
pub fn heif_with_items(layout: IlocLayout, items: &[HeifItem]) -> BuiltHeif {
    let image = HeifItem::new(b"hvc1", b"not really HEVC, but the image's bytes");
    let all: Vec<&HeifItem> = std::iter::once(&image).chain(items).collect();
    // Payload placement: (item index, part) in container order, seconds halves last.
    let place = |in_idat: bool| {
        let mut order = Vec::new();
        let mut later = Vec::new();
        for (i, it) in all.iter().enumerate() {
            // An empty payload has no extent (a zero length would mean
            // "to the end of the container").
            if it.in_idat != in_idat || it.payload.is_empty() {
                continue;
            }
            let half = it.payload.len() / 2;
            if it.split && half > 0 {
                order.push((i, 0..half));
                later.push((i, half..it.payload.len()));
            } else {
                order.push((i, 0..it.payload.len()));
            }
        }
        order.extend(later);
        order
    };
    let (mdat_parts, idat_parts) = (place(false), place(true));
    let body_of = |parts: &[(usize, std::ops::Range<usize>)]| -> Vec<u8> {
        parts
            .iter()
            .flat_map(|(i, r)| all[*i].payload[r.clone()].to_vec())
            .collect()
    };
    let (mdat_body, idat_body) = (body_of(&mdat_parts), body_of(&idat_parts));

    let ftyp = bmff(b"ftyp", b"heic\0\0\0\0mif1heic");
    let build_meta = |mdat_start: u64| -> (Vec<u8>, u64) {
        let mut hdlr = vec![0; 4];
        hdlr.extend_from_slice(b"pict");
        hdlr.extend_from_slice(&[0; 13]);
        let mut iinf = (all.len() as u16).to_be_bytes().to_vec();
        for (i, it) in all.iter().enumerate() {
            let mut e = ((i + 1) as u16).to_be_bytes().to_vec();
            e.extend_from_slice(&[0, 0]);
            e.extend_from_slice(&it.item_type);
            e.push(0); // item_name
            if &it.item_type == b"mime" {
                e.extend_from_slice(it.content_type.as_bytes());
                e.push(0);
                if !it.encoding.is_empty() {
                    e.extend_from_slice(it.encoding.as_bytes());
                    e.push(0);
                }
            }
            iinf.extend(full(b"infe", 2, 0, &e));
        }
        let v = layout.version;
        let mut iloc = vec![
            (layout.offset_size << 4) | layout.length_size,
            layout.base_size << 4,
        ];
        if v < 2 {
            iloc.extend_from_slice(&(all.len() as u16).to_be_bytes());
        } else {
            iloc.extend_from_slice(&(all.len() as u32).to_be_bytes());
        }
        for (i, it) in all.iter().enumerate() {
            let id = (i + 1) as u32;
            if v < 2 {
                iloc.extend_from_slice(&(id as u16).to_be_bytes());
            } else {
                iloc.extend_from_slice(&id.to_be_bytes());
            }
            if v > 0 {
                iloc.extend_from_slice(&[0, u8::from(it.in_idat)]);
            }
            iloc.extend_from_slice(&[0, 0]); // data_reference_index
            let container_start = if it.in_idat { 0 } else { mdat_start };
            let base = if layout.base_size > 0 {
                container_start
            } else {
                0
            };
            iloc.extend(sized_be(base, layout.base_size));
            let parts = if it.in_idat { &idat_parts } else { &mdat_parts };
            let mine: Vec<(u64, u64)> = {
                let mut at = 0u64;
                let mut v = Vec::new();
                for (j, r) in parts {
                    if *j == i {
                        v.push((at, r.len() as u64));
                    }
                    at += r.len() as u64;
                }
                v
            };
            iloc.extend_from_slice(&(mine.len() as u16).to_be_bytes());
            for (off, len) in mine {
                let abs = container_start + off;
                iloc.extend(sized_be(abs - base, layout.offset_size));
                iloc.extend(sized_be(len, layout.length_size));
            }
        }
        let mut ispe = 64u32.to_be_bytes().to_vec();
        ispe.extend_from_slice(&48u32.to_be_bytes());
        let ipco = bmff(b"ipco", &full(b"ispe", 0, 0, &ispe));
        let ipma = full(b"ipma", 0, 0, &[0, 0, 0, 1, 0, 1, 1, 0x81]);
        let mut children = [
            full(b"hdlr", 0, 0, &hdlr),
            full(b"pitm", 0, 0, &[0, 1]),
            full(b"iloc", v, 0, &iloc),
            full(b"iinf", 0, 0, &iinf),
            bmff(b"iprp", &[ipco, ipma].concat()),
        ]
        .concat();
        // idat last, so its body ends the meta box.
        let idat_body_start_in_meta = 12 + children.len() as u64 + 8;
        if !idat_body.is_empty() {
            children.extend(bmff(b"idat", &idat_body));
        }
        (full(b"meta", 0, 0, &children), idat_body_start_in_meta)
    };
    let (probe_meta, _) = build_meta(0);
    let mdat_start = (ftyp.len() + probe_meta.len() + 8) as u64;
    let (meta, idat_in_meta) = build_meta(mdat_start);
    assert_eq!(meta.len(), probe_meta.len());
    let idat_start = ftyp.len() as u64 + idat_in_meta;
    let bytes = [ftyp, meta, bmff(b"mdat", &mdat_body)].concat();

    let mut ranges = vec![Vec::new(); all.len()];
    for (parts, start) in [(&mdat_parts, mdat_start), (&idat_parts, idat_start)] {
        let mut at = start as usize;
        for (i, r) in parts {
            ranges[*i].push(at..at + r.len());
            at += r.len();
        }
    }
    for (i, it) in all.iter().enumerate() {
        let got: Vec<u8> = ranges[i]
            .iter()
            .flat_map(|r| bytes[r.clone()].to_vec())
            .collect();
        assert_eq!(got, it.payload, "item {} placed where iloc says", i + 1);
    }
    BuiltHeif { bytes, ranges }
}

/// A HEIF Exif item payload: `exif_tiff_header_offset` then `Exif\0\0` and
/// the TIFF of [`exif_with_gps`], as iPhones write it.
pub fn heif_exif(orientation: u16) -> Vec<u8> {
    let mut p = 6u32.to_be_bytes().to_vec();
    p.extend(exif_with_gps(orientation));
    p
}

// ---------- ICC ----------

/// CIE xy chromaticities of red, green and blue.
pub type Primaries = [(f64, f64); 3];
pub const DISPLAY_P3: Primaries = [(0.680, 0.320), (0.265, 0.690), (0.150, 0.060)];
pub const SRGB: Primaries = [(0.64, 0.33), (0.30, 0.60), (0.15, 0.06)];
const D65: (f64, f64) = (0.3127, 0.3290);
const D50_XYZ: [f64; 3] = [0.9642, 1.0, 0.8249];

pub type Mat3 = [[f64; 3]; 3];

pub fn mul(a: &Mat3, b: &Mat3) -> Mat3 {
    let mut out = [[0.0; 3]; 3];
    for (i, row) in out.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = (0..3).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    out
}

pub fn apply(m: &Mat3, v: [f64; 3]) -> [f64; 3] {
    [0, 1, 2].map(|i| (0..3).map(|k| m[i][k] * v[k]).sum())
}

pub fn invert(m: &Mat3) -> Mat3 {
    let [[a, b, c], [d, e, f], [g, h, i]] = *m;
    let det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
    [
        [
            (e * i - f * h) / det,
            (c * h - b * i) / det,
            (b * f - c * e) / det,
        ],
        [
            (f * g - d * i) / det,
            (a * i - c * g) / det,
            (c * d - a * f) / det,
        ],
        [
            (d * h - e * g) / det,
            (b * g - a * h) / det,
            (a * e - b * d) / det,
        ],
    ]
}

fn xyz_of_xy((x, y): (f64, f64)) -> [f64; 3] {
    [x / y, 1.0, (1.0 - x - y) / y]
}

/// Linear RGB → XYZ for `primaries` with a D65 white (columns: the
/// colorants), as in ITU/SMPTE RP 177.
pub fn rgb_to_xyz(primaries: Primaries) -> Mat3 {
    let cols = primaries.map(xyz_of_xy);
    let m: Mat3 = [0, 1, 2].map(|i| [cols[0][i], cols[1][i], cols[2][i]]);
    let s = apply(&invert(&m), xyz_of_xy(D65));
    [0, 1, 2].map(|i| [m[i][0] * s[0], m[i][1] * s[1], m[i][2] * s[2]])
}

/// The Bradford chromatic adaptation from D65 to D50 (ICC.1:2022 Annex E).
pub fn bradford_d65_to_d50() -> Mat3 {
    let b: Mat3 = [
        [0.8951, 0.2664, -0.1614],
        [-0.7502, 1.7135, 0.0367],
        [0.0389, -0.0685, 1.0296],
    ];
    let (src, dst) = (apply(&b, xyz_of_xy(D65)), apply(&b, D50_XYZ));
    let scale: Mat3 = [
        [dst[0] / src[0], 0.0, 0.0],
        [0.0, dst[1] / src[1], 0.0],
        [0.0, 0.0, dst[2] / src[2]],
    ];
    mul(&invert(&b), &mul(&scale, &b))
}

/// The sRGB transfer function: encoded (0..=1) → linear.
pub fn srgb_to_linear(v: f64) -> f64 {
    if v <= 0.04045 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
}

/// Linear → encoded, clipped to 0..=255.
pub fn linear_to_srgb8(v: f64) -> u8 {
    let v = v.clamp(0.0, 1.0);
    let e = if v <= 0.0031308 {
        v * 12.92
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    };
    (e * 255.0).round() as u8
}

/// What a colour with sRGB-curve-encoded values in `primaries` is in sRGB
/// (relative colorimetric: out-of-gamut values clipped), computed without
/// any colour management library.
pub fn expected_srgb(primaries: Primaries, rgb: [u8; 3]) -> [u8; 3] {
    let to_srgb = mul(&invert(&rgb_to_xyz(SRGB)), &rgb_to_xyz(primaries));
    let linear = rgb.map(|c| srgb_to_linear(f64::from(c) / 255.0));
    apply(&to_srgb, linear).map(linear_to_srgb8)
}

fn s15f16(v: f64) -> [u8; 4] {
    ((v * 65536.0).round() as i32).to_be_bytes()
}

fn icc_xyz(v: [f64; 3]) -> Vec<u8> {
    let mut t = b"XYZ \0\0\0\0".to_vec();
    for c in v {
        t.extend_from_slice(&s15f16(c));
    }
    t
}

fn icc_mluc(text: &str) -> Vec<u8> {
    let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let mut t = b"mluc\0\0\0\0".to_vec();
    t.extend_from_slice(&1u32.to_be_bytes());
    t.extend_from_slice(&12u32.to_be_bytes());
    t.extend_from_slice(b"enUS");
    t.extend_from_slice(&(utf16.len() as u32).to_be_bytes());
    t.extend_from_slice(&28u32.to_be_bytes());
    t.extend(utf16);
    t
}

/// A version 4 RGB display profile written field by field (ICC.1:2022):
/// D50-adapted colorants of `primaries` with a D65 white, the sRGB transfer
/// curve as a `para` function type 3, and the matching `chad`.
pub fn icc_profile(primaries: Primaries, description: &str) -> Vec<u8> {
    let chad = bradford_d65_to_d50();
    let colorants = mul(&chad, &rgb_to_xyz(primaries));
    let column = |j: usize| [colorants[0][j], colorants[1][j], colorants[2][j]];
    let mut para = b"para\0\0\0\0\0\x03\0\0".to_vec();
    for v in [2.4, 1.0 / 1.055, 0.055 / 1.055, 1.0 / 12.92, 0.04045] {
        para.extend_from_slice(&s15f16(v));
    }
    let mut sf32 = b"sf32\0\0\0\0".to_vec();
    for row in chad {
        for v in row {
            sf32.extend_from_slice(&s15f16(v));
        }
    }
    let elements: Vec<(&[u8; 4], Vec<u8>)> = vec![
        (b"desc", icc_mluc(description)),
        (b"cprt", icc_mluc("No copyright, test data")),
        (b"wtpt", icc_xyz(D50_XYZ)),
        (b"chad", sf32),
        (b"rXYZ", icc_xyz(column(0))),
        (b"gXYZ", icc_xyz(column(1))),
        (b"bXYZ", icc_xyz(column(2))),
        (b"rTRC", para.clone()),
        (b"gTRC", para.clone()),
        (b"bTRC", para),
    ];
    let mut table = (elements.len() as u32).to_be_bytes().to_vec();
    let mut data = Vec::new();
    let data_start = 128 + 4 + 12 * elements.len();
    for (sig, element) in &elements {
        table.extend_from_slice(*sig);
        table.extend_from_slice(&((data_start + data.len()) as u32).to_be_bytes());
        table.extend_from_slice(&(element.len() as u32).to_be_bytes());
        data.extend_from_slice(element);
        while data.len() % 4 != 0 {
            data.push(0);
        }
    }
    let size = 128 + table.len() + data.len();
    let mut header = (size as u32).to_be_bytes().to_vec();
    header.extend_from_slice(b"\0\0\0\0"); // CMM
    header.extend_from_slice(&[4, 0x30, 0, 0]); // version 4.3
    header.extend_from_slice(b"mntrRGB XYZ ");
    for v in [2024u16, 1, 1, 0, 0, 0] {
        header.extend_from_slice(&v.to_be_bytes());
    }
    header.extend_from_slice(b"acsp");
    header.extend_from_slice(&[0; 24]); // platform, flags, manufacturer, model, attributes
    header.extend_from_slice(&0u32.to_be_bytes()); // perceptual
    for v in D50_XYZ {
        header.extend_from_slice(&s15f16(v));
    }
    header.extend_from_slice(&[0; 4 + 16 + 28]); // creator, ID, reserved
    assert_eq!(header.len(), 128);
    [header, table, data].concat()
}

/// JPEG APP2 segments carrying `icc` split into `chunks` ICC_PROFILE chunks.
pub fn icc_app2(icc: &[u8], chunks: usize) -> Vec<Vec<u8>> {
    let size = icc.len().div_ceil(chunks);
    icc.chunks(size)
        .enumerate()
        .map(|(i, part)| {
            let mut p = b"ICC_PROFILE\0".to_vec();
            p.extend_from_slice(&[(i + 1) as u8, chunks as u8]);
            p.extend_from_slice(part);
            segment(0xE2, &p)
        })
        .collect()
}
