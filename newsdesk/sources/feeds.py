"""RSS 0.9x/2.0, RSS 1.0 (RDF), Atom and JSON Feed bytes -> ParsedFeed.

feedparser does the XML formats (it copes with the broken feeds found in the wild);
JSON Feed, which feedparser 6 does not know, is mapped here. Before feedparser sees a
document it is decoded by the same rules as every fetched page (so a feed in
windows-1252 that claims UTF-8 still reads right) and refused outright when it declares
XML entities: entity expansion (billion laughs, quadratic blowup, external entities) is
the classic way to make an XML parser eat a machine.

The HTML in `summary_html`/`content_html` is untrusted: feedparser scrubs RSS/Atom HTML,
JSON Feed HTML is passed as given, and the ingest stage sanitizes all of it again.
"""

from __future__ import annotations

import calendar
import html
import io
import json
import re
import xml.sax
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser
import lxml.html
from lxml import etree

from newsdesk.links import absolute_url, canonical_url

from .http import decode_text

__all__ = ["FeedEntry", "FeedError", "ParsedFeed", "declares_entities", "parse_feed", "prepare_xml"]


@dataclass(frozen=True)
class FeedEntry:
    url: str
    guid: str | None
    title: str | None
    summary_html: str | None
    content_html: (
        str | None
    )  # only real content (content:encoded, atom content...), never the summary
    author: str | None
    published: datetime | None  # the update time when the feed gives no publication time
    updated: datetime | None
    image: str | None
    tags: tuple[str, ...]


@dataclass(frozen=True)
class ParsedFeed:
    kind: str  # "rss", "atom", "json", "rdf"
    title: str | None
    site_url: str | None
    language: str | None
    entries: list[FeedEntry]
    ttl_seconds: int | None


class FeedError(ValueError):
    """The document cannot be used as a feed; the message says why, for a human."""


# --- XML safety, shared with sitemaps and OPML ----------------------------------------

_MARKUP = re.compile(r"<!\[CDATA\[|<!--|<!ENTITY", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def declares_entities(text: str) -> bool:
    """True when the document declares an entity anywhere outside CDATA and comments.

    A linear scan (no backtracking regex) so that a hostile document cannot make the check
    itself slow.
    """
    pos = 0
    while match := _MARKUP.search(text, pos):
        token = match.group()
        if token.upper() == "<!ENTITY":
            return True
        end = text.find("]]>" if token.startswith("<![") else "-->", match.end())
        if end < 0:
            return False
        pos = end + 3
    return False


def prepare_xml(content: bytes, content_type: str | None = None, *, what: str = "feed") -> str:
    """Decode an XML document, refuse entity declarations, drop the XML declaration.

    The result is text whose encoding question is settled; encoded as UTF-8 it can be
    handed to any XML parser.
    """
    text = decode_text(content, content_type)
    if declares_entities(text):
        raise FeedError(
            f"refused: the {what} declares XML entities (possible entity-expansion attack)"
        )
    return _XML_DECLARATION.sub("", text, count=1)


# --- parsing --------------------------------------------------------------------------

_KINDS = {"rss090": "rdf", "rss10": "rdf", "atom": "atom"}


def parse_feed(content: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse a feed document fetched from `url` (the base for relative links)."""
    from .discovery import classify  # discovery imports FeedError from here

    kind = classify(content, content_type or "")
    if kind == "html":
        raise FeedError("not a feed (looks like HTML)")
    if kind == "sitemap":
        raise FeedError("not a feed (looks like a sitemap)")
    if _looks_like_json(content):
        return _parse_json_feed(decode_text(content, content_type), url)
    text = prepare_xml(content, content_type)
    if not text.lstrip().startswith("<"):
        raise FeedError("not a feed (neither XML nor JSON)")
    result = feedparser.parse(
        io.BytesIO(text.encode("utf-8")),  # a stream, never bytes: feedparser opens paths
        response_headers={
            "content-type": "application/xml; charset=utf-8",
            "content-location": url,
        },
    )
    version = result.get("version") or ""
    if result.get("bozo") and not result.entries:
        raise FeedError(_bozo_message(result.get("bozo_exception")))
    if not version:
        raise FeedError("not a feed (no RSS, RDF or Atom document found)")
    feed = result.feed
    site_url = absolute_url(feed.get("link"), url)
    entries = [e for e in (_entry(raw, site_url or url) for raw in result.entries) if e]
    if result.get("bozo") and not entries:
        raise FeedError(_bozo_message(result.get("bozo_exception")))
    return ParsedFeed(
        kind=_KINDS.get(version, "atom" if version.startswith("atom") else "rss"),
        title=_plain(feed.get("title"), is_html=_is_html(feed.get("title_detail"))),
        site_url=site_url,
        language=_clean(feed.get("language")),
        entries=entries,
        ttl_seconds=_ttl(feed),
    )


def _bozo_message(exc: Exception | None) -> str:
    if isinstance(exc, xml.sax.SAXParseException):
        where = f"line {exc.getLineNumber()}, column {exc.getColumnNumber()}"
        return f"malformed XML at {where}: {exc.getMessage()}"
    if exc is None:
        return "not a feed (nothing could be parsed)"
    return f"not a usable feed: {exc}"


def _entry(raw: Any, base: str) -> FeedEntry | None:
    url = canonical_url(raw.get("link") or "", base)
    if not url:
        return None
    contents = [c for c in raw.get("content") or [] if c.get("value")]
    content_html = max((c["value"] for c in contents), key=len) if contents else None
    summary = raw.get("summary") or None
    if summary and content_html and summary.strip() == content_html.strip():
        summary = None  # feedparser copies the content into a missing summary
    author = (raw.get("author_detail") or {}).get("name") or raw.get("author")
    # dict.get: FeedParserDict.get maps a missing updated_parsed to published_parsed (with
    # a deprecation warning); we want to know which of the two the feed really gave.
    published, updated = dict.get(raw, "published_parsed"), dict.get(raw, "updated_parsed")
    return FeedEntry(
        url=url,
        guid=_clean(raw.get("id")),
        title=_plain(raw.get("title"), is_html=_is_html(raw.get("title_detail"))),
        summary_html=summary,
        content_html=content_html,
        author=_plain(author),
        # RSS 1.0 dc:date and Atom's mandatory <updated> are often the only date given.
        published=_datetime(published or updated),
        updated=_datetime(updated),
        image=_image(raw, base),
        tags=_tags(t.get("label") or t.get("term") for t in raw.get("tags") or []),
    )


def _image(raw: Any, base: str) -> str | None:
    candidates = [
        m.get("url")
        for m in raw.get("media_content") or []
        if m.get("medium") == "image"
        or (m.get("type") or "").startswith("image/")
        or (not m.get("medium") and not m.get("type"))
    ]
    candidates += [m.get("url") for m in raw.get("media_thumbnail") or []]
    candidates += [
        e.get("href")
        for e in raw.get("enclosures") or []
        if (e.get("type") or "").startswith("image/")
    ]
    candidates.append((raw.get("image") or {}).get("href"))
    for candidate in candidates:
        if url := absolute_url(candidate, base):
            return url
    return None


_PERIODS = {
    "hourly": 3600,
    "daily": 86400,
    "weekly": 7 * 86400,
    "monthly": 30 * 86400,
    "yearly": 365 * 86400,
}


def _ttl(feed: Any) -> int | None:
    """Seconds a reader may wait between polls, from <ttl> (minutes) or sy:updatePeriod."""
    try:
        if feed.get("ttl"):
            return max(0, int(str(feed["ttl"]).strip())) * 60 or None
        period = _PERIODS.get(str(feed.get("sy_updateperiod") or "").strip().lower())
        if period:
            frequency = int(str(feed.get("sy_updatefrequency") or "1").strip() or 1)
            return period // max(frequency, 1)
    except ValueError:
        pass
    return None


# --- JSON Feed ------------------------------------------------------------------------


def _looks_like_json(content: bytes) -> bool:
    return content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def _parse_json_feed(text: str, url: str) -> ParsedFeed:
    try:
        data = json.loads(text.lstrip("\ufeff"))
    except (ValueError, RecursionError) as exc:
        raise FeedError(f"malformed JSON: {exc}") from None
    if not isinstance(data, dict) or not str(data.get("version", "")).startswith(
        "https://jsonfeed.org/version/"
    ):
        raise FeedError("not a feed (JSON without a JSON Feed version)")
    site_url = absolute_url(_str(data.get("home_page_url")), url)
    items = data.get("items")
    if not isinstance(items, list):
        raise FeedError("not a usable feed: JSON Feed without an items list")
    entries = [
        e
        for e in (_json_entry(item, site_url or url) for item in items if isinstance(item, dict))
        if e
    ]
    return ParsedFeed(
        kind="json",
        title=_plain(_str(data.get("title"))),
        site_url=site_url,
        language=_clean(_str(data.get("language"))),
        entries=entries,
        ttl_seconds=None,
    )


def _json_entry(item: dict, base: str) -> FeedEntry | None:
    url = canonical_url(_str(item.get("url")) or _str(item.get("external_url")) or "", base)
    if not url:
        return None
    content_html = _str(item.get("content_html"))
    if not content_html and (text := _str(item.get("content_text"))):
        content_html = "".join(
            f"<p>{html.escape(p.strip())}</p>" for p in re.split(r"\n\s*\n", text) if p.strip()
        )
    summary = _str(item.get("summary"))
    authors = item.get("authors") or (
        [item["author"]] if isinstance(item.get("author"), dict) else []
    )
    author = next(
        (_str(a.get("name")) for a in authors if isinstance(a, dict) and a.get("name")), None
    )
    image = _str(item.get("image")) or _str(item.get("banner_image"))
    if not image:
        image = next(
            (
                _str(a.get("url"))
                for a in item.get("attachments") or []
                if isinstance(a, dict) and str(a.get("mime_type", "")).startswith("image/")
            ),
            None,
        )
    tags = item.get("tags") if isinstance(item.get("tags"), list) else []
    return FeedEntry(
        url=url,
        guid=_clean(_str(item.get("id"))),
        title=_plain(_str(item.get("title")), is_html=False),
        summary_html=f"<p>{html.escape(summary)}</p>" if summary else None,
        content_html=content_html,
        author=_plain(author, is_html=False),
        published=_iso_datetime(item.get("date_published"))
        or _iso_datetime(item.get("date_modified")),
        updated=_iso_datetime(item.get("date_modified")),
        image=absolute_url(image, base),
        tags=_tags(_str(t) for t in tags),
    )


def _str(value: Any) -> str | None:
    """JSON values as strings; ids may be numbers, anything else is ignored."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _iso_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)


# --- small text helpers ----------------------------------------------------------------


def _clean(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value or None


def _plain(value: str | None, *, is_html: bool = True) -> str | None:
    """Plain text of a title: tags removed, entities decoded, whitespace collapsed."""
    if not value:
        return None
    if is_html and ("<" in value or "&" in value):
        try:
            value = lxml.html.fragment_fromstring(value, create_parent="div").text_content()
        except (etree.ParserError, ValueError):
            value = html.unescape(value)
    return _clean(value)


def _is_html(detail: Any) -> bool:
    """feedparser tells whether a text construct is markup (it sniffs RSS titles too)."""
    return "html" in ((detail or {}).get("type") or "text/html")


def _tags(values: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t for v in values if (t := _plain(v, is_html=False))))


def _datetime(parsed: Any) -> datetime | None:
    """feedparser's UTC struct_time -> aware datetime."""
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    except (OverflowError, ValueError, OSError):
        return None
