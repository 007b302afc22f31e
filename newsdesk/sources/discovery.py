"""From a URL a user typed to feeds: autodiscovery, sniffing, naming.

Content types lie (feeds served as text/html, sitemaps as text/plain, pages as
application/xml), so `classify` looks at the document itself and uses the header only
when the bytes say nothing.
"""

from __future__ import annotations

import re
import zlib

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


_NAME = re.compile(r"[A-Za-z_][\w.:-]*")


def _root_name(text: str) -> str | None:
    """Local name of the first element, skipping the XML declaration, comments, DOCTYPE."""
    pos = 0
    while (start := text.find("<", pos)) >= 0:
        if text.startswith("<?", start):
            pos = text.find("?>", start)
        elif text.startswith("<!--", start):
            pos = text.find("-->", start)
        elif text.startswith("<!", start):
            if text[start : start + 9].upper() == "<!DOCTYPE" and "html" in text[start : start + 20].lower():
                return "html"
            bracket, close = text.find("[", start), text.find(">", start)
            pos = text.find("]>", start) if 0 <= bracket < close else close
        else:
            match = _NAME.match(text, start + 1)
            return match.group().rsplit(":", 1)[-1].lower() if match else None
        if pos < 0:
            return None
        pos += 1
    return None


def _head(content: bytes, size: int = 4096) -> str:
    """The first characters of a document, whatever its (ASCII-compatible or UTF-16) encoding."""
    if content[:2] == b"\x1f\x8b":  # a gzip file (sitemap.xml.gz served as is)
        try:
            content = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(content[: 64 * 1024], size)
        except zlib.error:
            return ""
    head = content[:size]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(head) > 1 and 0 in head[:2]):
        encoding = "utf-16-le" if head.startswith(b"\xff\xfe") or head[1:2] == b"\0" else "utf-16-be"
        return head.decode(encoding, "replace").lstrip("\ufeff")
    return head.decode("utf-8", "replace").lstrip("\ufeff")


def classify(content: bytes, content_type: str) -> str:
    """ "feed" | "sitemap" | "html" | "unknown", from the first bytes; the header breaks ties."""
    head = _head(content).lstrip()
    if head.startswith("{"):
        return "feed" if "jsonfeed.org/version" in head.replace("\\/", "/") else "unknown"
    root = _root_name(head) if head.startswith("<") else None
    if root in {"rss", "rdf", "feed", "channel"}:
        return "feed"
    if root in {"urlset", "sitemapindex"}:
        return "sitemap"
    if root in {"html", "head", "body"} or (
        root is None and re.search(r"<(html|head|body)[\s>]", head[:1024], re.IGNORECASE)
    ):
        return "html"
    media = (content_type or "").split(";")[0].strip().lower()
    if root is None and head.startswith("<"):  # markup, but no element in the first bytes
        if media in {"application/rss+xml", "application/atom+xml", "application/rdf+xml"}:
            return "feed"
        if media in {"text/html", "application/xhtml+xml"}:
            return "html"
    return "unknown"


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
