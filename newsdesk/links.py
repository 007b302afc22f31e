"""URL normalization shared by every stage of the pipeline.

One function decides what "the same URL" means, so that a link from a feed, the page's
own canonical link and a redirect target all meet on one key. courlan does the work:
lower-cased host, default port dropped, tracking parameters (utm_*, fbclid, xtor, ...)
removed; we also drop the fragment, which never names a different article.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit, urlunsplit

from courlan import clean_url

__all__ = ["canonical_url", "absolute_url", "host_of"]


def canonical_url(url: str | None, base: str | None = None, *, limit: int | None = None) -> str | None:
    """Return the canonical form of an http(s) URL, or None when it is not one.

    With `limit`, also None when the result would be longer: a URL cut to fit a column
    points somewhere else. Input twice as long is refused unread (tracking parameters
    may still come off, a hostile megabyte of URL is not worth parsing).
    """
    if not url or (limit is not None and len(url) > 2 * limit):
        return None
    url = url.strip()
    if base:
        url = urljoin(base, url)
    parts = urlsplit(url)
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    cleaned = clean_url(url)
    if not cleaned:
        return None
    parts = urlsplit(cleaned)
    return _within(urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, "")), limit)


def absolute_url(url: str | None, base: str, *, limit: int | None = None) -> str | None:
    """Resolve a possibly relative link against the page it was found on (with `limit`,
    None when the link or the result is longer)."""
    if not url or (limit is not None and len(url) > limit):
        return None
    joined = urljoin(base, url.strip())
    return _within(joined, limit) if urlsplit(joined).scheme in {"http", "https"} else None


def _within(url: str, limit: int | None) -> str | None:
    return url if limit is None or len(url) <= limit else None


def host_of(url: str) -> str:
    """The lower-cased host name of a URL (no port), '' when it has none."""
    return (urlsplit(url).hostname or "").lower()
