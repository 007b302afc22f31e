"""The staff's desk pages: add a source (a URL, its feeds previewed, the chosen ones
subscribed), edit a source and its feeds, and review readers' suggestions.

Each change is a plain POST form (CSRF, the action limit, see access.py) that redirects
to a page, so it works without JavaScript; with htmx, the preview replaces the part of
the page under the address field while a busy note shows. Bad input comes back in the
form with what is wrong and with everything typed kept (400).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from newsdesk.desk import adding, suggestions
from newsdesk.desk.access import staff_change, staff_page
from newsdesk.desk.forms import DeclineForm, FeedForm, NewSourceForm, SourceForm, UrlForm
from newsdesk.desk.models import Suggestion
from newsdesk.sources.finder import AddError
from newsdesk.sources.models import Feed, Source
from newsdesk.sources.subscribe import change_feed, find_source

RECENT = 10  # decided suggestions shown under the waiting ones


def _sources() -> Any:
    return Source.objects.annotate(
        feed_count=Count("feeds", distinct=True),
        failing=Count("feeds", filter=Q(feeds__error_count__gt=0), distinct=True),
        disabled=Count("feeds", filter=Q(feeds__enabled=False), distinct=True),
    ).order_by("name", "pk")


def _known(items: list[Suggestion]) -> None:
    """Mark each waiting suggestion with the source its site already is, if any (no fetch)."""
    for item in items:
        item.known = find_source(item.url)


@staff_page
def index(request: HttpRequest) -> HttpResponse:
    waiting = suggestions.pending()
    _known(waiting)
    context = {
        "form": UrlForm(initial={"url": request.GET.get("url", "")}),
        "waiting": waiting,
        "decided": Suggestion.objects.exclude(status=Suggestion.Status.PENDING)
        .select_related("user", "source", "decided_by")
        .order_by("-decided_at", "-pk")[:RECENT],
        "sources": _sources(),
    }
    return render(request, "desk/index.html", context)


def _preview_page(request: HttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    summary = context.get("summary")
    if summary is not None:
        context.setdefault("token", adding.sign(summary))
        if summary.get("source") is None:
            context.setdefault("source_form", NewSourceForm(initial={"name": summary["name"]}))
        if summary.get("suggestion"):
            context["suggestion"] = Suggestion.objects.filter(pk=summary["suggestion"]).select_related("user").first()
        context["choosable"] = [feed for feed in summary["feeds"] if feed["choosable"]]
        context["feeds"] = [
            {**feed, "latest": [{**item, "when": _parse(item["when"])} for item in feed["latest"]]}
            for feed in summary["feeds"]
        ]
    return render(request, "desk/add.html", context, status=status)


def _parse(value: str | None) -> datetime | None:
    try:
        when = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


@staff_change
def preview(request: HttpRequest) -> HttpResponse:
    """Fetch the URL and its feeds and show them, to choose from."""
    form = UrlForm(request.POST)
    source = Source.objects.filter(slug=request.POST.get("source", "")).first()
    suggestion_id = request.POST.get("suggestion", "")
    suggestion = (
        Suggestion.objects.filter(pk=int(suggestion_id)).first()
        if suggestion_id.isdigit() and len(suggestion_id) < 19
        else None
    )
    context: dict[str, Any] = {"form": form, "for_source": source}
    if not form.is_valid():
        return _preview_page(request, context, status=400)
    try:
        summary = adding.preview(
            form.cleaned_data["url"], source=source, suggestion=suggestion.pk if suggestion else None
        )
    except AddError as error:
        context["problem"] = str(error)
        return _preview_page(request, context, status=200)
    context["summary"] = summary
    return _preview_page(request, context)


@staff_change
def subscribe(request: HttpRequest) -> HttpResponse:
    """Subscribe to the feeds chosen on a preview (nothing is fetched again)."""
    try:
        summary = adding.unsign(request.POST.get("token", ""))
    except adding.PreviewExpired:
        form = UrlForm(initial={"url": request.POST.get("url", "")})
        problem = "This preview is more than an hour old or was altered: find the feeds again."
        return _preview_page(request, {"form": form, "problem": problem}, status=400)
    chosen = request.POST.getlist("feed")
    source_form = NewSourceForm(request.POST) if summary.get("source") is None else None
    context: dict[str, Any] = {
        "form": UrlForm(initial={"url": summary["url"]}),
        "summary": summary,
        "token": request.POST.get("token", ""),
        "chosen": set(chosen),
        "source_form": source_form,
    }
    choosable = {feed["url"] for feed in summary["feeds"] if feed["choosable"]}
    picked = [url for url in chosen if url in choosable]
    if not picked and not (summary.get("source") and summary.get("suggestion")):
        context["problem"] = "Choose at least one feed to subscribe to."
        return _preview_page(request, context, status=400)
    if source_form is not None and not source_form.is_valid():
        return _preview_page(request, context, status=400)
    fields = source_form.cleaned_data if source_form is not None else {}
    done = adding.subscribe_chosen(summary, picked, fields, request.user)
    target = reverse("desk:source", args=[done.source.slug])
    return HttpResponseRedirect(f"{target}?added={done.created}")


def _source_page(
    request: HttpRequest, source: Source, *, form: SourceForm | None = None, feed_form: FeedForm | None = None
) -> dict[str, Any]:
    feeds = list(source.feeds.order_by("url"))
    forms = [
        feed_form if feed_form is not None and feed_form.feed.pk == feed.pk else FeedForm(feed=feed) for feed in feeds
    ]
    added = request.GET.get("added", "")
    return {
        "source": source,
        "form": form or SourceForm(instance=source, prefix="source"),
        "feeds": list(zip(feeds, forms)),
        "find_form": UrlForm(initial={"url": source.home_url}),
        "added": int(added) if added.isdigit() and len(added) < 6 else None,
        "saved": request.GET.get("saved", ""),
    }


@staff_page
def source(request: HttpRequest, slug: str) -> HttpResponse:
    item = get_object_or_404(Source, slug=slug)
    return render(request, "desk/source.html", _source_page(request, item))


@staff_change
def save_source(request: HttpRequest, slug: str) -> HttpResponse:
    item = get_object_or_404(Source, slug=slug)
    form = SourceForm(request.POST, instance=item, prefix="source")
    if form.is_valid():
        try:
            with transaction.atomic():
                saved = form.save()
        except IntegrityError:  # the slug taken at the same moment
            form.add_error("slug", "There is already a source with this slug.")
        else:
            return HttpResponseRedirect(reverse("desk:source", args=[saved.slug]) + "?saved=source")
    item.refresh_from_db()
    return render(request, "desk/source.html", _source_page(request, item, form=form), status=400)


@staff_change
def save_feed(request: HttpRequest, pk: int) -> HttpResponse:
    feed = get_object_or_404(Feed.objects.select_related("source"), pk=pk)
    form = FeedForm(request.POST, feed=feed)
    if form.is_valid():
        data = form.cleaned_data
        change_feed(feed, url=data["url"], title=data["title"], enabled=data["enabled"])
        try:
            with transaction.atomic():
                feed.save()
        except IntegrityError:
            form.add_error("url", "That address is already a feed.")
        else:
            return HttpResponseRedirect(reverse("desk:source", args=[feed.source.slug]) + f"?saved=feed-{feed.pk}")
    feed.refresh_from_db()
    context = _source_page(request, feed.source, feed_form=form)
    return render(request, "desk/source.html", context, status=400)


@staff_change
def decline(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Suggestion, pk=pk)
    form = DeclineForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    suggestions.decline(item, request.user, reason)
    return HttpResponseRedirect(reverse("desk:index") + "#suggestions")
