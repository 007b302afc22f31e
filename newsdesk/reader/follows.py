"""Following sources: idempotent follow and unfollow, folders, and finding a source by
the feed URL a reader app knows it by."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from newsdesk.reader.models import Follow
from newsdesk.reader.state import new_watermark
from newsdesk.sources.models import Feed, Source

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

MAX_CATEGORY = 100


def follow(user: AbstractBaseUser, source: Source, category: str | None = None) -> Follow:
    """Follow `source` (a second follow is the first one); `category` None keeps the folder."""
    found = Follow.objects.filter(user=user, source=source).first()
    if found is None:
        try:
            with transaction.atomic():
                found = Follow.objects.create(
                    user=user, source=source, category=(category or "")[:MAX_CATEGORY], read_before=new_watermark()
                )
        except IntegrityError:  # followed twice at once: the first one counts
            found = Follow.objects.get(user=user, source=source)
    elif category is not None and found.category != category[:MAX_CATEGORY]:
        found.category = category[:MAX_CATEGORY]
        found.save(update_fields=["category"])
    return found


def unfollow(user: AbstractBaseUser, source: Source) -> None:
    Follow.objects.filter(user=user, source=source).delete()


def is_following(user: AbstractBaseUser, source: Source) -> bool:
    return Follow.objects.filter(user=user, source=source).exists()


def source_by_feed_url(url: str) -> Source | None:
    """The source a feed URL belongs to: one of its feeds, its home page, or one of our
    own feeds of it (/sources/<slug>/rss or /atom)."""
    url = url.strip()
    if not url:
        return None
    # A feed URL inside a stream path (stream/contents/feed/https://...) may reach us with
    # its double slash merged by a proxy (nginx's merge_slashes).
    url = re.sub(r"^(https?):/(?!/)", r"\1://", url)
    variants = {url, url.rstrip("/"), url.rstrip("/") + "/"}
    feed = Feed.objects.filter(url__in=variants).select_related("source").first()
    if feed is not None:
        return feed.source
    source = Source.objects.filter(home_url__in=variants).first()
    if source is not None:
        return source
    parts = url.rstrip("/").split("/")
    if len(parts) >= 3 and parts[-3] == "sources" and parts[-1] in ("rss", "atom"):
        return Source.objects.filter(slug=parts[-2]).first()
    return None


def feed_url(source: Source, fallback: str) -> str:
    """The URL a reader app shows for a followed source: its first enabled feed (from
    prefetched feeds when the caller prefetched them)."""
    feeds = sorted((feed for feed in source.feeds.all() if feed.enabled), key=lambda feed: feed.pk)
    return feeds[0].url if feeds else fallback
