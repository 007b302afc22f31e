"""Stories (one event across publishers), near-duplicate copies, and their bookkeeping."""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils import timezone

from newsdesk.articles.models import Article


class Fingerprint(models.Model):
    """An article's MinHash signature, kept to compare later arrivals with it."""

    article = models.OneToOneField(Article, on_delete=models.CASCADE, primary_key=True, related_name="fingerprint")
    signature = models.BinaryField()


class FingerprintBand(models.Model):
    """One locality-sensitive band key of a signature: equal keys mark candidate copies."""

    key = models.BigIntegerField(db_index=True)
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="fingerprint_bands")


class NearDuplicate(models.Model):
    """`article` is a copy (syndicated, republished) of `original`, the first one seen."""

    article = models.OneToOneField(Article, on_delete=models.CASCADE, related_name="duplicate_of")
    original = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="copies")
    similarity = models.FloatField()
    found_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.article_id} copies {self.original_id}"


class Story(models.Model):
    """One event as several publishers cover it; grows as articles arrive.

    The counts, headline, hashtags and summary are denormalised so that a story list
    renders from this table alone; `refresh` in newsdesk/stories/assign.py recomputes
    them from the members whenever the membership changes.
    """

    title = models.TextField(help_text="representative headline")
    representative = models.ForeignKey(Article, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    first_seen = models.DateTimeField(db_index=True)
    last_seen = models.DateTimeField(db_index=True)
    article_count = models.PositiveIntegerField(default=0)
    publisher_count = models.PositiveIntegerField(default=0, db_index=True)
    country_count = models.PositiveIntegerField(default=0)
    hashtags = models.JSONField(default=list, help_text="slugs of the main hashtags, best first")
    summary = models.JSONField(
        default=list, help_text='[{"text": ..., "article": id}, ...] sentences citing their articles'
    )
    merged_into = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="absorbed")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "stories"
        indexes = [models.Index(fields=["merged_into", "-last_seen"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("story", args=[self.pk])


class StoryMember(models.Model):
    """An article's place in a story. `locked` keeps a moderator's decision: the
    clusterer never moves a locked article again."""

    article = models.OneToOneField(Article, on_delete=models.CASCADE, related_name="story_member")
    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="members")
    similarity = models.FloatField(default=1.0)
    joined_at = models.DateTimeField(default=timezone.now)
    locked = models.BooleanField(default=False)
    # The headline's embedding (float16), which is what the clusterer compares (its
    # thresholds were calibrated on headlines; the enrichment embeds title and body).
    # Kept here so that a worker rebuilds the clusterer's state without re-embedding.
    title_vector = models.BinaryField(null=True, editable=False)

    class Meta:
        indexes = [models.Index(fields=["story", "joined_at"])]


class StoryEvent(models.Model):
    """What happened to stories, for the moderator's history and to undo a step."""

    class Kind(models.TextChoices):
        MERGE = "merge", "stories merged"
        DETACH = "detach", "article taken out of its story"
        UNDO = "undo", "step undone"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="events")
    other = models.ForeignKey(Story, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    articles = models.JSONField(default=list, help_text="ids of the articles the step moved")
    by = models.ForeignKey("auth.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    undone = models.BooleanField(default=False)

    class Meta:
        ordering = ["-at"]


class StoryLock(models.Model):
    """One row; holding it (in a transaction) makes a worker the only one placing
    articles into stories."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)

    @classmethod
    def acquire(cls) -> None:
        """Wait for the lock; held until the surrounding transaction ends."""
        cls.objects.get_or_create(pk=1)
        cls.objects.select_for_update().get(pk=1)  # a row lock on PostgreSQL
        cls.objects.filter(pk=1).update(id=1)  # takes SQLite's write lock now, not later
