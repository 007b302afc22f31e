"""Trending hashtags: used more in the last day than in the day before.

The one computation behind the home page's box and /api/trending/hashtags, so that the
two never disagree. One indexed range scan of ArticleHashtag (its `published_at` is
copied from the article for this): per hashtag, the articles of the last `hours` and of
the `hours` before. A tag trends by how far it rose; a tag new in the window (nothing
before it) rises by all its uses; a tag must be on `min_recent` articles of the window,
so that one article's tags are not a trend. Ties go to the more used tag, then the name.

When nothing was published in the last `hours` (a quiet night, or a site showing an
archive), the window ends at the newest tagged article instead: the latest active day
trends, as the home page's top stories come from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Max, Q
from django.utils import timezone

from newsdesk.articles.models import ArticleHashtag, Hashtag

__all__ = ["Trend", "Trending", "trending_hashtags"]


@dataclass(frozen=True)
class Trend:
    hashtag: Hashtag
    recent: int  # articles in the window
    before: int  # articles in as long a time before it

    @property
    def rise(self) -> int:
        return self.recent - self.before

    @property
    def is_new(self) -> bool:
        return self.before == 0


@dataclass(frozen=True)
class Trending:
    """The trends, best first, and the window they were counted in."""

    since: datetime
    until: datetime
    trends: list[Trend] = field(default_factory=list)
    moved: bool = False  # the window ends at the newest article: none in the last `hours`


def trending_hashtags(
    limit: int = 12,
    *,
    hours: float = 24.0,
    now: datetime | None = None,
    min_recent: int = 2,
    kind: str | None = None,
) -> Trending:
    """The `limit` hashtags that rose most in the last `hours` (of one `kind` if given)."""
    now = now or timezone.now()
    window = timedelta(hours=hours)
    links = ArticleHashtag.objects.all()
    if kind:
        links = links.filter(hashtag__kind=kind)
    moved = False
    if not links.filter(published_at__gte=now - window, published_at__lte=now).exists():
        newest = links.filter(published_at__lte=now).aggregate(newest=Max("published_at"))["newest"]
        if newest is not None:
            now, moved = newest, True
    split = now - window
    rows = (
        links.filter(published_at__gte=now - 2 * window, published_at__lte=now)
        .values("hashtag_id")
        .annotate(
            recent=Count("id", filter=Q(published_at__gte=split)), before=Count("id", filter=Q(published_at__lt=split))
        )
        .filter(recent__gte=min_recent)
    )
    counts = [(row["hashtag_id"], row["recent"], row["before"]) for row in rows]
    counts.sort(key=lambda c: (-(c[1] - c[2]), -c[1]))
    top = [c for c in counts if c[1] > c[2]][: limit * 2] or counts[: limit * 2]
    tags = Hashtag.objects.in_bulk([c[0] for c in top])
    trends = [Trend(tags[pk], recent, before) for pk, recent, before in top if pk in tags]
    trends.sort(key=lambda t: (-t.rise, -t.recent, t.hashtag.name.lower()))
    return Trending(since=split, until=now, trends=trends[:limit], moved=moved)
