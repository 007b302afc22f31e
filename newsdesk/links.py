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


def canonical_url(url: str, base: str | None = None) -> str | None:
    """Return the canonical form of an http(s) URL, or None when it is not one."""
    if not url:
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
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def absolute_url(url: str | None, base: str) -> str | None:
    """Resolve a possibly relative link against the page it was found on."""
    if not url:
        return None
    joined = urljoin(base, url.strip())
    return joined if urlsplit(joined).scheme in {"http", "https"} else None


def host_of(url: str) -> str:
    """The lower-cased host name of a URL (no port), '' when it has none."""
    return (urlsplit(url).hostname or "").lower()
