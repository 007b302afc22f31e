"""Read state: what a reader has read, as Q objects any article query can take.

An article is read when a ReadMark says so, or when it falls under its followed
source's watermark and no ReadMark keeps it unread. Every change here is idempotent:
marking a read article read again changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from newsdesk.articles.models import Article
from newsdesk.reader.models import Follow, HistoryEntry, ReaderSettings, ReadMark

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser


def unread_days() -> int:
    """How far back a new follow starts unread (settings.NEWSDESK_READER_UNREAD_DAYS)."""
    return settings.NEWSDESK_READER_UNREAD_DAYS


def new_watermark() -> datetime:
    return timezone.now() - timedelta(days=unread_days())


def _watermarks(user: AbstractBaseUser, follows: Iterable[Follow] | None = None) -> Q | None:
    """Articles under their followed source's watermark; None when nothing is followed."""
    rows = follows if follows is not None else Follow.objects.filter(user=user).only("source_id", "read_before")
    under = None
    for follow in rows:
        clause = Q(source_id=follow.source_id, published_at__lte=follow.read_before)
        under = clause if under is None else under | clause
    return under


def read_q(user: AbstractBaseUser, follows: Iterable[Follow] | None = None) -> Q:
    """Articles `user` has read."""
    marked = ReadMark.objects.filter(user=user)
    read = Q(pk__in=marked.filter(is_read=True).values("article_id"))
    under = _watermarks(user, follows)
    if under is None:
        return read
    return read | (under & ~Q(pk__in=marked.filter(is_read=False).values("article_id")))


def followed_unread(user: AbstractBaseUser) -> QuerySet[Article]:
    """Unread articles of the sources `user` follows, newest first."""
    follows = list(Follow.objects.filter(user=user).only("source_id", "read_before"))
    if not follows:
        return Article.objects.none()
    sources = [follow.source_id for follow in follows]
    return Article.objects.filter(source_id__in=sources).exclude(read_q(user, follows)).order_by("-published_at", "-pk")


def unread_counts(user: AbstractBaseUser) -> dict[int, tuple[int, datetime | None]]:
    """Per followed source id: (unread articles, newest unread publication time)."""
    rows = followed_unread(user).order_by().values("source_id").annotate(n=Count("pk"), newest=Max("published_at"))
    return {row["source_id"]: (row["n"], row["newest"]) for row in rows}


def read_ids(user: AbstractBaseUser, article_ids: Iterable[int]) -> set[int]:
    """Which of these articles `user` has read."""
    ids = list(article_ids)
    if not ids:
        return set()
    return set(Article.objects.filter(pk__in=ids).filter(read_q(user)).values_list("pk", flat=True))


def _set(user: AbstractBaseUser, article_ids: Iterable[int], is_read: bool) -> int:
    ids = sorted(set(article_ids))
    if not ids:
        return 0
    existing = set(Article.objects.filter(pk__in=ids).values_list("pk", flat=True))
    _write_marks(user, existing, is_read)
    return len(existing)


def _write_marks(user: AbstractBaseUser, article_ids: Iterable[int], is_read: bool) -> None:
    now = timezone.now()
    ReadMark.objects.bulk_create(
        [ReadMark(user=user, article_id=pk, is_read=is_read, changed_at=now) for pk in article_ids],
        update_conflicts=True,
        unique_fields=["user", "article"],
        update_fields=["is_read", "changed_at"],
    )


def mark_read(user: AbstractBaseUser, article_ids: Iterable[int]) -> int:
    return _set(user, article_ids, True)


def mark_unread(user: AbstractBaseUser, article_ids: Iterable[int]) -> int:
    return _set(user, article_ids, False)


def mark_all_read(user: AbstractBaseUser, follows: Iterable[Follow], before: datetime) -> None:
    """Everything in these followed sources published up to `before` becomes read: the
    watermarks move forward (never back) and the marks under them are dropped."""
    with transaction.atomic():
        for follow in follows:
            if follow.read_before < before:
                follow.read_before = before
                follow.save(update_fields=["read_before"])
            ReadMark.objects.filter(
                user=user, article__source_id=follow.source_id, article__published_at__lte=follow.read_before
            ).delete()


def history_on(user: AbstractBaseUser) -> bool:
    found = ReaderSettings.objects.filter(user=user).values_list("keep_history", flat=True).first()
    return True if found is None else found


def set_history(user: AbstractBaseUser, keep: bool) -> None:
    ReaderSettings.objects.update_or_create(user=user, defaults={"keep_history": keep})


def opened(user: AbstractBaseUser, article_id: int) -> None:
    """The reader opened an article page: read, and in their history, unless they
    switched history off (then nothing is recorded)."""
    if not history_on(user):
        return
    now = timezone.now()
    # One transaction: on SQLite one wait for the write lock (which an ingest holds
    # often), not one per statement.
    # The article page was just served: the article exists, no query to check it.
    with transaction.atomic():
        _write_marks(user, [article_id], True)
        HistoryEntry.objects.bulk_create(
            [HistoryEntry(user=user, article_id=article_id, opened_at=now)],
            update_conflicts=True,
            unique_fields=["user", "article"],
            update_fields=["opened_at"],
        )


def clear_history(user: AbstractBaseUser, *, forget_read: bool = False) -> None:
    """Delete the history; with forget_read, the read marks of those articles too."""
    with transaction.atomic():
        entries = HistoryEntry.objects.filter(user=user)
        if forget_read:
            ReadMark.objects.filter(user=user, article_id__in=entries.values("article_id")).delete()
        entries.delete()
