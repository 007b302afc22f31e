"""Folding near-duplicates as they arrive: a copy points at the first article seen."""

from __future__ import annotations

from django.db import transaction

from newsdesk.articles.models import Article
from newsdesk.stories import duplicates
from newsdesk.stories.models import Fingerprint, FingerprintBand, NearDuplicate


def fold_duplicate(article: Article) -> NearDuplicate | None:
    """Record `article`'s fingerprint; when an earlier article has the same text, mark
    this one as its copy. Idempotent: a second call changes nothing."""
    values = duplicates.signature(article.body_text)
    if values is None:
        return None
    keys = duplicates.band_keys(values)
    with transaction.atomic():
        existing = NearDuplicate.objects.filter(article=article).first()
        candidates = (
            FingerprintBand.objects.filter(key__in=keys)
            .exclude(article=article)
            .values_list("article_id", flat=True)
            .distinct()
        )
        best: tuple[float, Article] | None = None
        for fingerprint in Fingerprint.objects.filter(article_id__in=list(candidates)).select_related("article"):
            score = duplicates.similarity(values, duplicates.from_blob(bytes(fingerprint.signature)))
            if score < duplicates.THRESHOLD:
                continue
            other = fingerprint.article
            if other.published_at > article.published_at or (
                other.published_at == article.published_at and other.pk > article.pk
            ):
                continue  # only an earlier article can be the original
            if best is None or score > best[0]:
                best = (score, other)
        Fingerprint.objects.update_or_create(article=article, defaults={"signature": duplicates.to_blob(values)})
        FingerprintBand.objects.filter(article=article).delete()
        FingerprintBand.objects.bulk_create(FingerprintBand(key=key, article=article) for key in keys)
        if best is None:
            return existing
        original = best[1]
        link = NearDuplicate.objects.filter(article=original).first()
        if link is not None:
            original = link.original  # copies of copies point at the first one
        duplicate, _ = NearDuplicate.objects.update_or_create(
            article=article, defaults={"original": original, "similarity": round(best[0], 4)}
        )
        return duplicate
