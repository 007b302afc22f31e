"""The pipeline's steps as tasks of Django's Tasks framework.

Storing pages is a task of its own; what follows it runs one `chain` stage per task,
each queueing the next, in the order of the registered stages (`newsdesk fetch` runs
the same stages in its own process). Enrichment's task is here; placement's is in
`newsdesk.stories.tasks`, next to the stage it runs.

Django 6 ships the framework as `django.tasks`; on Django 5.2 the `django-tasks`
backport provides the same API, so only this import knows which one is in use.

Every task here may run more than once for the same arguments: a failed run is queued
again with back-off and a run whose worker died is queued again at once
(`newsdesk.recovery.sweep`, driven by `recoverable()` below), so each step is idempotent.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Protocol

from django.utils import timezone

try:  # Django >= 6.0
    from django.tasks import task
except ImportError:  # Django 5.2 with the django-tasks backport
    from django_tasks import task

from newsdesk.pipeline import chain, ingest
from newsdesk.pipeline.enrich import enrich_articles, unenriched_since

# Ingest outranks enrichment: articles reach readers first and are enriched in the gaps.
INGEST_PRIORITY = 10
STORY_PRIORITY = 5  # a short step after enrichment: finish placing what is enriched
ENRICH_PRIORITY = 0


@task(priority=INGEST_PRIORITY)
def fetch_feed_task(feed_id: int) -> dict:
    return asdict(ingest.fetch_feed(feed_id, enqueue=enqueue_entries))


@task(priority=INGEST_PRIORITY)
def process_entries_task(entry_ids: list[int]) -> dict:
    """Store the batch's pages, then queue enrichment for what they stored.

    A run whose worker died stored some pages (each in its own transaction) but queued
    nothing; its retry skips those done entries, so it also queues their articles that
    still lack an enrichment, or they would wait for the scheduler's repair pass.
    """
    outcome = ingest.process_entries(entry_ids)
    stranded = ingest.unenriched_articles_of(entry_ids)
    todo = list(dict.fromkeys([*outcome.stored, *stranded]))
    chain.start(todo)
    return asdict(outcome)


@task(priority=ENRICH_PRIORITY)
def enrich_articles_task(article_ids: list[int]) -> int:
    return chain.hand_on("enrich", article_ids)


def _enrich(article_ids: list[int]) -> chain.Done:
    """Embedding, hashtags, summary and section; placement needs the embedding.

    Hands on the whole batch when anything was written (as the workers always did):
    placement skips the articles that are unenriched or already placed, and indexes
    every vector it is given, so a redone enrichment reaches the index too.
    """
    written = enrich_articles(article_ids)
    return chain.Done(written, list(article_ids) if written else [])


ENRICH = chain.Stage("enrich", order=10, run=_enrich, task=enrich_articles_task, stranded=unenriched_since)


def enqueue_entries(entry_ids: list[int]) -> None:
    """Queue pages in batches; the lease makes a lost batch due again later."""
    ingest.lease(entry_ids)
    for batch in ingest.batches(entry_ids):
        process_entries_task.enqueue(batch)


def enqueue_due_work() -> tuple[int, int]:
    """One scheduler pass: queue every due feed poll and every due page."""
    feeds = ingest.claim_due_feeds()
    for feed_id in feeds:
        fetch_feed_task.enqueue(feed_id)
    entries = ingest.claim_due_entries()
    for batch in ingest.batches(entries):
        process_entries_task.enqueue(batch)
    return len(feeds), len(entries)


def enqueue_stranded() -> int:
    """Queue each stage for the articles of the last day that never went through it (a
    worker died between storing and enriching them, or between enriching and placing)."""
    now = timezone.now()
    return chain.queue_stranded(now - timedelta(days=1), now - ingest.lease_time())


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
    """Stages write in short transactions (a dead run's open one is rolled back, the
    committed ones hold whole articles) and skip or redo what is already done; placement
    also refreshes the story records a dead run left behind."""


class Release(Protocol):
    """How a failed run's hold on its work is handed on, given the run's arguments."""

    def __call__(self, args: list, kwargs: dict, until: datetime) -> None: ...


def recoverable() -> dict[str, Release]:
    """Each task the recovery sweep looks after, by module path, and how to hand on what
    a dead or failed run held. Stage tasks hold nothing (see `chain.Stage`)."""
    handlers: dict[str, Release] = {
        fetch_feed_task.module_path: _release_feed,
        process_entries_task.module_path: _renew_entries,
    }
    for current in chain.stages():
        handlers[current.task.module_path] = _holds_nothing
    return handlers
