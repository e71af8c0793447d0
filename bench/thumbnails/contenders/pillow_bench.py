"""The Pillow contender of bench/thumbnails (see ../README.md).

One iteration opens the buffer once, asks the JPEG decoder for draft mode
(DCT scaling to the smallest size that still covers the 1440 box), applies
the EXIF orientation (``ImageOps.exif_transpose``), then makes the three
presets from that one decoded image: ``ImageOps.fit`` for the 256x256 centre
crop and ``thumbnail`` (which never enlarges) on copies for 640 and 1440,
all with LANCZOS. Pillow has no threads of its own here. Without the
pillow-heif plugin Pillow cannot open HEIC: reported as unsupported.
"""

import io

import harness
from PIL import Image, ImageOps, UnidentifiedImageError


def once(data, fmt, quality):
    try:
        im = Image.open(io.BytesIO(data))
    except UnidentifiedImageError as e:
        raise harness.Unsupported(str(e)) from e
    if im.format == "JPEG":
        im.draft("RGB", (1440, 1440))
    im = ImageOps.exif_transpose(im)
    if im.mode not in ("RGB", "RGBA"):
        im = im.convert("RGBA" if "A" in im.mode or "transparency" in im.info else "RGB")
    if fmt == "jpeg" and im.mode == "RGBA":
        flat = Image.new("RGB", im.size, (255, 255, 255))
        flat.paste(im, mask=im.getchannel("A"))
        im = flat
    variants = {"thumb": ImageOps.fit(im, (256, 256), Image.Resampling.LANCZOS, centering=(0.5, 0.5))}
    for name, side in (("small", 640), ("large", 1440)):
        v = im.copy()
        v.thumbnail((side, side), Image.Resampling.LANCZOS)
        variants[name] = v
    out = {}
    for name, v in variants.items():
        buf = io.BytesIO()
        if fmt == "jpeg":
            v.save(buf, "JPEG", quality=quality)
        else:
            v.save(buf, "WEBP", quality=quality, method=4)
        out[name] = buf.getvalue()
    return out


if __name__ == "__main__":
    harness.main(once, 1)
