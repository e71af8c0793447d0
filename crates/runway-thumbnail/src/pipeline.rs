//! The pipeline settings from configuration, and one run of the pure
//! pipeline (`runway-media`) over an upload.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use runway_core::config::MediaConfig;
use runway_media::{Fit, Format, Limits, Preset};

/// What the pipeline needs from `media.*` configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub limits: Limits,
    pub presets: Vec<Preset>,
    pub keep_original_metadata: bool,
}

impl Settings {
    pub fn from_config(config: &MediaConfig) -> Settings {
        let format = variant_format(config);
        Settings {
            limits: Limits {
                max_pixels: config.max_pixels,
                max_width: config.max_side,
                max_height: config.max_side,
                max_frames: config.max_frames,
                max_bytes: config.max_upload_bytes,
            },
            presets: Preset::defaults()
                .into_iter()
                .map(|p| p.with_format(format))
                .collect(),
            keep_original_metadata: config.keep_original_metadata,
        }
    }
}

/// The configured encoding of variants.
pub fn variant_format(config: &MediaConfig) -> Format {
    match config.variant_format.as_str() {
        "jpeg" => Format::Jpeg {
            quality: config.variant_quality,
        },
        _ => Format::WebP {
            quality: config.variant_quality,
        },
    }
}

/// The preset of an allowed on-demand size (fit within `w`×`h`).
pub fn on_demand_preset(config: &MediaConfig, w: u32, h: u32) -> Preset {
    Preset::new(
        format!("{w}x{h}"),
        Fit::Within {
            width: w,
            height: h,
        },
    )
    .with_format(variant_format(config))
}

/// One file the pipeline made, ready to store.
#[derive(Debug, Clone)]
pub struct Output {
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub content_type: String,
    pub bytes: Bytes,
}

/// Everything processing one upload produced.
#[derive(Debug, Clone)]
pub struct Pipeline {
    pub content_type: &'static str,
    pub width: u32,
    pub height: u32,
    /// Base64 ThumbHash.
    pub thumbhash: String,
    /// `#rrggbb`.
    pub dominant_color: String,
    /// The original to keep (metadata removed unless configured otherwise).
    pub original: Output,
    pub variants: Vec<Output>,
}

/// The placeholder and upright size, known once the image is decoded and
/// before the variants are made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Early {
    pub width: u32,
    pub height: u32,
    /// Base64 ThumbHash.
    pub thumbhash: String,
    pub dominant_color: String,
}

/// Run the pipeline on `bytes`: every variant from one decode, plus the
/// original with its metadata removed. CPU-bound: call it off the async
/// runtime.
pub fn run_pipeline(bytes: &[u8], settings: &Settings) -> Result<Pipeline, runway_media::Error> {
    run_pipeline_staged(bytes, settings, &mut |_| {})
}

/// [`run_pipeline`], calling `on_early` with the placeholder as soon as the
/// image is decoded.
pub fn run_pipeline_staged(
    bytes: &[u8],
    settings: &Settings,
    on_early: &mut dyn FnMut(Early),
) -> Result<Pipeline, runway_media::Error> {
    let processed = runway_media::process_staged(
        bytes,
        &settings.limits,
        &settings.presets,
        &runway_media::Options::default(),
        &mut |placeholder, width, height| {
            on_early(Early {
                width,
                height,
                thumbhash: STANDARD.encode(&placeholder.thumbhash),
                dominant_color: placeholder.dominant_color.clone(),
            })
        },
    )?;
    let content_type = processed.kind.mime();
    let original = if settings.keep_original_metadata {
        bytes.to_vec()
    } else {
        runway_media::strip_metadata(bytes, processed.kind)?
    };
    Ok(Pipeline {
        content_type,
        width: processed.width,
        height: processed.height,
        thumbhash: STANDARD.encode(&processed.placeholder.thumbhash),
        dominant_color: processed.placeholder.dominant_color.clone(),
        original: Output {
            name: "original".into(),
            width: processed.width,
            height: processed.height,
            content_type: content_type.to_string(),
            bytes: Bytes::from(original),
        },
        variants: processed
            .variants
            .into_iter()
            .map(|v| Output {
                name: v.name,
                width: v.width,
                height: v.height,
                content_type: v.content_type.to_string(),
                bytes: Bytes::from(v.bytes),
            })
            .collect(),
    })
}
