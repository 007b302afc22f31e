"""The alignment of a story's claims, queued when its membership changes (apps.py).

The task's module path names it in queued rows: it stays here once released.
"""

from __future__ import annotations

try:  # Django >= 6.0
    from django.tasks import task
except ImportError:  # Django 5.2 with the django-tasks backport
    from django_tasks import task

from newsdesk.pipeline.tasks import STORY_PRIORITY


@task(priority=STORY_PRIORITY - 1)
def align_claims_task(story_ids: list[int]) -> int:
    """Align the claims of the articles that joined these stories; returns facts placed."""
    from newsdesk.perspectives.alignment import refresh_stories

    return refresh_stories(story_ids)
