from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from newsdesk.articles.models import Article
from newsdesk.pipeline.enrich import enrich_articles, outdated_articles
from newsdesk.pipeline.tasks import enrich_articles_task

BATCH = 256


class Command(BaseCommand):
    help = (
        "Re-run AI enrichment for articles never enriched or enriched by a method that has "
        "changed since (--all: every article). Runs here unless --queue hands it to workers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", dest="everything")
        parser.add_argument("--queue", action="store_true", help="enqueue tasks for the workers")

    def handle(self, *args: Any, everything: bool, queue: bool, **options: Any) -> None:
        ids = list(Article.objects.values_list("pk", flat=True) if everything else outdated_articles())
        done = 0
        for start in range(0, len(ids), BATCH):
            batch = ids[start : start + BATCH]
            if queue:
                for n in range(0, len(batch), 32):
                    enrich_articles_task.enqueue(batch[n : n + 32])
                done += len(batch)
            else:
                done += enrich_articles(batch)
            self.stdout.write(f"{done}/{len(ids)}", ending="\r")
        verb = "queued" if queue else "enriched"
        self.stdout.write(f"{verb} {done} of {len(ids)} article(s)")
