"""Fetch one lead image through the process's guarded fetcher (newsdesk/sources/http.py).

The same rules as for pages: public addresses only, also after redirects and DNS answers
(unless NEWSDESK_FETCH_ALLOW_HOSTS allows a host), robots.txt, per-host politeness shared
with the page fetches of the machine, a time cap; and a smaller size cap of its own
(NEWSDESK_IMAGE_MAX_BYTES). An answer that says it is something else than an image (a
page, a script, an SVG document) is refused before Pillow sees it, and Pillow then
refuses anything that is not really one of the formats it was told to read.
"""

from __future__ import annotations

from django.conf import settings

from newsdesk.charset import media_type
from newsdesk.images.variants import ImageRefused
from newsdesk.sources.client import get_fetcher
from newsdesk.sources.http import FetchError

ACCEPT = "image/avif,image/webp,image/jpeg,image/png,image/gif;q=0.9,*/*;q=0.1"
# Some object stores label every file so, and some servers say nothing: Pillow decides
# what it really is (and reads only the formats it is told to).
GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})


def fetch_image(url: str) -> bytes:
    """The image's bytes. Raises FetchError (the fetcher's reasons) or ImageRefused
    ("not-an-image" when the server says it sent something else)."""
    result = get_fetcher().get(url, accept=ACCEPT, max_bytes=settings.NEWSDESK_IMAGE_MAX_BYTES)
    kind = media_type(result.headers.get("content-type"))
    if kind not in GENERIC_TYPES and (not kind.startswith("image/") or kind == "image/svg+xml"):
        raise ImageRefused("not-an-image", f"{result.final_url} is {kind}, not an image")
    return result.content


__all__ = ["FetchError", "ImageRefused", "fetch_image"]
