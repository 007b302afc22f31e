from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


def _repair_index(using: str = "default", **kwargs: Any) -> None:
    """After any migration, put back FTS5 triggers that a table rebuild dropped."""
    connection = connections[using]
    if connection.vendor == "sqlite":
        from newsdesk.search.schema import repair_sqlite

        repair_sqlite(connection)


class SearchConfig(AppConfig):
    name = "newsdesk.search"
    verbose_name = "Search"

    def ready(self) -> None:
        # Sent once per app that has models; the articles app is the one whose table
        # rebuilds drop the triggers.
        post_migrate.connect(
            _repair_index,
            sender=self.apps.get_app_config("articles"),
            dispatch_uid="newsdesk.search.repair_index",
        )
