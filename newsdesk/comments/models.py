"""Readers' comments on articles, and readers' reports about them.

Comments are never deleted as rows: a deleted or removed comment keeps its place (so
replies still have a parent and rate limits still count it) but loses its text.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from newsdesk.articles.models import Article

MAX_LENGTH = 5000


class Comment(models.Model):
    class Status(models.TextChoices):
        PUBLISHED = "published", "Published"
        PENDING = "pending", "Awaiting moderation"
        HIDDEN = "hidden", "Hidden by a moderator"
        REMOVED = "removed", "Removed by a moderator"
        DELETED = "deleted", "Deleted by its author"

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="comments")
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="replies",
        help_text="the top-level comment this replies to; replies are one level deep",
    )
    body = models.TextField(max_length=MAX_LENGTH, blank=True, help_text="plain text, exactly as typed")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PUBLISHED, db_index=True)
    held_reason = models.CharField(max_length=200, blank=True, help_text="why it awaits moderation")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    moderated_at = models.DateTimeField(null=True, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["article", "created_at"], name="comment_article_time"),
            models.Index(fields=["author", "created_at"], name="comment_author_time"),
        ]
        permissions = [("moderate_comment", "Can hide, remove and approve comments and block their authors")]

    def __str__(self) -> str:
        return f"comment {self.pk} on article {self.article_id}"

    @property
    def is_gone(self) -> bool:
        """Deleted or removed: the text is gone for good."""
        return self.status in (self.Status.DELETED, self.Status.REMOVED)

    def get_absolute_url(self) -> str:
        return f"{self.article.get_absolute_url()}#comment-{self.pk}"


class Report(models.Model):
    class Reason(models.TextChoices):
        SPAM = "spam", "Spam or advertising"
        ABUSE = "abuse", "Abuse or harassment"
        HATE = "hate", "Hate speech"
        ILLEGAL = "illegal", "Illegal content"
        OFF_TOPIC = "off-topic", "Off topic"
        OTHER = "other", "Something else"

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comment_reports")
    reason = models.CharField(max_length=10, choices=Reason.choices)
    details = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    resolved = models.BooleanField(default=False, db_index=True, help_text="a moderator has acted on the comment")

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["comment", "reporter"], name="one_report_per_user")]

    def __str__(self) -> str:
        return f"report of comment {self.comment_id}: {self.get_reason_display()}"
