"""The scheduler's repair pass for claims: stories whose alignment task was lost.

`align_claims_task` is queued when a story's membership changes (alignment.py). A worker
killed while it ran, a queue row pruned before a worker got to it, or a new alignment
version leaves stories whose alignment is missing, outdated or older than their newest
member; nothing else would queue them again until the story next changes. `newsdesk
scheduler` calls `tick` on every pass (as it calls the briefings' tick): at most every
`EVERY` seconds it queues the task again for at most `MAX_PER_PASS` such stories, most
recent first, leaving out those a queued or running task already holds and those whose
newest member joined less than `GRACE` ago (their task is on its way).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from newsdesk.perspectives.alignment import VERSION
from newsdesk.perspectives.tasks import align_claims_task
from newsdesk.stories.models import Story, StoryMember

EVERY = 60.0  # seconds between passes: one indexed query over the window's stories
WINDOW = timedelta(days=2)  # stories seen this recently; older ones wait for their next change
GRACE = timedelta(seconds=60)  # a join this recent still has its own task coming
MAX_PER_PASS = 200  # stories queued per pass (a new VERSION re-aligns the window in steps)
BATCH = 50  # stories per task, as `queue_alignment` queues them
PENDING_ROWS = 1000  # queued task rows looked at for the stories they already hold

_last = {"pass": float("-inf")}


def behind(now: datetime | None = None, limit: int | None = None) -> list[int]:
    """Stories of two publishers or more, seen within WINDOW, whose alignment is missing,
    of another version, or older than their newest member; most recent first."""
    now = now or timezone.now()
    newest = StoryMember.objects.filter(story=OuterRef("pk")).order_by("-joined_at").values("joined_at")[:1]
    stale = Q(claims__isnull=True) | ~Q(claims__version=VERSION) | Q(claims__updated_at__lt=F("newest_join"))
    held = pending()
    ids = (
        Story.objects.filter(merged_into__isnull=True, publisher_count__gte=2, last_seen__gte=now - WINDOW)
        .annotate(newest_join=Subquery(newest))
        .filter(newest_join__lt=now - GRACE)
        .filter(stale)
        .exclude(pk__in=held)
        .order_by("-last_seen", "-pk")
        .values_list("pk", flat=True)[: limit or MAX_PER_PASS]
    )
    return list(ids)


def pending() -> set[int]:
    """Stories that a queued or running alignment task holds."""
    rows = DBTaskResult.objects.filter(
        task_path=align_claims_task.module_path, status__in=["READY", "RUNNING"]
    ).values_list("args_kwargs", flat=True)[:PENDING_ROWS]
    held: set[int] = set()
    for args_kwargs in rows:
        args = (args_kwargs or {}).get("args") or []
        kwargs = (args_kwargs or {}).get("kwargs") or {}
        ids = kwargs.get("story_ids", args[0] if args else [])
        held.update(int(i) for i in ids if isinstance(i, int))
    return held


def tick(*, force: bool = False) -> int:
    """One scheduler pass: queue the alignment of the stories `behind` finds, when due;
    returns how many stories were queued."""
    clock = time.monotonic()
    if not force and clock - _last["pass"] < EVERY:
        return 0
    _last["pass"] = clock
    ids = behind()
    for start in range(0, len(ids), BATCH):
        align_claims_task.enqueue(ids[start : start + BATCH])
    return len(ids)
