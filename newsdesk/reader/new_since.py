"""What is new for a signed-in reader: "new since your last visit" markers in listings,
and the unread and new counts of everything they follow.

Markers. A visit is a run of listing views with no gap longer than VISIT_GAP; what was
published after the previous visit ended is "new" for the whole visit (so a reload does
not clear the markers). On the page of something the reader follows (a hashtag, section,
story or saved search) the marker starts at the earlier of that and the moment they last
opened that page (`Interest.seen_at`), so the page marks what the Following page counted
as new. The page's template asks for its boundary (`listing_since`, through the
`reader_since` tag); ReadingMiddleware then calls `after_response`, which has the visit
(at most once a minute per reader) and the opened listing's `seen_at` written once the
response has gone out.
Nothing here runs for anonymous readers, whose pages are cached and shared.

Counts. Each followed thing's count is one indexed range read from its own "latest"
index (source, hashtag, section, story membership), stopped at COUNT_CAP + 1 rows, so a
busy hashtag costs as much as a quiet one; the reader's own read marks are left out. All
of a reader's counts, with the follows themselves, are one SQL statement (`_count_rows`). A followed
saved search is counted the same way from the alerts' activity rows (briefings/fanout.py:
one row per new article under each followed key, written when the article is matched),
not by running the search: a full-text search for a common word among a million
articles took up to seconds, and a reader app polls these counts. So a saved search
counts what arrived after the reader last opened it, as its notifications do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from django.db import connections
from django.http import HttpRequest
from django.utils import timezone

from newsdesk import lazy_writes, plain_rows
from newsdesk.articles.models import Article, ArticleHashtag, Enrichment, Hashtag
from newsdesk.reader import interests
from newsdesk.reader.briefings.models import Activity
from newsdesk.reader.models import Follow, Interest, ReadMark, Visit
from newsdesk.sources.models import Source
from newsdesk.stories.models import StoryMember

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

VISIT_GAP = timedelta(minutes=30)
WRITE_EVERY = timedelta(minutes=1)
COUNT_CAP = 99  # counts above it read "99+"
_MEMO = "_reader_visit"


# --- markers -----------------------------------------------------------------------------


@dataclass
class _VisitMemo:
    since: datetime | None  # the boundary of this visit
    write: dict[str, Any] | None  # what to store after the response, if anything
    seen: int | None = None  # the Interest whose listing this page is


def _reader(request: HttpRequest) -> Any:
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def visit_since(request: HttpRequest) -> datetime | None:
    """Where "new" starts for this visit (None: the reader's first visit, or anonymous)."""
    user = _reader(request)
    if user is None:
        return None
    memo: _VisitMemo | None = getattr(request, _MEMO, None)
    if memo is None:
        memo = _visit(user)
        setattr(request, _MEMO, memo)
    return memo.since


def _visit(user: AbstractBaseUser) -> _VisitMemo:
    now = timezone.now()
    # Read on every listing page a signed-in reader opens: a plain statement.
    stored = cast("Visit | None", plain_rows.first(Visit, ("user", "last_at", "since"), user=user.pk))
    if stored is None:
        return _VisitMemo(None, {"last_at": now, "since": None})
    last_at, since = stored.last_at, stored.since
    if now - last_at > VISIT_GAP:  # a new visit: new is what came after the last one ended
        return _VisitMemo(last_at, {"last_at": now, "since": last_at})
    return _VisitMemo(since, {"last_at": now, "since": since} if now - last_at > WRITE_EVERY else None)


def listing_since(request: HttpRequest, kind: str = "", key: str | int = "") -> datetime | None:
    """The "new" boundary for a listing page: the visit's, or for something the reader
    follows the earlier of that and when they last opened its page."""
    since = visit_since(request)
    user = _reader(request)
    if user is None or kind not in (Interest.Kind.HASHTAG, Interest.Kind.SECTION, Interest.Kind.STORY, "search"):
        return since
    if kind == "search" and not key:
        try:
            key = interests.search_key(request.GET)
        except interests.InterestError:
            return since
    found = interests.stored(user, kind, str(key))
    if found is None or found.muted:
        return since
    memo: _VisitMemo = getattr(request, _MEMO)
    memo.seen = found.pk
    return found.seen_at if since is None else min(since, found.seen_at)


def after_response(request: HttpRequest) -> None:
    """Store the visit and the opened listing's seen_at, when this page asked for them and
    there is something to store. The write runs after the response has gone out
    (lazy_writes), so no page waits for the write lock; and a page with nothing to store
    opens no transaction: every signed-in search used to take SQLite's write lock for
    nothing, and during an ingest it waited behind the workers' batches for it."""
    memo: _VisitMemo | None = getattr(request, _MEMO, None)
    user = _reader(request)
    if memo is None or user is None or (memo.write is None and memo.seen is None):
        return
    visit, seen, now = memo.write, memo.seen, timezone.now()

    def store() -> None:  # a lost visit time costs a reader a few "new" markers, no more
        if visit is not None:
            Visit.objects.update_or_create(user=user, defaults=visit)
        if seen is not None:
            Interest.objects.filter(pk=seen, user=user).update(seen_at=now)

    lazy_writes.after_response(request, store)


# --- counts --------------------------------------------------------------------------------


@dataclass
class Count:
    """How many unread (a source) or new (anything else) articles one followed thing has;
    `more`: there are more than `count` (shown as "99+")."""

    kind: str
    key: str
    label: str
    url: str
    count: int
    more: bool
    since: datetime

    @property
    def shown(self) -> str:
        return f"{self.count}+" if self.more else str(self.count)


def _adapt(connection: Any, value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def counts(user: AbstractBaseUser) -> list[Count]:
    """Every followed thing with its count: sources by name, then the rest in the order
    they were followed."""
    connection = connections[Article.objects.db]
    rows = _count_rows(connection, int(user.pk))
    since_of = plain_rows.converter(connection, Follow._meta.get_field("read_before"))
    created_of = plain_rows.converter(connection, Interest._meta.get_field("created_at"))
    sources, followed = [], []
    for group, kind, key, label, since, created, pk, number, kept in rows:
        if group == 0:  # a source: its unread, and what the reader kept unread under its watermark
            total = min(number, COUNT_CAP + 1) + kept
            item = Count(kind, key, label, interests.url_of(kind, key), 0, False, cast(datetime, since_of(since)))
            item.count, item.more = min(total, COUNT_CAP), total > COUNT_CAP
            sources.append((label.lower(), item))
        else:
            item = Count(kind, key, label, interests.url_of(kind, key), 0, False, cast(datetime, since_of(since)))
            item.count, item.more = min(number, COUNT_CAP), number > COUNT_CAP
            followed.append((created_of(created), pk, item))
    sources.sort(key=lambda row: row[0])
    followed.sort(key=lambda row: (row[0], row[1]))
    return [item for _, item in sources] + [item for _, _, item in followed]


def _count_rows(connection: Any, user_id: int) -> list[tuple]:
    """One statement for all of a reader's counts: each followed source and each followed
    thing (Interest) with its bounded count, a subquery per kind. Planned once for every
    row, where a UNION ALL branch per followed thing had PostgreSQL planning longer than
    counting; and the follows, the interests and the kept-unread marks come with it
    rather than in three more round trips."""
    quote = connection.ops.quote_name
    article, tag_link = quote(Article._meta.db_table), quote(ArticleHashtag._meta.db_table)
    enrichment, member = quote(Enrichment._meta.db_table), quote(StoryMember._meta.db_table)
    marks, activity = quote(ReadMark._meta.db_table), quote(Activity._meta.db_table)
    hashtag, source = quote(Hashtag._meta.db_table), quote(Source._meta.db_table)
    follow, interest = quote(Follow._meta.db_table), quote(Interest._meta.db_table)
    kind, key, at = quote("kind"), quote("key"), quote("at")
    cap = COUNT_CAP + 1

    def bounded(rows: str, article_id: str) -> str:
        unread = f"NOT EXISTS (SELECT 1 FROM {marks} m WHERE m.user_id = {user_id} AND m.article_id = {article_id} AND m.is_read)"
        return f"(SELECT COUNT(*) FROM ({rows} AND {unread} LIMIT {cap}) AS p)"

    source_unread = bounded(
        f"SELECT 1 FROM {article} a WHERE a.source_id = f.source_id AND a.published_at > f.read_before", "a.id"
    )
    # The kept-unread marks are few: SQLite is told to start from them (CROSS JOIN keeps
    # the order), not from every older article of the source.
    source_kept = (
        f"(SELECT COUNT(*) FROM (SELECT 1 FROM {marks} k CROSS JOIN {article} a"
        f" WHERE k.user_id = {user_id} AND NOT k.is_read AND a.id = k.article_id AND a.source_id = f.source_id"
        f" AND a.published_at <= f.read_before LIMIT {cap}) AS q)"
    )
    hashtag_new = bounded(
        f"SELECT 1 FROM {tag_link} h WHERE h.hashtag_id = (SELECT t.id FROM {hashtag} t WHERE t.slug = i.{key})"
        " AND h.published_at > i.seen_at",
        "h.article_id",
    )
    section_new = bounded(
        f"SELECT 1 FROM {enrichment} e WHERE e.section = i.{key} AND e.published_at > i.seen_at", "e.article_id"
    )
    story_new = bounded(
        f"SELECT 1 FROM {member} s WHERE s.story_id = CAST(i.{key} AS BIGINT) AND s.joined_at > i.seen_at",
        "s.article_id",
    )
    search_new = bounded(
        f"SELECT 1 FROM {activity} v WHERE v.{kind} = 'search' AND v.{key} = i.{key} AND v.{at} > i.seen_at",
        "v.article_id",
    )
    # A story's key is its id; keys are checked when followed, and here again, so that a
    # stray key counts nothing rather than failing the cast.
    trim = "btrim" if connection.vendor == "postgresql" else "trim"
    is_story = f"i.{kind} = 'story' AND i.{key} <> '' AND LENGTH(i.{key}) <= 18 AND {trim}(i.{key}, '0123456789') = ''"
    sql = (
        f"SELECT 0, 'source', s.slug, s.name, f.read_before, NULL, f.id, {source_unread}, {source_kept}"
        f" FROM {follow} f INNER JOIN {source} s ON s.id = f.source_id WHERE f.user_id = {user_id}"
        " UNION ALL"
        f" SELECT 1, i.{kind}, i.{key}, i.label, i.seen_at, i.created_at, i.id, CASE"
        f" WHEN i.{kind} = 'hashtag' THEN {hashtag_new} WHEN i.{kind} = 'section' THEN {section_new}"
        f" WHEN {is_story} THEN {story_new} WHEN i.{kind} = 'search' THEN {search_new} ELSE 0 END, 0"
        f" FROM {interest} i WHERE i.user_id = {user_id} AND NOT i.muted"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def new_count(counts_list: list[Count]) -> int:
    return sum(c.count for c in counts_list)
