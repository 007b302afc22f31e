"""From a URL someone typed to the listings behind it, fetched and read, not yet subscribed.

`newsdesk add` (newsdesk/pipeline/add.py), the staff's add page and an approved reader
suggestion (newsdesk/desk/) all start here, so every door finds the same feeds: the URL
itself when it serves a listing (a feed, a sitemap or an add-on's kind: the source-kind
registry says), else on a home page the feeds it advertises, else the first well-known
path that serves one. Each listing is fetched through the guarded fetcher and, when asked,
read, so a person can see what they would subscribe to (its title, how many items, the
latest) before anything is stored. Nothing here writes; subscribe.py records the choice.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from newsdesk.links import canonical_url

from . import kinds
from .client import get_fetcher
from .discovery import discover_feeds, page_site_name
from .feeds import FeedError
from .http import FetchError, FetchResult
from .kinds import Item, SourceKind

__all__ = ["AddError", "Found", "FoundFeed", "find", "is_home_page"]


class AddError(ValueError):
    """The URL gave nothing we can subscribe to or store; the message says why."""


@dataclass(frozen=True)
class FoundFeed:
    """One listing found behind a URL.

    `error` is set when it could not be had (fetch failed, unreadable); `kind` is None
    then, or a kind that is not a listing when an advertised link served something else
    (a page): neither can be subscribed to. `items` are filled only when `find` read it.
    """

    url: str
    kind: SourceKind | None = None
    title: str | None = None
    home_url: str | None = None
    listing_kind: str = ""  # what the listing was read as: "rss", "atom", "json", "sitemap"...
    items: tuple[Item, ...] = ()
    error: str = ""

    @property
    def subscribable(self) -> bool:
        return not self.error and self.kind is not None and self.kind.listing

    def latest(self, count: int = 5) -> list[Item]:
        """The newest items first (by publication, else update time); undated ones last, in feed order."""
        dated = [item for item in self.items if (item.published or item.updated)]
        dated.sort(key=lambda item: _when(item), reverse=True)
        undated = [item for item in self.items if not (item.published or item.updated)]
        return (dated + undated)[:count]


def _when(item: Item) -> datetime:
    return item.published or item.updated  # type: ignore[return-value]  # filtered by the caller


@dataclass
class Found:
    """What a URL leads to. `kind` is what the URL itself serves; when that is a listing,
    `feeds` is that one listing, else the home page's feeds (none for an article page).
    `skipped` counts advertised feeds beyond `max_feeds` or the deadline, not fetched."""

    url: str
    result: FetchResult = field(repr=False)
    kind: SourceKind
    site_name: str | None = None
    feeds: list[FoundFeed] = field(default_factory=list)
    home_page: bool = False
    skipped: int = 0

    @property
    def final_url(self) -> str:
        return canonical_url(self.result.final_url) or self.result.final_url

    @property
    def site_url(self) -> str:
        """The address whose site owns the feeds: the listing's own home page when the URL
        is a listing (a feed host often differs from its publisher's), else the page."""
        if self.kind.listing and self.feeds:
            return self.feeds[0].home_url or self.feeds[0].url
        return self.final_url

    @property
    def name(self) -> str | None:
        """A name for a new source: the listing's title, or the page's site name."""
        if self.kind.listing and self.feeds:
            return self.feeds[0].title
        return self.site_name


def find(url: str, *, read: bool = True, max_feeds: int | None = None, deadline: float | None = None) -> Found:
    """Fetch `url` and the listings it leads to; AddError when the URL itself cannot be had.

    `read`: read each listing's items (for showing them); `newsdesk add` only needs the
    title. `max_feeds` caps how many advertised feeds are fetched, and `deadline` (a
    time.monotonic() value) stops fetching more once passed: a page that asks within a
    web request stays within its time.
    """
    target = canonical_url(url)
    if target is None:
        raise AddError(f"not an http(s) URL: {url!r}")
    result = _get(target)
    kind = kinds.recognise(result.content, result.content_type)
    if kind is None:
        raise AddError(f"{target} serves {result.content_type or 'unknown content'}, not a feed or a page")
    if kind.listing:
        return Found(target, result, kind, feeds=[_examine(result, kind, read=read)])

    found = Found(target, result, kind, home_page=is_home_page(result.final_url))
    if not found.home_page:
        return found  # an article: its feeds, if it names any, are not what the user meant
    html = result.text()
    found.site_name = page_site_name(html)
    urls = discover_feeds(html, result.final_url) or _probe_well_known_paths(result.final_url, deadline)
    for n, feed_url in enumerate(urls):
        if (max_feeds is not None and n >= max_feeds) or _past(deadline):
            found.skipped = len(urls) - n
            break
        found.feeds.append(_fetch_and_examine(feed_url, read=read))
    return found


def is_home_page(url: str) -> bool:
    """A site's front or section page rather than an article: at most one short path
    segment ("/", "/news", "/world"); article URLs carry dates, ids or long slugs."""
    path = urlsplit(url).path.strip("/")
    return "/" not in path and len(path) < 30 and "." not in path


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() > deadline


def _get(url: str) -> FetchResult:
    try:
        return get_fetcher().get(url)
    except FetchError as error:
        raise AddError(f"could not fetch {url}: {error}") from error


def _fetch_and_examine(url: str, *, read: bool) -> FoundFeed:
    try:
        result = _get(url)
    except AddError as error:
        return FoundFeed(canonical_url(url) or url, error=str(error))
    kind = kinds.recognise(result.content, result.content_type)
    if kind is None or not kind.listing:
        # Read as what it is, not as what the page called it: a sitemap advertised as a
        # feed is a sitemap; a page advertised as a feed is nothing to subscribe to.
        return FoundFeed(canonical_url(result.final_url) or result.final_url, kind=kind)
    return _examine(result, kind, read=read)


def _examine(result: FetchResult, kind: SourceKind, *, read: bool) -> FoundFeed:
    url = canonical_url(result.final_url) or result.final_url
    title, home = None, None
    try:
        if kind.about is not None:
            about = kind.about(result)
            title, home = about.title, about.home_url
        listing = kinds.read(result) if read else None
    except (FeedError, FetchError) as error:
        return FoundFeed(url, kind=kind, error=f"{result.final_url} is not a usable feed: {error}")
    if listing is None:
        return FoundFeed(url, kind=kind, title=title, home_url=home)
    return FoundFeed(
        url,
        kind=kind,
        title=title or listing.title,
        home_url=home,
        listing_kind=listing.kind,
        items=tuple(listing.items),
    )


def _probe_well_known_paths(page_url: str, deadline: float | None) -> list[str]:
    """Many sites serve a feed at a well-known path without advertising it: each kind's
    `well_known_paths` in turn (the feed kind's are discovery.COMMON_FEED_PATHS); the
    first that serves a document of that kind is the one."""
    parts = urlsplit(page_url)
    root = f"{parts.scheme}://{parts.netloc}"
    for kind in kinds.in_order():
        for path in kind.well_known_paths:
            if _past(deadline):
                return []
            try:
                result = get_fetcher().get(root + path)
            except FetchError:
                continue
            if kinds.recognise(result.content, result.content_type) is kind:
                return [result.final_url]
    return []
