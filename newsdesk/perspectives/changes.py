"""What publishers changed in a story's articles, read per story or per page of stories.

The revisions themselves are newsdesk/articles/revisions.py's; here they are counted
for the places that show a story: its page marks each corrected article, the API gives
each member's revision summary and a list's stories their corrected articles, feeds
mark a corrected item. Each is one grouped query, whatever the number of articles.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Count

from newsdesk.articles.models import ArticleRevision
from newsdesk.articles.revisions import Summary, summaries

__all__ = ["Summary", "corrected_per_story", "summary_data", "summaries"]


def corrected_per_story(story_ids: Iterable[int]) -> dict[int, int]:
    """How many of each story's current members the publisher corrected, by story id."""
    ids = list(set(story_ids))
    if not ids:
        return {}
    rows = (
        ArticleRevision.objects.filter(is_correction=True, article__story_member__story_id__in=ids)
        .values_list("article__story_member__story_id")
        .annotate(n=Count("article_id", distinct=True))
        .order_by()
    )
    return dict(rows)


def summary_data(summary: Summary | None) -> dict[str, Any]:
    """An article's revision summary as the API gives it (schemas.RevisionSummary)."""
    if summary is None:
        return {"revisions": 0, "updates": 0, "corrected": False, "corrected_at": None, "last_changed_at": None}
    return {
        "revisions": summary.revisions,
        "updates": summary.updates,
        "corrected": summary.corrected,
        "corrected_at": summary.corrected_at,
        "last_changed_at": summary.last_changed_at,
    }
