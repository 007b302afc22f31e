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
