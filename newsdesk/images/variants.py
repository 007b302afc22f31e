"""Hostile image bytes in, a few WebP widths out (Pillow; no Django here).

Publishers' images are untrusted input like their pages. Only the raster formats browsers
show are opened (never SVG: it is a document that can carry script), and the size is read
from the header before anything is decoded: an image over the pixel budget (a
decompression bomb: a small file that decodes to gigabytes) is refused without decoding
it. JPEGs are decoded at a reduced scale when the widest variant needs no more (Pillow's
draft mode: less memory and time). The output is re-encoded from pixels, so nothing of
the original file (metadata, trailing data, polyglot tricks) reaches readers; only the
colour profile is kept, so colours look as the publisher meant.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

# What browsers show as photographs; AVIF when this Pillow can read it.
FORMATS = tuple(
    name for name in ("JPEG", "PNG", "WEBP", "GIF", "AVIF") if name in Image.registered_extensions().values()
)
MIN_WIDTH, MIN_HEIGHT = 160, 90  # smaller is a logo, an icon or a tracking pixel, not a picture
MAX_RATIO = 4.0  # wider or taller than 4:1 is a banner or a strip, not a picture
QUALITY = 80


class ImageRefused(Exception):
    """Why an image is not stored: `kind` for code ("too-many-pixels", "not-an-image",
    "too-small", "odd-shape", "corrupt"), the message for people."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Variant:
    width: int
    height: int
    data: bytes  # WebP


def make_variants(data: bytes, widths: Sequence[int], *, max_pixels: int) -> list[Variant]:
    """WebP variants of `data` at each of `widths` no wider than the original (the
    original's own width when it is narrower than all of them), narrowest first.
    Raises ImageRefused."""
    image = _decoded(data, max(widths), max_pixels)
    wanted = sorted({w for w in widths if w < image.width} | {min(image.width, max(widths))})
    icc = image.info.get("icc_profile")
    made: list[Variant] = []
    current = image
    for width in reversed(wanted):  # widest first, each from the one before: fast, and sharp enough
        height = max(1, round(image.height * width / image.width))
        if (width, height) != current.size:
            current = current.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
        buffer = io.BytesIO()
        current.save(buffer, "WEBP", quality=QUALITY, method=4, **({"icc_profile": icc} if icc else {}))
        made.append(Variant(width, height, buffer.getvalue()))
    return made[::-1]


def _decoded(data: bytes, widest: int, max_pixels: int) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(data), formats=FORMATS)
            width, height = opened.size  # from the header: nothing is decoded yet
            if width * height > max_pixels:
                raise ImageRefused("too-many-pixels", f"{width}x{height} pixels is more than {max_pixels}")
            if width < MIN_WIDTH or height < MIN_HEIGHT:
                raise ImageRefused("too-small", f"{width}x{height} is too small to show")
            if max(width, height) / min(width, height) > MAX_RATIO:
                raise ImageRefused("odd-shape", f"{width}x{height} is a strip, not a picture")
            if opened.format == "JPEG":
                # Decode at 1/2, 1/4 or 1/8 scale when that is still at least as wide as needed.
                opened.draft("RGB", (widest, round(height * widest / width)))
            opened.load()  # the first frame of an animation
            image = ImageOps.exif_transpose(opened)
            return image.convert("RGBA" if _has_alpha(image) else "RGB")
    except ImageRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRefused("too-many-pixels", str(error)) from None
    except UnidentifiedImageError:
        raise ImageRefused("not-an-image", f"not an image in {', '.join(FORMATS)}") from None
    except Exception as error:  # noqa: BLE001 - a broken file raises anything (OSError, SyntaxError, struct.error...)
        raise ImageRefused("corrupt", f"cannot decode the image: {type(error).__name__}: {error}"[:300]) from None


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
