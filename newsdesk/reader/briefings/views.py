"""The briefing, notification and settings pages, and the unsubscribe link.

Every page is the signed-in reader's own (`private, no-store`, never page-cached) and
every change is a POST with CSRF under the reader's action limit, done twice changing
nothing the second time (the reader's `_signed_in` and `_change`). Two things work
without a session, each on a signed value in its URL (tokens.py): the private feed
(feeds.py) and the unsubscribe link, which mail clients POST to without cookies or a
CSRF token (RFC 8058 one-click); its GET shows a button and changes nothing, because
mail scanners follow links.
"""

from __future__ import annotations

from datetime import date, datetime

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from newsdesk.reader.briefings import mutes as mute_rules
from newsdesk.reader.briefings import notifications, personal, preferences, site, tokens
from newsdesk.reader.briefings.forms import SettingsForm
from newsdesk.reader.briefings.mail import unsubscribe as stop_mail
from newsdesk.reader.briefings.models import BriefingSettings, SiteBriefing
from newsdesk.reader.views import _back, _change, _htmx, _ids, _signed_in

PAGE_SIZE = 30


def _shown_at(request: HttpRequest) -> datetime:
    """The `ts` a page put in its form: when it was shown (never later than now)."""
    try:
        value = datetime.fromisoformat(request.POST.get("ts", ""))
    except ValueError:
        return timezone.now()
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_default_timezone())
    return min(value, timezone.now())


def _cited(stories: list[dict]) -> list[dict]:
    """Stored sentences with the links a page needs."""
    return [
        {
            **story,
            "url": reverse("story", args=[story["story"]]),
            "last_seen": datetime.fromisoformat(story["last_seen"]) if story.get("last_seen") else None,
            "since": datetime.fromisoformat(story["since"]) if story.get("since") else None,
            "latest": datetime.fromisoformat(story["latest"]) if story.get("latest") else None,
            "sentences": [{**s, "url": reverse("article", args=[s["article"]])} for s in story["sentences"]],
            "headlines": [{**h, "url": reverse("article", args=[h["article"]])} for h in story.get("headlines", [])],
        }
        for story in stories
    ]


def feed_urls(request: HttpRequest, choice: BriefingSettings) -> dict[str, str]:
    if not choice.feed_on:
        return {}
    token = tokens.feed_token(choice.user_id, choice.feed_version)
    return {
        "rss": request.build_absolute_uri(reverse("briefings:feed-rss", args=[token])),
        "atom": request.build_absolute_uri(reverse("briefings:feed-atom", args=[token])),
    }


@require_safe
@_signed_in
def briefing(request: HttpRequest) -> HttpResponse:
    """Today's site briefing and what is new on the reader's stories."""
    user_id = request.user.pk
    mutes = mute_rules.of_user(user_id)
    today = site.current()
    choice = preferences.of_user(user_id)
    context = {
        "day": today.day,
        "made_at": today.made_at,
        "stories": _cited(site.for_reader(today.stories, mutes)),
        "updates": _cited(personal.whats_new(user_id, mutes=mutes)),
        "following": len(personal.followed(user_id)),
        "now": timezone.now(),
        "choice": choice,
        "feeds": feed_urls(request, choice),
        "earlier": SiteBriefing.objects.filter(day__lt=today.day).order_by("-day").values_list("day", flat=True)[:7],
    }
    return render(request, "briefings/briefing.html", context)


@require_safe
@_signed_in
def briefing_day(request: HttpRequest, day: str) -> HttpResponse:
    """An earlier day's site briefing, as it stood at the end of that day."""
    try:
        when = date.fromisoformat(day)
    except ValueError as error:
        raise Http404("No briefing for that day.") from error
    found = SiteBriefing.objects.filter(day=when).first()
    if found is None:
        raise Http404("No briefing for that day.")
    stories = _cited(site.for_reader(found.stories, mute_rules.of_user(request.user.pk)))
    return render(
        request, "briefings/briefing_day.html", {"day": found.day, "made_at": found.made_at, "stories": stories}
    )


@_change
def briefing_seen(request: HttpRequest) -> HttpResponse:
    """The reader has read what is new on their stories, as the page showed it."""
    shown = [int(i) for i in request.POST.getlist("story") if i.isdigit() and len(i) < 19]
    personal.mark_seen(request.user.pk, shown, _shown_at(request))
    return _back(request, reverse("briefings:briefing"))


@require_safe
@_signed_in
def notification_list(request: HttpRequest) -> HttpResponse:
    found = notifications.listing(request.user.pk)
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "items": notifications.describe(list(page.object_list)),
        "unread": sum(1 for f in found if f.unread),
        "now": timezone.now(),
        "choice": preferences.of_user(request.user.pk),
    }
    return render(request, "briefings/notifications.html", context)


@_change
def notifications_read(request: HttpRequest) -> HttpResponse:
    """The listed notifications (i=...), or with all=1 every one shown up to `ts`."""
    if request.POST.get("all"):
        notifications.mark_read(request.user.pk, before=_shown_at(request))
    else:
        ids = _ids(request)
        notifications.mark_read(request.user.pk, ids)
        if _htmx(request) and len(ids) == 1:
            found = notifications.describe(notifications.listing(request.user.pk, ids=ids))
            if not found:  # nothing left to show of it: the item goes
                return HttpResponse("")
            return render(request, "briefings/_notification.html", {"item": found[0]})
    return _back(request, reverse("briefings:notifications"))


@_signed_in
def settings_page(request: HttpRequest) -> HttpResponse:
    """Briefing and alert email choices, the reader's address and the private feed."""
    choice = preferences.of_user(request.user.pk)
    if request.method == "POST":
        return _save_settings(request, choice)
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD, POST"})
    form = SettingsForm(initial=SettingsForm.initial_for(request.user, choice))
    return _settings(request, form, choice)


def _settings(request: HttpRequest, form: SettingsForm, choice: BriefingSettings, status: int = 200) -> HttpResponse:
    context = {
        "form": form,
        "choice": choice,
        "feeds": feed_urls(request, choice),
        "site_zone": timezone.get_default_timezone_name(),
    }
    return render(request, "briefings/settings.html", context, status=status)


@_change
def _save_settings(request: HttpRequest, choice: BriefingSettings) -> HttpResponse:
    form = SettingsForm(request.POST)
    if not form.is_valid():
        return _settings(request, form, choice, status=400)
    form.save(request.user, choice)
    messages.success(request, "Your email choices are saved.")
    return HttpResponseRedirect(reverse("briefings:settings"))


@_change
def feed_token(request: HttpRequest) -> HttpResponse:
    """A new private feed address (the old one stops working), or none (off)."""
    choice = preferences.of_user(request.user.pk)
    action = request.POST.get("action")
    if action == "off" and choice.feed_on:
        preferences.save(choice, feed_on=False, feed_version=choice.feed_version + 1)
        messages.success(request, "Your briefing feed is off; its address no longer works.")
    elif action == "new":
        preferences.save(choice, feed_on=True, feed_version=choice.feed_version + 1)
        messages.success(request, "Your briefing feed has a new address; any older one no longer works.")
    return HttpResponseRedirect(reverse("briefings:settings") + "#feed")


@never_cache
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    found = tokens.read_unsubscribe_token(token)
    User = get_user_model()
    user = User.objects.filter(pk=found[0]).first() if found else None
    if found is None or user is None:
        return render(request, "briefings/unsubscribe.html", {"invalid": True}, status=404)
    kind = found[1]
    done = False
    if request.method == "POST":
        stop_mail(user.pk, kind)
        done = True
    context = {"kind": kind, "done": done, "token": token, "email": user.email}
    return render(request, "briefings/unsubscribe.html", context)
