"""What staff see of the task queue's health (the status section of /sources/).

Counts come from `TaskFailure` (our bookkeeping) and the queue rows its retries point
at, so "waiting for retry" means a queued run that has not started yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from newsdesk.recovery.models import TaskFailure, WorkerHeartbeat

try:  # Django >= 6.0
    from django.tasks import TaskResultStatus
except ImportError:  # Django 5.2 with the django-tasks backport
    from django_tasks import TaskResultStatus

SHOWN_FOR = timedelta(days=7)  # given-up work stays on the page this long (the admin keeps it all)
LISTED = 10


@dataclass
class TaskHealth:
    gave_up: int = 0
    waiting: int = 0
    failed_today: int = 0
    last_failure: TaskFailure | None = None
    given_up: list[TaskFailure] = field(default_factory=list)
    workers_alive: int = 0
    workers_silent: int = 0


def task_health() -> TaskHealth:
    now = timezone.now()
    recent = TaskFailure.objects.filter(failed_at__gte=now - SHOWN_FOR)
    gave_up = recent.filter(outcome=TaskFailure.Outcome.GAVE_UP)
    retries = TaskFailure.objects.filter(outcome=TaskFailure.Outcome.RETRIED, failed_at__gte=now - SHOWN_FOR).values(
        "retry_result_id"
    )
    dead_after = timedelta(seconds=settings.NEWSDESK_WORKER_DEAD_AFTER)
    beats = WorkerHeartbeat.objects.all()
    return TaskHealth(
        gave_up=gave_up.count(),
        waiting=DBTaskResult.objects.filter(id__in=retries, status=TaskResultStatus.READY).count(),
        failed_today=TaskFailure.objects.filter(failed_at__gte=now - timedelta(days=1)).count(),
        last_failure=TaskFailure.objects.order_by("-failed_at").first(),
        given_up=list(gave_up.order_by("-failed_at")[:LISTED]),
        workers_alive=beats.filter(beat_at__gte=now - dead_after).count(),
        workers_silent=beats.filter(beat_at__lt=now - dead_after).count(),
    )
