"""Related articles for the article page, from the database and the vector index.

Candidates come from three places: the article's own story (coverage of the same event
by other publishers), its nearest neighbours in the vector index (same topic), and
recent articles sharing its entity hashtags. Copies of one text are folded into one
entry ("also published by ..."), then `newsdesk.stories.related.rank` orders them.
Cost: one index query and a handful of indexed queries, a few milliseconds.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sized
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
from django.db import connections
from django.db.backends.utils import CursorWrapper

from newsdesk import plain_rows
from newsdesk.articles.models import Article, ArticleHashtag, Enrichment, Hashtag, from_blob
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
    with connections[Article.objects.db].cursor() as cursor:
        story_id, original_id, blob = _own_rows(cursor, article.pk)
        root = original_id or article.pk
        own_copies = {
            root,
            article.pk,
            *_column(cursor, f"SELECT article_id FROM {_T.duplicate} WHERE original_id = %s", [root]),
        }
        candidates: set[int] = set()
        story_ids: set[int] = set()
        if story_id is not None:
            story_ids = set(
                _column(cursor, f"SELECT article_id FROM {_T.member} WHERE story_id = %s LIMIT 200", [story_id])
            )
            candidates |= story_ids
        vector = from_blob(bytes(blob)) if blob else None
        similar: dict[int, float] = {}
        if vector is not None and (index := vector_index.reader()) is not None:
            since = earlier(effective_time(article.published_at, article.created_at), WINDOW).timestamp()
            similar = dict(index.search(vector, NEIGHBOURS, since=since, exclude=own_copies))
            candidates |= set(similar)
        candidates |= _shared_entity_articles(cursor, article)
        candidates -= own_copies
        if not candidates:
            return []
        # Ranking needs only a few columns of each candidate; the full rows are read for
        # the `limit` chosen ones and their copies' publishers alone.
        light, original_of, scored = _candidate_rows(cursor, candidates, similar, vector)
        tags_of = _tags_of(cursor, [*light, article.pk])

    items = []
    for pk, (source_id, published_at) in light.items():
        similarity = similar.get(pk, scored.get(pk))
        items.append(
            ranking.Candidate(
                id=pk,
                similarity=similarity or 0.0,
                same_story=pk in story_ids,
                publisher=str(source_id),
                time=published_at,
                entities=frozenset(tags_of.get(pk, ())),
                duplicate_of=original_of.get(pk),
            )
        )
    when = effective_time(article.published_at, article.created_at).timestamp()
    query = ranking.Query(
        id=article.pk, publisher=str(article.source_id), time=when, entities=frozenset(tags_of.get(article.pk, ()))
    )
    chosen = ranking.rank(query, items, limit=limit)
    if not chosen:
        return []
    return _shown(chosen, original_of)


# Each query below used to go through the ORM; building and compiling a dozen querysets
# cost more than running them (about 5 ms of the article page's CPU), so they are plain
# SQL over the models' tables, the same on SQLite and PostgreSQL.
class _T:
    member = StoryMember._meta.db_table
    duplicate = NearDuplicate._meta.db_table
    enrichment = Enrichment._meta.db_table
    article = Article._meta.db_table
    tag_link = ArticleHashtag._meta.db_table
    hashtag = Hashtag._meta.db_table


def _column(cursor: CursorWrapper, sql: str, params: list) -> list:
    cursor.execute(sql, params)
    return [row[0] for row in cursor.fetchall()]


def _marks(values: Sized) -> str:
    return ", ".join(["%s"] * len(values))


def _own_rows(cursor: CursorWrapper, article_id: int) -> tuple[int | None, int | None, bytes | None]:
    """The article's story, the text it copies (if any) and its embedding, in one query."""
    cursor.execute(
        f"SELECT (SELECT story_id FROM {_T.member} WHERE article_id = %s ORDER BY id LIMIT 1),"
        f" (SELECT original_id FROM {_T.duplicate} WHERE article_id = %s ORDER BY id LIMIT 1),"
        f" (SELECT embedding FROM {_T.enrichment} WHERE article_id = %s)",
        [article_id, article_id, article_id],
    )
    return cursor.fetchone()


def _shared_entity_articles(cursor: CursorWrapper, article: Article) -> set[int]:
    """Recent articles sharing one of the article's first 4 entity (non-topic) hashtags."""
    entity_tags = _column(
        cursor,
        f"SELECT l.hashtag_id FROM {_T.tag_link} l INNER JOIN {_T.hashtag} h ON l.hashtag_id = h.id"
        f" WHERE l.article_id = %s AND NOT (h.kind = %s) ORDER BY l.position ASC LIMIT 4",
        [article.pk, Hashtag.Kind.TOPIC],
    )
    if not entity_tags:
        return set()
    since = connections[Article.objects.db].ops.adapt_datetimefield_value(
        earlier(effective_time(article.published_at, article.created_at), WINDOW)
    )
    return set(
        _column(
            cursor,
            f"SELECT article_id FROM {_T.tag_link} WHERE hashtag_id IN ({_marks(entity_tags)})"
            f" AND published_at >= %s ORDER BY published_at DESC LIMIT 60",
            [*entity_tags, since],
        )
    )


def _candidate_rows(
    cursor: CursorWrapper, candidates: set[int], similar: dict[int, float], vector: np.ndarray | None
) -> tuple[dict[int, tuple[int, float]], dict[int, int], dict[int, float]]:
    """Per candidate: (publisher, publication time as a timestamp), the original it
    copies, and its similarity to `vector` when the index did not already give it.

    The columns come from an index (_times_index): read from the rows, SQLite walked
    each candidate's body pages to reach them. The database writes each time as seconds
    (a far-future date counts as when the article was stored, stories/windows.py) and
    the embeddings are scored as one matrix, rather than a datetime for each of some
    190 columns and an array for each embedding (together about a tenth of the cost)."""
    ids = list(candidates)
    cursor.execute(
        f"SELECT a.id, a.source_id, {_seconds(cursor, 'a.published_at', 'a.created_at')}, d.original_id,"
        f" e.embedding FROM {_T.article} a{_times_index(cursor)}"
        f" LEFT JOIN {_T.duplicate} d ON d.article_id = a.id"
        f" LEFT JOIN {_T.enrichment} e ON e.article_id = a.id WHERE a.id IN ({_marks(ids)})",
        ids,
    )
    light: dict[int, tuple[int, float]] = {}
    original_of: dict[int, int] = {}
    unscored: list[int] = []
    blobs: list[bytes] = []
    size = 0 if vector is None else vector.size * 2  # bytes of a float16 vector (from_blob)
    for pk, source_id, seconds, original_id, blob in cursor.fetchall():
        light[pk] = (source_id, float(seconds))
        if original_id is not None:
            original_of[pk] = original_id
        if size and blob and len(blob) == size and pk not in similar:
            unscored.append(pk)
            blobs.append(blob)  # bytes on SQLite, a memoryview on PostgreSQL: join takes both
    scored: dict[int, float] = {}
    if unscored and vector is not None:
        matrix = from_blob(b"".join(blobs)).reshape(len(unscored), vector.size)
        scored = dict(zip(unscored, (matrix @ vector).tolist(), strict=True))
    return light, original_of, scored


def _times_index(cursor: CursorWrapper) -> str:
    """On SQLite, the index that holds the columns read here (articles.models.Article:
    three times faster than the rows themselves); its planner would take the rows."""
    return " INDEXED BY article_times" if cursor.db.vendor == "sqlite" else ""


def _seconds(cursor: CursorWrapper, published: str, created: str) -> str:
    """SQL for the earlier of two datetime columns in seconds since the epoch."""
    if cursor.db.vendor == "sqlite":  # text in UTC, as Django stores it
        return f"(min(julianday({published}), julianday({created})) - 2440587.5) * 86400.0"
    return f"extract(epoch from least({published}, {created}))"


def _tags_of(cursor: CursorWrapper, ids: list[int]) -> dict[int, set[int]]:
    """The hashtags of each of the given articles: some 800 pairs for a page's candidates.

    SQLite hands them over as one JSON object in one row: Python's sqlite3 lets go of
    the GIL for every row it steps through, and with a web process's threads busy each
    of those 800 hand-overs cost a futex round trip (about 0.5 ms of system time a
    page); and json decodes the object faster than the pairs were parsed as text."""
    where = f"FROM {_T.tag_link} WHERE article_id IN ({_marks(ids)})"
    if cursor.db.vendor != "sqlite":
        cursor.execute(f"SELECT article_id, hashtag_id {where}", ids)
        tags_of: dict[int, set[int]] = defaultdict(set)
        for article_id, tag_id in cursor.fetchall():
            tags_of[article_id].add(tag_id)
        return tags_of
    # json(): the inner arrays stay arrays, not strings, in the outer object.
    cursor.execute(
        f"SELECT json_group_object(article_id, json(tags))"
        f" FROM (SELECT article_id, json_group_array(hashtag_id) AS tags {where} GROUP BY article_id)",
        ids,
    )
    packed = cursor.fetchone()[0]
    return {int(article_id): set(tags) for article_id, tags in json.loads(packed).items()} if packed else {}


def _shown(chosen: list, original_of: dict[int, int]) -> list[Related]:
    """The chosen candidates as the page shows them: the article with its publisher, an
    excerpt (its summary, else its description) and the other publishers of its copies."""
    chosen_ids = [candidate.id for candidate in chosen]
    copies_of: dict[int, list[int]] = defaultdict(list)
    for copy_id, original_id in original_of.items():
        if original_id in chosen_ids:
            copies_of[original_id].append(copy_id)
    rows = _shown_articles(chosen_ids)
    copy_ids = [copy_id for ids in copies_of.values() for copy_id in ids]
    copy_sources = (
        {a.pk: a.source for a in Article.objects.filter(pk__in=copy_ids).select_related("source").only("id", "source")}
        if copy_ids
        else {}
    )
    result = []
    for candidate in chosen:
        other = rows.get(candidate.id)
        if other is None:  # deleted since the ranking read it
            continue
        excerpt = other.excerpt_summary or other.description or ""
        also = [copy_sources[c] for c in copies_of.get(candidate.id, []) if c in copy_sources]
        also = [s for s in also if s.pk != other.source_id]
        result.append(Related(other, candidate.score, candidate.same_story, excerpt, also))
    return result


# The related box's articles, as `select_related("source").only(<what the box shows>)
# .annotate(excerpt_summary=F("enrichment__summary")).in_bulk(ids)` would give them,
# read with one plain query: compiling that queryset cost about 1 ms a page. Any other
# field is deferred (read on use), as `only` leaves it.
_SHOWN_ARTICLE_FIELDS = [
    f
    for f in Article._meta.concrete_fields
    if f.name in ("id", "source", "title", "description", "byline", "published_at")
]
_SOURCE_FIELDS = list(Source._meta.concrete_fields)


def _shown_articles(ids: list[int]) -> dict[int, Article]:
    """Article instances (the fields the box shows, others deferred; publisher attached,
    `excerpt_summary` set from the enrichment's summary) by id."""
    connection = connections[Article.objects.db]
    quote = connection.ops.quote_name
    sql = (
        f"SELECT {plain_rows.columns(connection, _SHOWN_ARTICLE_FIELDS, 'a')},"
        f" {plain_rows.columns(connection, _SOURCE_FIELDS, 's')}, e.summary FROM {_T.article} a"
        f" INNER JOIN {quote(Source._meta.db_table)} s ON s.id = a.source_id"
        f" LEFT OUTER JOIN {_T.enrichment} e ON e.article_id = a.id WHERE a.id IN ({_marks(ids)})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, ids)
        rows = cursor.fetchall()
    article_of = plain_rows.reader(connection, Article, _SHOWN_ARTICLE_FIELDS)
    source_of = plain_rows.reader(connection, Source, _SOURCE_FIELDS)
    split = len(_SHOWN_ARTICLE_FIELDS)
    found: dict[int, Article] = {}
    for row in rows:
        item = article_of(row[:split])
        plain_rows.attach(item, "source", source_of(row[split:-1]))
        item.excerpt_summary = row[-1]
        found[item.pk] = item
    return found
