"""From a URL a user typed to feeds: autodiscovery, naming, and what a document is.

What a document is (feed, sitemap, page...) is the source-kind registry's to say
(`newsdesk.sources.kinds`); `classify` gives the name it finds.
"""

from __future__ import annotations

import lxml.html
from lxml import etree

from newsdesk.links import absolute_url

__all__ = ["COMMON_FEED_PATHS", "FEED_TYPES", "classify", "discover_feeds", "page_site_name"]

FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/feed+json",
        "application/json",  # older JSON Feed links
        "application/rdf+xml",  # RSS 1.0
        "application/x-rss+xml",
        "text/xml",
        "application/xml",
    }
)

# Tried in this order by `newsdesk add` when a home page advertises no feed.
COMMON_FEED_PATHS: tuple[str, ...] = (
    "/feed",
    "/rss",
    "/feed/",
    "/rss.xml",
    "/atom.xml",
    "/feed.xml",
    "/index.xml",
    "/feed.json",
    "/feeds/posts/default",  # Blogger
    "/?feed=rss2",  # WordPress without pretty links
    "/rss/index.xml",
    "/feeds/all.atom.xml",  # Pelican
    "/index.rss",
)


def _document(html: str) -> lxml.html.HtmlElement | None:
    if not html or not html.strip():
        return None
    try:
        # Bytes, because lxml refuses str input that carries an encoding declaration.
        parser = lxml.html.HTMLParser(encoding="utf-8")
        return lxml.html.document_fromstring(html.encode("utf-8", "replace"), parser=parser)
    except (etree.ParserError, ValueError):
        return None


def discover_feeds(html: str, base_url: str) -> list[str]:
    """Feeds a page advertises with <link rel="alternate">, absolute, in page order."""
    doc = _document(html)
    if doc is None:
        return []
    base = base_url
    for href in doc.xpath("//base/@href")[:1]:
        base = absolute_url(href, base_url) or base_url
    found: list[str] = []
    for link in doc.iter("link"):
        rels = (link.get("rel") or "").lower().split()
        media = (link.get("type") or "").split(";")[0].strip().lower()
        if "alternate" not in rels or media not in FEED_TYPES:
            continue
        if media in {"text/xml", "application/xml", "application/json"} and not _feedish(link):
            continue  # these types are also used for non-feed alternates (oEmbed, ...)
        url = absolute_url(link.get("href"), base)
        if url and url.split("#")[0] not in found:
            found.append(url.split("#")[0])
    return found


def _feedish(link: lxml.html.HtmlElement) -> bool:
    text = " ".join(filter(None, [link.get("title"), link.get("href")])).lower()
    return any(word in text for word in ("rss", "atom", "feed", "json feed"))


def classify(content: bytes, content_type: str) -> str:
    """The name of the kind the registry recognises a document as ("feed", "sitemap",
    "html" or an add-on's), or "unknown"; the recognising itself is `kinds.recognise`."""
    from .kinds import recognise  # kinds imports COMMON_FEED_PATHS from here

    kind = recognise(content, content_type)
    return kind.name if kind is not None else "unknown"


def page_site_name(html: str) -> str | None:
    """A name for a new source: og:site_name, then application-name, then <title>."""
    doc = _document(html)
    if doc is None:
        return None
    for xpath in (
        "//meta[@property='og:site_name']/@content",
        "//meta[@name='og:site_name']/@content",
        "//meta[@name='application-name']/@content",
        "//title//text()",
    ):
        values = doc.xpath(xpath)
        name = " ".join(" ".join(values[:1] if "@" in xpath else values).split())
        if name:
            return name
    return None
