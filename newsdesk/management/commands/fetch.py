import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from newsdesk.pipeline import chain, ingest
from newsdesk.sources.models import Feed


class Command(BaseCommand):
    help = (
        "Poll feeds and store their articles in this process, without the task queue. "
        "--once polls every enabled feed now and exits (for cron and first runs); "
        "without it, feeds are polled as they fall due until interrupted. What is stored "
        "goes through the same stages as on the workers (enrichment, stories, vector index)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true")
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between passes")

    def handle(self, *args: Any, once: bool, interval: float, **options: Any) -> None:
        if once:
            Feed.objects.filter(enabled=True).update(next_fetch_at=timezone.now())
            self._pass()
            return
        while True:
            self._pass()
            time.sleep(interval)

    def _pass(self) -> None:
        fresh: list[int] = []
        for feed_id in ingest.claim_due_feeds(limit=10_000):
            outcome = ingest.fetch_feed(feed_id, enqueue=fresh.extend)
            url = Feed.objects.values_list("url", flat=True).get(pk=feed_id)
            if outcome.status == "error":
                self.stderr.write(f"{url}: {outcome.error}")
            else:
                self.stdout.write(f"{url}: {outcome.status}, {len(outcome.new_entries)} new")
        total = ingest.PageOutcome()
        for batch in ingest.batches(fresh + ingest.claim_due_entries(limit=100_000)):
            total.add(ingest.process_entries(batch))
        # The stages the workers run after storing, in the same order, in this process.
        counts = chain.run(total.stored)
        self.stdout.write(
            f"articles: {total.created} new, {total.updated} updated, {total.unchanged} unchanged, "
            f"{total.fallback} from feed content, {total.retried} to retry, {total.failed} failed; "
            f"{counts.get('enrich', 0)} enriched, {counts.get('place', 0)} placed in stories"
        )
