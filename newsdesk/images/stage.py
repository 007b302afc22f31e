"""The lead images' stage of the ingest chain: after placement, fetch what is missing.

Registered with `newsdesk.pipeline.chain` by the images app, last (order 40, leaving 30
to add-ons that follow placement): an article is on the site, enriched and in its story
before its picture is fetched, and a slow, huge, broken or refused image costs only the
picture. Idempotent like every stage: an article whose row already names its current
lead image is skipped, so a retried task or a repair pass fetches nothing twice.
The scheduler's repair pass (`stranded`) finds articles of the last day whose image
was never tried, whatever became of their enrichment, or is due for another try after
a failure that may pass (a timeout, a 503).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from django.conf import settings
from django.db import connections
from django.db.models import Q
from django.utils import timezone

try:  # Django >= 6.0
    from django.tasks import task
except ImportError:  # Django 5.2 with the django-tasks backport
    from django_tasks import task

from newsdesk.articles.models import Article
from newsdesk.images.models import ArticleImage
from newsdesk.images.store import Made, Wanted, make, record
from newsdesk.pipeline import chain
from newsdesk.pipeline.tasks import ENRICH_PRIORITY

# Fetches run side by side (they mostly wait on publishers and on per-host politeness,
# which still bounds each host); resizing takes a core while it runs.
THREADS = 4


@task(priority=ENRICH_PRIORITY)
def fetch_images_task(article_ids: list[int]) -> int:
    return chain.hand_on("images", article_ids)


def wanted(article_ids: list[int]) -> list[Wanted]:
    """The articles of `article_ids` with a lead image not yet tried, or due for another try."""
    now = timezone.now()
    rows = Article.objects.filter(pk__in=article_ids).exclude(lead_image="").values_list("pk", "lead_image", "title")
    tried = {
        pk: (url, retry_at)
        for pk, url, retry_at in ArticleImage.objects.filter(article_id__in=article_ids).values_list(
            "article_id", "source_url", "retry_at"
        )
    }
    return [
        Wanted(pk, url, title)
        for pk, url, title in rows
        if pk not in tried or tried[pk][0] != url or (tried[pk][1] is not None and tried[pk][1] <= now)
    ]


def fetch_lead_images(article_ids: list[int]) -> list[ArticleImage]:
    """Fetch, store and record the lead images of these articles that need one; returns
    the rows written (stored or failed)."""
    todo = wanted(article_ids)
    if not todo:
        return []
    if len(todo) == 1:
        made = [make(todo[0])]
    else:
        with ThreadPoolExecutor(min(THREADS, len(todo)), thread_name_prefix="images") as pool:
            made = list(pool.map(_make_in_thread, todo))
    return [record(item) for item in made]


def _make_in_thread(item: Wanted) -> Made:
    try:
        return make(item)
    finally:
        connections.close_all()  # this thread's own, should a storage backend have used the database


def _fetch(article_ids: list[int]) -> chain.Done:
    """`count` is how many images were stored; every id is handed on (a stage after this
    one is not about pictures)."""
    if not settings.NEWSDESK_IMAGES:
        return chain.Done(0, list(article_ids))
    rows = fetch_lead_images(article_ids)
    return chain.Done(sum(1 for row in rows if row.shown), list(article_ids))


def _untried(since: datetime, before: datetime) -> list[int]:
    """Stored in [since, before) with a lead image never tried (their task was lost) or
    whose last try failed in a way that may pass and is due again."""
    if not settings.NEWSDESK_IMAGES:
        return []
    due = Q(image__isnull=True) | Q(image__retry_at__lte=timezone.now())
    return list(
        Article.objects.filter(due, created_at__gte=since, created_at__lt=before)
        .exclude(lead_image="")
        .values_list("pk", flat=True)[:1000]
    )


IMAGES = chain.Stage("images", order=40, run=_fetch, task=fetch_images_task, stranded=_untried, batch=16)
