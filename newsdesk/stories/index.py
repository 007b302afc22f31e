"""The article vector index of this machine, kept in step with the database.

The database is the source of truth (each Enrichment holds its embedding); the index
under DATA_DIR/vectors is a derived, rebuildable copy for fast "related" queries. Workers
add to it after each enrichment batch; `sync` catches up from the database (for a
machine whose workers did not see every batch, and after a crash between storing and
indexing); `newsdesk index --rebuild` recreates it from scratch.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db.models import QuerySet

from newsdesk.articles.models import Enrichment, from_blob
from newsdesk.stories.vectors import MANIFEST, VectorIndex
from newsdesk.stories.windows import effective_time

log = logging.getLogger(__name__)
WATERMARK = "watermark.json"
_reader: VectorIndex | None = None
_reader_lock = threading.Lock()


def directory() -> Path:
    return Path(settings.NEWSDESK_VECTOR_DIR)


def reader() -> VectorIndex | None:
    """The process's read-only view of the index (memory-mapped), or None before the
    first article has been indexed."""
    global _reader
    with _reader_lock:
        if _reader is None or _reader.directory != directory():
            if not (directory() / MANIFEST).exists():
                return None
            _reader = VectorIndex.load(directory())
        return _reader


def _rows(queryset: QuerySet[Enrichment]) -> Iterable[tuple[int, np.ndarray, float]]:
    """(id, vector, time) for the index; the time is the effective one (windows.py): an
    article dated in the future would otherwise open a window far ahead and push every
    real week out of the kept ones."""
    for article_id, blob, published, stored in queryset.values_list(
        "article_id", "embedding", "article__published_at", "article__created_at"
    ):
        if blob:
            yield article_id, from_blob(bytes(blob)), effective_time(published, stored).timestamp()


def add_articles(article_ids: Iterable[int]) -> int:
    """Index (or re-index) the given articles' embeddings."""
    rows = list(_rows(Enrichment.objects.filter(article_id__in=list(article_ids))))
    if not rows:
        return 0
    with VectorIndex.open(directory()).writing() as index:
        index.add([r[0] for r in rows], np.stack([r[1] for r in rows]), [r[2] for r in rows])
    return len(rows)


def remove_articles(article_ids: Iterable[int]) -> None:
    ids = list(article_ids)
    if ids and (directory() / MANIFEST).exists():
        with VectorIndex.open(directory()).writing() as index:
            index.remove(ids)


def sync() -> int:
    """Add what was enriched since the last sync; returns how many vectors were added."""
    mark_file = directory() / WATERMARK
    since = json.loads(mark_file.read_text())["enriched_at"] if mark_file.exists() else None
    queryset = Enrichment.objects.order_by("enriched_at")
    if since:
        queryset = queryset.filter(enriched_at__gt=since)
    latest = queryset.values_list("enriched_at", flat=True).last()
    if latest is None:
        return 0
    added = 0
    with VectorIndex.open(directory()).writing() as index:
        batch: list[tuple[int, np.ndarray, float]] = []
        for row in _rows(queryset.filter(enriched_at__lte=latest)):
            batch.append(row)
            if len(batch) == 5000:
                added += _add(index, batch)
        added += _add(index, batch)
    mark_file.write_text(json.dumps({"enriched_at": latest.isoformat()}))
    return added


def _add(index: VectorIndex, batch: list) -> int:
    if not batch:
        return 0
    index.add([r[0] for r in batch], np.stack([r[1] for r in batch]), [r[2] for r in batch])
    count = len(batch)
    batch.clear()
    return count


def rebuild() -> int:
    """Recreate the index from the database (the newest windows it keeps)."""
    with VectorIndex.open(directory()).writing() as index:  # the writers' lock, then a fresh start
        index.rebuild(_rows(Enrichment.objects.order_by("article__published_at")))
    latest = Enrichment.objects.order_by("enriched_at").values_list("enriched_at", flat=True).last()
    if latest:
        (directory() / WATERMARK).write_text(json.dumps({"enriched_at": latest.isoformat()}))
    return len(index)
