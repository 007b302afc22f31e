"""`newsdesk worker`: a task worker that proves it is alive.

It runs django_tasks_db's `db_worker` under an explicit worker id and, beside it, a
heartbeat thread (newsdesk/recovery/heartbeat.py); the scheduler closes and re-queues
the running tasks of a worker whose heartbeat stops.

With `--scheduler` it also runs the scheduler loop in a thread (the small profile of
`newsdesk up`, where a process of its own would cost 120 MB).

It runs at a lower CPU priority (NEWSDESK_WORKER_NICE), and its tasks on Linux under
SCHED_IDLE (NEWSDESK_WORKER_IDLE): on a machine that also serves pages, readers come
first and ingest and enrichment take the cycles they leave.
"""

import logging
import os
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run a task worker for the configured Tasks backend (start several for more throughput)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", action="store_true", help="exit when the queue is empty")
        parser.add_argument(
            "--scheduler",
            action="store_true",
            help="also run the scheduler, in a thread (as `newsdesk up` runs worker 1: one process, 200 MB, less)",
        )

    def handle(self, *args: Any, batch: bool, scheduler: bool = False, **options: Any) -> None:
        from newsdesk.ai.embedder import return_memory_promptly
        from newsdesk.ai.embeddings import set_background
        from newsdesk.pipeline.enrich import warm_up
        from newsdesk.recovery.heartbeat import Heartbeat, new_worker_id

        backend = settings.TASKS["default"]["BACKEND"]
        if backend != "django_tasks_db.DatabaseBackend":
            raise CommandError(f"no worker known for the task backend {backend!r}")
        if settings.NEWSDESK_WORKER_NICE:
            lower_priority(settings.NEWSDESK_WORKER_NICE)
        return_memory_promptly()  # a page batch's peak is not kept for the worker's life
        set_background()  # a shared embedder answers readers' questions before our batches
        if scheduler:
            # Its own thread and database connection; it lives and dies with this process,
            # which the supervisor restarts, and recovers this worker's tasks if need be.
            threading.Thread(target=call_command, args=("scheduler",), name="scheduler", daemon=True).start()
        worker_id = new_worker_id()
        heartbeat = Heartbeat(worker_id).start()
        if settings.NEWSDESK_WORKER_IDLE:
            # This thread only, once the heartbeat and scheduler threads run at the nice;
            # loading the models below then yields to pages too.
            run_when_idle()
        warm_up()  # the first enrichment task should not pay for loading the models
        try:
            call_command(
                "db_worker",
                queue_name="*",
                interval=0.5,
                reload=False,
                batch=batch,
                worker_id=worker_id,
                verbosity=options["verbosity"],
            )
        finally:
            heartbeat.stop()


def run_when_idle() -> None:
    """Run the calling thread, and the threads it starts, under Linux's SCHED_IDLE: only
    on CPU time no other thread wants (settings: NEWSDESK_WORKER_IDLE). Linux sets the
    policy per thread, so the threads already running keep theirs. Not Linux, or not
    allowed: the nice stays."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError) as error:
        logger.warning("the tasks run at the worker's nice only: SCHED_IDLE unavailable (%s)", error)


def lower_priority(nice: int) -> None:
    """Yield the CPU to the web. Linux weighs processes by nice only within a session's
    autogroup: a worker that leads a session of its own (started by setsid, a terminal of
    its own, the benchmarks) competed with the web as an equal, nice or not, so its
    autogroup is niced as well. Under `newsdesk up` the worker shares the web's session
    and the process nice is what counts."""
    os.nice(nice)
    autogroup = Path("/proc/self/autogroup")
    if os.getsid(0) == os.getpid() and autogroup.exists():
        try:
            autogroup.write_text(str(nice))
        except OSError:  # no autogroups (kernel option) or not allowed: the process nice stays
            pass
