"""Saved for later, with an optional note: idempotent save and unsave."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from newsdesk.articles.models import Article
from newsdesk.reader.models import Saved

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

MAX_NOTE = 2000


def save(user: AbstractBaseUser, article: Article, note: str | None = None) -> Saved:
    """Save `article` (saving again keeps the first save); `note` None keeps the note."""
    found = Saved.objects.filter(user=user, article=article).first()
    if found is None:
        try:
            with transaction.atomic():
                return Saved.objects.create(user=user, article=article, note=(note or "")[:MAX_NOTE])
        except IntegrityError:
            found = Saved.objects.get(user=user, article=article)
    if note is not None and found.note != note[:MAX_NOTE]:
        found.note = note[:MAX_NOTE]
        found.save(update_fields=["note"])
    return found


def save_many(user: AbstractBaseUser, article_ids: Iterable[int]) -> None:
    ids = set(Article.objects.filter(pk__in=set(article_ids)).values_list("pk", flat=True))
    Saved.objects.bulk_create([Saved(user=user, article_id=pk) for pk in ids], ignore_conflicts=True)


def unsave(user: AbstractBaseUser, article_ids: Iterable[int]) -> None:
    Saved.objects.filter(user=user, article_id__in=set(article_ids)).delete()


def saved_ids(user: AbstractBaseUser, article_ids: Iterable[int]) -> set[int]:
    return set(Saved.objects.filter(user=user, article_id__in=set(article_ids)).values_list("article_id", flat=True))
