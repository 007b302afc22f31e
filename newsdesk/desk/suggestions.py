"""Readers suggest sources; staff approve or decline; the reader sees which.

A suggestion costs nothing but a row: no fetch happens until staff review it (a reader
cannot make the server fetch). Suggesting the same URL again while it waits is the same
suggestion (idempotent, not counted). New suggestions are limited per account: at most
NEWSDESK_SUGGESTIONS_PER_HOUR (5) an hour in the rate-limit cache, and at most
MAX_PENDING waiting at once. Deciding is idempotent too: a decided suggestion stays
decided.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from newsdesk.accounts import ratelimit
from newsdesk.desk.models import MAX_NOTE, MAX_REASON, Suggestion
from newsdesk.links import canonical_url
from newsdesk.sources.models import Source

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

MAX_PENDING = 20
MAX_URL = 1000


class Refused(Exception):
    """Not recorded: the message says why; `wait` is the seconds to wait when over the limit."""

    def __init__(self, message: str, wait: int = 0) -> None:
        super().__init__(message)
        self.wait = wait


def rule() -> ratelimit.Rule:
    return ratelimit.Rule("desk-suggestions", settings.NEWSDESK_SUGGESTIONS_PER_HOUR, 3600)


def clean_url(value: str) -> str:
    """The URL as it is stored, or ValueError with what is wrong."""
    url = canonical_url(value.strip()) if value and value.strip() else None
    if url is None:
        raise ValueError("Enter the address of a site or feed, starting with http:// or https://.")
    if len(url) > MAX_URL:
        raise ValueError(f"That address is longer than {MAX_URL} characters.")
    return url


def suggest(user: AbstractBaseUser, url: str, note: str = "") -> tuple[Suggestion, bool]:
    """Record a suggestion of `url` (already cleaned); (suggestion, created)."""
    note = note.strip()[:MAX_NOTE]
    waiting = Suggestion.objects.filter(user=user, url=url, status=Suggestion.Status.PENDING).first()
    if waiting is not None:
        if note and note != waiting.note:
            waiting.note = note
            waiting.save(update_fields=["note"])
        return waiting, False
    if Suggestion.objects.filter(user=user, status=Suggestion.Status.PENDING).count() >= MAX_PENDING:
        raise Refused(
            f"You have {MAX_PENDING} suggestions waiting for review: please wait until staff have looked at them."
        )
    limit, ident = rule(), str(user.pk)
    if wait := ratelimit.retry_after(limit, ident):
        raise Refused(
            f"You have made {limit.limit} suggestions in the last hour. Please try again in {ratelimit.wait_text(wait)}.",
            wait,
        )
    ratelimit.hit(limit, ident)
    try:
        with transaction.atomic():
            return Suggestion.objects.create(user=user, url=url, note=note), True
    except IntegrityError:  # the same suggestion sent twice at once: the first one counts
        return Suggestion.objects.get(user=user, url=url, status=Suggestion.Status.PENDING), False


def approve(suggestion: Suggestion, by: AbstractBaseUser, source: Source) -> bool:
    """Mark it added as `source`; False when it was already decided."""
    return _decide(suggestion, Suggestion.Status.APPROVED, by, source=source)  # type: ignore[arg-type]  # a str at run time


def decline(suggestion: Suggestion, by: AbstractBaseUser, reason: str = "") -> bool:
    """Mark it declined, with staff's reason for the reader; False when already decided."""
    return _decide(suggestion, Suggestion.Status.DECLINED, by, reason=reason.strip()[:MAX_REASON])  # type: ignore[arg-type]  # a str at run time


def _decide(
    suggestion: Suggestion, status: str, by: AbstractBaseUser, *, source: Source | None = None, reason: str = ""
) -> bool:
    changed = Suggestion.objects.filter(pk=suggestion.pk, status=Suggestion.Status.PENDING).update(
        status=status, decided_at=timezone.now(), decided_by=by, source=source, reason=reason
    )
    suggestion.refresh_from_db()
    return bool(changed)


def pending() -> list[Suggestion]:
    return list(
        Suggestion.objects.filter(status=Suggestion.Status.PENDING).select_related("user").order_by("created_at", "pk")
    )
