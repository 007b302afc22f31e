"""Placing enriched articles into stories, online, in arrival order.

For each batch a worker takes the story lock (one placer at a time across every worker
and machine), rebuilds the clusterer's state from the stories active in the last few
days, as the database has them, and adds the new articles one by one in publication
order. The database is the only state, so any worker on any machine can take the next
batch, and a moderator's correction is seen by the very next one.

The story lock is not the database's write lock. On PostgreSQL it is a row lock (its
transaction spans the batch and blocks no other writer); on SQLite, where a transaction
that writes holds the one write lock of the whole database, it is a file lock beside the
database file, and the batch writes in short transactions: the clusterer is rebuilt, each
article's story is decided and the story records are computed by reads alone, and each
article's rows are written in a transaction of their own, so that a comment or an
enrichment waits for one article, not for the batch. A worker that dies mid-batch leaves
whole articles placed; the task's next run places the rest and refreshes the story
records the dead run left behind (`_stale_stories`).

A near-duplicate (wire copy) joins the story of the text it copies without asking the
clusterer; a locked member (a moderator's decision) is never moved.

Any stored date is tolerated (windows.py): times are effective times (never after the
article was stored, so a 9999 date cannot age every other story out), windows stop at
the calendar's ends, and a batch restores only the stories around its own articles'
times (at most RESTORE_HORIZON before its latest), so an article dated 0001-01-01 costs
what any other does.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import numpy as np
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from newsdesk.ai import embeddings
from newsdesk.articles.models import Article, ArticleHashtag, Hashtag, from_blob, to_blob
from newsdesk.stories import clustering
from newsdesk.stories.folding import fold_duplicate
from newsdesk.stories.models import Story, StoryEvent, StoryLock, StoryMember
from newsdesk.stories.opinion import is_opinion
from newsdesk.stories.refresh import compute_refresh, member_ids, write_refresh
from newsdesk.stories.signals import send_stories_changed
from newsdesk.stories.windows import earlier, effective_time, later

log = logging.getLogger(__name__)
ACTIVE = timedelta(days=3)  # stories idle longer than this take no new articles
RESTORE_HORIZON = timedelta(days=365)
REFRESH_GROUP = 4  # story records written per transaction (a membership check and an UPDATE each)
# Text beyond the headline (body, else the feed's description) that an article needs
# before its title-and-lead embedding speaks for the event (the clusterer's body gate);
# an item with a headline alone is judged by its headline.
MIN_LEAD_CHARS = 150


class Entities(NamedTuple):
    all: frozenset[str] = frozenset()  # hashtag slugs of people, places and organisations
    participants: frozenset[str] = frozenset()  # those of people and organisations


_PARTICIPANTS = {Hashtag.Kind.PERSON, Hashtag.Kind.ORGANIZATION}  # who takes part, unlike where
_NONE = Entities()


def place_articles(article_ids: Iterable[int]) -> dict[int, int]:
    """Put each enriched, unplaced article into a story; returns article id -> story id."""
    requested = list(article_ids)
    unplaced = Article.objects.filter(pk__in=requested, story_member__isnull=True, enrichment__isnull=False)
    titles = dict(unplaced.values_list("pk", "title"))
    placed: dict[int, int] = {}
    if not titles:
        _refresh(_stale_stories(requested))
        return placed
    # Embedded before taking the lock, which holds up every other placer.
    vectors = dict(zip(titles, embeddings.embed(list(titles.values()))))
    with story_lock():
        new = list(
            unplaced.filter(pk__in=list(titles)).select_related("source", "enrichment").order_by("published_at", "pk")
        )
        touched = _stale_stories(requested)
        entities = _entities([a.pk for a in new])
        for group in _time_groups(new):
            # The stories around the group's own times, not around now: an archive of
            # year-old pages imported today groups as it did when it was news, also in a
            # batch that mixes them with today's articles.
            first, last = _time(group[0]), _time(group[-1])
            since = max(earlier(first, ACTIVE), earlier(last, RESTORE_HORIZON))
            clusterer = _restored(since, later(last, ACTIVE), exclude={a.pk for a in new})
            for article in group:
                placed[article.pk] = _place(
                    article, vectors[article.pk], clusterer, entities.get(article.pk, _NONE), touched
                )
            # Applied after the whole group, as the clusterer reports them (a copy placed
            # later in the group still finds its original where the database has it).
            with transaction.atomic():
                for source_key, into_key in clusterer.take_merges():
                    _merge_stories(int(into_key), int(source_key), touched)
        _refresh(touched)
    return placed


def _time_groups(articles: list[Article]) -> list[list[Article]]:
    """The batch in runs of publication time with no gap over two active windows: each
    run meets the stories of its own days (the clusterer follows one clock, so a batch
    that spans 2019 and today is placed as two)."""
    groups: list[list[Article]] = []
    for article in sorted(articles, key=lambda a: (_time(a), a.pk)):
        if groups and _time(article) - _time(groups[-1][-1]) <= 2 * ACTIVE:
            groups[-1].append(article)
        else:
            groups.append([article])
    return groups


@contextmanager
def story_lock() -> Iterator[None]:
    """Hold the story lock: one placer at a time across every worker.

    PostgreSQL: a row lock, in a transaction around the block (as before; other writers
    never wait for it). SQLite: a file lock beside the database file, with no transaction
    open, because an SQLite transaction that writes holds up every writer of the site;
    the block writes in short transactions of its own. The operating system releases the
    file lock when its process dies, as PostgreSQL ends a dead client's transaction.
    """
    if connection.vendor != "sqlite":
        with transaction.atomic():
            StoryLock.acquire()
            yield
        return
    with open(_lock_path(), "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _lock_path() -> Path:
    """Beside the database file, so that every process using that database meets on it;
    an in-memory database (the tests) belongs to one process, and so does its lock."""
    name = str(connection.settings_dict["NAME"])
    if connection.creation.is_in_memory_db(name):
        digest = hashlib.sha1(name.encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"newsdesk-stories-{os.getpid()}-{digest}.lock"
    return Path(name).with_name(Path(name).name + ".story-lock")


def _stale_stories(article_ids: list[int]) -> set[int]:
    """Stories of these articles whose record does not count their members (a run that
    died after placing some of its articles and before refreshing left them so), or
    that predates a member's newest text or the summary made from it (the publisher
    updated it: the story's summary must not cite a sentence that is gone)."""
    stories = StoryMember.objects.filter(article_id__in=article_ids).values("story_id")
    newer = F("story__updated_at")
    revised = StoryMember.objects.filter(
        Q(article__updated_at__gt=newer)
        | Q(article__enrichment__enriched_at__gt=newer, article__updated_at__gt=F("article__created_at")),
        article_id__in=article_ids,
    ).values_list("story_id", flat=True)
    return set(revised) | set(
        Story.objects.filter(pk__in=stories)
        .annotate(members_now=Count("members"))
        .exclude(article_count=F("members_now"))
        .values_list("pk", flat=True)
    )


def _refresh(story_ids: set[int]) -> None:
    """Recompute the story records by reads, then write them a few per transaction.
    A record whose membership changed meanwhile (a moderator's step) is recomputed under
    the write lock, so no outdated record is written over a newer one."""
    if not story_ids:
        return
    computed = [
        (story, member_ids(story.pk), compute_refresh(story)) for story in Story.objects.filter(pk__in=story_ids)
    ]
    for start in range(0, len(computed), REFRESH_GROUP):
        with transaction.atomic():
            for story, members, fields in computed[start : start + REFRESH_GROUP]:
                if member_ids(story.pk) != members:
                    fields = compute_refresh(story)
                write_refresh(story, fields)
    send_stories_changed(StoryMember.objects.filter(story_id__in=story_ids).values_list("article_id", flat=True))


def _place(
    article: Article, vector: np.ndarray, clusterer: clustering.OnlineClusterer, entities: Entities, touched: set[int]
) -> int:
    """Decide the article's story (a copy's original's, else the clusterer's), then write
    its membership, and its story when new, in one short transaction. Folding writes the
    fingerprint in a transaction of its own; it is idempotent, so a retry after a crash
    between the two finds the same original."""
    copy = fold_duplicate(article)
    item = _item(article, vector, entities)
    story_id = None
    key = ""
    if copy is not None:
        story_id = StoryMember.objects.filter(article_id=copy.original_id).values_list("story_id", flat=True).first()
    if story_id is not None:
        clusterer.restore([(item, str(story_id))])
        similarity = 1.0
    else:
        key, similarity = clusterer.add(item)
        story_id = int(key) if key.isdigit() else None
        if story_id is not None and not Story.objects.filter(pk=story_id).exists():
            story_id = None
    with transaction.atomic():
        if story_id is None:
            seen = _time(article)
            story = Story.objects.create(title=article.title, representative=article, first_seen=seen, last_seen=seen)
            clusterer.rename(key, str(story.pk))
            story_id = story.pk
        StoryMember.objects.create(
            article=article, story_id=story_id, similarity=round(float(similarity), 4), title_vector=to_blob(vector)
        )
    touched.add(story_id)
    return story_id


def _merge_stories(into_id: int, other_id: int, touched: set[int]) -> None:
    """The clusterer found two stories to be one event: move the younger one's articles
    (except those a moderator locked) into the older one, recorded so it can be undone."""
    if into_id == other_id:
        return
    moved = list(StoryMember.objects.filter(story_id=other_id, locked=False).values_list("article_id", flat=True))
    if not moved:
        return
    StoryMember.objects.filter(article_id__in=moved).update(story_id=into_id)
    if not StoryMember.objects.filter(story_id=other_id).exists():
        Story.objects.filter(pk=other_id).update(merged_into_id=into_id, updated_at=timezone.now())
    StoryEvent.objects.create(kind=StoryEvent.Kind.MERGE, story_id=into_id, other_id=other_id, articles=moved)
    touched.update({into_id, other_id})


def _restored(since: datetime, until: datetime, exclude: set[int]) -> clustering.OnlineClusterer:
    """A clusterer holding the stories active between `since` and `until`, with their articles."""
    clusterer = clustering.OnlineClusterer()
    members = list(
        StoryMember.objects.filter(
            story__merged_into__isnull=True,
            story__last_seen__gte=since,
            story__first_seen__lte=until,
            article__published_at__gte=earlier(since, ACTIVE),
        )
        .exclude(article_id__in=exclude)
        .select_related("article__source", "article__enrichment")
        .order_by("article__published_at", "article_id")
    )
    entities = _entities([m.article_id for m in members])
    clusterer.restore(
        [
            (
                _item(m.article, from_blob(bytes(m.title_vector)), entities.get(m.article_id, _NONE)),
                str(m.story_id),
            )
            for m in members
            if m.title_vector
        ]
    )
    return clusterer


def _item(article: Article, vector: np.ndarray, entities: Entities) -> clustering.Item:
    return clustering.Item(
        id=article.pk,
        vector=vector,
        title=article.title,
        time=_time(article).timestamp(),
        publisher=article.source.slug,
        entities=entities.all,
        body=_lead_vector(article),
        opinion=is_opinion(article.url, article.publisher_sections or (), article.title),
        participants=entities.participants,
    )


def _lead_vector(article: Article) -> np.ndarray | None:
    """The enrichment's title-and-lead embedding, for an article with a text of its own."""
    if len(article.body_text or article.description) < MIN_LEAD_CHARS:
        return None
    enrichment = getattr(article, "enrichment", None)
    if enrichment is None or not enrichment.embedding:
        return None
    return from_blob(bytes(enrichment.embedding))


def _time(article: Article) -> datetime:
    return effective_time(article.published_at, article.created_at)


def _entities(article_ids: list[int]) -> dict[int, Entities]:
    found: dict[int, set[str]] = {}
    participants: dict[int, set[str]] = {}
    for article_id, slug, kind in (
        ArticleHashtag.objects.filter(article_id__in=article_ids)
        .exclude(hashtag__kind=Hashtag.Kind.TOPIC)
        .values_list("article_id", "hashtag__slug", "hashtag__kind")
    ):
        found.setdefault(article_id, set()).add(slug)
        if kind in _PARTICIPANTS:
            participants.setdefault(article_id, set()).add(slug)
    return {k: Entities(frozenset(v), frozenset(participants.get(k, ()))) for k, v in found.items()}
