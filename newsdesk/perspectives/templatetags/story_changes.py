"""`{% story_corrections coverage as corrected %}` and `{% correction_of corrected article as at %}`:
the story page marks each article of its coverage that its publisher corrected, with
the time, linking to the article's "What changed" (one query for the whole list)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django import template

from newsdesk.perspectives.changes import summaries

register = template.Library()


@register.simple_tag
def story_corrections(rows: Iterable[Any]) -> dict[int, datetime]:
    """The newest correction's time of each corrected article of the coverage rows (each
    with an `article`, as the story page lists them), by article id."""
    ids = [row["article"].pk if isinstance(row, dict) else row.article.pk for row in rows]
    return {pk: found.corrected_at for pk, found in summaries(ids).items() if found.corrected_at is not None}


@register.simple_tag
def correction_of(corrected: dict[int, datetime] | None, article: Any) -> datetime | None:
    return corrected.get(article.pk) if corrected else None
