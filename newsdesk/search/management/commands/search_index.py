"""Maintain the SQLite full-text index by hand; the triggers keep it current otherwise.

newsdesk search_index check     # FTS5 integrity check against the articles table
newsdesk search_index rebuild   # re-index every article (after a restore, say)
newsdesk search_index optimize  # merge the index segments (after a big import)
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connection, transaction

from newsdesk.search import schema


class Command(BaseCommand):
    help = "Check, rebuild or optimize the SQLite full-text index of articles."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["check", "rebuild", "optimize"])

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if connection.vendor != "sqlite":
            raise CommandError("PostgreSQL keeps its GIN index itself; nothing to do.")
        if schema.repair_sqlite(connection):
            self.stdout.write("Triggers were missing: recreated them and rebuilt the index.")
        statements = {
            "check": [schema.SQLITE_CHECK],
            "rebuild": schema.SQLITE_REBUILD,
            "optimize": [schema.SQLITE_OPTIMIZE],
        }[action]
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)
        except DatabaseError as error:
            raise CommandError(f"{action} failed: {error}") from error
        self.stdout.write(self.style.SUCCESS(f"search index: {action} done"))
