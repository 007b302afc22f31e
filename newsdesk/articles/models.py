"""The stored article: one row per piece of journalism, whatever URLs it was seen under."""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils import timezone

from newsdesk.sources.models import Feed, Source


class Article(models.Model):
    class Origin(models.TextChoices):
        PAGE = "page", "Publisher page"
        FEED = "feed", "Feed content"

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="articles")
    feed = models.ForeignKey(Feed, on_delete=models.SET_NULL, null=True, blank=True, related_name="articles")
    url = models.URLField(max_length=1000, unique=True, help_text="canonical URL, tracking parameters stripped")

    title = models.TextField()
    byline = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True, help_text="sanitized on the way in")
    language = models.CharField(max_length=8, blank=True)
    lead_image = models.URLField(max_length=1000, blank=True)
    word_count = models.PositiveIntegerField(default=0)
    reading_time = models.PositiveSmallIntegerField(default=0, help_text="minutes")
    origin = models.CharField(max_length=4, choices=Origin.choices, default=Origin.PAGE)
    content_hash = models.CharField(max_length=40, db_index=True)

    published_at = models.DateTimeField(db_index=True)
    modified_at = models.DateTimeField(null=True, blank=True, help_text="as the publisher states it")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["source", "-published_at"], name="article_source_latest")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("article", args=[self.pk])


class ArticleURL(models.Model):
    """Every URL an article was seen under, so re-ingesting any of them is a no-op."""

    url = models.URLField(max_length=1000, unique=True)
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="aliases")

    def __str__(self) -> str:
        return self.url
