"""What newsdesk adds to Django's user: whether moderators have blocked them.

A separate row (not a custom user model) because the project already runs on
`auth.User`; a user without a Profile row is simply not blocked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.utils import timezone

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="newsdesk_profile")
    is_blocked = models.BooleanField(
        "blocked",
        default=False,
        db_index=True,
        help_text="blocked users can read and log in but not comment or report",
    )
    blocked_at = models.DateTimeField(null=True, blank=True)
    blocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    blocked_reason = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"profile of {self.user}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Keep the record consistent however the flag was changed (admin form or code).
        if self.is_blocked and self.blocked_at is None:
            self.blocked_at = timezone.now()
        if not self.is_blocked:
            self.blocked_at, self.blocked_by, self.blocked_reason = None, None, ""
        super().save(*args, **kwargs)


def is_blocked(user: AbstractBaseUser | AnonymousUser) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return Profile.objects.filter(user=user, is_blocked=True).exists()


def set_blocked(user: AbstractBaseUser, blocked: bool, *, by: AbstractBaseUser | None = None, reason: str = "") -> None:
    """Block or unblock `user`; `by` is the moderator, kept for the record."""
    Profile.objects.update_or_create(
        user=user,
        defaults={
            "is_blocked": blocked,
            "blocked_at": timezone.now() if blocked else None,
            "blocked_by": by if blocked else None,
            "blocked_reason": reason[:300] if blocked else "",
        },
    )
