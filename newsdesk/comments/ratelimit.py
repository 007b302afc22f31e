"""Comment flood limits, counted from the comments table itself.

Counting rows (whatever their status, deleted ones too) instead of cache entries makes
the limit exact across processes with no shared cache, and costs nothing extra: the
(author, created_at) index answers it. On SQLite the check and the insert run in one
IMMEDIATE transaction, so concurrent posts by one user queue and cannot both slip in.
"""

from __future__ import annotations

import math
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.utils import timezone

from newsdesk.accounts.ratelimit import wait_text
from newsdesk.comments.models import Comment, Report


def _windows() -> list[tuple[int, int, str]]:
    return [
        (60, settings.NEWSDESK_COMMENTS_PER_MINUTE, "in a minute"),
        (3600, settings.NEWSDESK_COMMENTS_PER_HOUR, "in an hour"),
        (86400, settings.NEWSDESK_COMMENTS_PER_DAY, "in a day"),
    ]


def comment_wait(user: AbstractBaseUser) -> str:
    """A message saying how long `user` must wait to comment again, or '' if they may."""
    now = timezone.now()
    for seconds, limit, label in _windows():
        recent = Comment.objects.filter(author=user, created_at__gt=now - timedelta(seconds=seconds))
        if recent.count() >= limit:
            # The window frees a slot when its oldest counted comment falls out of it.
            oldest = recent.order_by("-created_at").values_list("created_at", flat=True)[limit - 1]
            wait = max(1, math.ceil((oldest + timedelta(seconds=seconds) - now).total_seconds()))
            return (
                f"You have posted {limit} comments {label}, the most we accept. "
                f"Please wait {wait_text(wait)} before posting again."
            )
    return ""


def report_wait(user: AbstractBaseUser) -> str:
    limit = settings.NEWSDESK_REPORTS_PER_HOUR
    since = timezone.now() - timedelta(hours=1)
    if Report.objects.filter(reporter=user, created_at__gt=since).count() >= limit:
        return f"You have sent {limit} reports in the last hour. Please try again later."
    return ""
