"""What the scheduler queues for briefings and alerts (newsdesk scheduler calls `tick`
on every pass).

Cheap when there is nothing to do: the fan-out planner is one indexed read of the
articles past its watermark and one of overdue batches, every NEWSDESK_ALERTS_EVERY
seconds; the mail planner is queued as a task every NEWSDESK_MAIL_PLAN_EVERY seconds
(it does the per-time-zone reads in a worker); old batches and sent emails' content are
pruned hourly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from newsdesk.reader.briefings import fanout, mail
from newsdesk.reader.briefings.models import AlertInterval, BriefingSettings, Delivery
from newsdesk.reader.briefings.tasks import fanout_task, plan_mail_task

PRUNE_EVERY = 3600.0
_last = {"fanout": float("-inf"), "mail": float("-inf"), "prune": float("-inf")}


@dataclass(frozen=True)
class Queued:
    fanout_batches: int = 0
    mail_plans: int = 0

    def __bool__(self) -> bool:
        return bool(self.fanout_batches or self.mail_plans)


def _due(name: str, every: float, clock: float) -> bool:
    if clock - _last[name] < every:
        return False
    _last[name] = clock
    return True


def _anyone_mailed() -> bool:
    """Does any reader take email, or is any email still to send? Two indexed reads."""
    wanted = Q(briefing_email=True) | ~Q(alerts_interval=AlertInterval.OFF)
    return (
        BriefingSettings.objects.filter(wanted).exists()
        or Delivery.objects.filter(state=Delivery.State.PENDING).exists()
    )


def tick(*, force: bool = False) -> Queued:
    """One scheduler pass: queue fan-out batches and the mail planner when due."""
    clock = time.monotonic()
    batches = plans = 0
    if force or _due("fanout", settings.NEWSDESK_ALERTS_EVERY, clock):
        for batch_id in [*fanout.plan(), *fanout.overdue()]:
            fanout_task.enqueue(batch_id)
            batches += 1
    if (force or _due("mail", settings.NEWSDESK_MAIL_PLAN_EVERY, clock)) and _anyone_mailed():
        plan_mail_task.enqueue()
        plans = 1
    if _due("prune", PRUNE_EVERY, clock):
        fanout.prune(timezone.now() - timedelta(days=1))
        mail.prune()
    return Queued(batches, plans)
