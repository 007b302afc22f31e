"""What extraction returns, and how it fails."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


class ExtractionError(ValueError):
    """The page holds no article body we can find (empty, garbage, or not HTML)."""


@dataclass(frozen=True)
class Extracted:
    title: str | None
    byline: str | None  # author(s) as shown, e.g. "Jane Doe and John Roe"
    published: datetime | None  # timezone-aware (UTC if the page gives no zone)
    modified: datetime | None
    language: str | None  # ISO 639-1 code, e.g. "en"
    lead_image: str | None  # absolute URL
    canonical_url: str | None  # passed through newsdesk.links.canonical_url
    site_name: str | None
    description: str | None
    body_text: str  # paragraphs separated by "\n\n"; no page chrome
    body_html: str  # sanitized (see sanitize.py), links absolute
    word_count: int
    reading_time_minutes: int  # ceil(word_count / 230), at least 1 when there is text
    sections: tuple[str, ...] = ()  # the publisher's section labels (article:section...)
    published_guessed: bool = False  # `published` was found in the page's text, not declared
