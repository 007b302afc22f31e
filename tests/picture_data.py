"""Pictures for tests: photo-like images drawn with Pillow (sky, hills, a sun: real JPEG,
PNG or WebP files a browser shows), and lead images attached to articles through the
real resizing and storage code, without a fetch. Shared by test_images.py and
test_browser.py."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw

from newsdesk.articles.models import Article
from newsdesk.images.models import ArticleImage

PALETTES = [
    ((38, 84, 160), (250, 196, 120), (46, 110, 60)),  # blue sky, warm sun, green hills
    ((24, 28, 58), (230, 230, 250), (70, 60, 90)),  # night, moon, dark hills
    ((170, 200, 230), (255, 240, 160), (150, 120, 80)),  # pale sky, yellow sun, fields
    ((200, 90, 60), (255, 220, 120), (90, 50, 60)),  # sunset
]


def photo(width: int = 1600, height: int = 900, fmt: str = "JPEG", seed: int = 0) -> bytes:
    """A landscape-like picture of that size, encoded as `fmt`."""
    rng = random.Random(seed)
    sky, sun, land = PALETTES[seed % len(PALETTES)]
    image = Image.new("RGB", (width, height), sky)
    draw = ImageDraw.Draw(image)
    for y in range(height):  # the sky lightens towards the horizon
        t = y / height
        draw.line([(0, y), (width, y)], fill=tuple(int(c + (255 - c) * t * 0.5) for c in sky))
    r = height // 7
    cx, cy = int(width * rng.uniform(0.2, 0.8)), int(height * rng.uniform(0.15, 0.35))
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=sun)
    for layer in range(3):
        base = int(height * (0.55 + 0.12 * layer))
        points = [(0, height)]
        for x in range(0, width + 80, 80):
            points.append((x, base + int(rng.uniform(-0.06, 0.06) * height)))
        points.append((width, height))
        shade = tuple(max(0, int(c * (1 - 0.18 * layer))) for c in land)
        draw.polygon(points, fill=shade)
    buffer = io.BytesIO()
    image.save(buffer, fmt, **({"quality": 88} if fmt in ("JPEG", "WEBP") else {}))
    return buffer.getvalue()


def attach(article: Article, *, seed: int = 0, width: int = 1600, height: int = 900) -> ArticleImage:
    """Give `article` a stored lead image as the stage would, without fetching one."""
    import hashlib

    from django.conf import settings

    from newsdesk.images.store import Made, Wanted, _save, record
    from newsdesk.images.variants import make_variants

    data = photo(width, height, seed=seed)
    digest = hashlib.sha256(data).hexdigest()
    variants = make_variants(data, settings.NEWSDESK_IMAGE_WIDTHS, max_pixels=settings.NEWSDESK_IMAGE_MAX_PIXELS)
    url = article.lead_image or f"https://images.example/{article.pk}.jpg"
    if not article.lead_image:
        Article.objects.filter(pk=article.pk).update(lead_image=url)
    wanted = Wanted(article.pk, url, article.title)
    return record(Made(wanted, digest, tuple(_save(digest, v) for v in variants)))
