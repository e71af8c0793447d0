//! Stage 3b: colour management. Decoded pixels are converted once, right
//! after decoding, from the colour space the file declares to sRGB, which is
//! what the variants (which carry no profile) are assumed to be in.
//!
//! The profile comes from the container: JPEG `APP2 ICC_PROFILE` chunks,
//! PNG `iCCP`, WebP `ICCP`, and HEIF `colr` (`prof`/`rICC` ICC profiles, or
//! `nclx` colour primaries and transfer characteristics) through libheif. An
//! iPhone photo in Display P3 thus keeps its saturation; colours outside
//! sRGB are clipped (relative colorimetric intent).
//!
//! The conversion uses `moxcms`, a pure-Rust colour management system (the
//! one the `image` crate itself depends on, so it adds no new code to the
//! build). It is skipped, costing nothing, when:
//!
//! - the file declares no profile (pixels are taken as sRGB);
//! - the profile already is sRGB: the transform maps a 6×6×6 grid of
//!   colours to within one level of themselves (this recognises sRGB
//!   profiles of any vendor and encoding without a list of names);
//! - the profile is not an RGB profile (a CMYK profile on a CMYK JPEG, whose
//!   conversion to RGB stays the naive one in `decode`, or a grey profile);
//! - the profile does not parse, or is larger than 4 MiB: like browsers,
//!   an unusable profile is ignored rather than failing the upload;
//! - the `nclx` transfer is PQ or HLG (HDR: tone mapping is not done).
//!
//! For `nclx`, the SDR video transfers (BT.709, BT.601, BT.2020) are taken
//! as the sRGB curve, as browsers show such stills; only the primaries are
//! converted then.

use moxcms::{
    CicpColorPrimaries, CicpProfile, ColorProfile, DataColorSpace, Layout, MatrixCoefficients,
    RenderingIntent, TransferCharacteristics, TransformOptions,
};

use crate::decode::Pixels;

/// The colour space a decoder reported for its pixels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Profile {
    /// An ICC profile, as embedded.
    Icc(Vec<u8>),
    /// HEIF `nclx` (ITU-T H.273) code points.
    Cicp { primaries: u8, transfer: u8 },
}

/// Profiles larger than this are ignored (real RGB display profiles are a
/// few kilobytes; large CMYK printer profiles never apply here).
const MAX_ICC_BYTES: usize = 4 << 20;

/// Converts `img` from `profile` to sRGB in place. Returns whether pixels
/// changed (false when the conversion was skipped; see the module docs).
pub(crate) fn to_srgb(img: &mut Pixels, profile: &Profile) -> bool {
    let Some(source) = parse(profile) else {
        return false;
    };
    if source.color_space != DataColorSpace::Rgb {
        return false;
    }
    let layout = if img.channels == 4 {
        Layout::Rgba
    } else {
        Layout::Rgb
    };
    let options = TransformOptions {
        rendering_intent: RenderingIntent::RelativeColorimetric,
        ..TransformOptions::default()
    };
    let Ok(transform) =
        source.create_transform_8bit(layout, &ColorProfile::new_srgb(), layout, options)
    else {
        return false;
    };
    // Already sRGB (within rounding): leave the pixels alone.
    let levels = [0u8, 51, 102, 153, 204, 255];
    let channels = usize::from(img.channels);
    let grid: Vec<u8> = levels
        .iter()
        .flat_map(|&r| levels.iter().flat_map(move |&g| levels.map(|b| [r, g, b])))
        .flat_map(|rgb| {
            let mut px = [255u8; 4];
            px[..3].copy_from_slice(&rgb);
            px.into_iter().take(channels)
        })
        .collect();
    let mut mapped = vec![0u8; grid.len()];
    if transform.transform(&grid, &mut mapped).is_err() {
        return false;
    }
    if grid.iter().zip(&mapped).all(|(a, b)| a.abs_diff(*b) <= 1) {
        return false;
    }
    let mut out = vec![0u8; img.data.len()];
    if transform.transform(&img.data, &mut out).is_err() {
        return false;
    }
    img.data = out;
    true
}

fn parse(profile: &Profile) -> Option<ColorProfile> {
    match profile {
        Profile::Icc(icc) if icc.len() <= MAX_ICC_BYTES => ColorProfile::new_from_slice(icc).ok(),
        Profile::Icc(_) => None,
        Profile::Cicp {
            primaries,
            transfer,
        } => {
            let color_primaries = CicpColorPrimaries::try_from(*primaries).ok()?;
            // Unspecified, BT.709 and sRGB need nothing done; PQ and HLG
            // would need tone mapping.
            if matches!(
                color_primaries,
                CicpColorPrimaries::Bt709 | CicpColorPrimaries::Unspecified
            ) {
                return None;
            }
            use TransferCharacteristics as T;
            let transfer_characteristics = match T::try_from(*transfer) {
                Ok(T::Smpte2084 | T::Hlg) => return None,
                // SDR video transfers describe a camera's OETF; a still
                // tagged with one (libheif and phones write 1 or 6 as often
                // as 13) is meant to be shown like sRGB, as browsers do.
                Ok(T::Bt709 | T::Bt601 | T::Bt202010bit | T::Bt202012bit | T::Unspecified)
                | Err(_) => T::Srgb,
                Ok(t) => t,
            };
            let with = |transfer_characteristics| {
                ColorProfile::new_from_cicp(CicpProfile {
                    color_primaries,
                    transfer_characteristics,
                    matrix_coefficients: MatrixCoefficients::Bt709,
                    full_range: true,
                })
            };
            // Without a usable transfer curve (unspecified, reserved), moxcms
            // leaves the profile empty: assume the sRGB curve, as decoders do.
            [transfer_characteristics, TransferCharacteristics::Srgb]
                .into_iter()
                .map(with)
                .find(|p| p.red_trc.is_some())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pixels(rgb: &[[u8; 3]]) -> Pixels {
        Pixels::new(rgb.len() as u32, 1, 3, rgb.concat()).unwrap()
    }

    /// BT.2020 nclx (with the BT.709 transfer, shown as sRGB): a BT.2020
    /// mid red is a stronger red in sRGB; grey stays grey.
    #[test]
    fn nclx_bt2020_converts_and_bt709_is_left_alone() {
        let mut img = pixels(&[[180, 60, 60], [128, 128, 128]]);
        let bt2020 = Profile::Cicp {
            primaries: 9,
            transfer: 1,
        };
        assert!(to_srgb(&mut img, &bt2020));
        let (red, grey) = img.data.split_at(3);
        assert!(red[0] > 200 && red[1] < 60 && red[2] < 60, "{:?}", img.data);
        assert!(grey.iter().all(|&v| v.abs_diff(128) <= 2), "{grey:?}");

        for unchanged in [(1, 13), (2, 2), (12, 16), (12, 18), (200, 13)] {
            let mut img = pixels(&[[180, 60, 60]]);
            let profile = Profile::Cicp {
                primaries: unchanged.0,
                transfer: unchanged.1,
            };
            assert!(!to_srgb(&mut img, &profile), "{unchanged:?}");
            assert_eq!(img.data, [180, 60, 60]);
        }
    }

    #[test]
    fn unusable_profiles_are_ignored() {
        for icc in [vec![], b"not a profile".to_vec(), vec![0; 200]] {
            let mut img = pixels(&[[180, 60, 60]]);
            assert!(!to_srgb(&mut img, &Profile::Icc(icc)));
            assert_eq!(img.data, [180, 60, 60]);
        }
    }
}
