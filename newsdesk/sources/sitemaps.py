"""Sitemaps (sitemaps.org) and Google News sitemaps -> article URLs with what they tell.

Elements are matched by local name: many real sitemaps get the namespace URIs slightly
wrong, and a namespace typo should not hide a site's articles. Titles and URLs are
capped (`newsdesk.limits`) and dates must pass `newsdesk.dates.plausible`: a
`lastmod` of 9999-12-31 is a placeholder, not a time, and costs the entry only its date.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from newsdesk.dates import from_iso, plausible
from newsdesk.limits import MAX_LANGUAGE, MAX_TITLE, MAX_URL, clip
from newsdesk.links import absolute_url, canonical_url

from .feeds import FeedError, prepare_xml

__all__ = ["MAX_CHILD_SITEMAPS", "MAX_SITEMAP_BYTES", "SitemapEntry", "parse_sitemap", "safe_xml_parser"]

MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the protocol's limit for one uncompressed sitemap
MAX_CHILD_SITEMAPS = 5  # child sitemaps of an index read in one poll (sources/kinds.py)


@dataclass(frozen=True)
class SitemapEntry:
    url: str
    title: str | None
    published: datetime | None
    language: str | None
    modified: datetime | None


def safe_xml_parser() -> etree.XMLParser:
    """An lxml parser that expands no entity, loads no DTD, touches no network."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_sitemap(content: bytes, url: str) -> tuple[list[SitemapEntry], list[str]]:
    """(entries of a <urlset>, child sitemap URLs of a <sitemapindex>)."""
    if content[:2] == b"\x1f\x8b":
        content = _gunzip(content)
    text = prepare_xml(content, what="sitemap")
    try:
        root = etree.fromstring(text.encode("utf-8"), safe_xml_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else "?"
        raise FeedError(f"malformed XML at line {line}: {exc.msg}") from None
    name = etree.QName(root).localname
    if name == "sitemapindex":
        children = (absolute_url(_text(s, "loc"), url, limit=MAX_URL) for s in _children(root, "sitemap"))
        return [], list(dict.fromkeys(c for c in children if c))
    if name != "urlset":
        raise FeedError(f"not a sitemap (root element <{name}>)")
    entries = []
    for element in _children(root, "url"):
        link = canonical_url(_text(element, "loc"), url, limit=MAX_URL)
        if not link:
            continue
        news = next(_children(element, "news"), None)
        publication = next(_children(news, "publication"), None) if news is not None else None
        entries.append(
            SitemapEntry(
                url=link,
                title=clip(_text(news, "title"), MAX_TITLE),
                published=_w3c_datetime(_text(news, "publication_date")),
                language=clip(_text(publication, "language"), MAX_LANGUAGE),
                modified=_w3c_datetime(_text(element, "lastmod")),
            )
        )
    return entries, []


def _gunzip(content: bytes) -> bytes:
    """Decompress a .xml.gz sitemap with a cap, so a gzip bomb stops at the limit."""
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = decompressor.decompress(content, MAX_SITEMAP_BYTES + 1)
    except zlib.error as exc:
        raise FeedError(f"corrupt gzip sitemap: {exc}") from None
    if len(data) > MAX_SITEMAP_BYTES:
        raise FeedError(f"sitemap too large: more than {MAX_SITEMAP_BYTES} bytes uncompressed")
    return data


def _children(element: etree._Element | None, name: str) -> Iterator[etree._Element]:
    if element is None:
        return iter(())
    return (c for c in element if isinstance(c.tag, str) and etree.QName(c).localname == name)


def _text(element: etree._Element | None, name: str) -> str | None:
    child = next(_children(element, name), None)
    if child is None:
        return None
    value = " ".join("".join(child.itertext()).split())
    return value or None


_W3C = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def _w3c_datetime(value: str | None) -> datetime | None:
    """W3C datetime (YYYY, YYYY-MM, YYYY-MM-DD or a full ISO 8601 time) -> aware UTC.

    None when unreadable or not plausible as a publication time (`newsdesk.dates`).
    """
    if not value:
        return None
    if match := _W3C.match(value):
        year, month, day = (int(g) if g else 1 for g in match.groups())
        try:
            return plausible(datetime(year, month, day, tzinfo=UTC))
        except ValueError:
            return None
    return from_iso(value)
