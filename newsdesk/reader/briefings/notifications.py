"""A reader's notifications: for each story, hashtag and saved search they follow, the
new articles under it (fanout.py writes them as Activity) since they last read it,
here or by opening its page, less what they muted. Shared by the pages, the API and the alert emails, so all say the same.

Reading them costs one indexed range read per followed thing (the Activity index
(kind, key, at) from the reader's watermark on); for a reader who muted something, the
few hundred articles found are then checked against the mutes (mutes.py). The notification's id
is the followed thing's (the Interest's) id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

from django.db import IntegrityError, connections, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from newsdesk.articles.models import Article, ArticleHashtag
from newsdesk.reader.briefings import mutes as mute_rules
from newsdesk.reader.briefings.models import Activity, AlertMark
from newsdesk.reader.briefings.mutes import HASHTAG, SEARCH, STORY
from newsdesk.reader.models import Interest
from newsdesk.stories.models import Story

KINDS = (STORY, HASHTAG, SEARCH)
WHAT = {STORY: "story", HASHTAG: "hashtag", SEARCH: "saved search"}
MAX_COUNTED = 100  # new articles counted per followed thing: "100+" beyond
BADGE_LOOK = 10  # newest articles per followed thing the badge checks against a reader's mutes
RECENT = timedelta(days=7)  # read notifications stay listed this long after their last article


@dataclass
class Found:
    """One followed thing and what is new under it."""

    interest: Interest
    since: datetime  # new means after this
    count: int = 0
    more: bool = False  # more than MAX_COUNTED
    latest: int | None = None  # article id
    latest_at: datetime | None = None

    @property
    def unread(self) -> bool:
        return self.count > 0


def _interests(user_id: int, ids: Iterable[int] | None = None) -> list[Interest]:
    rows = Interest.objects.filter(user_id=user_id, kind__in=KINDS, muted=False).select_related("alert_mark")
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return list(rows)


def _mark(interest: Interest) -> AlertMark | None:
    try:
        return interest.alert_mark
    except AlertMark.DoesNotExist:
        return None


def read_since(interest: Interest) -> datetime:
    """Read up to: when the reader marked it read here, or opened its page (the
    follow's `seen_at`, which the reader's pages move), whichever is later."""
    mark = _mark(interest)
    return max(interest.seen_at, mark.read_at) if mark is not None and mark.read_at else interest.seen_at


def read_since_sql() -> Greatest:
    """read_since() as an expression on Interest rows."""
    return Greatest(Coalesce("alert_mark__read_at", "seen_at"), "seen_at")


def mail_since(interest: Interest) -> datetime:
    """New for an alert email: after both the last read and the last email."""
    mark = _mark(interest)
    mailed = mark.mailed_at if mark is not None and mark.mailed_at else interest.seen_at
    return max(read_since(interest), mailed)


def gather(user_id: int, *, for_mail: bool = False, ids: Iterable[int] | None = None) -> list[Found]:
    """What is new under each thing the reader follows, newest activity first."""
    interests = _interests(user_id, ids)
    if not interests:
        return []
    found = [Found(i, mail_since(i) if for_mail else read_since(i)) for i in interests]
    mutes = mute_rules.of_user(user_id)
    if not mutes:
        for item, (count, latest, latest_at) in zip(found, _counts(found)):
            item.count, item.more = min(count, MAX_COUNTED), count > MAX_COUNTED
            item.latest, item.latest_at = latest, latest_at
    else:
        pairs = _newest(found, MAX_COUNTED + 1)
        hidden = _hidden(mutes, {a for rows in pairs for a, _ in rows})
        for item, rows in zip(found, pairs, strict=True):
            shown = [(a, at) for a, at in rows if a not in hidden]
            item.count, item.more = min(len(shown), MAX_COUNTED), len(shown) > MAX_COUNTED
            if shown:
                item.latest, item.latest_at = shown[0]
    return sorted(found, key=lambda f: (f.latest_at is not None, f.latest_at or f.since), reverse=True)


def _counts(found: list[Found]) -> list[tuple[int, int | None, datetime | None]]:
    """(new articles counted up to MAX_COUNTED + 1, the newest, when it came) for each
    followed thing, in one query: three index-only probes each."""
    connection = connections[Activity.objects.db]
    table = connection.ops.quote_name(Activity._meta.db_table)
    kind, key, at, article = (connection.ops.quote_name(c) for c in ("kind", "key", "at", "article_id"))
    where = f"{kind} = %s AND {key} = %s AND {at} > %s"
    part = (
        f"SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM {table} WHERE {where} LIMIT %s) AS n),"
        f" (SELECT {article} FROM {table} WHERE {where} ORDER BY {at} DESC, {article} DESC LIMIT 1),"
        f" (SELECT MAX({at}) FROM {table} WHERE {where})"
    )
    results = []
    with connection.cursor() as cursor:
        for start in range(0, len(found), 100):
            chunk = found[start : start + 100]
            params: list = []
            for item in chunk:
                since = connection.ops.adapt_datetimefield_value(item.since)
                key = (item.interest.kind, item.interest.key, since)
                params += [*key, MAX_COUNTED + 1, *key, *key]
            cursor.execute(" UNION ALL ".join([part] * len(chunk)), params)
            rows = cursor.fetchall()
            for count, latest, latest_at in rows:
                if isinstance(latest_at, str):  # SQLite returns MAX() of a datetime column as text
                    latest_at = _parse(latest_at)
                results.append((count, latest, latest_at))
    return results


def _hidden(mutes: mute_rules.Mutes, article_ids: set[int]) -> set[int]:
    if not article_ids:
        return set()
    tags: dict[int, set[str]] = defaultdict(set)
    if mutes.hashtags:
        for article_id, slug in ArticleHashtag.objects.filter(article_id__in=article_ids).values_list(
            "article_id", "hashtag__slug"
        ):
            tags[article_id].add(slug)
    rows = Article.objects.filter(pk__in=article_ids).values_list(
        "pk", "source__slug", "enrichment__section", "title", "description"
    )
    return {
        pk
        for pk, source, section, title, description in rows
        if mutes.hides(mute_rules.Facts.of(pk, source, section or "", tags.get(pk, ()), f"{title}\n{description}"))
    }


def unread_count(user_id: int) -> int:
    """Followed things with something new: what the nav's badge shows, on every page a
    signed-in reader opens. One query finds the things with news; for a reader who muted
    something (mutes only ever hide), the newest few under each of those are then read
    in one more statement and checked against the mutes."""
    since = read_since_sql()
    news = Activity.objects.filter(kind=OuterRef("kind"), key=OuterRef("key"), at__gt=OuterRef("since"))
    with_news = (
        Interest.objects.filter(user_id=user_id, kind__in=KINDS, muted=False).annotate(since=since).filter(Exists(news))
    )
    mutes = mute_rules.of_user(user_id)
    if not mutes:
        return with_news.count()
    found = [Found(i, read_since(i)) for i in with_news.select_related("alert_mark")]
    pairs = _newest(found, BADGE_LOOK)
    hidden = _hidden(mutes, {a for rows in pairs for a, _ in rows})
    return sum(1 for rows in pairs if any(a not in hidden for a, _ in rows))


def _newest(found: list[Found], limit: int) -> list[list[tuple[int, datetime]]]:
    """(article id, when it came) of the newest `limit` articles under each followed
    thing since its `since`, newest first, in one statement of index reads."""
    if not found:
        return []
    connection = connections[Activity.objects.db]
    table = connection.ops.quote_name(Activity._meta.db_table)
    kind, key, at, article = (connection.ops.quote_name(c) for c in ("kind", "key", "at", "article_id"))
    selects, params = [], []
    for number, item in enumerate(found):
        selects.append(
            f"SELECT {number} AS n, a, t FROM (SELECT {article} AS a, {at} AS t FROM {table} WHERE {kind} = %s"
            f" AND {key} = %s AND {at} > %s ORDER BY {at} DESC, {article} DESC LIMIT {int(limit)}) AS p{number}"
        )
        params += [item.interest.kind, item.interest.key, connection.ops.adapt_datetimefield_value(item.since)]
    field = Activity._meta.get_field("at")
    converters = connection.ops.get_db_converters(field.get_col(Activity._meta.db_table))
    result: list[list[tuple[int, datetime]]] = [[] for _ in found]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(selects), params)
        for number, article_id, when in cursor.fetchall():
            for convert in converters:
                when = convert(when, field, connection)
            result[number].append((article_id, when))
    for rows in result:
        rows.sort(key=lambda row: (row[1], row[0]), reverse=True)
    return result


def listing(user_id: int, *, unread_only: bool = False, ids: Iterable[int] | None = None) -> list[Found]:
    """The notifications page: what has news (newest first), then what was read but
    had an article in the last week."""
    found = gather(user_id, ids=ids)
    unread = [f for f in found if f.unread]
    if unread_only:
        return unread
    recent = [f for f in found if not f.unread]
    _latest_read(recent, mute_rules.of_user(user_id))
    cutoff = timezone.now() - RECENT
    recent = [f for f in recent if f.latest_at and f.latest_at >= cutoff]
    return unread + sorted(recent, key=lambda f: f.latest_at or f.since, reverse=True)


def _parse(value: str) -> datetime | None:
    found = parse_datetime(value)
    if found is not None and timezone.is_naive(found):
        found = found.replace(tzinfo=UTC)
    return found


def _latest_read(items: list[Found], mutes: mute_rules.Mutes) -> None:
    """Fill in the newest article (not muted) of each thing read."""
    for item in items:
        i = item.interest
        rows = list(
            Activity.objects.filter(kind=i.kind, key=i.key, at__gt=i.created_at, at__gte=timezone.now() - RECENT)
            .order_by("-at", "-article_id")
            .values_list("article_id", "at")[:20]
        )
        hidden = _hidden(mutes, {a for a, _ in rows}) if mutes else set()
        shown = [(a, at) for a, at in rows if a not in hidden]
        if shown:
            item.latest, item.latest_at = shown[0]


def mark_read(user_id: int, ids: Iterable[int] | None = None, *, before: datetime | None = None) -> int:
    """Mark the reader's notifications read: these (interest) ids, or all of them, up
    to `before` (the moment the list was shown: what arrived since stays unread). Only
    what has news is marked, so marking twice marks nothing the second time; the
    number marked is returned."""
    at = min(before or timezone.now(), timezone.now())
    news = [f.interest for f in gather(user_id, ids=ids) if f.unread]
    marked = 0
    for interest in news:
        mark = _mark(interest)
        if mark is None:
            try:
                with transaction.atomic():
                    AlertMark.objects.create(interest=interest, user_id=user_id, read_at=at)
                marked += 1
                continue
            except IntegrityError:  # marked at the same moment elsewhere
                pass
        marked += AlertMark.objects.filter(Q(read_at__isnull=True) | Q(read_at__lt=at), interest=interest).update(
            read_at=at
        )
    return marked


def mark_mailed(user_id: int, interest_ids: Iterable[int], at: datetime) -> None:
    """An alert email told of what arrived under these things up to `at`."""
    for interest_id in interest_ids:
        updated = AlertMark.objects.filter(
            Q(mailed_at__isnull=True) | Q(mailed_at__lt=at), interest_id=interest_id, user_id=user_id
        ).update(mailed_at=at)
        if not updated and not AlertMark.objects.filter(interest_id=interest_id).exists():
            try:
                with transaction.atomic():
                    AlertMark.objects.create(interest_id=interest_id, user_id=user_id, mailed_at=at)
            except IntegrityError:
                AlertMark.objects.filter(interest_id=interest_id, mailed_at__lt=at).update(mailed_at=at)


def target_url(kind: str, key: str) -> str:
    """The page that lists the followed thing."""
    if kind == STORY:
        return reverse("story", args=[int(key)]) if key.isdigit() else reverse("stories")
    if kind == HASHTAG:
        return reverse("hashtag", args=[key])
    if kind == SEARCH:
        return f"{reverse('search:search')}?{key}"
    return reverse("reader:unread")


def label(kind: str, key: str, given: str) -> str:
    if given:
        return given
    if kind == HASHTAG:
        return f"#{key}"
    if kind == SEARCH:
        return f"“{dict(parse_qsl(key)).get('q', key)}”"
    return f"story {key}"


def describe(items: list[Found]) -> list[dict]:
    """Notifications as plain data: a story named by its headline as it is now (it
    changes as coverage arrives), the latest article with its publisher."""
    story_ids = {int(f.interest.key) for f in items if f.interest.kind == STORY and f.interest.key.isdigit()}
    titles = dict(Story.objects.filter(pk__in=story_ids).values_list("pk", "title")) if story_ids else {}
    latest = (
        Article.objects.select_related("source")
        .only("title", "published_at", "source__name")
        .in_bulk({f.latest for f in items if f.latest})
    )
    described = []
    for f in items:
        i = f.interest
        article = latest.get(f.latest) if f.latest else None
        title = titles.get(int(i.key)) if i.kind == STORY and i.key.isdigit() else None
        mark = _mark(i)
        described.append(
            {
                "id": i.pk,
                "kind": i.kind,
                "what": WHAT.get(i.kind, i.kind),
                "key": i.key,
                "label": title or label(i.kind, i.key, i.label),
                "url": target_url(i.kind, i.key),
                "count": f.count,
                "more": f.more,
                "unread": f.unread,
                "since": f.since,
                "updated_at": f.latest_at,
                "read_at": mark.read_at if mark is not None else None,
                "latest": None
                if article is None
                else {
                    "id": article.pk,
                    "title": article.title,
                    "url": article.get_absolute_url(),
                    "source": article.source.name,
                    "published_at": article.published_at,
                },
            }
        )
    return described
