"""Story pages ("full coverage") and the moderator's corrections to them."""

from __future__ import annotations

from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from newsdesk.articles.models import Article, Hashtag
from newsdesk.images.models import ArticleImage, shown_image
from newsdesk.stories import moderation
from newsdesk.stories.models import NearDuplicate, Story, StoryEvent
from newsdesk.stories.pages import story_pictures

PAGE_SIZE = 30


def story_list(request: HttpRequest) -> HttpResponse:
    stories = Story.objects.filter(merged_into__isnull=True, article_count__gte=2).order_by("-last_seen")
    page = Paginator(stories, PAGE_SIZE).get_page(request.GET.get("page"))
    pictures = story_pictures(list(page))
    rows = [{"story": story, "image": pictures.get(story.pk)} for story in page]
    return render(request, "stories/list.html", {"page": page, "rows": rows})


def story(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Story, pk=pk)
    if item.merged_into_id:
        return redirect("story", pk=_final(item).pk, permanent=False)
    members = list(
        Article.objects.filter(story_member__story=item)
        .select_related("source", "enrichment", "image")
        .defer("body_html")
        .order_by("-published_at", "-pk")
    )
    copies: dict[int, list[Article]] = defaultdict(list)
    by_id = {a.pk: a for a in members}
    for link in NearDuplicate.objects.filter(article__in=members):
        if link.original_id in by_id:
            copies[link.original_id].append(by_id[link.article_id])
    folded = {a.pk for group in copies.values() for a in group}
    coverage = [{"article": a, "copies": copies.get(a.pk, [])} for a in members if a.pk not in folded]
    publishers = sorted({a.source for a in members}, key=lambda s: s.name.lower())
    countries = sorted({s.country for s in publishers if s.country})
    hashtags = sorted(Hashtag.objects.filter(slug__in=item.hashtags), key=lambda h: item.hashtags.index(h.slug))
    sources_of = {a.pk: a.source for a in members}
    summary = [
        {"text": s["text"], "article": by_id.get(s["article"]), "source": sources_of.get(s["article"])}
        for s in item.summary
    ]
    context = {
        "story": item,
        "picture": _picture(item, members),
        "coverage": coverage,
        "publishers": publishers,
        "countries": countries,
        "hashtags": hashtags,
        "summary": summary,
        "can_moderate": request.user.has_perm("stories.change_story"),
        "events": item.events.select_related("other", "by")[:20]
        if request.user.has_perm("stories.change_story")
        else [],
    }
    return render(request, "stories/story.html", context)


def _picture(story: Story, members: list[Article]) -> ArticleImage | None:
    """The story's picture: its representative's stored lead image, else the newest
    member's that has one (members come newest first)."""
    shown = [a for a in members if shown_image(a) is not None]
    first = next((a for a in shown if a.pk == story.representative_id), shown[0] if shown else None)
    return first.image if first is not None else None


def _final(story: Story) -> Story:
    seen = set()
    while story.merged_into_id and story.pk not in seen:
        seen.add(story.pk)
        story = story.merged_into
    return story


@require_POST
@permission_required("stories.change_story", raise_exception=True)
def moderate(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Story, pk=pk)
    action = request.POST.get("action")
    try:
        if action == "detach":
            article = get_object_or_404(Article, pk=request.POST.get("article"), story_member__story=item)
            new = moderation.detach(article, by=request.user)
            messages.success(request, f"“{article.title}” now stands in a story of its own.")
            _ = new
        elif action == "merge":
            other = get_object_or_404(Story, pk=request.POST.get("other"))
            moderation.merge(item, other, by=request.user)
            messages.success(request, f"Merged story {other.pk} into this one.")
        elif action == "undo":
            event = get_object_or_404(StoryEvent, pk=request.POST.get("event"), story=item)
            moderation.undo(event, by=request.user)
            messages.success(request, "Step undone.")
        else:
            messages.error(request, "Unknown action.")
    except (moderation.ModerationError, ValueError) as error:
        messages.error(request, str(error))
    return redirect("story", pk=item.pk)
