"""RSS 0.9x/2.0, RSS 1.0 (RDF), Atom and JSON Feed bytes -> ParsedFeed.

feedparser does the XML formats (it copes with the broken feeds found in the wild);
JSON Feed, which feedparser 6 does not know, is mapped here. Before feedparser sees a
document it is decoded by the same rules as every fetched page (so a feed in
windows-1252 that claims UTF-8 still reads right) and refused outright when its DOCTYPE
has an internal subset, where entities are declared (see `xml_from_root`).

Whatever the parser returns, every field is capped (`newsdesk.limits`) and every date
must pass `newsdesk.dates.plausible`; an item with an impossible date keeps its other
data with no date.

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
from xml.parsers import expat

import feedparser
import feedparser.mixin
import lxml.html
from lxml import etree

from newsdesk.charset import decode_text
from newsdesk.dates import from_iso, plausible
from newsdesk.limits import (
    MAX_AUTHOR,
    MAX_BODY_HTML,
    MAX_GUID,
    MAX_SUMMARY_HTML,
    MAX_TAG,
    MAX_TAGS,
    MAX_TITLE,
    MAX_URL,
    clip,
)
from newsdesk.links import absolute_url, canonical_url

__all__ = ["FeedEntry", "FeedError", "ParsedFeed", "parse_feed", "prepare_xml", "xml_from_root"]


@dataclass(frozen=True)
class FeedEntry:
    url: str
    guid: str | None
    title: str | None
    summary_html: str | None
    content_html: str | None  # only real content (content:encoded, atom content...), never the summary
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

_XML_DECLARATION = re.compile(r"^\s*<\?xml\s[^>]*\?>")
_CHUNK = 64 * 1024  # the prolog is read a piece at a time and the read stops at the root


class _RootFound(Exception):
    """Raised from the expat callback at the root element: the prolog is all read."""


def prepare_xml(content: bytes, content_type: str | None = None, *, what: str = "feed") -> str:
    """Decode an XML document, refuse an internal DTD subset, blank out the prolog.

    The result is text whose encoding question is settled (the XML declaration is gone)
    and that starts, after whitespace, at the root element; encoded as UTF-8 it can be
    handed to any XML parser. See `xml_from_root`.
    """
    return xml_from_root(decode_text(content, content_type), what=what)


def xml_from_root(text: str, *, what: str = "feed") -> str:
    """`text` with its prolog blanked out, once a real XML parser (expat) has read it.

    Entity expansion (billion laughs, quadratic blowup, external entities) is the
    classic way to make an XML parser eat a machine, and the internal DTD subset
    (`<!DOCTYPE x [...]>`) is where entities are declared. Scanning for `<!ENTITY` by
    hand misses what comments, PIs and parameter entities can hide, so expat parses the
    prolog and any DOCTYPE with an internal subset is refused, whatever it holds: no
    real feed, sitemap or OPML file needs one. The read stops at the root element's
    start tag, so the check costs one pass over the prolog and never expands anything.

    Everything before the root (XML declaration, comments, PIs, an external-only
    DOCTYPE) is blanked out: feedparser pulls `<!ENTITY` lines out of whatever precedes
    the first element by regular expression, even from inside comments, and re-declares
    them, so what it is given must start at an element. Newlines and the root's column
    are kept, so parse errors still name the line of the original document.
    """
    data = _XML_DECLARATION.sub(lambda m: _blank(m.group()), text, count=1).encode("utf-8")
    parser = expat.ParserCreate()  # no namespaces: the prolog's prefixes do not matter
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = lambda _name, _sys, _pub, internal: _refuse_subset(internal, what)
    parser.StartElementHandler = lambda _name, _attrs: _stop_at_root(parser)
    try:
        for offset in range(0, len(data), _CHUNK):
            parser.Parse(data[offset : offset + _CHUNK], False)
        parser.Parse(b"", True)
    except _RootFound as found:
        root = found.args[0]
    except expat.ExpatError as exc:
        where = f"line {exc.lineno}, column {exc.offset}"
        raise FeedError(f"malformed XML at {where}: {expat.ErrorString(exc.code)}") from None
    else:  # pragma: no cover - expat reports "no element found" at the end instead
        raise FeedError(f"not a {what} (no root element)")
    return _blank(data[:root].decode("utf-8")) + data[root:].decode("utf-8")


def _blank(text: str) -> str:
    """Whitespace taking the same lines and last-line columns as `text`."""
    return "\n" * text.count("\n") + " " * (len(text) - text.rfind("\n") - 1)


def _refuse_subset(has_internal_subset: int, what: str) -> None:
    if has_internal_subset:
        raise FeedError(
            f"refused: the {what} has an internal DTD subset (one declares XML entities "
            "or other DTD markup there: possible entity-expansion attack)"
        )


def _stop_at_root(parser: Any) -> None:
    raise _RootFound(parser.CurrentByteIndex)  # the byte offset of the root's "<"


# --- feedparser, bounded ----------------------------------------------------------------


def _bounded_author_sync(sync: Any) -> Any:
    """Wrap feedparser's author post-processing so that it sees at most a few KB.

    It looks for an e-mail address in every author string with a regular expression
    that takes quadratic time on a long run of letters and dots: an 8 KB <author> costs
    0.3 s, the 10 MB our fetcher allows would cost days. We keep `MAX_AUTHOR` characters
    of an author anyway, so the rest is cut before feedparser looks at it.
    """

    def bounded(self: Any, key: str = "author") -> Any:
        context = self._get_context()
        value = context.get(key)
        if isinstance(value, str) and len(value) > 4 * MAX_AUTHOR:
            context[key] = value[: 4 * MAX_AUTHOR]
        return sync(self, key)

    bounded.bounded = True  # type: ignore[attr-defined]
    return bounded


_MIXIN = feedparser.mixin._FeedParserMixin
if not getattr(_MIXIN._sync_author_detail, "bounded", False):  # once, even on reload
    _MIXIN._sync_author_detail = _bounded_author_sync(_MIXIN._sync_author_detail)


# --- parsing --------------------------------------------------------------------------

_KINDS = {"rss090": "rdf", "rss10": "rdf", "atom": "atom"}


def parse_feed(content: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse a feed document fetched from `url` (the base for relative links)."""
    from .kinds import FEED, recognise  # kinds imports parse_feed from here

    # Refuse what the registry knows to be something else (a page, a sitemap); a document
    # the feed kind recognises stays a feed even when an add-on kind claims it first.
    other = recognise(content, content_type or "")
    if other is not None and other.name != FEED.name and not FEED.recognises(content, content_type or ""):
        raise FeedError(f"not a feed (looks like {other.label})")
    text = decode_text(content, content_type)
    if _looks_like_json(content):
        return _parse_json_feed(text, url)
    if not text.lstrip().startswith("<"):
        raise FeedError("not a feed (neither XML nor JSON)")
    text = xml_from_root(text)
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
    site_url = absolute_url(feed.get("link"), url, limit=MAX_URL)
    entries = [e for e in (_entry(raw, site_url or url) for raw in result.entries) if e]
    if result.get("bozo") and not entries:
        raise FeedError(_bozo_message(result.get("bozo_exception")))
    return ParsedFeed(
        kind=_KINDS.get(version, "atom" if version.startswith("atom") else "rss"),
        title=_title(feed.get("title"), is_html=_is_html(feed.get("title_detail"))),
        site_url=site_url,
        language=_clean(clip(feed.get("language"), MAX_TAG)),
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
    url = canonical_url(raw.get("link"), base, limit=MAX_URL)
    if not url:
        return None
    contents = [c for c in raw.get("content") or [] if c.get("value")]
    content_html = max((c["value"] for c in contents), key=len) if contents else None
    content_html = clip(content_html, MAX_BODY_HTML)
    summary = clip(raw.get("summary") or None, MAX_SUMMARY_HTML)
    if summary and content_html and summary.strip() == content_html.strip():
        summary = None  # feedparser copies the content into a missing summary
    author = (raw.get("author_detail") or {}).get("name") or raw.get("author")
    # dict.get: FeedParserDict.get maps a missing updated_parsed to published_parsed (with
    # a deprecation warning); we want to know which of the two the feed really gave.
    published, updated = dict.get(raw, "published_parsed"), dict.get(raw, "updated_parsed")
    published = _datetime(published, dict.get(raw, "published"))
    updated = _datetime(updated, dict.get(raw, "updated"))
    return FeedEntry(
        url=url,
        guid=_clean(clip(raw.get("id"), MAX_GUID)),
        title=_title(raw.get("title"), is_html=_is_html(raw.get("title_detail"))),
        summary_html=summary,
        content_html=content_html,
        author=_author(author),
        # RSS 1.0 dc:date and Atom's mandatory <updated> are often the only date given.
        published=published or updated,
        updated=updated,
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
    candidates += [e.get("href") for e in raw.get("enclosures") or [] if (e.get("type") or "").startswith("image/")]
    candidates.append((raw.get("image") or {}).get("href"))
    for candidate in candidates:
        if url := absolute_url(candidate, base, limit=MAX_URL):
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
    if not isinstance(data, dict) or not str(data.get("version", "")).startswith("https://jsonfeed.org/version/"):
        raise FeedError("not a feed (JSON without a JSON Feed version)")
    site_url = absolute_url(_str(data.get("home_page_url")), url, limit=MAX_URL)
    items = data.get("items")
    if not isinstance(items, list):
        raise FeedError("not a usable feed: JSON Feed without an items list")
    entries = [e for e in (_json_entry(item, site_url or url) for item in items if isinstance(item, dict)) if e]
    return ParsedFeed(
        kind="json",
        title=_title(_str(data.get("title"))),
        site_url=site_url,
        language=_clean(clip(_str(data.get("language")), MAX_TAG)),
        entries=entries,
        ttl_seconds=None,
    )


def _json_entry(item: dict, base: str) -> FeedEntry | None:
    url = canonical_url(_str(item.get("url")) or _str(item.get("external_url")), base, limit=MAX_URL)
    if not url:
        return None
    content_html = _str(item.get("content_html"))
    if not content_html and (text := _str(item.get("content_text"))):
        text = text[:MAX_BODY_HTML]
        content_html = "".join(f"<p>{html.escape(p.strip())}</p>" for p in re.split(r"\n\s*\n", text) if p.strip())
    content_html = clip(content_html, MAX_BODY_HTML)
    summary = _str(item.get("summary"))
    authors = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), dict) else [])
    author = next((_str(a.get("name")) for a in authors if isinstance(a, dict) and a.get("name")), None)
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
    tags = item.get("tags")
    tags = tags if isinstance(tags, list) else []
    updated = _iso_datetime(item.get("date_modified"))
    return FeedEntry(
        url=url,
        guid=_clean(clip(_str(item.get("id")), MAX_GUID)),
        title=_title(_str(item.get("title")), is_html=False),
        summary_html=_paragraph(summary, MAX_SUMMARY_HTML) if summary else None,
        content_html=content_html,
        author=_author(author, is_html=False),
        published=_iso_datetime(item.get("date_published")) or updated,
        updated=updated,
        image=absolute_url(image, base, limit=MAX_URL),
        tags=_tags(_str(t) for t in tags),
    )


def _paragraph(text: str, limit: int) -> str:
    """Plain text as one HTML paragraph of at most `limit` characters."""
    return f"<p>{html.escape(text[:limit])[: limit - 7]}</p>"


def _str(value: Any) -> str | None:
    """JSON values as strings; ids may be numbers, anything else is ignored."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _iso_datetime(value: Any) -> datetime | None:
    return from_iso(value) if isinstance(value, str) else None


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


def _title(value: str | None, *, is_html: bool = True) -> str | None:
    """A capped plain-text title; only a bounded prefix of a huge one is ever parsed."""
    return clip(_plain(clip(value, 4 * MAX_TITLE), is_html=is_html), MAX_TITLE)


def _author(value: str | None, *, is_html: bool = True) -> str | None:
    return clip(_plain(clip(value, 4 * MAX_AUTHOR), is_html=is_html), MAX_AUTHOR)


def _tags(values: Any) -> tuple[str, ...]:
    tags = (clip(_plain(clip(v, 4 * MAX_TAG), is_html=False), MAX_TAG) for v in values)
    return tuple(dict.fromkeys(t for t in tags if t))[:MAX_TAGS]


def _datetime(parsed: Any, text: Any = None) -> datetime | None:
    """feedparser's UTC struct_time -> aware datetime, or None when not plausible.

    `text` is what the feed said: feedparser reads a negative year ("-0001-01-01") as
    a two-digit year of this century, so such a date is dropped here.
    """
    if not parsed or (isinstance(text, str) and text.lstrip().startswith("-")):
        return None
    try:
        return plausible(datetime.fromtimestamp(calendar.timegm(parsed), UTC))
    except (OverflowError, ValueError, OSError, TypeError):
        return None
