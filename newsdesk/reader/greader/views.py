"""The Google Reader API's calls, as plain Django views answering JSON or text.

The answers follow what FreshRSS and Miniflux send (field names, `OK` for edits, the
three-line ClientLogin answer), since that is what the apps were written against.
Subscribing works only for sources this site already has: a reader app's "add feed"
follows the source a feed URL belongs to; it never makes the site fetch a new one.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from newsdesk.articles.models import Article
from newsdesk.reader import app_passwords, follows, saved, state
from newsdesk.reader.greader import ids, items, streams
from newsdesk.reader.greader.auth import authenticated, client_login, too_many, unauthorized
from newsdesk.reader.greader.forms import TooManyFields, form
from newsdesk.reader.models import Follow
from newsdesk.sources.models import Source

MAX_ITEMS = 1000  # item ids one edit-tag or items/contents call may name
GET, POST = ("GET", "HEAD"), ("POST",)
BOTH = ("GET", "HEAD", "POST")


def ok() -> HttpResponse:
    return HttpResponse("OK", content_type="text/plain; charset=utf-8")


def bad_request(why: str = "Bad Request!") -> HttpResponse:
    return HttpResponse(why, status=400, content_type="text/plain; charset=utf-8")


def not_found() -> HttpResponse:
    return HttpResponse("Not Found", status=404, content_type="text/plain; charset=utf-8")


def _json(data: Any) -> JsonResponse:
    return JsonResponse(data, json_dumps_params={"ensure_ascii": False, "separators": (",", ":")})


def _param(request: HttpRequest, name: str) -> str:
    return form(request).get(name) or request.GET.get(name) or ""


def _params_list(request: HttpRequest, name: str) -> list[str]:
    return form(request).getlist(name) or request.GET.getlist(name)


def _usec(value: datetime | None) -> str:
    return str(int(value.timestamp() * 1_000_000)) if value else "0"


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def client_login_view(request: HttpRequest) -> HttpResponse:
    """Email (the username) and Passwd (an app password) in, the token out:
    `SID=...\\nLSID=...\\nAuth=...\\n`, or JSON with output=json. A POST form as
    apps send it, or a query string as FreshRSS's documentation shows it with curl."""
    try:
        username, password = _param(request, "Email"), _param(request, "Passwd")
    except TooManyFields:
        return bad_request()
    if not username or not password:
        return unauthorized()
    result = client_login(request, username, password)
    if isinstance(result, int):
        return too_many(result)
    if result is None:
        return unauthorized()
    app_passwords.touch(result)
    token = app_passwords.auth_token(result)
    if _param(request, "output") == "json":
        return _json({"SID": token, "LSID": token, "Auth": token})
    return HttpResponse(f"SID={token}\nLSID={token}\nAuth={token}\n", content_type="text/plain; charset=utf-8")


@authenticated(BOTH)
def token(request: HttpRequest) -> HttpResponse:
    return HttpResponse(app_passwords.edit_token(request.app_password) + "\n", content_type="text/plain; charset=utf-8")


@authenticated(GET)
def user_info(request: HttpRequest) -> HttpResponse:
    user = request.user
    return _json(
        {
            "userId": str(user.pk),
            "userName": user.get_username(),
            "userProfileId": str(user.pk),
            "userEmail": getattr(user, "email", "") or "",
        }
    )


def _subscription(request: HttpRequest, follow: Follow) -> dict[str, Any]:
    source = follow.source
    own = request.build_absolute_uri(f"/sources/{source.slug}/rss")
    return {
        "id": ids.feed(source.pk),
        "title": source.name,
        "categories": [{"id": ids.label(follow.category), "label": follow.category}] if follow.category else [],
        "url": follows.feed_url(source, own),
        "htmlUrl": source.home_url,
        "iconUrl": "",
        "sortid": f"{source.pk:08X}",
        "firstitemmsec": str(int(follow.created_at.timestamp() * 1000)),
    }


@authenticated(GET)
def subscription_list(request: HttpRequest) -> HttpResponse:
    rows = (
        Follow.objects.filter(user=request.user)
        .select_related("source")
        .prefetch_related("source__feeds")
        .order_by("source__name", "pk")
    )
    return _json({"subscriptions": [_subscription(request, f) for f in rows]})


def _source_from(stream_id: str) -> Source | None:
    key = stream_id[len(ids.FEED) :] if stream_id.startswith(ids.FEED) else stream_id
    if key.isdigit():
        return Source.objects.filter(pk=int(key)).first()
    return follows.source_by_feed_url(key)


def _label_name(stream_id: str) -> str:
    stream_id = ids.normalise_stream(stream_id)
    return stream_id[len(ids.LABEL) :] if stream_id.startswith(ids.LABEL) else ""


@authenticated(POST)
def subscription_edit(request: HttpRequest) -> HttpResponse:
    """ac=subscribe|unsubscribe|edit for s=feed/<id or feed URL>; a=/r= a label (folder)."""
    action = _param(request, "ac") or "edit"
    stream_ids = _params_list(request, "s")
    if not stream_ids or action not in ("subscribe", "unsubscribe", "edit"):
        return bad_request()
    add = _label_name(_param(request, "a"))
    remove = _label_name(_param(request, "r"))
    sources = [_source_from(s) for s in stream_ids]
    if any(s is None for s in sources):
        return not_found()
    for source in sources:
        assert source is not None
        if action == "unsubscribe":
            follows.unfollow(request.user, source)
            continue
        if action == "edit" and not follows.is_following(request.user, source):
            return not_found()
        current = Follow.objects.filter(user=request.user, source=source).values_list("category", flat=True).first()
        category = add or ("" if remove and current == remove else None)
        follows.follow(request.user, source, category)
    return ok()


@authenticated(POST)
def quickadd(request: HttpRequest) -> HttpResponse:
    query = _param(request, "quickadd").strip()
    if query.startswith(ids.FEED):
        query = query[len(ids.FEED) :]
    source = follows.source_by_feed_url(query) if query else None
    if source is None:
        return _json({"numResults": 0, "query": query})
    follows.follow(request.user, source)
    return _json({"numResults": 1, "query": query, "streamId": ids.feed(source.pk), "streamName": source.name})


@authenticated(GET)
def tag_list(request: HttpRequest) -> HttpResponse:
    labels = Follow.objects.filter(user=request.user).exclude(category="").values_list("category", flat=True).distinct()
    tags: list[dict[str, str]] = [{"id": ids.STARRED}]
    tags += [{"id": ids.label(name), "label": name, "type": "folder"} for name in sorted(set(labels))]
    return _json({"tags": tags})


@authenticated(GET)
def unread_count(request: HttpRequest) -> HttpResponse:
    rows = streams.follows_of(request.user)
    counts = state.unread_counts(request.user)
    result: list[dict[str, Any]] = []
    labels: dict[str, tuple[int, datetime | None]] = {}
    total, newest_all = 0, None
    for follow in rows:
        count, newest = counts.get(follow.source_id, (0, None))
        result.append({"id": ids.feed(follow.source_id), "count": count, "newestItemTimestampUsec": _usec(newest)})
        total += count
        newest_all = max(filter(None, [newest_all, newest]), default=None)
        if follow.category:
            n, at = labels.get(follow.category, (0, None))
            labels[follow.category] = (n + count, max(filter(None, [at, newest]), default=None))
    for name, (count, newest) in sorted(labels.items()):
        result.append({"id": ids.label(name), "count": count, "newestItemTimestampUsec": _usec(newest)})
    result.append({"id": ids.READING_LIST, "count": total, "newestItemTimestampUsec": _usec(newest_all)})
    return _json({"max": total, "unreadcounts": result})


def _stream(request: HttpRequest, stream_id: str) -> tuple[streams.Stream, list[Follow]] | None:
    rows = streams.follows_of(request.user)
    try:
        return streams.resolve(request.user, stream_id, rows), rows
    except streams.UnknownStream:
        return None


@authenticated(GET)
def stream_item_ids(request: HttpRequest) -> HttpResponse:
    """`s` the stream; answers short (decimal) ids: {"itemRefs": [{"id": "123"}], ...}."""
    found = _stream(request, request.GET.get("s", ""))
    if found is None:
        return not_found()
    stream, rows = found
    articles = streams.filtered(request.user, stream, request.GET, rows)
    page, continuation = streams.page(articles.values_list("pk", flat=True), request.GET)
    refs = [{"id": str(pk)} for pk in page]
    body: dict[str, Any] = {"itemRefs": refs}
    if continuation:
        body["continuation"] = continuation
    return _json(body)


def _contents(request: HttpRequest, stream: streams.Stream, articles: list[Article], continuation: str) -> HttpResponse:
    body: dict[str, Any] = {
        "direction": "ltr",
        "id": stream.id,
        "title": stream.title,
        "author": request.user.get_username(),
        "self": [{"href": request.build_absolute_uri()}],
        "updated": int(timezone.now().timestamp()),
        "items": items.items_json(request, request.user, articles),
    }
    if continuation:
        body["continuation"] = continuation
    return _json(body)


@authenticated(BOTH)
def stream_item_contents(request: HttpRequest) -> HttpResponse:
    """`i` (repeated, any id spelling) in, the items in the order asked."""
    wanted = [ids.parse_item(value) for value in _params_list(request, "i")[:MAX_ITEMS]]
    pks = [pk for pk in wanted if pk is not None]
    if not pks:
        return bad_request()
    found = {a.pk: a for a in Article.objects.filter(pk__in=pks).select_related("source")}
    stream = streams.Stream(ids.READING_LIST, "Reading list", Article.objects.none(), [])
    return _contents(request, stream, [found[pk] for pk in dict.fromkeys(pks) if pk in found], "")


@authenticated(GET)
def stream_contents(request: HttpRequest, stream_id: str = "") -> HttpResponse:
    found = _stream(request, stream_id or request.GET.get("s", ""))
    if found is None:
        return not_found()
    stream, rows = found
    articles = streams.filtered(request.user, stream, request.GET, rows).select_related("source")
    page, continuation = streams.page(articles, request.GET)
    return _contents(request, stream, page, continuation)


@authenticated(POST)
def edit_tag(request: HttpRequest) -> HttpResponse:
    """a=/r= read, starred or kept-unread for the items `i`; other tags are accepted
    and ignored, as the apps send labels that are not ours to keep."""
    wanted = [ids.parse_item(value) for value in form(request).getlist("i")[:MAX_ITEMS]]
    pks = [pk for pk in wanted if pk is not None]
    if not pks:
        return bad_request()
    add = {ids.normalise_stream(t) for t in form(request).getlist("a")}
    remove = {ids.normalise_stream(t) for t in form(request).getlist("r")}
    if (ids.READ in add and ids.READ in remove) or (ids.STARRED in add and ids.STARRED in remove):
        return bad_request()
    if ids.READ in add or ids.KEPT_UNREAD in remove:
        state.mark_read(request.user, pks)
    elif ids.READ in remove or ids.KEPT_UNREAD in add:
        state.mark_unread(request.user, pks)
    if ids.STARRED in add:
        saved.save_many(request.user, pks)
    elif ids.STARRED in remove:
        saved.unsave(request.user, pks)
    return ok()


def _before(value: str) -> datetime:
    """`ts`: microseconds (FreshRSS, Reeder) or seconds; now when absent."""
    now = timezone.now()
    if not value.strip().isdigit():
        return now
    number = int(value)
    seconds = number / 1_000_000 if len(value.strip()) >= 16 else number
    try:
        return min(now, datetime.fromtimestamp(seconds, tz=UTC))
    except (OverflowError, OSError, ValueError):
        return now


@authenticated(POST)
def mark_all_as_read(request: HttpRequest) -> HttpResponse:
    found = _stream(request, _param(request, "s"))
    if found is None:
        return not_found()
    stream, rows = found
    before = _before(_param(request, "ts"))
    if stream.id == ids.STARRED:
        state.mark_read(request.user, stream.articles.filter(published_at__lte=before).values_list("pk", flat=True))
    else:
        state.mark_all_read(request.user, stream.follows, before)
    return ok()


@authenticated(POST)
def rename_tag(request: HttpRequest) -> HttpResponse:
    """A folder renamed in the app: s=user/-/label/Old, dest=user/-/label/New."""
    old, new = _label_name(_param(request, "s")), _label_name(_param(request, "dest"))
    if not old or not new:
        return bad_request()
    rows = Follow.objects.filter(user=request.user, category=old)
    if not rows.exists():
        return not_found()
    rows.update(category=new[: follows.MAX_CATEGORY])
    return ok()


@authenticated(POST)
def disable_tag(request: HttpRequest) -> HttpResponse:
    """A folder deleted in the app: its sources stay followed, outside any folder."""
    name = _label_name(_param(request, "s"))
    if not name:
        return bad_request()
    Follow.objects.filter(user=request.user, category=name).update(category="")
    return ok()


@authenticated(BOTH)
def not_supported(request: HttpRequest, rest: str = "") -> HttpResponse:
    return HttpResponse(json.dumps({"error": "not supported"}), status=404, content_type="application/json")
