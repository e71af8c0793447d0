//! Stage 1a: the real type, from magic bytes only.
//!
//! File names and `Content-Type` headers are chosen by the client and are
//! never consulted. Sniffing only looks at the first bytes; it is `probe`
//! that walks the whole structure, so a file whose magic says JPEG but whose
//! body is not JPEG is rejected there.

use crate::Error;

/// The image containers runway accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageKind {
    Jpeg,
    Png,
    WebP,
    Gif,
    /// HEIC/HEIF: an ISO-BMFF file with an HEVC or generic image brand.
    Heif,
    /// AVIF: an ISO-BMFF file with an `avif`/`avis` brand. Probed like HEIF.
    Avif,
}

impl ImageKind {
    /// The MIME type to store and serve the original under.
    pub fn mime(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Png => "image/png",
            ImageKind::WebP => "image/webp",
            ImageKind::Gif => "image/gif",
            ImageKind::Heif => "image/heic",
            ImageKind::Avif => "image/avif",
        }
    }
}

/// The file extension for a content type the pipeline reads or writes
/// (`bin` for anything else).
pub fn file_extension(content_type: &str) -> &'static str {
    match content_type {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        "image/gif" => "gif",
        "image/heic" => "heic",
        "image/heif" => "heif",
        "image/avif" => "avif",
        _ => "bin",
    }
}

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";
const JPEG_MAGIC: &[u8] = &[0xFF, 0xD8, 0xFF];
const HEIF_BRANDS: [&[u8; 4]; 8] = [
    b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1",
];
const AVIF_BRANDS: [&[u8; 4]; 2] = [b"avif", b"avis"];

/// Detects the image type from its first bytes.
///
/// Returns `Truncated` when the input is a strict prefix of a recognised
/// signature, `UnsupportedType` otherwise.
pub fn sniff(bytes: &[u8]) -> Result<ImageKind, Error> {
    if bytes.starts_with(JPEG_MAGIC) {
        return Ok(ImageKind::Jpeg);
    }
    if bytes.starts_with(PNG_MAGIC) {
        return Ok(ImageKind::Png);
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return Ok(ImageKind::Gif);
    }
    if bytes.len() >= 16 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return match &bytes[12..16] {
            b"VP8 " | b"VP8L" | b"VP8X" => Ok(ImageKind::WebP),
            _ => Err(Error::UnsupportedType),
        };
    }
    if bytes.len() >= 8 && &bytes[4..8] == b"ftyp" {
        return sniff_ftyp(bytes);
    }
    if is_prefix_of_signature(bytes) {
        return Err(Error::Truncated);
    }
    Err(Error::UnsupportedType)
}

fn sniff_ftyp(bytes: &[u8]) -> Result<ImageKind, Error> {
    let size = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    // ftyp holds major_brand, minor_version and at least zero compatible brands.
    if !(16..=4096).contains(&size) || !size.is_multiple_of(4) {
        return Err(Error::UnsupportedType);
    }
    let ftyp = bytes.get(8..size).ok_or(Error::Truncated)?;
    let brands = std::iter::once(&ftyp[0..4]).chain(ftyp[8..].chunks_exact(4));
    let (mut avif, mut heif) = (false, false);
    for brand in brands {
        avif |= AVIF_BRANDS.iter().any(|b| b.as_slice() == brand);
        heif |= HEIF_BRANDS.iter().any(|b| b.as_slice() == brand);
    }
    // AVIF files also list the generic `mif1` brand, so the codec brand wins.
    if avif {
        Ok(ImageKind::Avif)
    } else if heif {
        Ok(ImageKind::Heif)
    } else {
        Err(Error::UnsupportedType)
    }
}

fn is_prefix_of_signature(bytes: &[u8]) -> bool {
    if bytes.is_empty() {
        return true;
    }
    let fixed: [&[u8]; 4] = [JPEG_MAGIC, PNG_MAGIC, b"GIF87a", b"GIF89a"];
    if fixed.iter().any(|sig| sig.starts_with(bytes)) {
        return true;
    }
    // RIFF....WEBPVP8?
    if bytes.len() < 16 {
        let riff = b"RIFF".starts_with(&bytes[..bytes.len().min(4)]);
        let webp = bytes.len() <= 8 || b"WEBP".starts_with(&bytes[8..bytes.len().min(12)]);
        if riff && webp {
            return true;
        }
    }
    // ....ftyp
    bytes.len() < 8 && bytes.len() > 4 && b"ftyp".starts_with(&bytes[4..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_each_signature() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0rest"), Ok(ImageKind::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Ok(ImageKind::Png));
        assert_eq!(sniff(b"GIF87a......"), Ok(ImageKind::Gif));
        assert_eq!(sniff(b"GIF89a......"), Ok(ImageKind::Gif));
        for fourcc in [b"VP8 ", b"VP8L", b"VP8X"] {
            let mut f = b"RIFF\x10\0\0\0WEBP".to_vec();
            f.extend_from_slice(fourcc);
            assert_eq!(sniff(&f), Ok(ImageKind::WebP));
        }
        for brand in HEIF_BRANDS {
            let mut f = b"\0\0\0\x14ftyp".to_vec();
            f.extend_from_slice(brand);
            f.extend_from_slice(b"\0\0\0\0mif1");
            assert_eq!(sniff(&f), Ok(ImageKind::Heif), "{brand:?}");
        }
        assert_eq!(
            sniff(b"\0\0\0\x18ftypavif\0\0\0\0mif1miaf"),
            Ok(ImageKind::Avif)
        );
    }

    #[test]
    fn rejects_non_images_by_content() {
        let cases: [&[u8]; 8] = [
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>",
            b"<?xml version=\"1.0\"?><svg/>",
            b"<!DOCTYPE html><html><script>alert(1)</script>",
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3",
            b"hello, this is plain text and not an image",
            b"RIFF\x10\0\0\0WAVEfmt ",
            b"\0\0\0\x18ftypisom\0\0\0\0isommp41",
            b"BM6\0\0\0\0\0\0\x006\0\0\0",
        ];
        for case in cases {
            assert_eq!(sniff(case), Err(Error::UnsupportedType), "{case:?}");
        }
    }

    #[test]
    fn short_prefixes_are_truncated() {
        for case in [
            &b""[..],
            b"\xFF",
            b"\xFF\xD8",
            b"\x89PN",
            b"GIF8",
            b"RIFF\0\0",
            b"\0\0\0\x18ft",
        ] {
            assert_eq!(sniff(case), Err(Error::Truncated), "{case:?}");
        }
        assert_eq!(sniff(b"\0\0\0\x18ftypheic"), Err(Error::Truncated));
    }
}
