"""The extract stage: page HTML in, clean article fields out.

One parse and one main-text pass per page (see body.py): the pipeline extracts
thousands of pages a day on small machines, so every step here is chosen for its
cost as well as its quality.
"""

from __future__ import annotations

import logging
import math
import re
from urllib.parse import urlsplit

from newsdesk.charset import decode_text
from newsdesk.language import text_language

from .body import extract_body
from .metadata import PageMetadata, extract_metadata
from .parse import parse_html
from .render import body_html
from .result import Extracted, ExtractionError
from .sanitize import sanitize_html

LOGGER = logging.getLogger(__name__)
WORDS_PER_MINUTE = 230
_WORD = re.compile(r"\S*\w\S*")  # whitespace-separated, with at least one letter or digit


def reading_time(word_count: int) -> int:
    return max(1, math.ceil(word_count / WORDS_PER_MINUTE)) if word_count else 0


def extract(html: str | bytes, url: str | None = None, *, content_type: str | None = None) -> Extracted:
    """Extract an article from a page.

    `url` is where the page was fetched from (base for relative links); `content_type`
    is the HTTP header, used when decoding bytes (decode.py; text the caller already
    decoded is not decoded again). Raises ExtractionError, and nothing else, when no
    article body can be found.
    """
    try:
        return _extract(html, url, content_type)
    except ExtractionError:
        raise
    except Exception as err:  # hostile input must never take the pipeline down
        LOGGER.debug("extraction failed for %s", url, exc_info=True)
        raise ExtractionError(f"cannot extract an article from this page: {type(err).__name__}: {err}") from err


def _page_url(url: str | None) -> str | None:
    """The fetch URL if it is a usable http(s) URL (it is the base for relative links)."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def _extract(html: str | bytes, url: str | None, content_type: str | None) -> Extracted:
    url = _page_url(url)
    if isinstance(html, (bytes, bytearray)):
        html = decode_text(bytes(html), content_type)
    elif not isinstance(html, str):
        raise ExtractionError(f"expected page HTML as str or bytes, got {type(html).__name__}")
    tree = parse_html(html)
    if tree is None:
        raise ExtractionError("empty page or not HTML")

    try:
        meta = extract_metadata(tree, url)
    except Exception:  # metadata is a bonus: a broken declaration must not cost the body
        LOGGER.debug("metadata extraction failed for %s", url, exc_info=True)
        meta = PageMetadata()

    found = extract_body(tree, meta.title_variants)
    if found is None or not found[1]:
        raise ExtractionError("no article body found on the page")
    body, paragraphs = found
    text = "\n\n".join(paragraphs)
    words = len(_WORD.findall(text))
    return Extracted(
        title=meta.title,
        byline=meta.byline,
        published=meta.published,
        modified=meta.modified,
        language=text_language(f"{meta.title or ''}\n{text}", meta.language),
        lead_image=meta.lead_image,
        canonical_url=meta.canonical_url,
        site_name=meta.site_name,
        description=meta.description,
        body_text=text,
        body_html=sanitize_html(body_html(body), url or meta.canonical_url),
        word_count=words,
        reading_time_minutes=reading_time(words),
        sections=meta.sections,
        published_guessed=meta.published_guessed,
    )
