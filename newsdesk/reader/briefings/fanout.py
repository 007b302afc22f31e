"""Alerts: new articles matched against what readers follow.

A pull model, so nothing below the reader's layer knows about readers. The planner
(`plan`, run by the scheduler) walks articles newer than a watermark in id order and
cuts those that are ready (placed in a story, which comes after enrichment: their story,
hashtags and section are known; or stored longer ago than NEWSDESK_ALERTS_WAIT, so one
article that never gets there holds up nobody for long) into batches of id ranges.
A task runs each batch (`run`), any worker, in parallel:

1. the batch's articles with their source, section, story and hashtags, in a few
   queries; copies of a text already seen are left out (they are not new coverage);
2. the keys they touch: each story (and the stories merged into it: a follow of those
   follows the survivor), each hashtag, and each saved search they match
   (percolate.py); sections and sources do not alert (a followed source has its
   Unread page);
3. which of those keys anyone follows, through the Interest index (kind, key, muted);
4. one Activity row per article under each followed key, written in bulk in the
   transaction that marks the batch done, so a batch counts once however often its
   task runs.

Not one row per follower: with 100,000 readers following popular hashtags a batch
touched 1.5 million (reader, followed thing) pairs, and writing them held the fan-out
to about 110 articles a second on SQLite. A reader's notifications are read from the
activity under the 20 or so things they follow, newer than their watermark and without
what they muted (notifications.py), which costs one indexed range read per followed
thing when the page is shown.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, Max, OuterRef
from django.utils import timezone

from newsdesk.articles.models import Article, ArticleHashtag
from newsdesk.reader.briefings import percolate
from newsdesk.reader.briefings.models import Activity, FanoutBatch, FanoutState
from newsdesk.reader.briefings.mutes import HASHTAG, SEARCH, STORY, Facts
from newsdesk.reader.models import Interest
from newsdesk.stories.models import NearDuplicate, Story, StoryMember

log = logging.getLogger(__name__)
Kind = Interest.Kind
PLAN_LIMIT = 20_000  # articles one planning pass looks at
ACTIVITY_DAYS = 30
MAX_ATTEMPTS = 5
CHUNK = 500  # keys per IN (...) list


def lease() -> timedelta:
    return timedelta(seconds=settings.NEWSDESK_MAIL_LEASE)


# --- planning --------------------------------------------------------------------------


def _state() -> FanoutState:
    """The watermark; on first use it starts at the newest article: readers are alerted
    to what arrives from now on, not to the archive."""
    state = FanoutState.objects.filter(pk=1).first()
    if state is None:
        newest = Article.objects.aggregate(newest=Max("pk"))["newest"] or 0
        state, _ = FanoutState.objects.get_or_create(pk=1, defaults={"planned_through": newest})
    return state


def batch_size(ready: int) -> int:
    """NEWSDESK_ALERTS_BATCH articles, more when a backlog waits: a batch's work grows
    with the followers of the keys it touches, which the more articles share the larger
    the batch, so a backlog is cut in two (for two workers), up to 5 times the setting."""
    base = max(1, settings.NEWSDESK_ALERTS_BATCH)
    return min(5 * base, max(base, -(-ready // 2)))


def plan(now: datetime | None = None) -> list[int]:
    """Cut the ready articles past the watermark into batches; their ids (to queue).
    One indexed read when there is nothing new."""
    now = now or timezone.now()
    state = _state()
    placed = StoryMember.objects.filter(article_id=OuterRef("pk"))
    rows = (
        Article.objects.filter(pk__gt=state.planned_through)
        .order_by("pk")
        .annotate(placed=Exists(placed))
        .values_list("pk", "created_at", "placed")[:PLAN_LIMIT]
    )
    waited = now - timedelta(seconds=settings.NEWSDESK_ALERTS_WAIT)
    ready: list[int] = []
    for pk, created_at, is_placed in rows:
        if not (is_placed or created_at <= waited):
            break
        ready.append(pk)
    if not ready:
        return []
    size = batch_size(len(ready))
    with transaction.atomic():
        moved = FanoutState.objects.filter(pk=1, planned_through=state.planned_through).update(
            planned_through=ready[-1], planned_at=now
        )
        if not moved:  # another planner got there first
            return []
        batches = FanoutBatch.objects.bulk_create(
            [
                FanoutBatch(first_id=chunk[0], last_id=chunk[-1], leased_until=now + lease())
                for chunk in (ready[i : i + size] for i in range(0, len(ready), size))
            ]
        )
    return [b.pk for b in batches]


def overdue(now: datetime | None = None) -> list[int]:
    """Batches whose task died or never ran: leased again (to queue again), or given
    up after MAX_ATTEMPTS with the reason kept."""
    now = now or timezone.now()
    due = list(
        FanoutBatch.objects.filter(done_at__isnull=True, leased_until__lt=now).values_list("pk", "attempts")[:1000]
    )
    again = [pk for pk, attempts in due if attempts + 1 < MAX_ATTEMPTS]
    dropped = [pk for pk, attempts in due if attempts + 1 >= MAX_ATTEMPTS]
    if dropped:
        log.error("alerts: gave up on fan-out batches %s after %d attempts", dropped, MAX_ATTEMPTS)
        FanoutBatch.objects.filter(pk__in=dropped, done_at__isnull=True).update(
            done_at=now, error=f"given up after {MAX_ATTEMPTS} attempts"
        )
    FanoutBatch.objects.filter(pk__in=again, done_at__isnull=True).update(
        leased_until=now + lease(), attempts=F("attempts") + 1
    )
    return again


def prune(before: datetime) -> None:
    """Done batches older than `before`; activity older than ACTIVITY_DAYS (a
    notification counts at most that far back)."""
    FanoutBatch.objects.filter(done_at__lt=before).delete()
    Activity.objects.filter(at__lt=timezone.now() - timedelta(days=ACTIVITY_DAYS)).delete()


# --- one batch -------------------------------------------------------------------------


@dataclass
class Matched:
    """What one batch's articles touch: the articles under each followed key."""

    facts: dict[int, Facts] = field(default_factory=dict)
    keys: dict[str, dict[str, list[int]]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(list)))


def gather(first_id: int, last_id: int) -> Matched:
    found = Matched()
    copies = NearDuplicate.objects.filter(article_id__gte=first_id, article_id__lte=last_id)
    rows = (
        Article.objects.filter(pk__gte=first_id, pk__lte=last_id)
        .exclude(pk__in=copies.values("article_id"))
        .values_list(
            "pk",
            "source__slug",
            "title",
            "description",
            "language",
            "published_at",
            "enrichment__section",
            "story_member__story_id",
        )
    )
    articles = list(rows)
    if not articles:
        return found
    ids = [row[0] for row in articles]
    tags: dict[int, set[str]] = defaultdict(set)
    for article_id, slug in ArticleHashtag.objects.filter(
        article_id__gte=first_id, article_id__lte=last_id
    ).values_list("article_id", "hashtag__slug"):
        tags[article_id].add(slug)
    keys = found.keys
    stories: dict[int, list[int]] = defaultdict(list)
    for pk, source, title, description, _language, _published, section, story_id in articles:
        found.facts[pk] = Facts.of(pk, source, section, tags.get(pk, ()), f"{title}\n{description}")
        if story_id:
            stories[story_id].append(pk)
        for slug in tags.get(pk, ()):
            keys[HASHTAG][slug].append(pk)
    for story_id, members in _with_absorbed(stories).items():
        keys[STORY][str(story_id)] = members
    searches = list(
        Interest.objects.filter(kind=Kind.SEARCH, muted=False).values_list("key", flat=True).distinct().order_by()
    )
    if searches:
        bodies = dict(Article.objects.filter(pk__in=ids).values_list("pk", "body_text"))
        zone = timezone.get_current_timezone()
        docs = [
            percolate.Document.of(
                pk,
                (title, description, bodies.get(pk, "")),
                source=source,
                section=section or "",
                hashtags=tags.get(pk, ()),
                language=language,
                published=published,
                zone=zone,
            )
            for pk, source, title, description, language, published, section, _story in articles
        ]
        for key, matched in percolate.match(searches, docs).items():
            keys[SEARCH][key] = matched
    return found


def _with_absorbed(stories: dict[int, list[int]]) -> dict[int, list[int]]:
    """Stories merged into these ones (at any depth) take their new articles too."""
    result = dict(stories)
    frontier = {pk: pk for pk in stories}  # story -> the batch's story it leads to
    for _ in range(10):
        absorbed = list(Story.objects.filter(merged_into_id__in=list(frontier)).values_list("pk", "merged_into_id"))
        frontier = {pk: frontier[into] for pk, into in absorbed if pk not in result}
        if not frontier:
            break
        for pk, root in frontier.items():
            result[pk] = stories[root]
    return result


Row = tuple[str, str, int]  # kind, key, article


def rows_for(matched: Matched) -> list[Row]:
    """One row per article under each key of the batch that someone follows (the
    Interest index (kind, key, muted) says which: one grouped read per few hundred keys)."""
    rows: list[Row] = []
    for kind, by_key in matched.keys.items():
        ordered = sorted(k for k, ids in by_key.items() if ids)
        for start in range(0, len(ordered), CHUNK):
            followed = (
                Interest.objects.filter(kind=kind, key__in=ordered[start : start + CHUNK], muted=False)
                .values_list("key", flat=True)
                .distinct()
                .order_by()
            )
            rows += [(kind, key, article) for key in followed for article in sorted(set(by_key[key]))]
    return rows


def run(batch_id: int) -> int:
    """Match one batch and write its activity; how many rows were written (0 when the
    batch was already done). Reads first, outside the write transaction (on SQLite the
    database's one write lock), then writes and marks the batch done in one."""
    batch = FanoutBatch.objects.filter(pk=batch_id, done_at__isnull=True).first()
    if batch is None:
        return 0
    rows = rows_for(gather(batch.first_id, batch.last_id))
    now = timezone.now()
    with transaction.atomic():
        if not FanoutBatch.objects.filter(pk=batch_id, done_at__isnull=True).update(done_at=now, written=len(rows)):
            return 0
        Activity.objects.bulk_create(
            [Activity(kind=kind, key=key, article_id=article, at=now) for kind, key, article in rows], batch_size=2000
        )
    return len(rows)
