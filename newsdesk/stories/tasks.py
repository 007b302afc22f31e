"""The stories' stage of the ingest chain: place enriched articles in stories.

Registered with `newsdesk.pipeline.chain` by the stories app, after enrichment (it needs
the embedding). The task's module path names it in queued rows.
"""

from __future__ import annotations

from datetime import datetime

try:  # Django >= 6.0
    from django.tasks import task
except ImportError:  # Django 5.2 with the django-tasks backport
    from django_tasks import task

from newsdesk.articles.models import Article
from newsdesk.pipeline import chain
from newsdesk.pipeline.tasks import STORY_PRIORITY
from newsdesk.stories import assign, index


@task(priority=STORY_PRIORITY)
def place_in_stories_task(article_ids: list[int]) -> int:
    """Fold copies, join or start stories, and index the vectors for related articles."""
    return chain.hand_on("place", article_ids)


def _place(article_ids: list[int]) -> chain.Done:
    """`count` is how many articles were placed in a story; those are handed on to a stage
    registered after this one (none of the built-ins)."""
    placed = assign.place_articles(article_ids)
    index.add_articles(article_ids)
    return chain.Done(len(placed), list(placed))


def _unplaced(since: datetime, before: datetime) -> list[int]:
    """Enriched in [since, before) and in no story: their placement task was lost."""
    return list(
        Article.objects.filter(
            enrichment__isnull=False,
            story_member__isnull=True,
            enrichment__enriched_at__gte=since,
            enrichment__enriched_at__lt=before,
        ).values_list("pk", flat=True)[:1000]
    )


PLACE = chain.Stage("place", order=20, run=_place, task=place_in_stories_task, stranded=_unplaced, batch=64)
