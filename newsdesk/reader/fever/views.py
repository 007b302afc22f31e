"""The Fever API's one endpoint: what to answer is named by bare query-string arguments
(`?api&groups&feeds`), every one asked for is answered in the same JSON object (as
FreshRSS does), and writes (`mark`, `as`, `id`, `before`) come as form fields or in the
query string. Writes run first, so the lists in the same answer show them.

Items are the articles of the sources the reader follows; ids are the articles' and
sources' own ids, which only grow, as `since_id` and `max_id` paging needs. A saved
article of a source the reader does not follow stays on the site's Saved page and in
the Google Reader API's starred stream, but not here, where every item must belong to
a feed the app knows. Marking saved or unsaved sets the state (FreshRSS), rather than
toggling it (Miniflux), so that an app's retry cannot undo its own change.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from newsdesk.articles.models import Article
from newsdesk.reader import follows, saved, state
from newsdesk.reader.content import article_html
from newsdesk.reader.fever import groups
from newsdesk.reader.fever.auth import API_VERSION, authenticated, json_response
from newsdesk.reader.models import Follow, ReadMark, Saved

ITEMS_PER_PAGE = 50  # Fever's page, and its cap on with_ids
RECENTLY_READ = timedelta(seconds=30)  # what `unread_recently_read` takes back, as Fever did


def _seconds(value: datetime | None) -> int:
    return int(value.timestamp()) if value else 0


def _write_param(request: HttpRequest, name: str) -> str:
    return (request.POST.get(name) or request.GET.get(name) or "").strip()


def _int(value: str) -> int | None:
    value = value.strip()
    digits = value[1:] if value.startswith("-") else value
    if not digits.isdigit() or len(digits) > 18:
        return None
    return int(value)


def _id_list(value: str, limit: int | None = None, lowest: int = 1) -> list[int]:
    """Ids from a comma-separated list, `lowest` and up; anything else in it is skipped."""
    found = [n for part in value.split(",") if (n := _int(part)) is not None and n >= lowest]
    return found[:limit] if limit is not None else found


def _before(value: str) -> datetime:
    """`before`: seconds; now when missing, zero or unreadable (as FreshRSS takes it),
    and never later than now."""
    now = timezone.now()
    number = _int(value)
    if not number or number <= 0:
        return now
    try:
        return min(now, datetime.fromtimestamp(number, tz=UTC))
    except (OverflowError, OSError, ValueError):
        return now


def _follows(request: HttpRequest) -> list[Follow]:
    return list(
        Follow.objects.filter(user=request.user)
        .select_related("source")
        .prefetch_related("source__feeds")
        .order_by("source__name", "pk")
    )


def _last_refreshed(rows: list[Follow]) -> int:
    """When a followed source's feed was last fetched successfully; now when none was."""
    times = [feed.last_success_at for f in rows for feed in f.source.feeds.all() if feed.last_success_at]
    return _seconds(max(times)) if times else _seconds(timezone.now())


# --- writes -------------------------------------------------------------------------------


def _mark(request: HttpRequest, rows: list[Follow]) -> str | None:
    """Apply a `mark=item|feed|group` write; the list to send back ('unread_item_ids'
    or 'saved_item_ids'), or None when nothing valid was asked."""
    mark, as_, key = (_write_param(request, name).lower() for name in ("mark", "as", "id"))
    target = _int(key)
    if not mark or target is None:
        return None
    user = request.user
    if mark == "item" and target > 0:
        if as_ == "read":
            state.mark_read(user, [target])
        elif as_ == "unread":
            state.mark_unread(user, [target])
        elif as_ == "saved":
            saved.save_many(user, [target])
        elif as_ == "unsaved":
            saved.unsave(user, [target])
        else:
            return None
        return "saved_item_ids" if as_ in ("saved", "unsaved") else "unread_item_ids"
    if as_ != "read":
        return None
    before = _before(_write_param(request, "before"))
    if mark == "feed":
        state.mark_all_read(user, [f for f in rows if f.source_id == target], before)
    elif mark == "group":
        state.mark_all_read(user, groups.follows_in(rows, target), before)
    else:
        return None
    return "unread_item_ids"


def _unread_recently_read(request: HttpRequest) -> None:
    """Fever's undo: the single marks made read in the last 30 seconds become unread
    (a whole feed or group marked read moves a watermark and is not undone here)."""
    since = timezone.now() - RECENTLY_READ
    recent = ReadMark.objects.filter(user=request.user, is_read=True, changed_at__gte=since)
    state.mark_unread(request.user, list(recent.values_list("article_id", flat=True)))


# --- reads --------------------------------------------------------------------------------


def _feed_json(request: HttpRequest, follow: Follow) -> dict[str, Any]:
    source = follow.source
    fetched = [feed.last_success_at for feed in source.feeds.all() if feed.last_success_at]
    return {
        "id": source.pk,
        "favicon_id": 0,
        "title": source.name,
        "url": follows.feed_url(source, request.build_absolute_uri(f"/sources/{source.slug}/rss")),
        "site_url": source.home_url,
        "is_spark": 0,
        "last_updated_on_time": _seconds(max(fetched)) if fetched else 0,
    }


def _feeds_groups(rows: list[Follow]) -> list[dict[str, Any]]:
    return [
        {"group_id": gid, "feed_ids": ",".join(str(f.source_id) for f in members)}
        for gid, (_, members) in groups.by_group(rows).items()
    ]


def _articles(rows: list[Follow]) -> QuerySet[Article]:
    return Article.objects.filter(source_id__in=[f.source_id for f in rows])


def _items(request: HttpRequest, rows: list[Follow]) -> tuple[int, list[dict[str, Any]]]:
    """total_items and one page of items, chosen as FreshRSS and Miniflux choose them:
    `with_ids` (at most 50), else `since_id` (newer ids, ascending), else `max_id`
    (older ids, descending; 0 for the newest), else the newest; `feed_ids` and
    `group_ids` narrow any of them."""
    params = request.GET
    everything = _articles(rows)
    chosen = rows
    if "feed_ids" in params:
        wanted = set(_id_list(params["feed_ids"]))
        chosen = [f for f in chosen if f.source_id in wanted]
    if "group_ids" in params:
        wanted_groups = _id_list(params["group_ids"], lowest=groups.ALL)
        covered = {f.source_id for g in wanted_groups for f in groups.follows_in(rows, g)}
        chosen = [f for f in chosen if f.source_id in covered]
    articles = _articles(chosen)
    since, most = _int(params.get("since_id", "")), _int(params.get("max_id", ""))
    if "with_ids" in params:
        articles = articles.filter(pk__in=_id_list(params["with_ids"], ITEMS_PER_PAGE)).order_by("pk")
    elif since is not None and since >= 0:
        articles = articles.filter(pk__gt=since).order_by("pk")
    elif most is not None and most > 0:
        articles = articles.filter(pk__lt=most).order_by("-pk")
    else:
        articles = articles.order_by("-pk")
    page = list(articles.select_related("source")[:ITEMS_PER_PAGE])
    pks = [a.pk for a in page]
    read = state.read_ids(request.user, pks)
    starred = saved.saved_ids(request.user, pks)
    items = [
        {
            "id": a.pk,
            "feed_id": a.source_id,
            "title": a.title,
            "author": a.byline,
            "html": article_html(a),
            "url": a.url,
            "is_saved": int(a.pk in starred),
            "is_read": int(a.pk in read),
            "created_on_time": _seconds(a.published_at),
        }
        for a in page
    ]
    return everything.count(), items


def _unread_ids(request: HttpRequest) -> str:
    ids = state.followed_unread(request.user).order_by("pk").values_list("pk", flat=True)
    return ",".join(map(str, ids))


def _saved_ids(request: HttpRequest, rows: list[Follow]) -> str:
    followed = Q(article__source_id__in=[f.source_id for f in rows])
    ids = Saved.objects.filter(followed, user=request.user).order_by("article_id").values_list("article_id", flat=True)
    return ",".join(map(str, ids))


@authenticated
def fever(request: HttpRequest) -> HttpResponse:
    rows = _follows(request)
    lists: set[str] = set()
    if written := _mark(request, rows):
        lists.add(written)
        rows = _follows(request)  # the watermarks may have moved
    if _write_param(request, "unread_recently_read") == "1":
        _unread_recently_read(request)
        lists.add("unread_item_ids")
    asked = request.GET
    body: dict[str, Any] = {"api_version": API_VERSION, "auth": 1, "last_refreshed_on_time": _last_refreshed(rows)}
    if "groups" in asked:
        body["groups"] = [{"id": gid, "title": name} for gid, (name, _) in groups.by_group(rows).items()]
        body["feeds_groups"] = _feeds_groups(rows)
    if "feeds" in asked:
        body["feeds"] = [_feed_json(request, f) for f in rows]
        body["feeds_groups"] = _feeds_groups(rows)
    if "favicons" in asked:
        body["favicons"] = []  # sources keep no icons yet; every feed's favicon_id is 0
    if "items" in asked:
        body["total_items"], body["items"] = _items(request, rows)
    if "links" in asked:
        body["links"] = []  # no hot links: Fever's "Sparks" have no counterpart here
    if "unread_item_ids" in asked or "unread_item_ids" in lists:
        body["unread_item_ids"] = _unread_ids(request)
    if "saved_item_ids" in asked or "saved_item_ids" in lists:
        body["saved_item_ids"] = _saved_ids(request, rows)
    return json_response(body)
