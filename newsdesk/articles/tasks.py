"""The pipeline's steps as tasks of Django's Tasks framework.

Storing pages is a task of its own; what follows it runs one `chain` stage per task,
each queueing the next, in the order `chain.STAGES` defines (`newsdesk fetch` runs the
same stages in its own process).

Django 6 ships the framework as `django.tasks`; on Django 5.2 the `django-tasks`
backport provides the same API, so only this import knows which one is in use.

Every task here may run more than once for the same arguments: a failed run is queued
again with back-off and a run whose worker died is queued again at once
(`newsdesk.recovery.sweep`, driven by `RECOVERABLE` below), so each step is idempotent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timedelta

from django.utils import timezone

try:  # Django >= 6.0
    from django.tasks import task
except ImportError:  # Django 5.2 with the django-tasks backport
    from django_tasks import task

from newsdesk.articles import chain, pipeline
from newsdesk.articles.enrich import unenriched_since

# Ingest outranks enrichment: articles reach readers first and are enriched in the gaps.
INGEST_PRIORITY = 10
STORY_PRIORITY = 5  # a short step after enrichment: finish placing what is enriched
ENRICH_PRIORITY = 0


@task(priority=INGEST_PRIORITY)
def fetch_feed_task(feed_id: int) -> dict:
    return asdict(pipeline.fetch_feed(feed_id, enqueue=enqueue_entries))


@task(priority=INGEST_PRIORITY)
def process_entries_task(entry_ids: list[int]) -> dict:
    """Store the batch's pages, then queue enrichment for what they stored.

    A run whose worker died stored some pages (each in its own transaction) but queued
    nothing; its retry skips those done entries, so it also queues their articles that
    still lack an enrichment, or they would wait for the scheduler's repair pass.
    """
    outcome = pipeline.process_entries(entry_ids)
    stranded = pipeline.unenriched_articles_of(entry_ids)
    todo = list(dict.fromkeys([*outcome.stored, *stranded]))
    if todo:
        _queue(chain.STAGES[0], todo)
    return asdict(outcome)


@task(priority=ENRICH_PRIORITY)
def enrich_articles_task(article_ids: list[int]) -> int:
    return _run_stage(chain.enrich, article_ids)


@task(priority=STORY_PRIORITY)
def place_in_stories_task(article_ids: list[int]) -> int:
    """Fold copies, join or start stories, and index the vectors for related articles."""
    return _run_stage(chain.place, article_ids)


# The task that runs each stage. The tasks' names are kept as they were: queued task
# rows name them by path.
_STAGE_TASKS = {chain.enrich: enrich_articles_task, chain.place: place_in_stories_task}


def _run_stage(stage: chain.Stage, article_ids: list[int]) -> int:
    """Run one stage here and queue the next one for what it hands on."""
    done = stage(article_ids)
    following = chain.after(stage)
    if following is not None and done.next_ids:
        _queue(following, done.next_ids)
    return done.count


def _queue(stage: chain.Stage, article_ids: list[int]) -> None:
    _STAGE_TASKS[stage].enqueue(article_ids)


def enqueue_entries(entry_ids: list[int]) -> None:
    """Queue pages in batches; the lease makes a lost batch due again later."""
    pipeline.lease(entry_ids)
    for batch in pipeline.batches(entry_ids):
        process_entries_task.enqueue(batch)


def enqueue_due_work() -> tuple[int, int]:
    """One scheduler pass: queue every due feed poll and every due page."""
    feeds = pipeline.claim_due_feeds()
    for feed_id in feeds:
        fetch_feed_task.enqueue(feed_id)
    entries = pipeline.claim_due_entries()
    for batch in pipeline.batches(entries):
        process_entries_task.enqueue(batch)
    return len(feeds), len(entries)


def enqueue_missing_enrichment() -> int:
    """Queue enrichment for articles of the last day whose enrichment never happened
    (a worker died between storing and enriching them), and story placement for
    enriched articles that never got a story."""
    from newsdesk.articles.models import Article

    now = timezone.now()
    ids = unenriched_since(now - timedelta(days=1), now - pipeline.lease_time())
    for start in range(0, len(ids), 32):
        enrich_articles_task.enqueue(ids[start : start + 32])
    unplaced = list(
        Article.objects.filter(
            enrichment__isnull=False,
            story_member__isnull=True,
            enrichment__enriched_at__gte=now - timedelta(days=1),
            enrichment__enriched_at__lt=now - pipeline.lease_time(),
        ).values_list("pk", flat=True)[:1000]
    )
    for start in range(0, len(unplaced), 64):
        place_in_stories_task.enqueue(unplaced[start : start + 64])
    return len(ids) + len(unplaced)


# --- Recovery ------------------------------------------------------------------------
# What a run of each task holds, and how to hand it on when the run failed or its worker
# died (newsdesk/recovery/sweep.py): `until` is when the next run should be over.


def _release_feed(args: list, kwargs: dict, until: datetime) -> None:
    """A dead poll's feed lock would block the retry until the lease ran out."""
    from newsdesk.sources.models import Feed

    feed_id = kwargs.get("feed_id", args[0] if args else None)
    Feed.objects.filter(pk=feed_id).update(locked_until=None)


def _renew_entries(args: list, kwargs: dict, until: datetime) -> None:
    """The retry takes over the batch: its pages stay leased, so the scheduler does not
    queue them a second time meanwhile."""
    from newsdesk.sources.models import Entry

    entry_ids = kwargs.get("entry_ids", args[0] if args else [])
    Entry.objects.filter(pk__in=entry_ids, state=Entry.State.PENDING).update(next_attempt_at=until)


def _holds_nothing(args: list, kwargs: dict, until: datetime) -> None:
    """Enrichment and story placement write in short transactions (a dead run's open one
    is rolled back, the committed ones hold whole articles) and skip or redo what is
    already done; placement also refreshes the story records a dead run left behind."""


RECOVERABLE: dict[str, Callable[[list, dict, datetime], None]] = {
    fetch_feed_task.module_path: _release_feed,
    process_entries_task.module_path: _renew_entries,
    enrich_articles_task.module_path: _holds_nothing,
    place_in_stories_task.module_path: _holds_nothing,
}
