"""Briefings and alerts as tasks of Django's Tasks framework, queued by the scheduler
(schedule.py). Each may run more than once for the same arguments: a fan-out batch is
marked done in the transaction that writes it, an email is sent only while its row is
pending (see fanout.py and mail.py)."""

from __future__ import annotations

from dataclasses import asdict

from django.conf import settings

try:  # Django >= 6.0
    from django.tasks import task
except ImportError:  # Django 5.2 with the django-tasks backport
    from django_tasks import task

from newsdesk.reader.briefings import fanout, mail, site

# Below the ingest (10) and story placement (5): readers get articles before alerts.
FANOUT_PRIORITY = 2
MAIL_PRIORITY = 1


@task(priority=FANOUT_PRIORITY)
def fanout_task(batch_id: int) -> int:
    """Match one batch of new articles against follows; notification rows written."""
    return fanout.run(batch_id)


@task(priority=MAIL_PRIORITY)
def plan_mail_task() -> dict:
    """Refresh the site briefing (at most hourly), then queue every email owed now."""
    site.current(refresh=True)
    ids = mail.plan()
    queue_sending(ids)
    return {"emails": len(ids)}


@task(priority=MAIL_PRIORITY)
def send_mail_task(delivery_ids: list[int]) -> dict:
    return {name: len(ids) for name, ids in asdict(mail.send(delivery_ids)).items()}


def queue_sending(ids: list[int]) -> int:
    size = max(1, settings.NEWSDESK_MAIL_BATCH)
    batches = [ids[i : i + size] for i in range(0, len(ids), size)]
    for batch in batches:
        send_mail_task.enqueue(batch)
    return len(batches)
