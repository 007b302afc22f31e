import logging
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from newsdesk.perspectives.repair import tick as claims_repair_tick
from newsdesk.pipeline.ingest import lease_time
from newsdesk.pipeline.tasks import enqueue_due_work, enqueue_stranded
from newsdesk.reader.briefings.schedule import tick as briefings_tick
from newsdesk.recovery.sweep import recover

log = logging.getLogger("newsdesk.scheduler")
PRUNE_EVERY = 3600.0


def recover_every() -> float:
    """Often enough that a dead worker's task is queued again soon after it is presumed
    dead, rarely enough to cost nothing: a few indexed queries per pass."""
    return max(1.0, min(5.0, settings.NEWSDESK_WORKER_DEAD_AFTER / 5))


class Command(BaseCommand):
    help = "Queue feed polls and page fetches as they fall due. Run exactly one per deployment."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=2.0)

    def handle(self, *args: Any, interval: float, **options: Any) -> None:
        last_prune = last_repair = last_recovery = 0.0
        while True:
            close_old_connections()
            try:
                feeds, pages = enqueue_due_work()
                if feeds or pages:
                    log.info("queued %d feed poll(s) and %d page(s)", feeds, pages)
                if time.monotonic() - last_recovery > recover_every():
                    recovered = recover()
                    if recovered.lost or recovered.retried or recovered.given_up:
                        log.info(
                            "recovery: %d run(s) of dead workers closed, %d failed run(s) queued again, %d given up",
                            recovered.lost,
                            recovered.retried,
                            recovered.given_up,
                        )
                    last_recovery = time.monotonic()
                if time.monotonic() - last_repair > lease_time().total_seconds():
                    if repaired := enqueue_stranded():
                        log.info("queued enrichment for %d article(s) that missed it", repaired)
                    last_repair = time.monotonic()
                if realigned := claims_repair_tick():  # stories whose claims alignment was lost (cheap when due)
                    log.info("queued the claims alignment of %d story(ies) that missed it", realigned)
                if queued := briefings_tick():  # alerts' fan-out and the emails (cheap when idle)
                    log.info(
                        "queued %d alert fan-out batch(es), %d mail plan(s)", queued.fanout_batches, queued.mail_plans
                    )
                if time.monotonic() - last_prune > PRUNE_EVERY:
                    call_command("prune_db_task_results", min_age_days=1, verbosity=0)
                    last_prune = time.monotonic()
            except Exception:  # keep scheduling through a passing database error
                log.exception("scheduler pass failed")
            time.sleep(interval)
