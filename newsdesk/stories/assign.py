"""Placing enriched articles into stories, online, in arrival order.

For each batch a worker takes the story lock (one writer at a time across every worker
and machine: a row lock on PostgreSQL, the database write lock on SQLite), rebuilds the
clusterer's state from the stories active in the last few days, as the database has them,
and adds the new articles one by one in publication order. The database is the only
state, so any worker on any machine can take the next batch, and a moderator's
correction is seen by the very next one.

A near-duplicate (wire copy) joins the story of the text it copies without asking the
clusterer; a locked member (a moderator's decision) is never moved.

Any stored date is tolerated (windows.py): times are effective times (never after the
article was stored, so a 9999 date cannot age every other story out), windows stop at
the calendar's ends, and no batch restores stories older than RESTORE_HORIZON, so an
article dated 0001-01-01 costs what a year-old one does.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from newsdesk.ai import embeddings
from newsdesk.articles.enrich import from_blob, to_blob
from newsdesk.articles.models import Article, ArticleHashtag, Hashtag
from newsdesk.stories import clustering
from newsdesk.stories.folding import fold_duplicate
from newsdesk.stories.models import Story, StoryEvent, StoryLock, StoryMember
from newsdesk.stories.refresh import refresh_stories
from newsdesk.stories.signals import send_stories_changed
from newsdesk.stories.windows import earlier, effective_time

log = logging.getLogger(__name__)
ACTIVE = timedelta(days=3)  # stories idle longer than this take no new articles
RESTORE_HORIZON = timedelta(days=365)


def place_articles(article_ids: Iterable[int]) -> dict[int, int]:
    """Put each enriched, unplaced article into a story; returns article id -> story id."""
    unplaced = Article.objects.filter(pk__in=list(article_ids), story_member__isnull=True, enrichment__isnull=False)
    titles = dict(unplaced.values_list("pk", "title"))
    placed: dict[int, int] = {}
    if not titles:
        return placed
    # Embedded before taking the lock, which on SQLite holds up every other writer.
    vectors = dict(zip(titles, embeddings.embed(list(titles.values()))))
    with transaction.atomic():
        StoryLock.acquire()
        new = list(unplaced.filter(pk__in=list(titles)).select_related("source").order_by("published_at", "pk"))
        if not new:
            return placed
        since = max(earlier(min(_time(a) for a in new), ACTIVE), earlier(timezone.now(), RESTORE_HORIZON))
        clusterer = _restored(since, exclude={a.pk for a in new})
        touched: set[int] = set()
        entities = _entities([a.pk for a in new])
        for article in new:
            story_id = _place(article, vectors[article.pk], clusterer, entities.get(article.pk, frozenset()), touched)
            placed[article.pk] = story_id
        for source_key, into_key in clusterer.take_merges():
            _merge_stories(int(into_key), int(source_key), touched)
        refresh_stories(touched)
    send_stories_changed(StoryMember.objects.filter(story_id__in=touched).values_list("article_id", flat=True))
    return placed


def _place(article: Article, vector, clusterer: clustering.OnlineClusterer, entities: frozenset,
           touched: set[int]) -> int:
    copy = fold_duplicate(article)
    item = _item(article, vector, entities)
    story_id = None
    if copy is not None:
        story_id = StoryMember.objects.filter(article_id=copy.original_id).values_list("story_id", flat=True).first()
    if story_id is not None:
        clusterer.restore([(item, str(story_id))])
        similarity = 1.0
    else:
        key, similarity = clusterer.add(item)
        story_id = int(key) if key.isdigit() else None
        if story_id is None or not Story.objects.filter(pk=story_id).exists():
            seen = _time(article)
            story = Story.objects.create(title=article.title, representative=article, first_seen=seen, last_seen=seen)
            clusterer.rename(key, str(story.pk))
            story_id = story.pk
    StoryMember.objects.create(article=article, story_id=story_id, similarity=round(float(similarity), 4),
                               title_vector=to_blob(vector))
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


def _restored(since, exclude: set[int]) -> clustering.OnlineClusterer:
    """A clusterer holding the stories active since `since`, with their articles."""
    clusterer = clustering.OnlineClusterer()
    members = list(
        StoryMember.objects.filter(story__merged_into__isnull=True, story__last_seen__gte=since,
                                   article__published_at__gte=earlier(since, ACTIVE))
        .exclude(article_id__in=exclude)
        .select_related("article__source")
        .order_by("article__published_at", "article_id")
    )
    entities = _entities([m.article_id for m in members])
    clusterer.restore(
        [(_item(m.article, from_blob(bytes(m.title_vector)), entities.get(m.article_id, frozenset())),
          str(m.story_id)) for m in members if m.title_vector]
    )
    return clusterer


def _item(article: Article, vector, entities: frozenset) -> clustering.Item:
    return clustering.Item(
        id=article.pk,
        vector=vector,
        title=article.title,
        time=_time(article).timestamp(),
        publisher=article.source.slug,
        entities=entities,
    )


def _time(article: Article):
    return effective_time(article.published_at, article.created_at)


def _entities(article_ids: list[int]) -> dict[int, frozenset]:
    found: dict[int, set[str]] = {}
    for article_id, slug in ArticleHashtag.objects.filter(article_id__in=article_ids).exclude(
        hashtag__kind=Hashtag.Kind.TOPIC
    ).values_list("article_id", "hashtag__slug"):
        found.setdefault(article_id, set()).add(slug)
    return {k: frozenset(v) for k, v in found.items()}
