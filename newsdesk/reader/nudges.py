""" "More like this" and "less like this" on For You: one row per reader and article,
the latest word counts; undoing removes it. Read by foryou.py on the next page load."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone

from newsdesk.reader.models import Nudge

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

    from newsdesk.articles.models import Article


def put(user: AbstractBaseUser, article: Article, more: bool | None) -> None:
    """More (True), less (False) or neither (None: undo); the same twice changes nothing."""
    if more is None:
        Nudge.objects.filter(user=user, article=article).delete()
        return
    Nudge.objects.bulk_create(
        [Nudge(user=user, article=article, more=more, created_at=timezone.now())],
        update_conflicts=True,
        unique_fields=["user", "article"],
        update_fields=["more", "created_at"],
    )


def current(user: AbstractBaseUser, article_ids: list[int]) -> dict[int, bool]:
    """Article id -> more (True) or less (False), for those the reader nudged."""
    return dict(Nudge.objects.filter(user=user, article_id__in=article_ids).values_list("article_id", "more"))
