"""A reader's suggestion of a source, and what staff decided about it.

Nothing is fetched when a reader suggests: a suggestion is a URL and a note until staff
review it, which runs the add flow (newsdesk/sources/finder.py) under a staff account.
A reader has one pending suggestion per URL; the row goes with the reader's account.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from newsdesk.sources.models import Source

MAX_NOTE = 500
MAX_REASON = 300


class Suggestion(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for review"
        APPROVED = "approved", "Added"
        DECLINED = "declined", "Declined"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="source_suggestions")
    url = models.URLField(max_length=1000)
    note = models.TextField(max_length=MAX_NOTE, blank=True, help_text="why the reader suggests it")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=MAX_REASON, blank=True, help_text="staff's word to the reader")
    source = models.ForeignKey(
        Source, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", help_text="what it became"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "url"], condition=models.Q(status="pending"), name="desk_suggestion_pending_once"
            )
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="desk_suggestion_mine")]

    def __str__(self) -> str:
        return f"{self.url} suggested by {self.user} ({self.status})"
