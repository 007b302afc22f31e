"""Trending hashtags: used more in the last day than in the day before.

One indexed range scan of ArticleHashtag (its `published_at` is copied from the article
for this): per hashtag, the articles of the last `hours` and of the `hours` before. A
tag trends by how far it rose; a tag new today (nothing the day before) rises by all
its uses. Ties go to the more used tag, then the name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from newsdesk.articles.models import ArticleHashtag, Hashtag


@dataclass(frozen=True)
class Trend:
    hashtag: Hashtag
    recent: int  # articles in the last `hours`
    before: int  # articles in the `hours` before that

    @property
    def rise(self) -> int:
        return self.recent - self.before

    @property
    def is_new(self) -> bool:
        return self.before == 0


def trending_hashtags(
    limit: int = 12, *, hours: float = 24.0, now: datetime | None = None, min_recent: int = 2
) -> list[Trend]:
    now = now or timezone.now()
    window = timedelta(hours=hours)
    split = now - window
    rows = (
        ArticleHashtag.objects.filter(published_at__gte=now - 2 * window, published_at__lte=now)
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
    return trends[:limit]
