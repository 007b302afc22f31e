"""OPML subscription lists in and out, so readers can move between feed readers.

Import flattens nested folders: a feed's category is the folder it sits in (the innermost
one), which is how most readers export. Export groups feeds by category, one folder level.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urlsplit

from lxml import etree

from newsdesk.limits import MAX_TITLE
from newsdesk.links import absolute_url

from .feeds import FeedError, prepare_xml
from .sitemaps import safe_xml_parser

__all__ = ["OpmlFeed", "build_opml", "parse_opml"]

MAX_FEEDS = 10_000  # more than any real reader exports; a bigger file is an attack


@dataclass(frozen=True)
class OpmlFeed:
    xml_url: str
    title: str | None
    html_url: str | None
    category: str | None


def parse_opml(content: bytes) -> list[OpmlFeed]:
    """Feeds of an OPML file, de-duplicated by URL; only http(s) feed URLs are kept."""
    try:
        text = prepare_xml(content, what="OPML file")
        root = etree.fromstring(text.encode("utf-8"), safe_xml_parser())
    except FeedError as exc:
        raise ValueError(str(exc)) from None
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else "?"
        raise ValueError(f"not an OPML file: malformed XML at line {line}: {exc.msg}") from None
    if not isinstance(root.tag, str) or etree.QName(root).localname.lower() != "opml":
        name = etree.QName(root).localname if isinstance(root.tag, str) else "?"
        raise ValueError(f"not an OPML file (root element is <{name}>)")
    body = next((c for c in root if isinstance(c.tag, str) and c.tag.lower() == "body"), None)
    if body is None:
        raise ValueError("not an OPML file (no <body>)")
    feeds: dict[str, OpmlFeed] = {}
    _collect(body, None, feeds)
    return list(feeds.values())


def _collect(parent: etree._Element, category: str | None, feeds: dict[str, OpmlFeed]) -> None:
    for outline in parent:
        if not isinstance(outline.tag, str) or outline.tag.lower() != "outline":
            continue
        attrs = {k.lower(): v.strip() for k, v in outline.attrib.items() if isinstance(k, str)}
        label = " ".join((attrs.get("title") or attrs.get("text") or "").split())[:MAX_TITLE] or None
        if xml_url := attrs.get("xmlurl"):
            url = _http_url(xml_url)
            if url and url not in feeds:
                if len(feeds) >= MAX_FEEDS:
                    raise ValueError(f"refused: the OPML file lists more than {MAX_FEEDS} feeds")
                feeds[url] = OpmlFeed(
                    xml_url=url,
                    title=label if label != url else None,
                    html_url=absolute_url(attrs.get("htmlurl"), url),
                    category=category,
                )
        else:
            _collect(outline, label or category, feeds)


def _http_url(value: str) -> str | None:
    """An absolute http(s) URL, or None (OPML files carry javascript:, file:, junk)."""
    if value.lower().startswith("feed://"):  # an old pseudo-scheme for "open in a reader"
        value = "http://" + value[7:]
    parts = urlsplit(value)
    return value if parts.scheme.lower() in {"http", "https"} and parts.hostname else None


def build_opml(feeds: Iterable[OpmlFeed], title: str = "newsdesk subscriptions") -> bytes:
    """OPML 2.0 with one folder per category, in the order categories first appear."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = title
    etree.SubElement(head, "dateCreated").text = format_datetime(datetime.now(UTC), usegmt=True)
    body = etree.SubElement(root, "body")
    folders: dict[str, etree._Element] = {}
    for feed in feeds:
        parent = body
        if feed.category:
            if feed.category not in folders:
                folders[feed.category] = etree.SubElement(body, "outline", text=feed.category, title=feed.category)
            parent = folders[feed.category]
        outline = etree.SubElement(parent, "outline", type="rss", text=feed.title or feed.xml_url)
        if feed.title:
            outline.set("title", feed.title)
        outline.set("xmlUrl", feed.xml_url)
        if feed.html_url:
            outline.set("htmlUrl", feed.html_url)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
