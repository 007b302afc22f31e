"""A reader's briefing and alert choices, what is new under the things readers follow and
how far each reader has read it, the site's daily briefing, the fan-out's progress
through new articles, and every email owed or sent.

Alerts are kept as they scale: one row per new article under each followed key
(Activity), whoever and however many follow it, and one watermark per reader and
followed thing (AlertMark); a reader's notifications are the difference. A popular
hashtag's new article is one row, not one per follower.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from newsdesk.articles.models import Article
from newsdesk.reader.models import Interest


class AlertInterval(models.TextChoices):
    OFF = "off", "no alert emails"
    HOURLY = "hourly", "at most one an hour"
    DAILY = "daily", "at most one a day, at my briefing hour"


class BriefingSettings(models.Model):
    """A reader's choices; a reader without a row has the defaults (no email, no feed).

    `feed_version` numbers the reader's private feed address (the token is signed from
    it, see tokens.py); it only ever goes up (a new address, turning the feed off), so
    every older address stops working at once without any secret being stored."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="briefing_settings")
    briefing_email = models.BooleanField(default=False)
    briefing_hour = models.PositiveSmallIntegerField(default=7, help_text="0-23, in the reader's time zone")
    time_zone = models.CharField(max_length=64, blank=True, help_text="an IANA name; empty: the site's")
    alerts_interval = models.CharField(max_length=8, choices=AlertInterval.choices, default=AlertInterval.OFF)
    feed_on = models.BooleanField(default=False)
    feed_version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "briefing settings"
        indexes = [
            models.Index(fields=["briefing_email", "time_zone"], name="briefings_mail_zone"),
            models.Index(fields=["alerts_interval", "time_zone"], name="briefings_alert_zone"),
        ]

    def __str__(self) -> str:
        return f"briefing settings of {self.user}"


class SiteBriefing(models.Model):
    """The day's top stories as the briefing shows them, refreshed through the day; an
    email copies what it sent into its Delivery, so a later refresh changes no email.

    `stories`: [{"story": id, "title", "publishers", "articles", "hashtags": [slug],
    "sentences": [{"text", "article", "source", "source_slug", "title"}]}]."""

    day = models.DateField(unique=True, help_text="in the site's time zone")
    stories = models.JSONField(default=list)
    made_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"site briefing of {self.day}"


class Activity(models.Model):
    """A new article under a followed story, hashtag or saved search (`kind`, `key` as
    in Interest): the fan-out writes one row per article and key that someone follows,
    never one per follower. A reader's notifications are these rows under the things
    they follow, newer than when they last read them (AlertMark), less what they muted
    (notifications.py): read state kept as a watermark, as the reader's Unread page
    keeps it for followed sources."""

    kind = models.CharField(max_length=16)
    key = models.CharField(max_length=500)
    # No constraint: a deleted article leaves rows that count for nothing (they are
    # pruned after ACTIVITY_DAYS), and no check slows the fan-out's inserts.
    article = models.ForeignKey(
        Article, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    at = models.DateTimeField(help_text="when the fan-out found it: new to readers from then")

    class Meta:
        verbose_name_plural = "activity"
        # Covers every read of it: counts and newest articles under a key since a time.
        indexes = [models.Index(fields=["kind", "key", "at", "article"], name="briefings_activity_key")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}: article {self.article_id}"


class AlertMark(models.Model):
    """How far one reader has read (and been emailed) one followed thing: its
    notification counts what arrived after `read_at` or the follow's `seen_at` (the
    reader opened its page), whichever is later; an alert email what arrived after
    that and after `mailed_at`."""

    interest = models.OneToOneField(Interest, on_delete=models.CASCADE, primary_key=True, related_name="alert_mark")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_marks")
    read_at = models.DateTimeField(null=True, blank=True)
    mailed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user} read {self.interest_id} at {self.read_at}"


class FanoutState(models.Model):
    """One row: every article up to `planned_through` (an id) is in a FanoutBatch."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    planned_through = models.BigIntegerField(default=0)
    planned_at = models.DateTimeField(default=timezone.now)


class FanoutBatch(models.Model):
    """Articles with ids in [first_id, last_id], to be matched against follows once.

    `done_at` is set in the transaction that writes the batch's notifications, so a
    batch is counted exactly once however often its task runs; one whose task died is
    queued again when `leased_until` has passed (schedule.py)."""

    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    leased_until = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)
    written = models.PositiveIntegerField(default=0, help_text="activity rows written")
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["done_at", "leased_until"], name="briefings_batch_due")]

    def __str__(self) -> str:
        return f"articles {self.first_id}-{self.last_id}"


class Delivery(models.Model):
    """One email owed to one reader for one period: the row exists before the email is
    built, so a period gets at most one (the unique constraint), and it keeps what the
    email says (`content`) before it is sent, so a retry sends the same email under the
    same Message-ID. `state` becomes SENT in the transaction after the SMTP server took
    the message (mail.py explains what this guarantees)."""

    class Kind(models.TextChoices):
        BRIEFING = "briefing", "daily briefing"
        ALERTS = "alerts", "alerts"

    class State(models.TextChoices):
        PENDING = "pending", "to send"
        SENT = "sent", "sent"
        SKIPPED = "skipped", "nothing to send"
        FAILED = "failed", "given up"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="briefing_deliveries")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    period = models.CharField(max_length=16, help_text="the local date (YYYY-MM-DD) or UTC hour (YYYY-MM-DDTHH)")
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    content = models.JSONField(null=True, blank=True, help_text="what the email says, fixed before it is sent")
    made_at = models.DateTimeField(null=True, blank=True, help_text="when the content was taken")
    message_id = models.CharField(max_length=200, blank=True)
    to = models.EmailField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    leased_until = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [models.UniqueConstraint(fields=["user", "kind", "period"], name="briefings_one_mail_per_period")]
        indexes = [
            models.Index(fields=["state", "leased_until"], name="briefings_delivery_due"),
            models.Index(fields=["user", "kind", "-created_at"], name="briefings_delivery_latest"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.period} for {self.user} ({self.state})"
