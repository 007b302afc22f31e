"""The pipeline's steps as tasks of Django's Tasks framework.

Django 6 ships the framework as `django.tasks`; on Django 5.2 the `django-tasks`
backport provides the same API, so only this import knows which one is in use.
"""

from __future__ import annotations

from dataclasses import asdict

try:  # Django >= 6.0
    from django.tasks import task
except ImportError:  # Django 5.2 with the django-tasks backport
    from django_tasks import task

from newsdesk.articles import pipeline


@task()
def fetch_feed_task(feed_id: int) -> dict:
    return asdict(pipeline.fetch_feed(feed_id, enqueue=enqueue_entries))


@task()
def process_entries_task(entry_ids: list[int]) -> dict:
    return asdict(pipeline.process_entries(entry_ids))


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
