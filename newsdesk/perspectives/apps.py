from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save


def load_after_migrate(using: str = "default", **kwargs: Any) -> None:
    """Bring existing publishers' profiles up to the bundled data file (idempotent,
    keeps staff edits: see load.py), after every migrate."""
    from django.db import connections

    from newsdesk.perspectives import load, profiles
    from newsdesk.perspectives.models import SourceProfile

    if SourceProfile._meta.db_table not in connections[using].introspection.table_names():
        return  # migrated backwards past this app
    if load.load():
        profiles.forget()


def load_for_new_source(sender: Any, instance: Any, created: bool = False, raw: bool = False, **kwargs: Any) -> None:
    """A publisher the data file describes gets its profile as it is created (the
    default publishers are created after the first migrate)."""
    from newsdesk.perspectives import load

    if created and not raw and instance.slug in load.bundled():
        load.load(sources=[instance])


def queue_alignment(sender: Any, article_ids: Any = (), **kwargs: Any) -> None:
    """`stories_changed`: queue the alignment of the changed stories' claims (a task)."""
    from newsdesk.perspectives.alignment import queue_alignment as queue

    queue(sender, article_ids)


class PerspectivesConfig(AppConfig):
    """Source profiles, the coverage breakdown of stories, blindspots, claims and their
    agreement and conflicts per story."""

    name = "newsdesk.perspectives"
    verbose_name = "Perspectives"

    def ready(self) -> None:
        from newsdesk.perspectives import profiles
        from newsdesk.perspectives.models import SourceProfile
        from newsdesk.pipeline import enrichers
        from newsdesk.sources.models import Source
        from newsdesk.stories.signals import stories_changed

        # Claims are part of the enrichment; a story's alignment is queued when it changes.
        enrichers.register("newsdesk.perspectives.alignment.CLAIMS")
        stories_changed.connect(queue_alignment, dispatch_uid="newsdesk.perspectives.claims")
        post_migrate.connect(load_after_migrate, sender=self, dispatch_uid="newsdesk.perspectives.load")
        post_save.connect(load_for_new_source, sender=Source, dispatch_uid="newsdesk.perspectives.new_source")
        for model in (Source, SourceProfile):
            for signal in (post_save, post_delete):
                signal.connect(
                    profiles.forget, sender=model, dispatch_uid=f"newsdesk.perspectives.forget.{model.__name__}"
                )
