"""The pyvips contender of bench/thumbnails (see ../README.md).

One iteration is one ``thumbnail_buffer`` per preset, the way the libvips
documentation recommends making thumbnails: each call decodes the buffer
again with shrink-on-load (JPEG DCT scaling, HEIC embedded thumbnails when
they are big enough), autorotates, and resizes with Lanczos3. libvips' cache
is off (``cache_set_max(0)``) so no iteration reuses another's work, and the
driver sets ``VIPS_CONCURRENCY=1``. pyvips uses the system libvips (Debian's
libvips42), the same library as ``vipsthumbnail``.
"""

import harness
import pyvips

pyvips.cache_set_max(0)

# (name, width, height, extra thumbnail options)
PRESETS = [
    ("thumb", 256, 256, {"crop": "centre", "size": "down"}),
    ("small", 640, 640, {"size": "down"}),
    ("large", 1440, 1440, {"size": "down"}),
]


def once(data, fmt, quality):
    out = {}
    for name, width, height, options in PRESETS:
        try:
            img = pyvips.Image.thumbnail_buffer(data, width, height=height, **options)
            if fmt == "jpeg":
                out[name] = img.jpegsave_buffer(Q=quality, strip=True)
            else:
                out[name] = img.webpsave_buffer(Q=quality, strip=True)
        except pyvips.Error as e:
            raise harness.Unsupported(str(e).strip()) from e
    return out


if __name__ == "__main__":
    harness.main(once, "VIPS_CONCURRENCY=" + str(pyvips.concurrency_get()))
