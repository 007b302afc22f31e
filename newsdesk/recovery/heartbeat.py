"""A task worker's heartbeat: proof of life the scheduler can check from any machine.

A daemon thread of the worker process writes (worker id, host, pid, beat time) every
NEWSDESK_WORKER_HEARTBEAT seconds on a database connection of its own (Django keeps one
per thread), so a long task never delays it. A worker killed with SIGKILL simply stops
beating; `newsdesk.recovery.sweep` then closes its running tasks and queues them again.
"""

from __future__ import annotations

import logging
import os
import socket
import threading

from django.conf import settings
from django.db import DatabaseError, connections
from django.utils import timezone
from django.utils.crypto import get_random_string

from newsdesk.recovery.models import WorkerHeartbeat

log = logging.getLogger(__name__)


def new_worker_id() -> str:
    """Unique across the pool and readable in the admin: host, pid and a random tail."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{get_random_string(8)}"[:64]


def beat(worker_id: str) -> None:
    now = timezone.now()
    updated = WorkerHeartbeat.objects.filter(worker_id=worker_id).update(beat_at=now)
    if not updated:
        WorkerHeartbeat.objects.create(
            worker_id=worker_id, host=socket.gethostname()[:255], pid=os.getpid(), started_at=now, beat_at=now
        )


class Heartbeat:
    """Beats from a daemon thread until `stop()`; the row is removed on a clean exit."""

    def __init__(self, worker_id: str, interval: float | None = None) -> None:
        self.worker_id = worker_id
        self.interval = interval if interval is not None else settings.NEWSDESK_WORKER_HEARTBEAT
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        beat(self.worker_id)  # before the first task is claimed, from the caller's thread
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval + 5)
        try:
            WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()
        except DatabaseError:
            log.warning("could not remove the heartbeat of worker %s", self.worker_id)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                beat(self.worker_id)
            except Exception:  # a locked or restarting database: try again next beat
                log.warning("heartbeat of worker %s failed", self.worker_id, exc_info=True)
            finally:
                connections.close_all()  # this thread's connections only
