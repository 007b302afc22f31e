"""Rendered pages for anonymous readers, kept until what they show changes.

What is cached: the HTML of the article page and of the home page (each page of it),
for GET and HEAD requests by readers who are not logged in and have no message waiting,
whose query string is empty or only `?page=N`. Logged-in readers see their own name,
their comments awaiting moderation and moderator buttons, so their pages are always
rendered fresh.

Invalidation: every cached page belongs to a scope ("article:42", "home") whose current
version is a row of `PageVersion` (0 while it has none); a page is stored under the
version it was rendered at, so a new version makes the next request a miss. Versions
change, after the transaction commits, when an article, its enrichment or its lead image
is saved or deleted, when its comments change (`newsdesk.comments.signals.comments_changed`), when
its story or related articles change (`newsdesk.stories.signals.stories_changed`), and
the home page's also when articles or stories are saved. The versions live in the
database because the default cache is per process (LocMemCache unless REDIS_URL is
set) while most changes happen in task workers: a bump in a worker's cache would never
reach the web processes. A hit costs at most one indexed read (none while the version
is remembered, below) and no write. The page bodies
live in the default cache; `NEWSDESK_PAGE_CACHE_SECONDS` (120 by default, 0 turns the
cache off) bounds how long the ages on a page ("16 minutes ago") may lag.

No CSRF token and nothing per reader: ask-the-article is a GET form (a read-only
query), so an anonymous article or home page holds no token, no cookie is set and
every anonymous reader gets the same bytes. A page about to be cached that contains a
CSRF token anyway (a template gained a POST form) is served but not cached.

Shared caches: a cached page is sent `Cache-Control: public, max-age=0,
s-maxage=NEWSDESK_SHARED_CACHE_SECONDS` (2 by default) with an ETag and Last-Modified,
so browsers revalidate every time (a 304 when nothing changed) and a shared cache in
front (the nginx microcache `newsdesk up` starts, see newsdesk/web/front.py) may serve
it for at most that many seconds. Pages that are not cacheable (logged-in readers, a
message waiting, other query strings) are `private`.

Version lookups are remembered in the default cache for NEWSDESK_PAGE_VERSION_SECONDS
(1 by default, 0: ask the database every time). A bump in this process (or in any
process when the cache is shared, REDIS_URL) updates the remembered value at once;
one in another process with per-process caches is seen within that many seconds. So an
anonymous reader sees a change at most PAGE_VERSION_SECONDS + SHARED_CACHE_SECONDS
(3 s by default) plus one page render after it commits.

One cache entry per URL (`_key`): the scope and version the page was rendered at, the
HTML and its validators, and, once a response has gone out through every middleware,
its headers. The view (`page`) serves the HTML from it; the fast path
(`FastPageMiddleware`, first in MIDDLEWARE) replays the whole response from it before
sessions, authentication, CSRF or any template, when the request has no session or
message cookie and the scope is still at that version.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable, Iterable

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import caches
from django.db import DatabaseError, connections, transaction
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date

LOGGER = logging.getLogger(__name__)

HOME = "home"
HEADER = "X-Page-Cache"  # "hit", "miss" or "bypass": for tests and operators
CSRF_FIELD = "csrfmiddlewaretoken"
# Django's message cookie: Django has no setting for its name (CookieStorage fixes it).
MESSAGE_COOKIE = CookieStorage.cookie_name


def article_scope(pk: int) -> str:
    return f"article:{pk}"


def timeout() -> int:
    return settings.NEWSDESK_PAGE_CACHE_SECONDS


def shared_seconds() -> int:
    """How long a shared cache in front (nginx) may serve an anonymous page."""
    return max(0, settings.NEWSDESK_SHARED_CACHE_SECONDS)


def version_seconds() -> int:
    return max(0, settings.NEWSDESK_PAGE_VERSION_SECONDS)


def _cache():
    return caches[settings.NEWSDESK_PAGE_CACHE]


# --- versions -----------------------------------------------------------------------------


def _memo_key(scope: str) -> str:
    return f"newsdesk:pagever:{scope}"


def bump(scopes: Iterable[str]) -> None:
    """Give `scopes` new versions once the current transaction commits (or now)."""
    scopes = sorted(set(scopes))
    if scopes:
        transaction.on_commit(lambda: _write_versions(scopes))


def _write_versions(scopes: list[str]) -> None:
    from newsdesk.web.models import PageVersion

    value = secrets.randbits(62) | 1
    try:
        PageVersion.objects.bulk_create(
            [PageVersion(scope=scope, version=value) for scope in scopes],
            update_conflicts=True,
            unique_fields=["scope"],
            update_fields=["version"],
        )
    except DatabaseError:  # never let the cache break the write that changed the page
        LOGGER.exception("could not invalidate cached pages %s", scopes[:5])
        forget_versions(scopes)
        return
    if seconds := version_seconds():
        try:
            _cache().set_many({_memo_key(scope): value for scope in scopes}, seconds)
        except Exception:  # noqa: BLE001 - a cache outage: the memo expires by itself
            LOGGER.warning("could not update remembered page versions", exc_info=True)


def forget_versions(scopes: Iterable[str]) -> None:
    """Drop remembered versions: the next lookup reads the database."""
    _cache().delete_many([_memo_key(scope) for scope in scopes])


def version(scope: str) -> int:
    """The scope's current version; 0 until something has changed it. No write on the
    read path: a row only appears when a change bumps it (with a random non-zero value,
    so pages cached under 0 are never served once it exists). Remembered for
    NEWSDESK_PAGE_VERSION_SECONDS."""
    from newsdesk.web.models import PageVersion

    seconds = version_seconds()
    if seconds:
        remembered = _cache().get(_memo_key(scope))
        if remembered is not None:
            return remembered
    current = _stored_version(PageVersion, scope)
    if seconds:
        _cache().set(_memo_key(scope), current, seconds)
    return current


def _stored_version(model: type[Model], scope: str) -> int:
    """The scope's row, read with plain SQL: the queryset it replaces cost more to
    build than to run, on every uncached page."""
    connection = connections[model.objects.db]
    quote, meta = connection.ops.quote_name, model._meta
    version_column = quote(meta.get_field("version").column)
    scope_column = quote(meta.get_field("scope").column)
    sql = f"SELECT {version_column} FROM {quote(meta.db_table)} WHERE {scope_column} = %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, [scope])
        row = cursor.fetchone()
    return (row[0] if row else 0) or 0


# --- pages --------------------------------------------------------------------------------


def render_html(request: HttpRequest, template: str, context: dict) -> str:
    return render_to_string(template, context, request)


def respond(
    request: HttpRequest,
    html: str,
    *,
    state: str,
    status: int = 200,
    scope: str = "",
    current: int = 0,
    etag: str = "",
    modified: float = 0.0,
) -> HttpResponse:
    """The response for a page: `private` unless it came from (or went to) the cache, in
    which case it is public for shared caches for `shared_seconds()`, with validators."""
    response = HttpResponse(html, status=status)
    response[HEADER] = state
    if state in ("hit", "miss") and etag:
        response["ETag"] = etag
        response["Last-Modified"] = http_date(modified)
        shared = shared_seconds()
        if shared:
            patch_cache_control(response, public=True, max_age=0, s_maxage=shared)
        else:
            patch_cache_control(response, public=True, max_age=0)
        response._newsdesk_page = (scope, current, html, etag, modified)  # FastPageMiddleware keeps it
        return get_conditional_response(request, etag=etag, last_modified=int(modified), response=response)
    patch_cache_control(response, private=True)
    return response


def cacheable(request: HttpRequest) -> bool:
    if timeout() <= 0 or request.method not in ("GET", "HEAD"):
        return False
    if request.user.is_authenticated:
        return False
    if MESSAGE_COOKIE in request.COOKIES:
        return False  # a message waits to be shown: render for this reader alone
    params = list(request.GET.lists())
    return not params or (
        len(params) == 1
        and params[0][0] == "page"
        and len(params[0][1]) == 1
        and params[0][1][0].isdigit()
        and len(params[0][1][0]) < 6
    )


def _key(request: HttpRequest) -> str:
    where = f"{request.scheme}://{request.get_host()}{request.get_full_path()}"
    return "newsdesk:page:" + hashlib.sha256(where.encode()).hexdigest()[:32]


# The cache entry of a URL: (scope, version, html, etag, modified, headers), headers None
# until FastPageMiddleware has seen the response go out.
SCOPE, VERSION, HTML, ETAG, MODIFIED, HEADERS = range(6)


def page(request: HttpRequest, scope: str, build: Callable[[], str]) -> HttpResponse:
    """The page of `scope` for this request: from the cache when it may be, else
    `build()` (which renders with `render_html` and may raise Http404), then cached."""
    if not cacheable(request):
        return respond(request, build(), state="bypass")
    try:
        current = version(scope)
    except DatabaseError:
        LOGGER.warning("page versions unavailable; serving %s uncached", scope, exc_info=True)
        return respond(request, build(), state="bypass")
    key = _key(request)
    entry = _cache().get(key)
    if entry is not None and entry[SCOPE] == scope and entry[VERSION] == current:
        return respond(
            request, entry[HTML], state="hit", scope=scope, current=current, etag=entry[ETAG], modified=entry[MODIFIED]
        )
    html = build()
    if CSRF_FIELD in html:
        LOGGER.error("not caching %s: the anonymous page holds a CSRF token", scope)
        return respond(request, html, state="bypass")
    etag = '"' + hashlib.blake2b(html.encode(), digest_size=12).hexdigest() + '"'
    modified = time.time()
    _cache().set(key, (scope, current, html, etag, modified, None), timeout())
    return respond(request, html, state="miss", scope=scope, current=current, etag=etag, modified=modified)


# --- the fast path ------------------------------------------------------------------------


class FastPageMiddleware:
    """First in MIDDLEWARE: once a cached page has gone out to an anonymous reader, its
    final headers join the URL's cache entry; the next request for that URL without a
    session or message cookie is answered from the entry while its scope is still at
    that version, without the rest of the stack. Everything else goes through untouched."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = self._key(request)
        if key is not None:
            try:
                entry = _cache().get(key)
                if entry is not None and entry[HEADERS] is not None and version(entry[SCOPE]) == entry[VERSION]:
                    return self._replay(request, entry)
            except DatabaseError:
                pass  # the view decides what to do without versions
        response = self.get_response(request)
        if key is not None:
            self._keep(key, response)
        return response

    @staticmethod
    def _key(request: HttpRequest) -> str | None:
        if request.method not in ("GET", "HEAD") or timeout() <= 0:
            return None
        cookies = request.COOKIES
        if settings.SESSION_COOKIE_NAME in cookies or MESSAGE_COOKIE in cookies:
            return None
        try:
            return _key(request)
        except Exception:  # noqa: BLE001 - DisallowedHost and the like: the stack answers it
            return None

    @staticmethod
    def _keep(key: str, response: HttpResponse) -> None:
        page = getattr(response, "_newsdesk_page", None)
        if page is None or response.status_code != 200 or response.streaming or response.cookies:
            return
        headers = [(k, v) for k, v in response.items() if k != HEADER]
        _cache().set(key, (*page, headers), timeout())

    @staticmethod
    def _replay(request: HttpRequest, entry: tuple) -> HttpResponse:
        response = HttpResponse(entry[HTML], headers=entry[HEADERS])
        response[HEADER] = "hit"
        return get_conditional_response(
            request, etag=entry[ETAG], last_modified=int(entry[MODIFIED]), response=response
        )


# --- what changes what ---------------------------------------------------------------------


def connect() -> None:
    """Connect the receivers that keep cached pages current (WebConfig.ready)."""
    from django.db.models.signals import post_delete, post_save

    from newsdesk.articles.models import Article, Enrichment
    from newsdesk.comments.signals import comments_changed
    from newsdesk.images.models import ArticleImage
    from newsdesk.stories.models import Story
    from newsdesk.stories.signals import stories_changed

    for signal in (post_save, post_delete):
        signal.connect(_article_saved, sender=Article, dispatch_uid=f"pagecache-article-{signal}")
        signal.connect(_part_saved, sender=Enrichment, dispatch_uid=f"pagecache-enrichment-{signal}")
        signal.connect(_part_saved, sender=ArticleImage, dispatch_uid=f"pagecache-image-{signal}")
        signal.connect(_story_saved, sender=Story, dispatch_uid=f"pagecache-story-{signal}")
    comments_changed.connect(_comments_changed, dispatch_uid="pagecache-comments")
    stories_changed.connect(_stories_changed, dispatch_uid="pagecache-stories")


def _article_saved(sender: type[Model], instance: Model, **kwargs: object) -> None:
    bump([article_scope(instance.pk), HOME])


def _part_saved(sender: type[Model], instance: Model, **kwargs: object) -> None:
    # Hashtags are stored in the same transaction as the enrichment (bulk_create sends
    # no signal), so the enrichment's save covers them.
    bump([article_scope(instance.article_id), HOME])


def _story_saved(sender: type[Model], instance: Model, **kwargs: object) -> None:
    bump([HOME])


def _comments_changed(sender: object, article_id: int, **kwargs: object) -> None:
    bump([article_scope(article_id)])


def _stories_changed(sender: object, article_ids: Iterable[int], **kwargs: object) -> None:
    bump([*(article_scope(pk) for pk in article_ids), HOME])
