"""Bookkeeping around the task queue (the django_tasks_db tables are the queue itself).

`WorkerHeartbeat` says which task workers are alive, so that the scheduler can tell a
run whose worker died from a run that is merely slow. `TaskFailure` records every failed
run of a pipeline task and what was done about it (retried later, or given up and shown
to staff), so a failure is never silently dropped, even after the queue's own finished
rows are pruned. Task rows are referenced by id only: pruning them must not cascade here.
"""

from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    worker_id = models.CharField(max_length=64, primary_key=True, help_text="as the worker claims task rows")
    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-beat_at"]

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.host}:{self.pid})"


class TaskFailure(models.Model):
    class Outcome(models.TextChoices):
        RETRIED = "retried", "Queued again"
        GAVE_UP = "gave-up", "Given up"

    result_id = models.UUIDField(unique=True, help_text="the failed run (django_tasks_db task result id)")
    task_path = models.CharField(max_length=200)
    args_kwargs = models.JSONField(default=dict)
    attempt = models.PositiveSmallIntegerField(help_text="1 for the first run of the work")
    worker_lost = models.BooleanField(default=False, help_text="the worker died during the run")
    error = models.TextField(blank=True, help_text="exception class and message")
    traceback = models.TextField(blank=True)
    failed_at = models.DateTimeField(db_index=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    retry_result_id = models.UUIDField(null=True, blank=True, unique=True, help_text="the run queued to retry it")
    retry_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-failed_at"]
        indexes = [models.Index(fields=["outcome", "-failed_at"], name="taskfailure_outcome_latest")]

    def __str__(self) -> str:
        return f"{self.task_name} attempt {self.attempt}: {self.error[:80]}"

    @property
    def task_name(self) -> str:
        return self.task_path.rsplit(".", 1)[-1]
