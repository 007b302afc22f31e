"""What is new for a signed-in reader: "new since your last visit" markers in listings,
and the unread and new counts of everything they follow.

Markers. A visit is a run of listing views with no gap longer than VISIT_GAP; what was
published after the previous visit ended is "new" for the whole visit (so a reload does
not clear the markers). On the page of something the reader follows (a hashtag, section,
story or saved search) the marker starts at the earlier of that and the moment they last
opened that page (`Interest.seen_at`), so the page marks what the Following page counted
as new. The page's template asks for its boundary (`listing_since`, through the
`reader_since` tag); after the response, ReadingMiddleware calls `after_response`, which
writes the visit (at most once a minute per reader) and the opened listing's `seen_at`.
Nothing here runs for anonymous readers, whose pages are cached and shared.

Counts. Each followed thing's count is one indexed range read from its own "latest"
index (source, hashtag, section, story membership), stopped at COUNT_CAP + 1 rows, so a
busy hashtag costs as much as a quiet one; the reader's own read marks are left out. All
of a reader's counts are one SQL statement (UNION ALL of the bounded parts). A followed
saved search is counted the same way from the alerts' activity rows (briefings/fanout.py:
one row per new article under each followed key, written when the article is matched),
not by running the search: a full-text search for a common word among a million
articles took up to seconds, and a reader app polls these counts. So a saved search
counts what arrived after the reader last opened it, as its notifications do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import connections
from django.http import HttpRequest
from django.utils import timezone

from newsdesk.articles.models import Article, ArticleHashtag, Enrichment, Hashtag
from newsdesk.reader import interests
from newsdesk.reader.briefings.models import Activity
from newsdesk.reader.models import Follow, Interest, ReadMark, Visit
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
    row = Visit.objects.filter(user=user).values_list("last_at", "since").first()
    if row is None:
        return _VisitMemo(None, {"last_at": now, "since": None})
    last_at, since = row
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
    row = Interest.objects.filter(user=user, kind=kind, key=str(key), muted=False).values_list("pk", "seen_at").first()
    if row is None:
        return since
    memo: _VisitMemo = getattr(request, _MEMO)
    memo.seen = row[0]
    return row[1] if since is None else min(since, row[1])


def after_response(request: HttpRequest) -> None:
    """Store the visit and the opened listing's seen_at, when this page asked for them."""
    memo: _VisitMemo | None = getattr(request, _MEMO, None)
    user = _reader(request)
    if memo is None or user is None:
        return
    now = timezone.now()
    if memo.write is not None:
        Visit.objects.update_or_create(user=user, defaults=memo.write)
    if memo.seen is not None:
        Interest.objects.filter(pk=memo.seen, user=user).update(seen_at=now)


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
    quote = connection.ops.quote_name
    article, tag_link = quote(Article._meta.db_table), quote(ArticleHashtag._meta.db_table)
    enrichment, member = quote(Enrichment._meta.db_table), quote(StoryMember._meta.db_table)
    marks, activity = quote(ReadMark._meta.db_table), quote(Activity._meta.db_table)
    hashtag = quote(Hashtag._meta.db_table)

    def unread_of(column: str) -> str:
        return (
            f"NOT EXISTS (SELECT 1 FROM {marks} m WHERE m.user_id = %s AND m.article_id = {column} AND m.is_read = %s)"
        )

    follows = list(
        Follow.objects.filter(user=user).select_related("source").only("read_before", "source__slug", "source__name")
    )
    follows.sort(key=lambda f: f.source.name.lower())
    rows = list(
        Interest.objects.filter(user=user, muted=False)
        .order_by("created_at", "pk")
        .values_list("kind", "key", "label", "seen_at")
    )

    parts: list[tuple[str, list]] = []
    counted: list[Count] = []  # the items with a part, in the parts' order
    found: list[Count] = []
    for follow in follows:
        parts.append(
            (
                f"SELECT 1 FROM {article} a WHERE a.source_id = %s AND a.published_at > %s AND {unread_of('a.id')}",
                [follow.source_id, _adapt(connection, follow.read_before), user.pk, True],
            )
        )
        slug = follow.source.slug
        item = Count("source", slug, follow.source.name, interests.url_of("source", slug), 0, False, follow.read_before)
        found.append(item)
        counted.append(item)
    for kind, key, label, seen_at in rows:
        since = _adapt(connection, seen_at)
        part: tuple[str, list] | None = None
        if kind == Interest.Kind.HASHTAG:  # a hashtag since deleted counts nothing
            sql = (
                f"SELECT 1 FROM {tag_link} h WHERE h.hashtag_id = (SELECT t.id FROM {hashtag} t WHERE t.slug = %s)"
                f" AND h.published_at > %s AND {unread_of('h.article_id')}"
            )
            part = (sql, [key, since, user.pk, True])
        elif kind == Interest.Kind.SECTION:
            sql = f"SELECT 1 FROM {enrichment} e WHERE e.section = %s AND e.published_at > %s AND {unread_of('e.article_id')}"
            part = (sql, [key, since, user.pk, True])
        elif kind == Interest.Kind.STORY and key.isdigit():
            sql = f"SELECT 1 FROM {member} s WHERE s.story_id = %s AND s.joined_at > %s AND {unread_of('s.article_id')}"
            part = (sql, [int(key), since, user.pk, True])
        elif kind == Interest.Kind.SEARCH:
            sql = f"SELECT 1 FROM {activity} v WHERE v.kind = %s AND v.{quote('key')} = %s AND v.{quote('at')} > %s AND {unread_of('v.article_id')}"
            part = (sql, [kind, key, since, user.pk, True])
        item = Count(kind, key, label, interests.url_of(kind, key), 0, False, seen_at)
        found.append(item)  # without a part (an unknown section or story): nothing new
        if part is not None:
            parts.append(part)
            counted.append(item)
    for item, number in zip(counted, _bounded_counts(connection, parts), strict=True):
        item.count, item.more = min(number, COUNT_CAP), number > COUNT_CAP
    _add_kept_unread(user, follows, found)
    return found


def _bounded_counts(connection: Any, parts: list[tuple[str, list]]) -> list[int]:
    """COUNT(*) of each part's rows, stopped at COUNT_CAP + 1, in one statement."""
    if not parts:
        return []
    selects, params = [], []
    for number, (sql, values) in enumerate(parts):
        selects.append(f"SELECT {number} AS n, (SELECT COUNT(*) FROM ({sql} LIMIT {COUNT_CAP + 1}) AS p{number}) AS c")
        params.extend(values)
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(selects), params)
        by_part = dict(cursor.fetchall())
    return [int(by_part.get(number, 0)) for number in range(len(parts))]


def _add_kept_unread(user: AbstractBaseUser, follows: list[Follow], found: list[Count]) -> None:
    """Articles under a followed source's watermark that the reader kept unread."""
    if not follows:
        return
    kept = ReadMark.objects.filter(user=user, is_read=False).values_list("article__source_id", "article__published_at")[
        : COUNT_CAP * 10
    ]
    watermark = {f.source_id: f.read_before for f in follows}
    extra: dict[int, int] = {}
    for source_id, published in kept:
        if source_id in watermark and published <= watermark[source_id]:
            extra[source_id] = extra.get(source_id, 0) + 1
    by_slug = {f.source.slug: f.source_id for f in follows}
    for item in found:
        if item.kind == "source" and (n := extra.get(by_slug.get(item.key, -1))):
            total = item.count + n + (1 if item.more else 0)
            item.count, item.more = min(total, COUNT_CAP), item.more or total > COUNT_CAP


def new_count(counts_list: list[Count]) -> int:
    return sum(c.count for c in counts_list)
