"""`newsdesk index`: bring the vector index up to date, or rebuild it from the database."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from newsdesk.stories import index


class Command(BaseCommand):
    help = "Sync the article vector index with the database (--rebuild recreates it)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rebuild", action="store_true", help="discard the index and rebuild it")

    def handle(self, *args: Any, rebuild: bool, **options: Any) -> None:
        if rebuild:
            count = index.rebuild()
            self.stdout.write(f"rebuilt the vector index in {index.directory()}: {count} vectors")
        else:
            count = index.sync()
            self.stdout.write(f"added {count} vectors to {index.directory()}")
