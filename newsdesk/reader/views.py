"""The reader's own pages (Unread, Saved, History, Following, App passwords) and the
buttons that change them.

Every change is a plain POST form with a CSRF token that redirects back (`next`, when it
is a path on this site), so it works without JavaScript (with htmx, the follow and save
buttons are answered with themselves again, swapped in place); doing it twice changes nothing
the second time; a reader over the action limit (limits.py) gets a 429 page. Every page
here is for signed-in readers only and is sent `private, no-store`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from newsdesk.accounts.ratelimit import wait_text
from newsdesk.articles.models import Article
from newsdesk.reader import (
    app_passwords,
    buttons,
    follows,
    foryou,
    fragments,
    interests,
    new_since,
    nudges,
    saved,
    state,
)
from newsdesk.reader.limits import action_wait
from newsdesk.reader.models import AppPassword, Follow, HistoryEntry, Interest, Saved
from newsdesk.sources.models import Source

PAGE_SIZE = 30
MAX_IDS = 200  # article ids one "mark as read" form may carry

View = Callable[..., HttpResponse]


def _signed_in(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return never_cache(wrapper)


def _change(view: View) -> View:
    """A POST by a signed-in reader under the action limit."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if wait := action_wait(request.user):
            response = render(request, "reader/limited.html", {"wait": wait_text(wait)}, status=429)
            response["Retry-After"] = str(wait)
            return response
        return view(request, *args, **kwargs)

    return _signed_in(require_POST(wrapper))


def _back(request: HttpRequest, default: str) -> HttpResponseRedirect:
    target = request.POST.get("next", "")
    if not target or not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = default
    return HttpResponseRedirect(target)


def _ids(request: HttpRequest) -> list[int]:
    return [int(value) for value in request.POST.getlist("i")[:MAX_IDS] if value.isdigit() and len(value) < 19]


def _page(request: HttpRequest, items: Any) -> Any:
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


# --- pages ---------------------------------------------------------------------------


@require_safe
@_signed_in
def unread(request: HttpRequest) -> HttpResponse:
    """New articles from the sources the reader follows."""
    page = _page(request, state.followed_unread(request.user).select_related("source"))
    context = {"page": page, "now": timezone.now(), "following": Follow.objects.filter(user=request.user).exists()}
    return render(request, "reader/unread.html", context)


@require_safe
@_signed_in
def saved_page(request: HttpRequest) -> HttpResponse:
    items = Saved.objects.filter(user=request.user).select_related("article__source").order_by("-saved_at", "-pk")
    return render(request, "reader/saved.html", {"page": _page(request, items)})


@require_safe
@_signed_in
def history(request: HttpRequest) -> HttpResponse:
    items = HistoryEntry.objects.filter(user=request.user).select_related("article__source")
    context = {"page": _page(request, items.order_by("-opened_at", "-pk")), "keep": state.history_on(request.user)}
    return render(request, "reader/history.html", context)


@require_safe
@_signed_in
def following(request: HttpRequest) -> HttpResponse:
    """Everything the reader follows, with its unread or new count, and what they muted."""
    counted = new_since.counts(request.user)
    rows = {f.source.slug: f for f in Follow.objects.filter(user=request.user).select_related("source")}
    sources = []
    for item in counted:
        if item.kind == "source" and item.key in rows:
            rows[item.key].unread = item.count
            rows[item.key].unread_shown = item.shown
            sources.append(rows[item.key])
    muted = Interest.objects.filter(user=request.user, muted=True).order_by("kind", "label")
    context = {
        "follows": sources,
        "groups": [
            (kind, title, [c for c in counted if c.kind == kind])
            for kind, title in (
                (Interest.Kind.HASHTAG, "Hashtags"),
                (Interest.Kind.SECTION, "Sections"),
                (Interest.Kind.STORY, "Stories"),
                (Interest.Kind.SEARCH, "Saved searches"),
            )
        ],
        "muted": [(row, interests.url_of(row.kind, row.key)) for row in muted],
        "max_word": interests.MAX_WORD,
    }
    return render(request, "reader/following.html", context)


@require_safe
@_signed_in
def for_you(request: HttpRequest) -> HttpResponse:
    """The reader's own front page (foryou.py)."""
    page = foryou.for_you(request.user)
    return render(request, "reader/foryou.html", {"page": page, "next": request.get_full_path()})


@require_safe
def for_you_how(request: HttpRequest) -> HttpResponse:
    """How For You ranks, with the numbers the code uses (no reader's data: public)."""
    context = {
        "weights": foryou.WEIGHTS,
        "window_days": foryou.WINDOW.days,
        "per_follow": foryou.PER_FOLLOW,
        "per_publisher": foryou.PER_PUBLISHER,
        "page_size": foryou.PAGE,
        "half_life": foryou.HALF_LIFE_HOURS,
        "neighbours": foryou.NEIGHBOURS,
        "min_similarity": foryou.MIN_SIMILARITY,
        "top_stories": foryou.TOP_STORIES,
        "searches": foryou.SEARCHES,
    }
    return render(request, "reader/foryou_how.html", context)


@_signed_in
def apps(request: HttpRequest) -> HttpResponse:
    """The reader's app passwords; POST creates one and shows it, once."""
    created = None
    if request.method == "POST":
        if wait := action_wait(request.user):
            response = render(request, "reader/limited.html", {"wait": wait_text(wait)}, status=429)
            response["Retry-After"] = str(wait)
            return response
        if AppPassword.objects.filter(user=request.user).count() >= app_passwords.MAX_PER_USER:
            return render(request, "reader/limited.html", {"too_many": app_passwords.MAX_PER_USER}, status=400)
        row, plain = app_passwords.create(request.user, request.POST.get("name", ""))
        created = {"row": row, "password": plain}
    elif request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD, POST"})
    context = {
        "passwords": AppPassword.objects.filter(user=request.user).order_by("-created_at", "-pk"),
        "created": created,
        "api_url": request.build_absolute_uri("/api/greader.php"),
        "fever_url": request.build_absolute_uri("/api/fever.php"),
    }
    return render(request, "reader/apps.html", context, status=201 if created else 200)


# --- changes -------------------------------------------------------------------------


def _htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    return target if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()) else ""


def _follow_done(request: HttpRequest, source: Source) -> HttpResponse:
    """htmx: the button again, swapped in place; otherwise back to the page."""
    if _htmx(request):
        context = fragments.follow_context(request.user, source, _next(request))
        return render(request, fragments.FOLLOW, context)
    return _back(request, reverse("source", args=[source.slug]))


def _save_done(request: HttpRequest, article: Article) -> HttpResponse:
    if _htmx(request):
        context = fragments.article_context(request.user, article, _next(request))
        return render(request, fragments.ARTICLE, context)
    return _back(request, reverse("reader:saved"))


@_change
def follow(request: HttpRequest, slug: str) -> HttpResponse:
    source = get_object_or_404(Source, slug=slug)
    category = request.POST.get("category")
    follows.follow(request.user, source, category.strip() if category is not None else None)
    return _follow_done(request, source)


@_change
def unfollow(request: HttpRequest, slug: str) -> HttpResponse:
    source = get_object_or_404(Source, slug=slug)
    follows.unfollow(request.user, source)
    return _follow_done(request, source)


@_change
def save(request: HttpRequest, pk: int) -> HttpResponse:
    article = get_object_or_404(Article, pk=pk)
    note = request.POST.get("note")
    saved.save(request.user, article, note.strip() if note is not None else None)
    return _save_done(request, article)


@_change
def unsave(request: HttpRequest, pk: int) -> HttpResponse:
    saved.unsave(request.user, [pk])
    article = Article.objects.filter(pk=pk).first()
    if article is None:
        return _back(request, reverse("reader:saved"))
    return _save_done(request, article)


@_change
def mark_read(request: HttpRequest) -> HttpResponse:
    """The listed articles (i=...), or with all=1 everything followed up to `ts` (the
    time the page was shown: what arrived since stays unread)."""
    if request.POST.get("all"):
        try:
            before = datetime.fromisoformat(request.POST.get("ts", ""))
        except ValueError:
            before = timezone.now()
        if timezone.is_naive(before):
            before = timezone.make_aware(before, timezone.get_default_timezone())
        state.mark_all_read(request.user, Follow.objects.filter(user=request.user), min(before, timezone.now()))
    else:
        state.mark_read(request.user, _ids(request))
    return _back(request, reverse("reader:unread"))


@_change
def mark_unread(request: HttpRequest) -> HttpResponse:
    state.mark_unread(request.user, _ids(request))
    return _back(request, reverse("reader:unread"))


@_change
def clear_history(request: HttpRequest) -> HttpResponse:
    state.clear_history(request.user, forget_read=bool(request.POST.get("forget_read")))
    return _back(request, reverse("reader:history"))


@_change
def switch_history(request: HttpRequest) -> HttpResponse:
    state.set_history(request.user, request.POST.get("keep") == "on")
    return _back(request, reverse("reader:history"))


@_change
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    app_passwords.revoke(request.user, pk)
    return _back(request, reverse("reader:apps"))


def _problem(request: HttpRequest, message: str) -> HttpResponse:
    """A change that cannot be made: said plainly, with the way back; nothing changed."""
    return render(request, "reader/problem.html", {"message": message, "back": _next(request)}, status=400)


INTEREST_CHANGES = {
    "follow": interests.follow,
    "unfollow": interests.unfollow,
    "mute": interests.mute,
    "unmute": interests.unmute,
}


@_change
def interest(request: HttpRequest) -> HttpResponse:
    """Follow, unfollow, mute or unmute one thing (kind, key, do): answered with its
    buttons again for htmx, else back to the page it was done from."""
    change = INTEREST_CHANGES.get(request.POST.get("do", ""))
    if change is None:
        return _problem(request, "Say what to do: follow, unfollow, mute or unmute.")
    try:
        target = change(request.user, request.POST.get("kind", ""), request.POST.get("key", ""))
    except interests.InterestError as error:
        return _problem(request, str(error))
    if _htmx(request):
        context = buttons.interest_context(request.user, target, _next(request), request.POST.get("show", ""))
        return render(request, buttons.INTEREST, context)
    return _back(request, reverse("reader:following"))


@_change
def nudge(request: HttpRequest, pk: int) -> HttpResponse:
    """ "More like this", "less like this", undo, or hide the article's publisher (a
    mute, answered for htmx with the mute's own buttons), on an article of For You."""
    article = get_object_or_404(Article.objects.select_related("source").only("pk", "title", "source__slug"), pk=pk)
    what = request.POST.get("do", "")
    if what == "hide":
        try:
            target = interests.mute(request.user, "source", article.source.slug)
        except interests.InterestError as error:
            return _problem(request, str(error))
        if _htmx(request):
            return render(
                request, buttons.INTEREST, buttons.interest_context(request.user, target, _next(request), "mute")
            )
        return _back(request, reverse("reader:for-you"))
    if what not in ("more", "less", "undo"):
        return _problem(request, "Say what to do: more, less, undo or hide.")
    nudges.put(request.user, article, None if what == "undo" else what == "more")
    if _htmx(request):
        context = buttons.nudge_context(request.user, article, _next(request))
        return render(request, buttons.NUDGE, context)
    return _back(request, reverse("reader:for-you"))
