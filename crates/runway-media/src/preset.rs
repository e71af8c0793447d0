//! Variant presets as data: a name, a box to fit into or cover, and an
//! output format. The three defaults are `thumb`, `small` and `large`;
//! callers may pass any list of their own.

use crate::Error;

/// How a variant relates to its box. Neither mode ever upscales.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Scale down to fill the box exactly, cropping the overflow around the
    /// centre. A source smaller than the box on some side is not scaled;
    /// it is only centre-cropped to at most the box.
    Cover { width: u32, height: u32 },
    /// Scale down, keeping the aspect ratio, until the image fits inside the
    /// box. A source that already fits keeps its size.
    Within { width: u32, height: u32 },
}

/// The encoding of a variant. Variants never carry metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Lossy WebP through libwebp, `quality` 1..=100; alpha is kept.
    WebP { quality: u8 },
    /// Baseline JPEG, `quality` 1..=100; alpha is flattened onto white.
    Jpeg { quality: u8 },
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::WebP { .. } => "image/webp",
            Format::Jpeg { .. } => "image/jpeg",
        }
    }
}

/// One variant to produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preset {
    pub name: String,
    pub fit: Fit,
    pub format: Format,
}

/// The largest side a variant box may have: WebP cannot hold more than
/// 16383 pixels on a side.
pub const MAX_VARIANT_SIDE: u32 = 16383;

impl Preset {
    /// 256×256, cover-cropped around the centre, WebP q80.
    pub fn thumb() -> Preset {
        Preset::new(
            "thumb",
            Fit::Cover {
                width: 256,
                height: 256,
            },
        )
    }

    /// Fits within 640×640, WebP q80.
    pub fn small() -> Preset {
        Preset::new(
            "small",
            Fit::Within {
                width: 640,
                height: 640,
            },
        )
    }

    /// Fits within 1440×1440, WebP q80.
    pub fn large() -> Preset {
        Preset::new(
            "large",
            Fit::Within {
                width: 1440,
                height: 1440,
            },
        )
    }

    /// `thumb`, `small` and `large`.
    pub fn defaults() -> Vec<Preset> {
        vec![Preset::thumb(), Preset::small(), Preset::large()]
    }

    /// A preset with the default format, WebP q80.
    pub fn new(name: impl Into<String>, fit: Fit) -> Preset {
        Preset {
            name: name.into(),
            fit,
            format: Format::WebP { quality: 80 },
        }
    }

    /// The same preset encoded as `format`.
    pub fn with_format(mut self, format: Format) -> Preset {
        self.format = format;
        self
    }

    fn validate(&self) -> Result<(), Error> {
        let invalid = |why: &str| Err(Error::InvalidPreset(format!("{:?}: {why}", self.name)));
        if self.name.is_empty() {
            return invalid("empty name");
        }
        let (Fit::Cover { width, height } | Fit::Within { width, height }) = self.fit;
        if width == 0 || height == 0 {
            return invalid("zero-sized box");
        }
        if width > MAX_VARIANT_SIDE || height > MAX_VARIANT_SIDE {
            return invalid("box larger than 16383 pixels");
        }
        let (Format::WebP { quality } | Format::Jpeg { quality }) = self.format;
        if !(1..=100).contains(&quality) {
            return invalid("quality outside 1..=100");
        }
        Ok(())
    }
}

/// Checks every preset and that names are unique.
pub(crate) fn validate(presets: &[Preset]) -> Result<(), Error> {
    for (i, p) in presets.iter().enumerate() {
        p.validate()?;
        if presets[..i].iter().any(|q| q.name == p.name) {
            return Err(Error::InvalidPreset(format!(
                "{:?}: duplicate name",
                p.name
            )));
        }
    }
    Ok(())
}
