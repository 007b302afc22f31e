"""Queued task rows name their task by module path; moving a task's module moves them.

A row queued by the old layout (`newsdesk.articles.tasks...`) must still import its task
after the upgrade, or the work it stands for would fail instead of running.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from newsdesk.pipeline import chain

OLD = "newsdesk.articles.tasks."


@pytest.mark.django_db(transaction=True)
def test_rows_queued_under_the_old_paths_run_the_moved_tasks():
    call_command("migrate", "pipeline", "zero", verbosity=0)
    rows = {}
    for name in ("fetch_feed_task", "process_entries_task", "enrich_articles_task", "place_in_stories_task"):
        rows[name] = DBTaskResult.objects.create(
            task_path=OLD + name,
            args_kwargs={"args": [[1]], "kwargs": {}},
            queue_name="default",
            backend_name="default",
            priority=0,
            run_after=timezone.now(),
        ).pk
    call_command("migrate", "pipeline", verbosity=0)

    paths = {name: DBTaskResult.objects.get(pk=pk).task_path for name, pk in rows.items()}
    assert paths["fetch_feed_task"] == "newsdesk.pipeline.tasks.fetch_feed_task"
    assert paths["place_in_stories_task"] == "newsdesk.stories.tasks.place_in_stories_task"
    for name, pk in rows.items():
        task = DBTaskResult.objects.get(pk=pk).task  # imports the task by its stored path
        assert task.name == name
    # Every stage's task of that layout is one a queued row can name (later stages had no old rows).
    assert {chain.stage(name).task.module_path for name in ("enrich", "place")} <= set(paths.values())
