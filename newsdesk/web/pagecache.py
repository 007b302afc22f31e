"""Rendered pages for anonymous readers, kept until what they show changes.

What is cached: the HTML of the article page and of the home page (each page of it),
for GET and HEAD requests by readers who are not logged in and have no message waiting,
whose query string is empty or only `?page=N`. Logged-in readers see their own name,
their comments awaiting moderation and moderator buttons, so their pages are always
rendered fresh.

Invalidation: every cached page belongs to a scope ("article:42", "home") whose current
version is a row of `PageVersion` (0 while it has none); a page is stored under the
version it was rendered at, so a new version makes the next request a miss. Versions
change, after the transaction commits, when an article or its enrichment is saved or
deleted, when its comments change (`newsdesk.comments.signals.comments_changed`), when
its story or related articles change (`newsdesk.stories.signals.stories_changed`), and
the home page's also when articles or stories are saved. The versions live in the
database because the default cache is per process (LocMemCache unless REDIS_URL is
set) while most changes happen in task workers: a bump in a worker's cache would never
reach the web processes. A hit costs one indexed read and no write. The page bodies
live in the default cache; `NEWSDESK_PAGE_CACHE_SECONDS` (120 by default, 0 turns the
cache off) bounds how long the ages on a page ("16 minutes ago") may lag.

CSRF: the article page has a POST form (ask the article) for anonymous readers too. A
page is never cached with a token in it: it is rendered with a constant placeholder in
place of `{% csrf_token %}`'s value, and every response, cached or not, gets a freshly
masked token for this request put in its place (`get_token`, which also makes the CSRF
middleware send the matching cookie). So every reader's form carries a token that
matches their own cookie, whether or not the HTML came from the cache.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.cache import patch_cache_control
from django.utils.crypto import salted_hmac

LOGGER = logging.getLogger(__name__)

HOME = "home"
HEADER = "X-Page-Cache"  # "hit", "miss" or "bypass": for tests and operators



def csrf_placeholder() -> str:
    """Stands in for the CSRF token in rendered pages: the same in every process (the
    cache may be shared) and unguessable by publishers or commenters."""
    return "csrf-" + salted_hmac("newsdesk.web.pagecache", "csrf-placeholder").hexdigest()


def article_scope(pk: int) -> str:
    return f"article:{pk}"


def timeout() -> int:
    return int(getattr(settings, "NEWSDESK_PAGE_CACHE_SECONDS", 120))


def _cache():
    return caches[getattr(settings, "NEWSDESK_PAGE_CACHE", "default")]


# --- versions -----------------------------------------------------------------------------


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


def version(scope: str) -> int:
    """The scope's current version; 0 until something has changed it. No write on the
    read path: a row only appears when a change bumps it (with a random non-zero value,
    so pages cached under 0 are never served once it exists)."""
    from newsdesk.web.models import PageVersion

    return PageVersion.objects.filter(scope=scope).values_list("version", flat=True).first() or 0


# --- pages --------------------------------------------------------------------------------


def render_html(request: HttpRequest, template: str, context: dict) -> str:
    """A page with the CSRF placeholder in place of any token (see `respond`)."""
    return render_to_string(template, {**context, "csrf_token": csrf_placeholder()}, request)


def respond(request: HttpRequest, html: str, *, state: str, status: int = 200) -> HttpResponse:
    placeholder = csrf_placeholder()
    if placeholder in html:
        html = html.replace(placeholder, get_token(request))
    response = HttpResponse(html, status=status)
    response[HEADER] = state
    patch_cache_control(response, private=True)  # per reader: a CSRF cookie and token
    return response


def cacheable(request: HttpRequest) -> bool:
    if timeout() <= 0 or request.method not in ("GET", "HEAD"):
        return False
    if request.user.is_authenticated:
        return False
    if getattr(settings, "MESSAGE_COOKIE_NAME", "messages") in request.COOKIES:
        return False  # a message waits to be shown: render for this reader alone
    params = list(request.GET.lists())
    return not params or (len(params) == 1 and params[0][0] == "page" and len(params[0][1]) == 1
                          and params[0][1][0].isdigit() and len(params[0][1][0]) < 6)


def _key(request: HttpRequest, scope: str, current: int) -> str:
    where = f"{request.scheme}://{request.get_host()}{request.get_full_path()}"
    digest = hashlib.sha256(where.encode()).hexdigest()[:32]
    return f"newsdesk:page:{scope}:{current}:{digest}"


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
    key = _key(request, scope, current)
    html = _cache().get(key)
    if html is not None:
        return respond(request, html, state="hit")
    html = build()
    _cache().set(key, html, timeout())
    return respond(request, html, state="miss")


# --- what changes what ---------------------------------------------------------------------


def connect() -> None:
    """Connect the receivers that keep cached pages current (WebConfig.ready)."""
    from django.db.models.signals import post_delete, post_save

    from newsdesk.articles.models import Article, Enrichment
    from newsdesk.comments.signals import comments_changed
    from newsdesk.stories.models import Story
    from newsdesk.stories.signals import stories_changed

    for signal in (post_save, post_delete):
        signal.connect(_article_saved, sender=Article, dispatch_uid=f"pagecache-article-{signal}")
        signal.connect(_part_saved, sender=Enrichment, dispatch_uid=f"pagecache-enrichment-{signal}")
        signal.connect(_story_saved, sender=Story, dispatch_uid=f"pagecache-story-{signal}")
    comments_changed.connect(_comments_changed, dispatch_uid="pagecache-comments")
    stories_changed.connect(_stories_changed, dispatch_uid="pagecache-stories")


def _article_saved(sender, instance, **kwargs) -> None:
    bump([article_scope(instance.pk), HOME])


def _part_saved(sender, instance, **kwargs) -> None:
    # Hashtags are stored in the same transaction as the enrichment (bulk_create sends
    # no signal), so the enrichment's save covers them.
    bump([article_scope(instance.article_id), HOME])


def _story_saved(sender, instance, **kwargs) -> None:
    bump([HOME])


def _comments_changed(sender, article_id: int, **kwargs) -> None:
    bump([article_scope(article_id)])


def _stories_changed(sender, article_ids: Iterable[int], **kwargs) -> None:
    bump([*(article_scope(pk) for pk in article_ids), HOME])
