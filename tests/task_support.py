"""Running a queued task row in the test process exactly as a db_worker does."""

from __future__ import annotations

from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult


def run_row(row: DBTaskResult) -> DBTaskResult:
    """Run one queued row as a db_worker does (claim, call, record the outcome)."""
    row.claim("test-worker")
    Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    ).run_task(row)
    row.refresh_from_db()
    return row
