"""Turning a URL a user gives us into subscriptions or an article (`newsdesk add`).

A user pastes whatever they have: a feed, a site's home page, a news sitemap or one
article. We look at what the URL serves rather than at how it is spelled: the source-kind
registry (`newsdesk.sources.kinds`) says whether it is a listing to subscribe to or a page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from newsdesk.articles.models import Article
from newsdesk.links import canonical_url
from newsdesk.pipeline import ingest
from newsdesk.sources import kinds
from newsdesk.sources.client import get_fetcher
from newsdesk.sources.discovery import discover_feeds, page_site_name
from newsdesk.sources.feeds import FeedError
from newsdesk.sources.http import FetchError, FetchResult
from newsdesk.sources.kinds import SourceKind
from newsdesk.sources.models import Entry, Feed, Source


class AddError(ValueError):
    """The URL gave nothing we can subscribe to or store; the message says why."""


@dataclass
class Added:
    source: Source
    feeds: list[Feed] = field(default_factory=list)
    article: Article | None = None

    def describe(self) -> str:
        if self.article is not None:
            return f"stored article {self.article.pk}: {self.article.title} ({self.source.name})"
        return "\n".join(f"subscribed to {feed.url} ({self.source.name})" for feed in self.feeds)


def add_url(url: str, *, source: Source | None = None) -> Added:
    """Subscribe to the feed(s) behind `url`, or store it as a single article."""
    target = canonical_url(url)
    if target is None:
        raise AddError(f"not an http(s) URL: {url!r}")
    result = _get(target)
    kind = kinds.recognise(result.content, result.content_type)
    if kind is None:
        raise AddError(f"{target} serves {result.content_type or 'unknown content'}, not a feed or a page")
    if kind.listing:
        found_source, feed = _subscribe(result.final_url, kind, result, source)
        return Added(found_source, [feed])

    html = result.text()
    feeds = discover_feeds(html, result.final_url) or _probe_common_paths(result.final_url)
    if feeds and _is_home_page(result.final_url):
        site_name = page_site_name(html)
        added = Added(source or source_for(result.final_url, site_name))
        for feed_url in feeds:
            feed_result = _get(feed_url)
            found = kinds.recognise(feed_result.content, feed_result.content_type)
            if found is not None and found.listing:
                # Read as what it is, not as what the page called it: a sitemap advertised
                # as a feed was refused as "not a usable feed", and the whole add with it.
                _, feed = _subscribe(feed_result.final_url, found, feed_result, added.source)
                added.feeds.append(feed)
        if added.feeds:
            return added
    return add_page(result, source)


def _get(url: str) -> FetchResult:
    try:
        return get_fetcher().get(url)
    except FetchError as error:
        raise AddError(f"could not fetch {url}: {error}") from error


def _subscribe(url: str, kind: SourceKind, result: FetchResult, source: Source | None) -> tuple[Source, Feed]:
    title, home = None, url
    if kind.about is not None:
        try:
            about = kind.about(result)
        except FeedError as error:
            raise AddError(f"{url} is not a usable feed: {error}") from error
        title, home = about.title, about.home_url or url
    source = source or source_for(home, title)
    feed, _ = Feed.objects.get_or_create(
        url=canonical_url(url) or url,
        defaults={"source": source, "title": (title or "")[:300], "next_fetch_at": timezone.now()},
    )
    return feed.source, feed


def _probe_common_paths(page_url: str) -> list[str]:
    """Many sites serve a feed at a well-known path without advertising it: each kind's
    `well_known_paths` in turn (the feed kind's are discovery.COMMON_FEED_PATHS); the
    first that serves a document of that kind is the one."""
    root = f"{urlsplit(page_url).scheme}://{urlsplit(page_url).netloc}"
    for kind in kinds.in_order():
        for path in kind.well_known_paths:
            try:
                result = get_fetcher().get(root + path)
            except FetchError:
                continue
            if kinds.recognise(result.content, result.content_type) is kind:
                return [result.final_url]
    return []


def _is_home_page(url: str) -> bool:
    """A site's front or section page rather than an article: at most one short path
    segment ("/", "/news", "/world"); article URLs carry dates, ids or long slugs."""
    path = urlsplit(url).path.strip("/")
    return "/" not in path and len(path) < 30 and "." not in path


def source_for(url: str, name: str | None) -> Source:
    """The publisher that owns `url`'s site (its host, and its port when one is named),
    created on first sight."""
    host = _site(url)
    for existing in Source.objects.all():
        if _site(existing.home_url) == host:
            return existing
    base = slugify(host.replace(".", "-").replace(":", "-"))[:90] or "source"
    slug, n = base, 1
    while Source.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    parts = urlsplit(url)
    return Source.objects.create(name=(name or host)[:200], slug=slug, home_url=f"{parts.scheme}://{parts.netloc}/")


def _site(url: str) -> str:
    """Host without "www.", with ":port" when the URL names a port other than its
    scheme's (canonical_url drops a default one): two publishers served from one
    machine on two ports are two sites."""
    netloc = urlsplit(canonical_url(url) or url).netloc.lower()
    return netloc.rpartition("@")[2].removeprefix("www.")


def add_page(result: FetchResult, source: Source | None = None) -> Added:
    """Store a fetched page as a single article (what `add_url` does with a page that
    advertises no feed); its publisher is the page's host unless `source` is given."""
    url = canonical_url(result.final_url) or result.url
    source = source or source_for(url, None)
    entry, _ = Entry.objects.get_or_create(url=url, defaults={"source": source})
    Entry.objects.filter(pk=entry.pk).update(state=Entry.State.PENDING, attempts=0)
    entry.refresh_from_db()
    ingest.store_page(entry, result)
    entry.refresh_from_db()
    if entry.article is None:
        raise AddError(f"{url}: no article found ({entry.last_error or 'nothing to extract'})")
    return Added(source, article=entry.article)


@transaction.atomic
def load_default_publishers() -> int:
    """Create the bundled publishers and their feeds; existing ones are left alone."""
    data = json.loads(resources.files("newsdesk.sources").joinpath("publishers.json").read_text("utf-8"))
    created = 0
    for item in data:
        source, made = Source.objects.get_or_create(
            slug=item["slug"],
            defaults={k: item[k] for k in ("name", "home_url", "country", "language", "kind")},
        )
        created += made
        for feed_url in item["feeds"]:
            Feed.objects.get_or_create(url=feed_url, defaults={"source": source})
    return created
