"""What the article page needs from stories: its story and the related articles.

The web layer calls `article_context(article)` and includes `stories/_story_box.html`
and `stories/_related.html`; everything about how they are chosen stays in this app.
"""

from __future__ import annotations

from newsdesk.articles.models import Article


def article_context(article: Article) -> dict:
    """`story` (or None), `story_sources` and `related` for the article page.

    A story of one article is not shown: "full coverage" of a single source says nothing.
    """
    from newsdesk.sources.models import Source
    from newsdesk.stories.models import Story
    from newsdesk.stories.related_db import related_for

    story = Story.objects.filter(members__article=article, merged_into__isnull=True, article_count__gte=2).first()
    sources = list(Source.objects.filter(articles__story_member__story=story).distinct().order_by("name")[:12]) if story else []
    return {"story": story, "story_sources": sources, "related": related_for(article)}


def top_stories(limit: int = 10, *, hours: float = 48.0):
    """Stories ranked by how many publishers cover them and how fresh they are.

    Score = distinct publishers / (1 + age in hours / 12)^1.2 over stories seen in the
    last `hours`: a story from five publishers an hour ago beats one from six yesterday.
    """
    from datetime import timedelta

    from django.utils import timezone

    from newsdesk.stories.models import Story

    now = timezone.now()
    recent = Story.objects.filter(merged_into__isnull=True, last_seen__gte=now - timedelta(hours=hours),
                                  article_count__gte=2).order_by("-publisher_count", "-last_seen")[: limit * 5]

    def score(story) -> float:
        age = max(0.0, (now - story.last_seen).total_seconds() / 3600)
        return story.publisher_count / (1 + age / 12) ** 1.2

    return sorted(recent, key=score, reverse=True)[:limit]
