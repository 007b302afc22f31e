"""What became of an article's lead image: its stored variants, or why there are none."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.db import models
from django.utils import timezone

from newsdesk.articles.models import Article

PREFIX = "images"  # the folder of the default storage that holds the variants


def variant_name(digest: str, width: int) -> str:
    """Where a variant is stored: named by the digest of the fetched bytes."""
    return f"{PREFIX}/{digest[:2]}/{digest}-{width}.webp"


class ArticleImage(models.Model):
    """One row per article whose lead image was tried, stored or not: the stage skips an
    article whose row names its current lead image, so a refused image is not fetched
    again on every retried task, and a changed lead image is. A failure that may pass
    (timeouts, 5xx, 429) is tried again later, a few times (`retry_at`)."""

    class State(models.TextChoices):
        STORED = "stored", "Stored"
        FAILED = "failed", "Failed"

    article = models.OneToOneField(Article, on_delete=models.CASCADE, primary_key=True, related_name="image")
    source_url = models.URLField(max_length=1000, help_text="the lead image URL it was made from")
    state = models.CharField(max_length=8, choices=State.choices)
    error = models.CharField(max_length=500, blank=True)
    digest = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the fetched bytes: names the files")
    width = models.PositiveIntegerField(default=0, help_text="of the widest variant")
    height = models.PositiveIntegerField(default=0, help_text="of the widest variant")
    # [{"width": 320, "height": 180, "name": "images/ab/<digest>-320.webp"}, ...], narrowest first.
    variants = models.JSONField(default=list, blank=True)
    alt = models.CharField(max_length=300, blank=True)
    fetched_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=1, help_text="fetches of this source_url so far")
    # A failure that may pass (a timeout, a 503) is tried again from then on by the repair
    # pass; None: nothing more to try (stored, refused, or out of attempts).
    retry_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"image of {self.article_id} ({self.state})"

    @property
    def shown(self) -> bool:
        return self.state == self.State.STORED and bool(self.variants)

    def url(self, width: int = 0) -> str:
        """The smallest variant at least `width` wide (the widest when none is)."""
        chosen = self.variants[-1]
        for variant in self.variants:
            if variant["width"] >= width:
                chosen = variant
                break
        return default_storage.url(chosen["name"])

    def srcset(self) -> str:
        return ", ".join(f"{default_storage.url(v['name'])} {v['width']}w" for v in self.variants)


def shown_image(owner: object) -> ArticleImage | None:
    """The stored picture of an article (None when it has none, or its image was refused),
    or `owner` itself when it is an ArticleImage that was stored. Reads `article.image`:
    one query unless the article was loaded with select_related("image")."""
    image = owner if isinstance(owner, ArticleImage) else getattr(owner, "image", None)
    return image if image is not None and image.shown else None
