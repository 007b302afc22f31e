"""Publishers, their feeds, and the links those feeds announce.

An Entry is a link learned from a feed or sitemap that still has to become an Article.
It is the pipeline's durable to-do list: it holds everything the feed said (so nothing
is lost when the page cannot be fetched) and its own schedule, so a worker that dies
mid-task only delays the work until the entry is due again.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Source(models.Model):
    class Kind(models.TextChoices):
        WIRE = "wire", "Wire service"
        PUBLIC = "public", "Public broadcaster"
        COMMERCIAL = "commercial", "Commercial"
        STATE = "state", "State-affiliated"
        BLOG = "blog", "Blog"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    home_url = models.URLField(max_length=500)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2, e.g. GB")
    language = models.CharField(max_length=8, blank=True, help_text="ISO 639-1, e.g. en")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.COMMERCIAL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Feed(models.Model):
    class Kind(models.TextChoices):
        UNKNOWN = "", "Not fetched yet"
        RSS = "rss", "RSS"
        RDF = "rdf", "RSS 1.0 (RDF)"
        ATOM = "atom", "Atom"
        JSON = "json", "JSON Feed"
        SITEMAP = "sitemap", "News sitemap"

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="feeds")
    url = models.URLField(max_length=1000, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices, blank=True, default=Kind.UNKNOWN)
    title = models.CharField(max_length=300, blank=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    # Conditional GET.
    etag = models.CharField(max_length=500, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)

    # Health, shown on the sources page.
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    error_count = models.PositiveIntegerField(default=0, help_text="consecutive failures")
    fetch_count = models.PositiveIntegerField(default=0)
    entries_total = models.PositiveIntegerField(default=0)
    last_new_entry_at = models.DateTimeField(null=True, blank=True)

    # Schedule. The scheduler moves next_fetch_at forward by a lease when it enqueues
    # a fetch, so a lost task is retried when the lease runs out; locked_until keeps two
    # fetches of one feed from running at once, on any number of workers.
    interval_seconds = models.PositiveIntegerField(default=900)
    next_fetch_at = models.DateTimeField(default=timezone.now, db_index=True)
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["source__name", "url"]

    def __str__(self) -> str:
        return self.title or self.url

    @property
    def healthy(self) -> bool:
        return self.error_count == 0 and self.last_success_at is not None


class Entry(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Stored"
        FAILED = "failed", "Failed"

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="entries")
    feed = models.ForeignKey(Feed, on_delete=models.SET_NULL, null=True, blank=True, related_name="entries")
    url = models.URLField(max_length=1000, unique=True)
    guid = models.CharField(max_length=1000, blank=True)
    title = models.TextField(blank=True)
    summary_html = models.TextField(blank=True)
    content_html = models.TextField(blank=True)
    author = models.CharField(max_length=300, blank=True)
    image = models.URLField(max_length=1000, blank=True)
    categories = models.JSONField(default=list, blank=True, help_text="the feed's categories for this link")
    published = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(null=True, blank=True)
    discovered_at = models.DateTimeField(default=timezone.now)

    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    article = models.ForeignKey(
        "articles.Article", on_delete=models.SET_NULL, null=True, blank=True, related_name="entries"
    )

    class Meta:
        verbose_name_plural = "entries"
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="entry_due")]

    def __str__(self) -> str:
        return self.title or self.url
