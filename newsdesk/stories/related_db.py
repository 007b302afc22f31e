"""Related articles for the article page, from the database and the vector index.

Candidates come from three places: the article's own story (coverage of the same event
by other publishers), its nearest neighbours in the vector index (same topic), and
recent articles sharing its entity hashtags. Copies of one text are folded into one
entry ("also published by ..."), then `newsdesk.stories.related.rank` orders them.
Cost: one index query and a handful of indexed queries, a few milliseconds.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np

from newsdesk.articles.enrich import from_blob
from newsdesk.articles.models import Article, ArticleHashtag, Enrichment, Hashtag
from newsdesk.sources.models import Source
from newsdesk.stories import index as vector_index
from newsdesk.stories import related as ranking
from newsdesk.stories.models import NearDuplicate, StoryMember
from newsdesk.stories.windows import earlier, effective_time

NEIGHBOURS = 40
WINDOW = timedelta(days=30)


@dataclass
class Related:
    article: Article
    score: float
    same_story: bool
    excerpt: str = ""
    also: list[Source] = field(default_factory=list)


def related_for(article: Article, limit: int = 6) -> list[Related]:
    member = StoryMember.objects.filter(article=article).values_list("story_id", flat=True).first()
    own_copies = _copy_group(article.pk)
    candidates: set[int] = set()
    story_ids: set[int] = set()
    if member is not None:
        story_ids = set(StoryMember.objects.filter(story_id=member).values_list("article_id", flat=True)[:200])
        candidates |= story_ids
    vector = _vector(article)
    # Effective times (windows.py): an article dated 9999 or 0001 still finds its neighbours.
    when = effective_time(article.published_at, article.created_at)
    similar: dict[int, float] = {}
    if vector is not None and (index := vector_index.reader()) is not None:
        since = earlier(when, WINDOW).timestamp()
        similar = dict(index.search(vector, NEIGHBOURS, since=since, exclude=own_copies))
        candidates |= set(similar)
    entity_tags = list(
        ArticleHashtag.objects.filter(article=article)
        .exclude(hashtag__kind=Hashtag.Kind.TOPIC)
        .order_by("position")
        .values_list("hashtag_id", flat=True)[:4]
    )
    if entity_tags:
        candidates |= set(
            ArticleHashtag.objects.filter(hashtag_id__in=entity_tags,
                                          published_at__gte=earlier(when, WINDOW))
            .order_by("-published_at")
            .values_list("article_id", flat=True)[:60]
        )
    candidates -= own_copies
    if not candidates:
        return []

    # Ranking needs only a few columns of each candidate; the full rows are read for the
    # `limit` chosen ones and their copies' publishers alone.
    light = {
        pk: (source_id, effective_time(published_at, stored))
        for pk, source_id, published_at, stored in Article.objects.filter(pk__in=candidates).values_list(
            "pk", "source_id", "published_at", "created_at"
        )
    }
    tags_of: dict[int, set[int]] = defaultdict(set)
    for article_id, tag_id in ArticleHashtag.objects.filter(article_id__in=[*light, article.pk]).values_list(
        "article_id", "hashtag_id"
    ):
        tags_of[article_id].add(tag_id)
    original_of = dict(NearDuplicate.objects.filter(article_id__in=light).values_list("article_id", "original_id"))
    vectors = _vectors([pk for pk in light if pk not in similar]) if vector is not None else {}

    items = []
    for pk, (source_id, published_at) in light.items():
        similarity = similar.get(pk)
        if similarity is None and pk in vectors:
            similarity = float(vectors[pk] @ vector)
        items.append(ranking.Candidate(
            id=pk,
            similarity=similarity or 0.0,
            same_story=pk in story_ids,
            publisher=str(source_id),
            time=published_at.timestamp(),
            entities=frozenset(tags_of.get(pk, ())),
            duplicate_of=original_of.get(pk),
        ))
    query = ranking.Query(id=article.pk, publisher=str(article.source_id), time=when.timestamp(),
                          entities=frozenset(tags_of.get(article.pk, ())))
    chosen = ranking.rank(query, items, limit=limit)
    if not chosen:
        return []

    chosen_ids = [candidate.id for candidate in chosen]
    copies_of: dict[int, list[int]] = defaultdict(list)
    for copy_id, original_id in original_of.items():
        if original_id in chosen_ids:
            copies_of[original_id].append(copy_id)
    rows = Article.objects.select_related("source").defer("body_html", "body_text").in_bulk(chosen_ids)
    summaries = dict(
        Enrichment.objects.filter(article_id__in=chosen_ids).exclude(summary="").values_list("article_id", "summary")
    )
    copy_ids = [copy_id for ids in copies_of.values() for copy_id in ids]
    copy_sources = {
        a.pk: a.source
        for a in Article.objects.filter(pk__in=copy_ids).select_related("source").only("id", "source")
    } if copy_ids else {}
    result = []
    for candidate in chosen:
        other = rows.get(candidate.id)
        if other is None:  # deleted since the ranking read it
            continue
        excerpt = summaries.get(candidate.id) or other.description or ""
        also = [copy_sources[c] for c in copies_of.get(candidate.id, []) if c in copy_sources]
        also = [s for s in also if s.pk != other.source_id]
        result.append(Related(other, candidate.score, candidate.same_story, excerpt, also))
    return result


def _copy_group(article_id: int) -> set[int]:
    """The article, the text it copies and every other copy of that text."""
    original = NearDuplicate.objects.filter(article_id=article_id).values_list("original_id", flat=True).first()
    root = original or article_id
    return {root, article_id, *NearDuplicate.objects.filter(original_id=root).values_list("article_id", flat=True)}


def _vector(article: Article) -> np.ndarray | None:
    blob = Enrichment.objects.filter(article=article).values_list("embedding", flat=True).first()
    return from_blob(bytes(blob)) if blob else None


def _vectors(ids: list[int]) -> dict[int, np.ndarray]:
    if not ids:
        return {}
    return {
        pk: from_blob(bytes(blob))
        for pk, blob in Enrichment.objects.filter(article_id__in=ids).values_list("article_id", "embedding")
        if blob
    }
