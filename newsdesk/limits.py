"""How much of each field we keep, whatever a feed, sitemap or page says.

A parser's output is as big as its input allows: a small compressed feed can carry a
10 MB headline, and one oversized row slows every page, index and AI step that reads it.
These caps are applied where parsed items are built (feeds, sitemaps) and again where
articles are stored, so no path can skip them. Named once here; no Django, so the
parsers can use them.

The sizes: the longest real articles (long-form investigations, day-long live blogs)
run to some 100,000 words, about 700,000 characters of text; 1,000,000 characters keeps
every one whole (a long novel's length) while bounding a row at a few MB. Stored HTML is
sanitized markup around that text, about twice its size. A headline of 1,000 characters
is already five tweets; the byline and URL columns are 300 and 1,000 wide.
"""

from __future__ import annotations

__all__ = [
    "MAX_AUTHOR",
    "MAX_BODY_HTML",
    "MAX_BODY_TEXT",
    "MAX_DESCRIPTION",
    "MAX_GUID",
    "MAX_LANGUAGE",
    "MAX_SECTIONS",
    "MAX_SUMMARY_HTML",
    "MAX_TAG",
    "MAX_TAGS",
    "MAX_TITLE",
    "MAX_URL",
    "clip",
]

MAX_TITLE = 1_000
MAX_AUTHOR = 300  # Article.byline and Entry.author are varchar(300)
MAX_DESCRIPTION = 5_000  # a stand-first or meta description, plain text
MAX_SUMMARY_HTML = 100_000  # a feed's <description>/<summary>: an excerpt, not the article
MAX_BODY_TEXT = 1_000_000
MAX_BODY_HTML = 2_000_000  # also a feed's full content (content:encoded, atom:content)
MAX_URL = 1_000  # every URL column is varchar(1000)
MAX_GUID = 1_000  # Entry.guid is varchar(1000)
MAX_LANGUAGE = 8  # Article.language: a BCP 47 primary tag and region at most
MAX_TAGS = 50  # categories of one feed item
MAX_TAG = 100
MAX_SECTIONS = 20  # publisher section labels kept per article


def clip(value: str | None, limit: int) -> str | None:
    """At most `limit` characters of `value` (None stays None)."""
    return value if value is None else value[:limit]
