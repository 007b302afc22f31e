"""One article's lead image, from its URL to stored variants and an `ArticleImage` row.

Files go through Django's storage API (STORAGES["default"]: the data dir locally, any
backend at scale) under names made from the SHA-256 of the fetched bytes, so the same
picture used by many articles (a publisher's stock photo) is stored once, and a name never
changes what it holds: readers may cache it for a year.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from newsdesk.images.fetch import FetchError, ImageRefused, fetch_image
from newsdesk.images.models import ArticleImage, variant_name
from newsdesk.images.variants import Variant, make_variants

LOGGER = logging.getLogger(__name__)
# Fetches wait on publishers and run side by side (stage.THREADS); decoding takes a core
# and up to 4 bytes per pixel of the budget, so at most two run at once in a process.
_DECODING = threading.BoundedSemaphore(2)
MAX_ALT = 300
# Failures that may pass, tried again after 15 minutes, then 2 hours; then given up.
PASSING_KINDS = frozenset({"timeout", "network"})
PASSING_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
RETRY_AFTER = timedelta(minutes=15)
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Wanted:
    """What the stage needs of an article (read once for the batch)."""

    article_id: int
    url: str
    title: str


@dataclass(frozen=True)
class Made:
    """A fetched and resized image, not yet recorded; or why there is none."""

    wanted: Wanted
    digest: str = ""
    variants: tuple[dict, ...] = ()
    error: str = ""
    passing: bool = False  # the failure may pass: worth another try later


def make(wanted: Wanted) -> Made:
    """Fetch, check, resize and write the files of one image. Never raises for anything
    about the image or its server: the failure is returned, to be recorded."""
    try:
        data = fetch_image(wanted.url)
        digest = hashlib.sha256(data).hexdigest()
        with _DECODING:
            variants = make_variants(
                data, settings.NEWSDESK_IMAGE_WIDTHS, max_pixels=settings.NEWSDESK_IMAGE_MAX_PIXELS
            )
        return Made(wanted, digest, tuple(_save(digest, v) for v in variants))
    except FetchError as error:
        passing = error.kind in PASSING_KINDS or (error.kind == "http-status" and error.status in PASSING_STATUSES)
        return Made(wanted, error=str(error), passing=passing)
    except ImageRefused as error:
        return Made(wanted, error=str(error))
    except Exception as error:  # noqa: BLE001 - never lose the article over its picture
        LOGGER.exception("lead image of article %s (%s)", wanted.article_id, wanted.url)
        return Made(wanted, error=f"{type(error).__name__}: {error}", passing=True)


def _save(digest: str, variant: Variant) -> dict:
    name = variant_name(digest, variant.width)
    if not default_storage.exists(name):
        saved = default_storage.save(name, ContentFile(variant.data))
        if saved != name:
            # Another worker wrote the same picture meanwhile and the storage chose
            # another name for this copy: the bytes are the same, keep one.
            default_storage.delete(saved)
    return {"width": variant.width, "height": variant.height, "name": name}


def record(made: Made) -> ArticleImage:
    """The article's `ArticleImage`, created or replaced; a failure that may pass is
    given a time to try again, until MAX_ATTEMPTS fetches of the same URL failed."""
    widest = made.variants[-1] if made.variants else {"width": 0, "height": 0}
    before = ArticleImage.objects.filter(article_id=made.wanted.article_id).values_list("source_url", "attempts")
    url, attempts = before.first() or ("", 0)
    attempts = attempts + 1 if url == made.wanted.url else 1
    now = timezone.now()
    retry = made.passing and not made.variants and attempts < MAX_ATTEMPTS
    image, _ = ArticleImage.objects.update_or_create(
        article_id=made.wanted.article_id,
        defaults={
            "source_url": made.wanted.url,
            "state": ArticleImage.State.STORED if made.variants else ArticleImage.State.FAILED,
            "error": made.error[:500],
            "digest": made.digest,
            "width": widest["width"],
            "height": widest["height"],
            "variants": list(made.variants),
            "alt": " ".join(made.wanted.title.split())[:MAX_ALT],
            "fetched_at": now,
            "attempts": attempts,
            "retry_at": now + RETRY_AFTER * 8 ** (attempts - 1) if retry else None,
        },
    )
    return image
