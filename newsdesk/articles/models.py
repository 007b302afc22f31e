"""The stored article: one row per piece of journalism, whatever URLs it was seen under."""

from __future__ import annotations

import numpy as np
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
    publisher_sections = models.JSONField(
        default=list, blank=True, help_text="the publisher's own section labels: the page's, then the feed's categories"
    )
    content_hash = models.CharField(max_length=40)

    published_at = models.DateTimeField(db_index=True)
    modified_at = models.DateTimeField(null=True, blank=True, help_text="as the publisher states it")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-published_at", "-id"]
        # INCLUDE: PostgreSQL answers a reader's unread counts from the index alone (an
        # index-only scan); SQLite ignores it, its indexes carry the rowid already.
        indexes = [
            models.Index(fields=["source", "-published_at"], include=["id"], name="article_source_latest"),
            # SQLite keeps a row's columns in order, so reading these (after the body, in
            # overflow pages) walks the body's pages; related articles read them for some
            # 100 candidates a page and take them from here (stories/related_db.py).
            # PostgreSQL keeps long text out of line and does not need it.
            models.Index(fields=["id", "source", "published_at", "created_at"], name="article_times"),
            # The store looks a text up within its publisher (articles/store.py). With the
            # hash indexed alone, SQLite (no statistics) walked the publisher's articles by
            # date instead: 6-10 ms per new article at 3,000-3,900 of one publisher.
            models.Index(fields=["source", "content_hash"], name="article_source_text"),
        ]

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


class ArticleRevision(models.Model):
    """One in-place update of an article: the text the update replaced.

    Only the fields the update changed are kept (null: the same as the next version), so
    a revision costs the changed text, each field within the limit the store applies.
    The newest version is the article itself; version k is rebuilt by walking the later
    revisions (`newsdesk.articles.revisions`). Written in the update's transaction.
    """

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="revisions")
    revised_at = models.DateTimeField(default=timezone.now, help_text="when the newer version was stored")
    stated_at = models.DateTimeField(
        null=True, blank=True, help_text="the newer version's time as the publisher states it"
    )
    title = models.TextField(null=True, blank=True, help_text="the replaced headline; null: unchanged")
    description = models.TextField(null=True, blank=True, help_text="the replaced description; null: unchanged")
    body_text = models.TextField(null=True, blank=True, help_text="the replaced text; null: unchanged")
    is_correction = models.BooleanField(default=False)
    note_kind = models.CharField(max_length=16, blank=True, help_text="correction, clarification, editors-note, update")
    note = models.TextField(blank=True, help_text="the publisher's note that the newer version added")
    updates = models.PositiveSmallIntegerField(default=1, help_text="more than 1: later updates merged into this one")

    class Meta:
        ordering = ["article", "revised_at", "id"]
        indexes = [models.Index(fields=["article", "revised_at"], name="article_revisions")]

    def __str__(self) -> str:
        return f"revision of {self.article_id} at {self.revised_at:%Y-%m-%d %H:%M}"


def to_blob(vector: np.ndarray) -> bytes:
    """How `Enrichment.embedding` stores a vector: float16 halves the rows and the index
    input, and loses nothing a cosine of unit vectors can tell."""
    return vector.astype(np.float16).tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float16).astype(np.float32)


class Enrichment(models.Model):
    """What the AI stage derived from an article, with the methods that derived it.

    `methods` records each feature's method version (e.g. {"summary": "textrank/2"}), so
    `newsdesk reprocess` can find what an improved method should redo.
    """

    article = models.OneToOneField(Article, on_delete=models.CASCADE, primary_key=True, related_name="enrichment")
    summary = models.TextField(blank=True)
    summary_sentences = models.JSONField(default=list, help_text="indexes of the article sentences used")
    key_points = models.JSONField(default=list, help_text='[{"text": ..., "sentences": [i, ...]}, ...]')
    section = models.CharField(max_length=32, blank=True)
    section_confidence = models.FloatField(default=0.0)
    # Copied from the article (as on ArticleHashtag) so that a section's newest articles
    # are one index walk (section_latest): search filtered by section reads those only.
    published_at = models.DateTimeField()
    embedding = models.BinaryField(blank=True, help_text="float16 unit vector")
    model = models.CharField(max_length=200, blank=True, help_text="embedding model")
    methods = models.JSONField(default=dict)
    llm_summary = models.TextField(blank=True, help_text="optional LLM rewording, grounded in the summary sentences")
    enriched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["section", "-published_at"], include=["article"], name="section_latest")]

    def __str__(self) -> str:
        return f"enrichment of {self.article_id}"


class Hashtag(models.Model):
    class Kind(models.TextChoices):
        PERSON = "person", "Person"
        PLACE = "place", "Place"
        ORGANIZATION = "organization", "Organization"
        TOPIC = "topic", "Topic"

    slug = models.SlugField(max_length=120, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.TOPIC)
    article_count = models.PositiveIntegerField(default=0, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-article_count", "name"]

    def __str__(self) -> str:
        return f"#{self.slug}"


class ArticleHashtag(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="article_hashtags")
    hashtag = models.ForeignKey(Hashtag, on_delete=models.CASCADE, related_name="article_hashtags")
    score = models.FloatField(default=0.0)
    mentions = models.PositiveIntegerField(default=1)
    position = models.PositiveSmallIntegerField(default=0, help_text="rank within the article")
    # Copied from the article so that trending ("most used in the last N hours") is one
    # indexed range scan.
    published_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["article", "hashtag"], name="one_tag_per_article")]
        # INCLUDE: new-article counts of a followed hashtag are index-only on PostgreSQL.
        indexes = [models.Index(fields=["hashtag", "-published_at"], include=["article"], name="hashtag_latest")]


class HashtagAlias(models.Model):
    """A surface form's key ("putin", "kiev") -> the hashtag it names across the site."""

    key = models.CharField(max_length=200, unique=True)
    hashtag = models.ForeignKey(Hashtag, on_delete=models.CASCADE, related_name="aliases")
    uses = models.PositiveIntegerField(default=1)
