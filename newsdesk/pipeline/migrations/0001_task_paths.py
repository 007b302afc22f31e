"""Queued task rows name their task by module path: move them with the tasks.

The ingest tasks moved from `newsdesk.articles.tasks` to `newsdesk.pipeline.tasks`, and
story placement to `newsdesk.stories.tasks`; rows queued before the upgrade would
otherwise fail to import their task. Reversible, for a downgrade.
"""

from django.db import migrations

MOVED = {
    "newsdesk.articles.tasks.fetch_feed_task": "newsdesk.pipeline.tasks.fetch_feed_task",
    "newsdesk.articles.tasks.process_entries_task": "newsdesk.pipeline.tasks.process_entries_task",
    "newsdesk.articles.tasks.enrich_articles_task": "newsdesk.pipeline.tasks.enrich_articles_task",
    "newsdesk.articles.tasks.place_in_stories_task": "newsdesk.stories.tasks.place_in_stories_task",
}


def rename(apps, moves: dict[str, str]) -> None:
    results = apps.get_model("django_tasks_database", "DBTaskResult")
    failures = apps.get_model("recovery", "TaskFailure")
    for old, new in moves.items():
        results.objects.filter(task_path=old).update(task_path=new)
        failures.objects.filter(task_path=old).update(task_path=new)


def forwards(apps, schema_editor) -> None:
    rename(apps, MOVED)


def backwards(apps, schema_editor) -> None:
    rename(apps, {new: old for old, new in MOVED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("django_tasks_database", "0001_initial"),
        ("recovery", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
