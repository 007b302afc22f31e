"""The scheduler's recovery pass over the task queue.

Two steps, every few seconds (`newsdesk scheduler`):

1. *Lost runs.* A RUNNING task row whose worker (the last id in its `worker_ids`) has
   not beaten for NEWSDESK_WORKER_DEAD_AFTER seconds, or never did, was orphaned by a
   killed worker: django_tasks_db would leave it RUNNING for ever. It is closed as FAILED
   with a `WorkerLost` "exception" saying since when the worker was silent.
2. *Failed runs.* Each FAILED row of a recoverable pipeline task (see
   `newsdesk.pipeline.tasks.recoverable()`) not seen before gets a `TaskFailure`: what it
   held is handed on (a feed's lock released, a page batch's lease renewed) and the same
   task is queued again, at once after a lost worker, else after 30 s, 2 min, 8 min ...;
   after NEWSDESK_TASK_MAX_ATTEMPTS runs it is given up and shown to staff instead.

So a killed worker's work is back in the queue about NEWSDESK_WORKER_DEAD_AFTER seconds
after the kill, instead of after a full NEWSDESK_TASK_LEASE.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from newsdesk.recovery.models import TaskFailure, WorkerHeartbeat

if TYPE_CHECKING:
    from newsdesk.pipeline.tasks import Release

try:  # Django >= 6.0
    from django.tasks import TaskResultStatus
except ImportError:  # Django 5.2 with the django-tasks backport
    from django_tasks import TaskResultStatus

log = logging.getLogger(__name__)
HEARTBEATS_KEPT = timedelta(days=1)
FAILURES_KEPT = timedelta(days=30)  # the queue's own rows are pruned after a day
BATCH = 200


class WorkerLost(Exception):
    """The worker running a task stopped beating (killed, crashed, machine gone)."""


WORKER_LOST = f"{WorkerLost.__module__}.{WorkerLost.__qualname__}"


@dataclass
class Recovered:
    lost: int = 0  # running rows closed because their worker died
    retried: int = 0  # failed runs queued again
    given_up: int = 0  # failed runs that had used up their attempts


def recover(now: datetime | None = None) -> Recovered:
    """One recovery pass: close runs of dead workers, then retry or give up failed runs."""
    now = now or timezone.now()
    outcome = Recovered(lost=close_lost_runs(now))
    outcome.retried, outcome.given_up = retry_failed_runs(now)
    WorkerHeartbeat.objects.filter(beat_at__lt=now - HEARTBEATS_KEPT).delete()
    TaskFailure.objects.filter(failed_at__lt=now - FAILURES_KEPT).delete()
    return outcome


def retry_delay(attempt: int) -> float:
    """Seconds before running again work that has failed `attempt` times: 30 s, 2 min, 8 min..."""
    return settings.NEWSDESK_TASK_RETRY_DELAY * 4 ** max(attempt - 1, 0)


# --- Lost runs -------------------------------------------------------------------------


def close_lost_runs(now: datetime) -> int:
    dead_after = timedelta(seconds=settings.NEWSDESK_WORKER_DEAD_AFTER)
    running = list(
        DBTaskResult.objects.running().filter(started_at__lt=now - dead_after).only("id", "worker_ids", "started_at")
    )
    if not running:
        return 0
    beats = {
        b.worker_id: b
        for b in WorkerHeartbeat.objects.filter(worker_id__in={r.worker_ids[-1] for r in running if r.worker_ids})
    }
    closed = 0
    for row in running:
        worker_id = row.worker_ids[-1] if row.worker_ids else ""
        beat = beats.get(worker_id)
        if beat is not None and (beat.beat_at >= now - dead_after or _alive_here(beat)):
            continue
        silent = f"no heartbeat since {beat.beat_at.isoformat()}" if beat else "no heartbeat at all"
        text = (
            f"worker lost ({silent}; worker {worker_id or '?'} presumed dead after "
            f"{settings.NEWSDESK_WORKER_DEAD_AFTER:g} s)\n"
        )
        # Only if still RUNNING: a worker that was merely slow may have finished it meanwhile.
        closed += DBTaskResult.objects.filter(pk=row.pk, status=TaskResultStatus.RUNNING).update(
            status=TaskResultStatus.FAILED, finished_at=now, exception_class_path=WORKER_LOST, traceback=text
        )
        log.warning("task %s: %s", row.pk, text.strip())
    return closed


def _alive_here(beat: WorkerHeartbeat) -> bool:
    """A worker on this machine whose process still runs is alive however late its beat
    (on SQLite a long write by another process can hold up the heartbeat's write)."""
    if beat.host != socket.gethostname()[:255]:
        return False
    try:
        os.kill(beat.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed child not yet reaped by its parent is a zombie: dead
        with open(f"/proc/{beat.pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


# --- Failed runs -----------------------------------------------------------------------


def retry_failed_runs(now: datetime) -> tuple[int, int]:
    from newsdesk.pipeline.tasks import recoverable

    handlers = recoverable()

    failed = list(
        DBTaskResult.objects.failed()
        .filter(task_path__in=list(handlers))
        .exclude(id__in=TaskFailure.objects.values("result_id"))
        .order_by("finished_at")[:BATCH]
    )
    retried = given_up = 0
    for row in failed:
        try:
            with transaction.atomic():
                if _handle(row, handlers[row.task_path], now):
                    retried += 1
                else:
                    given_up += 1
        except IntegrityError:  # another pass handled it first
            continue
    return retried, given_up


def _handle(row: DBTaskResult, release: Release, now: datetime) -> bool:
    """Record one failed run and queue it again; False when it is given up."""
    from newsdesk.pipeline.ingest import lease_time

    previous = TaskFailure.objects.filter(retry_result_id=row.id).first()
    attempt = previous.attempt + 1 if previous else 1
    lost = row.exception_class_path == WORKER_LOST
    args, kwargs = row.args_kwargs.get("args", []), row.args_kwargs.get("kwargs", {})
    failure = TaskFailure(
        result_id=row.id,
        task_path=row.task_path,
        args_kwargs=row.args_kwargs,
        attempt=attempt,
        worker_lost=lost,
        error=_error_line(row),
        traceback=row.traceback,
        failed_at=row.finished_at or now,
    )
    if attempt >= settings.NEWSDESK_TASK_MAX_ATTEMPTS:
        release(args, kwargs, until=now + lease_time())
        failure.outcome = TaskFailure.Outcome.GAVE_UP
        failure.save()
        log.error("giving up %s%s after %d attempts: %s", row.task_path, tuple(args), attempt, failure.error)
        return False
    when = now if lost else now + timedelta(seconds=retry_delay(attempt))
    release(args, kwargs, until=when + lease_time())
    again = row.task.using(run_after=when).enqueue(*args, **kwargs)
    failure.outcome = TaskFailure.Outcome.RETRIED
    failure.retry_result_id = again.id
    failure.retry_at = when
    failure.save()
    log.warning(
        "task %s%s failed (attempt %d, %s); queued again for %s",
        row.task_path,
        tuple(args),
        attempt,
        failure.error,
        when.isoformat(),
    )
    return True


def _error_line(row: DBTaskResult) -> str:
    """ "OverflowError: date value out of range": the traceback's last line."""
    lines = [line for line in (row.traceback or "").strip().splitlines() if line.strip()]
    return (lines[-1].strip() if lines else row.exception_class_path)[:1000]
