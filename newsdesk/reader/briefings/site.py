"""The daily site briefing: the day's top stories, each in two or three sentences from
several publishers, every sentence citing its article.

The stories are the home page's top stories of the last day (stories/pages.py), the
sentences each story's own multi-source summary (kept current by stories/refresh.py as
coverage arrives), topped up from its coverage when the summary has fewer than two.
One row per day (in the site's time zone), refreshed by the mail planner at most
every REFRESH; readers' pages, feeds and emails read it, never recompute it.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from newsdesk.ai.terms import content_terms
from newsdesk.articles.models import Article
from newsdesk.reader.briefings import sentences
from newsdesk.reader.briefings.models import SiteBriefing
from newsdesk.reader.briefings.mutes import Facts, Mutes
from newsdesk.stories.models import NearDuplicate
from newsdesk.stories.pages import top_stories

REFRESH = timedelta(hours=1)
MIN_SENTENCES = 2
MAX_SENTENCES = 3
REPEAT = 0.7  # share of a sentence's content words found in an earlier one that makes it a repeat


def build() -> list[dict]:
    """The briefing's stories as they stand now."""
    stories = top_stories(settings.NEWSDESK_BRIEFING_STORIES, hours=24)
    cited = {s["article"] for story in stories for s in story.summary[:MAX_SENTENCES]}
    articles = Article.objects.select_related("source").only("title", "source__name", "source__slug").in_bulk(cited)
    made = []
    for story in stories:
        lines = [
            {
                "text": s["text"],
                "article": s["article"],
                "source": articles[s["article"]].source.name,
                "source_slug": articles[s["article"]].source.slug,
                "title": articles[s["article"]].title,
            }
            for s in story.summary[:MAX_SENTENCES]
            if s.get("article") in articles
        ]
        lines = _distinct(lines)
        if len(lines) < MIN_SENTENCES:
            lines = _distinct(_from_coverage(story.pk, lines))
        if not lines:
            continue
        made.append(
            {
                "story": story.pk,
                "title": story.title,
                "publishers": story.publisher_count,
                "articles": story.article_count,
                "hashtags": list(story.hashtags),
                "last_seen": story.last_seen.isoformat(),
                "sentences": lines,
            }
        )
    return made


def _distinct(lines: list[dict]) -> list[dict]:
    """Leave out a sentence that mostly repeats an earlier one (the same wire copy
    reworded by two publishers): a briefing has room for three."""
    kept: list[tuple[dict, set[str]]] = []
    for line in lines:
        terms = set(content_terms(line["text"], "en"))
        if any(terms and other and len(terms & other) >= REPEAT * min(len(terms), len(other)) for _, other in kept):
            continue
        kept.append((line, terms))
    return [line for line, _ in kept]


def _from_coverage(story_id: int, lines: list[dict]) -> list[dict]:
    members = (
        Article.objects.filter(story_member__story_id=story_id)
        .exclude(pk__in=NearDuplicate.objects.values("article_id"))
        .select_related("source", "enrichment")
        .order_by("-published_at")[:20]
    )
    have = {line["text"] for line in lines}
    for cited in sentences.choose(members, MAX_SENTENCES):
        if cited.text not in have and len(lines) < MAX_SENTENCES:
            lines.append(cited.as_dict())
    return lines


def today() -> date:
    return timezone.localdate()


def current(*, refresh: bool = False) -> SiteBriefing:
    """Today's briefing: made when there is none yet, and again when `refresh` and the
    stored one is older than REFRESH."""
    day = today()
    found = SiteBriefing.objects.filter(day=day).first()
    if found is not None and not (refresh and found.made_at < timezone.now() - REFRESH):
        return found
    stories = build()
    if found is not None:
        SiteBriefing.objects.filter(pk=found.pk).update(stories=stories, made_at=timezone.now())
        found.stories, found.made_at = stories, timezone.now()
        return found
    try:
        with transaction.atomic():
            return SiteBriefing.objects.create(day=day, stories=stories)
    except IntegrityError:  # made at the same moment by another process
        return SiteBriefing.objects.get(day=day)


def recent(days: int = 14) -> list[SiteBriefing]:
    return list(SiteBriefing.objects.filter(day__gt=today() - timedelta(days=days)).order_by("-day"))


def for_reader(stories: list[dict], mutes: Mutes) -> list[dict]:
    """The briefing as one reader sees it: stories under a muted hashtag or word gone,
    sentences from a muted source gone (and a story left without any)."""
    if not mutes:
        return stories
    shown = []
    for story in stories:
        if mutes.hashtags & set(story.get("hashtags", ())):
            continue
        title = Facts.of(0, "", "", (), story["title"])
        if mutes.hides(title):
            continue
        lines = [s for s in story["sentences"] if s.get("source_slug") not in mutes.sources]
        if lines:
            shown.append({**story, "sentences": lines})
    return shown
