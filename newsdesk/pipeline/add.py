"""Turning a URL a user gives us into subscriptions or an article (`newsdesk add`).

A user pastes whatever they have: a feed, a site's home page, a news sitemap or one
article. We look at what the URL serves rather than at how it is spelled: the source-kind
registry (`newsdesk.sources.kinds`) says whether it is a listing to subscribe to or a page.
Finding the listings (`newsdesk.sources.finder`) and recording them
(`newsdesk.sources.subscribe`) are shared with the staff's add page (newsdesk/desk/);
storing a page as an article is the ingest's, so it is here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources

from django.db import transaction

from newsdesk.articles.models import Article
from newsdesk.links import canonical_url
from newsdesk.pipeline import ingest
from newsdesk.sources.finder import AddError, find
from newsdesk.sources.http import FetchResult
from newsdesk.sources.models import Entry, Feed, Source
from newsdesk.sources.subscribe import source_for, subscribe

__all__ = ["AddError", "Added", "add_page", "add_url", "load_default_publishers", "source_for"]


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
    """Subscribe to the feed(s) behind `url` (what newsdesk.sources.finder finds), or
    store it as a single article. A home page's feeds are subscribed all or none: one
    that cannot be had fails the add before anything is recorded."""
    found = find(url, read=False)
    if failed := next((feed for feed in found.feeds if feed.error), None):
        raise AddError(failed.error)
    listings = [feed for feed in found.feeds if feed.subscribable]
    if listings:
        added = Added(source or source_for(found.site_url, found.name))
        for listing in listings:
            feed, _ = subscribe(added.source, listing.url, listing.title)
            added.feeds.append(feed)
        if found.kind.listing:
            added.source = added.feeds[0].source  # a feed already known keeps its publisher
        return added
    if found.feeds and source is None:
        source = source_for(found.site_url, found.site_name)  # the home page names its publisher
    return add_page(found.result, source)


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
