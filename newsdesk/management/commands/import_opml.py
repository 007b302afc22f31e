from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from newsdesk.links import canonical_url
from newsdesk.pipeline.add import source_for
from newsdesk.sources.models import Feed
from newsdesk.sources.opml import parse_opml


class Command(BaseCommand):
    help = "Subscribe to every feed in an OPML file (feeds already present are kept)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, file: Path, **options: Any) -> None:
        try:
            feeds = parse_opml(file.read_bytes())
        except (OSError, ValueError) as error:
            raise CommandError(f"{file}: {error}") from error
        added = skipped = 0
        with transaction.atomic():
            for item in feeds:
                url = canonical_url(item.xml_url)
                if url is None:
                    self.stderr.write(f"skipped (not an http(s) URL): {item.xml_url}")
                    skipped += 1
                    continue
                if Feed.objects.filter(url=url).exists():
                    skipped += 1
                    continue
                source = source_for(item.html_url or url, item.title)
                Feed.objects.create(
                    url=url, source=source, title=(item.title or "")[:300], next_fetch_at=timezone.now()
                )
                added += 1
        self.stdout.write(f"imported {added} feed(s), {skipped} already present or skipped")
