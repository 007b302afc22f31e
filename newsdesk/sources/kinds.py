"""Source kinds: what a fetched document is, and how a listing of links becomes entries.

A URL may serve a feed (RSS, RDF, Atom, JSON Feed), a (news) sitemap or an HTML page,
and the next kinds (podcasts, outboxes, ...) plug in here. Each is a `SourceKind` put in
one registry with `register`, built-ins and add-ons alike: the sources app registers
feed, sitemap and html in its AppConfig.ready, an add-on app registers its own in its
own. The ingest (`read`), `newsdesk add` and the feed parser ask the registry what a
document is instead of comparing names, so a new kind needs no change there.

Recognition looks at the document itself: content types lie (feeds served as text/html,
sitemaps as text/plain, pages as application/xml), so the header decides only when the
first bytes say nothing (`sniff`). Kinds are asked in `order`, then in the order they
were registered; the first that recognises a document has it.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from newsdesk.charset import media_type
from newsdesk.registry import Registry

from .discovery import COMMON_FEED_PATHS
from .feeds import FeedError, parse_feed
from .sitemaps import MAX_CHILD_SITEMAPS, parse_sitemap

if TYPE_CHECKING:
    from .http import FetchResult

__all__ = [
    "FEED",
    "FEED_ACCEPT",
    "HTML",
    "MAX_CATEGORIES",
    "MAX_CATEGORY",
    "SITEMAP",
    "About",
    "Item",
    "Listing",
    "Sniff",
    "SourceKind",
    "in_order",
    "read",
    "recognise",
    "register",
    "registered",
    "sniff",
    "unregister",
]

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
# A feed's categories for one link, kept for the section (ai/section_hints.py): the first
# few name the section when any do; the rest are keyword tags.
MAX_CATEGORIES = 10
MAX_CATEGORY = 100


# --- what a listing holds -------------------------------------------------------------


@dataclass
class Item:
    """One link a listing announces, with what the listing says about it (an Entry row)."""

    url: str
    title: str = ""
    guid: str = ""
    summary_html: str = ""
    content_html: str = ""
    author: str = ""
    image: str = ""
    categories: list[str] = field(default_factory=list)
    published: datetime | None = None
    updated: datetime | None = None


@dataclass(frozen=True)
class Listing:
    """A listing document read into items.

    `kind` is stored as Feed.kind: a Feed.Kind value for the built-ins, an add-on's own
    short name (8 characters at most) otherwise. `ttl` is the seconds the publisher asks
    readers to wait between polls, a floor for the schedule.
    """

    kind: str
    title: str | None
    items: list[Item]
    ttl: int | None = None


@dataclass(frozen=True)
class About:
    """What `newsdesk add` names a new subscription after: the listing's title and the
    home page it names (None: the listing's own URL)."""

    title: str | None
    home_url: str | None


@dataclass(frozen=True)
class SourceKind:
    """One kind of document a source URL may serve.

    `recognises(content, content_type)` looks at the first bytes (`sniff` helps) and uses
    the header only when they say nothing. `read` turns a fetched listing into items; a
    kind without one is a page (an article to store, or a home page to find feeds on).
    `about` names a new subscription (only a listing kind has one; without it the
    subscription is named after its URL). `well_known_paths` are where `newsdesk add`
    looks for this kind, in order, on a site whose home page advertises none. Lower
    `order` is asked first; an add-on that claims documents a built-in also recognises
    (a flavour of RSS, say) gives a lower one than the built-ins' 100. `label` names the
    kind in messages ("not a feed (looks like HTML)"); the name when not given.
    """

    name: str
    recognises: Callable[[bytes, str], bool]
    read: Callable[[FetchResult], Listing] | None = None
    about: Callable[[FetchResult], About] | None = None
    well_known_paths: tuple[str, ...] = ()
    order: int = 100
    label: str = ""

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", self.name)

    @property
    def listing(self) -> bool:
        """Whether documents of this kind are subscribed to and polled for links."""
        return self.read is not None


# --- the registry ---------------------------------------------------------------------

_KINDS: Registry[SourceKind] = Registry()
register = _KINDS.register
unregister = _KINDS.unregister
registered = _KINDS.registered


def in_order() -> list[SourceKind]:
    """The registered kinds in the order they are asked (sorting is stable: ties keep the
    order of registration)."""
    return sorted(_KINDS.entries(), key=lambda kind: kind.order)


def recognise(content: bytes, content_type: str = "") -> SourceKind | None:
    """The first registered kind that recognises a document; None when none does."""
    for kind in in_order():
        if kind.recognises(content, content_type):
            return kind
    return None


def read(result: FetchResult) -> Listing:
    """Read a fetched listing into items, by the kind that recognises it.

    A document no listing kind claims goes to the feed reader, as it always did: it says
    why it cannot be read (a page, a sitemap, malformed XML) or finds a feed the first
    bytes did not show (a JSON Feed whose version comes after 4 KB of items).
    """
    kind = recognise(result.content, result.content_type)
    if kind is None or kind.read is None:
        kind = next((k for k in _KINDS.entries() if k.name == FEED.name), FEED)
    if kind.read is None:
        raise FeedError(f"not a feed ({kind.name} is not a listing)")
    return kind.read(result)


# --- sniffing -------------------------------------------------------------------------


@dataclass(frozen=True)
class Sniff:
    """The start of a document: `text`, its first characters decoded (BOM and leading
    whitespace gone), and `root`, the local name of its first element, lower-case.

    `root` is also "html" for tag soup whose first element cannot be read but whose first
    bytes hold an <html>, <head> or <body> tag; it is None for JSON and for text.
    """

    text: str
    root: str | None

    @property
    def undecided(self) -> bool:
        """Markup, but no element in the first bytes: only the content type can tell."""
        return self.root is None and self.text.startswith("<")


_NAME = re.compile(r"[A-Za-z_][\w.:-]*")
_PAGE_TAG = re.compile(r"<(html|head|body)[\s>]", re.IGNORECASE)


def sniff(content: bytes) -> Sniff:
    """What the first bytes of a document show, for `SourceKind.recognises`."""
    text = _head(content).lstrip()
    if text.startswith("{"):
        return Sniff(text, None)
    root = _root_name(text) if text.startswith("<") else None
    if root is None and _PAGE_TAG.search(text[:1024]):
        root = "html"
    return Sniff(text, root)


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


# --- the built-in kinds (registered by SourcesConfig.ready) ------------------------------

_FEED_ROOTS = frozenset({"rss", "rdf", "feed", "channel"})
_FEED_MEDIA = frozenset({"application/rss+xml", "application/atom+xml", "application/rdf+xml"})
_SITEMAP_ROOTS = frozenset({"urlset", "sitemapindex"})
_PAGE_ROOTS = frozenset({"html", "head", "body"})
_PAGE_MEDIA = frozenset({"text/html", "application/xhtml+xml"})


def _is_feed(content: bytes, content_type: str) -> bool:
    head = sniff(content)
    if head.text.startswith("{"):
        return "jsonfeed.org/version" in head.text.replace("\\/", "/")
    return head.root in _FEED_ROOTS or (head.undecided and media_type(content_type) in _FEED_MEDIA)


def _read_feed(result: FetchResult) -> Listing:
    parsed = parse_feed(result.content, result.final_url, result.headers.get("content-type"))
    items = [
        Item(
            url=e.url,
            title=e.title or "",
            guid=e.guid or "",
            summary_html=e.summary_html or "",
            content_html=e.content_html or "",
            author=e.author or "",
            image=e.image or "",
            categories=[tag[:MAX_CATEGORY] for tag in e.tags[:MAX_CATEGORIES]],
            published=e.published,
            updated=e.updated,
        )
        for e in parsed.entries
    ]
    return Listing(parsed.kind, parsed.title, items, parsed.ttl_seconds)


def _feed_about(result: FetchResult) -> About:
    parsed = parse_feed(result.content, result.final_url, result.headers.get("content-type"))
    return About(parsed.title, parsed.site_url)


def _is_sitemap(content: bytes, content_type: str) -> bool:
    return sniff(content).root in _SITEMAP_ROOTS


def _read_sitemap(result: FetchResult) -> Listing:
    """A urlset's links, or those of the first child sitemaps of an index, fetched here."""
    # Here, not at the top: an add-on's apps.py imports this module before models load,
    # and the fetcher (httpx) is only needed for an index's children.
    from .client import get_fetcher
    from .models import Feed

    entries, children = parse_sitemap(result.content, result.final_url)
    for child in children[:MAX_CHILD_SITEMAPS]:
        child_result = get_fetcher().get(child, accept=FEED_ACCEPT)
        entries += parse_sitemap(child_result.content, child_result.final_url)[0]
    items = [Item(url=e.url, title=e.title or "", published=e.published, updated=e.modified) for e in entries]
    return Listing(Feed.Kind.SITEMAP, None, items)  # type: ignore[arg-type]  # TextChoices: a str at run time


def _is_page(content: bytes, content_type: str) -> bool:
    head = sniff(content)
    return head.root in _PAGE_ROOTS or (head.undecided and media_type(content_type) in _PAGE_MEDIA)


FEED = SourceKind(
    "feed",
    recognises=_is_feed,
    read=_read_feed,
    about=_feed_about,
    well_known_paths=COMMON_FEED_PATHS,
    label="a feed",
)
SITEMAP = SourceKind("sitemap", recognises=_is_sitemap, read=_read_sitemap, label="a sitemap")
HTML = SourceKind("html", recognises=_is_page, label="HTML")
