"""The staff's add flow: a URL in, the feeds behind it previewed, the chosen ones subscribed.

Finding and recording are newsdesk.sources' (finder.py, subscribe.py), as for
`newsdesk add`. What this adds is the page's two steps: `preview` fetches within a time
budget and returns a plain summary (what each feed is, how many items, the latest), which
travels in the form signed (django.core.signing), so `subscribe` records exactly what was
shown without fetching again and a changed form cannot slip in another URL; an old or
altered summary is refused and the staff member previews again. Approving a reader's
suggestion is this same flow with the suggestion's id in the summary.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.core import signing
from django.db import transaction

from newsdesk.desk import suggestions
from newsdesk.desk.models import Suggestion
from newsdesk.sources.finder import Found, FoundFeed, find
from newsdesk.sources.models import Feed, Source
from newsdesk.sources.subscribe import find_source, site_of, source_for, subscribe

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

MAX_FEEDS = 12  # advertised feeds fetched for one preview; the rest are counted, not shown
LATEST = 5  # newest items shown per feed
SECONDS = 40.0  # no new fetch starts after this (each one is capped by the fetcher's timeout)
MAX_TITLE = 200  # an item's title as shown: the summary rides in the form
SALT = "newsdesk.desk.preview"
MAX_AGE = 3600  # seconds a preview may be subscribed from


class PreviewExpired(Exception):
    """The signed summary is older than MAX_AGE or was altered."""


def _kind_label(feed: FoundFeed) -> str:
    if feed.listing_kind in Feed.Kind.values and feed.listing_kind:
        return str(Feed.Kind(feed.listing_kind).label)
    if feed.kind is not None and feed.kind.listing:
        return str(Feed.Kind(feed.kind.name).label) if feed.kind.name in Feed.Kind.values else feed.kind.name
    return ""


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _feed(feed: FoundFeed, known: dict[str, Feed]) -> dict[str, Any]:
    existing = known.get(feed.url)
    if feed.error:  # the URL is shown beside it: said once
        problem = feed.error.replace(f"could not fetch {feed.url}: ", "could not fetch it: ").removesuffix(
            f" from {feed.url}"
        )
    elif not (feed.kind is not None and feed.kind.listing):
        problem = f"not a feed: it serves {feed.kind.label if feed.kind else 'something unknown'}"
    else:
        problem = ""
    return {
        "url": feed.url,
        "title": (feed.title or "")[:300],
        "kind": _kind_label(feed),
        "items": len(feed.items),
        "latest": [
            {
                "title": (item.title or item.url)[:MAX_TITLE],
                "url": item.url,
                "when": _iso(item.published or item.updated),
            }
            for item in feed.latest(LATEST)
        ],
        "problem": problem,
        "known": {"slug": existing.source.slug, "name": existing.source.name} if existing else None,
        "choosable": feed.subscribable and existing is None,
    }


def summarise(found: Found, *, source: Source | None = None, suggestion: int | None = None) -> dict[str, Any]:
    known = {f.url: f for f in Feed.objects.filter(url__in=[f.url for f in found.feeds]).select_related("source")}
    # The feeds go to the source asked for, else the site's, else the one that already has one of them.
    owner = source or find_source(found.site_url) or next((feed.source for feed in known.values()), None)
    return {
        "url": found.url,
        "final_url": found.final_url,
        "site_url": found.site_url,
        "root_url": _root(found.final_url),
        "name": (found.name or site_of(found.site_url))[:200],
        "what": found.kind.label,
        "listing": found.kind.listing,
        "home_page": found.home_page,
        "skipped": found.skipped,
        "source": {"slug": owner.slug, "name": owner.name} if owner else None,
        "suggestion": suggestion,
        "feeds": [_feed(feed, known) for feed in found.feeds],
    }


def _root(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def preview(url: str, *, source: Source | None = None, suggestion: int | None = None) -> dict[str, Any]:
    """Fetch `url` and the feeds behind it (AddError when the URL itself cannot be had)."""
    found = find(url, read=True, max_feeds=MAX_FEEDS, deadline=time.monotonic() + SECONDS)
    return summarise(found, source=source, suggestion=suggestion)


def sign(summary: dict[str, Any]) -> str:
    return signing.dumps(summary, salt=SALT, compress=True)


def unsign(token: str) -> dict[str, Any]:
    try:
        return signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature as error:  # SignatureExpired is one
        raise PreviewExpired(str(error)) from None


@dataclass
class Subscribed:
    source: Source
    feeds: list[Feed]
    created: int  # feeds new to newsdesk (the others were already subscribed)


def subscribe_chosen(
    summary: dict[str, Any], chosen: list[str], fields: dict[str, str], by: AbstractBaseUser
) -> Subscribed:
    """Record the chosen feeds of a preview under its source (the existing one, else a new
    one made with `fields`: name, country, language, kind); mark its suggestion approved.
    Twice is once: feeds and sources are found before they are made."""
    wanted = set(chosen)
    with transaction.atomic():
        source = None
        if summary.get("source"):
            source = Source.objects.filter(slug=summary["source"]["slug"]).first()
        if source is None:
            source = source_for(summary["site_url"], fields.get("name") or summary["name"], **_extra(fields))
        feeds, created = [], 0
        for feed in summary["feeds"]:
            if feed["url"] in wanted and feed["choosable"]:
                row, made = subscribe(source, feed["url"], feed["title"])
                feeds.append(row)
                created += made
        if summary.get("suggestion"):
            found = Suggestion.objects.filter(pk=summary["suggestion"]).first()
            if found is not None:
                suggestions.approve(found, by, source)
    return Subscribed(source, feeds, created)


def _extra(fields: dict[str, str]) -> dict[str, str]:
    return {key: fields[key] for key in ("country", "language", "kind") if fields.get(key)}
