import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from newsdesk.sources.models import Feed
from newsdesk.sources.opml import OpmlFeed, build_opml


class Command(BaseCommand):
    help = "Write every feed as OPML to standard output (or --output FILE)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", "-o", default="-")

    def handle(self, *args: Any, output: str, **options: Any) -> None:
        feeds = [
            OpmlFeed(
                xml_url=f.url,
                title=f.title or f.source.name,
                html_url=f.source.home_url,
                category=f.source.get_kind_display(),
            )
            for f in Feed.objects.select_related("source").order_by("source__name", "url")
        ]
        data = build_opml(feeds)
        if output == "-":
            sys.stdout.buffer.write(data)
        else:
            with open(output, "wb") as handle:
                handle.write(data)
