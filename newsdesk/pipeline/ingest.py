"""The ingest pipeline: feed -> entries -> pages -> extracted articles.

These functions do the work; `tasks.py` only carries them through the task queue and
`newsdesk fetch --once` calls them directly. Each step is idempotent and keeps its own
state in the database (Feed.next_fetch_at, Entry.state/next_attempt_at), so a step that
dies is simply run again when it falls due.

Any exception, expected (FetchError, FeedError) or not (a bug, an odd value a parser
chokes on), is recorded where a person will see it (the feed's or the entry's last_error,
"internal error: ..." for the unexpected ones) and backs off exponentially: one feed or
one page must never fail the same way on every pass, nor take its batch down with it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from newsdesk.articles.models import Article
from newsdesk.articles.store import ArticleData, save_article
from newsdesk.extract import Extracted, ExtractionError, extract, html_to_text, sanitize_html
from newsdesk.extract.choose import choose_published, choose_title
from newsdesk.links import canonical_url, host_of
from newsdesk.sources import kinds
from newsdesk.sources.client import get_fetcher
from newsdesk.sources.feeds import FeedError
from newsdesk.sources.http import FetchError, FetchResult
from newsdesk.sources.kinds import FEED_ACCEPT, Item
from newsdesk.sources.models import Entry, Feed
from newsdesk.sources.schedule import backoff, next_interval

log = logging.getLogger(__name__)

PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
ENTRY_BATCH = 16  # pages per task: enough to overlap fetching, small enough to retry
MAX_PAGE_ATTEMPTS = 3
# Errors after which asking again cannot help: store what the feed gave instead.
PERMANENT_FETCH_ERRORS = {"robots", "blocked-address", "bad-url", "too-large", "too-many-redirects"}


@dataclass
class FeedOutcome:
    feed_id: int
    status: str  # "ok", "not-modified", "error", "busy"
    new_entries: list[int] = field(default_factory=list)
    error: str = ""


# --- Feeds ---------------------------------------------------------------------------


def fetch_feed(feed_id: int, *, enqueue: Callable[[list[int]], None] | None = None) -> FeedOutcome:
    """Poll one feed, record new and changed entries, and hand them to `enqueue`."""
    now = timezone.now()
    if not _lock_feed(feed_id, now):
        return FeedOutcome(feed_id, "busy")
    try:
        feed = Feed.objects.select_related("source").get(pk=feed_id)
        outcome = _poll(feed, now)
    finally:
        Feed.objects.filter(pk=feed_id).update(locked_until=None)
    if outcome.new_entries and enqueue is not None:
        enqueue(outcome.new_entries)
    return outcome


def _lock_feed(feed_id: int, now: datetime) -> bool:
    free = Q(locked_until__isnull=True) | Q(locked_until__lt=now)
    return Feed.objects.filter(free, pk=feed_id).update(locked_until=now + lease_time()) == 1


def _poll(feed: Feed, now: datetime) -> FeedOutcome:
    try:
        return _poll_once(feed, now)
    except (FetchError, FeedError) as error:
        return _feed_failed(feed, error, now)
    except Exception as error:  # a bug or a value nothing expected: back off all the same
        log.exception("feed %s: internal error while polling", feed.url)
        # Start again from the stored row: a half-done poll must not save, say, a new
        # ETag for entries it never recorded.
        fresh = Feed.objects.get(pk=feed.pk)
        fresh.last_fetched_at = now
        fresh.fetch_count += 1
        return _feed_failed(fresh, error, now, message=internal_error(error))


def internal_error(error: BaseException) -> str:
    """How an unexpected exception is shown on the feed or entry it happened to."""
    return f"internal error: {type(error).__name__}: {error}"


def _poll_once(feed: Feed, now: datetime) -> FeedOutcome:
    fetcher = get_fetcher()
    feed.last_fetched_at = now
    feed.fetch_count += 1
    result = fetcher.get(feed.url, etag=feed.etag or None, last_modified=feed.last_modified or None, accept=FEED_ACCEPT)
    if result.not_modified:
        outcome = FeedOutcome(feed.pk, "not-modified")
        times: list[datetime] = []
        ttl = None
    else:
        listing = kinds.read(result)  # by the source kind that recognises the document
        feed.kind = listing.kind
        feed.title = (listing.title or feed.title)[:300]
        new_ids = _record_entries(feed, listing.items, now)
        times = [i.published for i in listing.items if i.published]
        ttl = listing.ttl
        outcome = FeedOutcome(feed.pk, "ok", new_ids)

    feed.etag = (result.etag or "")[:500]
    feed.last_modified = (result.last_modified or "")[:100]
    feed.last_status = result.status
    feed.last_success_at = now
    feed.last_error = ""
    feed.error_count = 0
    if outcome.new_entries:
        feed.entries_total += len(outcome.new_entries)
        feed.last_new_entry_at = now
    feed.interval_seconds = next_interval(
        feed.interval_seconds,
        new_entries=len(outcome.new_entries),
        entry_times=times,
        ttl=ttl,
        minimum=settings.NEWSDESK_FEED_MIN_INTERVAL,
        maximum=settings.NEWSDESK_FEED_MAX_INTERVAL,
    )
    feed.next_fetch_at = now + timedelta(seconds=feed.interval_seconds)
    feed.save()
    return outcome


def _record_entries(feed: Feed, items: list[Item], now: datetime) -> list[int]:
    """Insert unseen links; send changed ones back to pending. Returns ids to fetch."""
    by_url: dict[str, Item] = {}
    for item in items:
        if len(item.url) <= 1000:
            by_url.setdefault(item.url, item)
    existing = {e.url: e for e in Entry.objects.filter(url__in=list(by_url))}
    to_fetch: list[int] = []
    with transaction.atomic():
        fresh = [
            Entry(
                source_id=feed.source_id,
                feed=feed,
                url=url,
                guid=item.guid[:1000],
                title=item.title,
                summary_html=item.summary_html,
                content_html=item.content_html,
                author=item.author[:300],
                image=item.image[:1000],
                categories=item.categories,
                published=item.published,
                updated=item.updated,
                discovered_at=now,
                # Leased from the start: whoever polled the feed queues them now, and
                # if that never happens they fall due when the lease runs out.
                next_attempt_at=now + lease_time(),
            )
            for url, item in by_url.items()
            if url not in existing
        ]
        Entry.objects.bulk_create(fresh, ignore_conflicts=True)
        for url, item in by_url.items():
            entry = existing.get(url)
            if entry and _changed(entry, item, feed):
                # The publisher changed the article: fetch it again and update in place
                # (the store keeps the replaced text as a revision).
                Entry.objects.filter(pk=entry.pk).update(
                    title=item.title,
                    summary_html=item.summary_html,
                    content_html=item.content_html,
                    categories=item.categories,
                    updated=item.updated,
                    state=Entry.State.PENDING,
                    attempts=0,
                    next_attempt_at=now + lease_time(),
                )
                to_fetch.append(entry.pk)
    if fresh:
        to_fetch += list(
            Entry.objects.filter(url__in=[e.url for e in fresh], state=Entry.State.PENDING).values_list("pk", flat=True)
        )
    return to_fetch


def _changed(entry: Entry, item: Item, feed: Feed) -> bool:
    """Whether the feed says an article it listed before has changed: a later `updated`
    (Atom's, JSON Feed's date_modified, RSS's atom:updated or dcterms:modified, a
    sitemap's lastmod), or a new headline in the feed that recorded it (two feeds that
    title one link differently must not have it fetched on every poll). A moved RSS
    pubDate alone is not: some feeds stamp every item with the time of the request, and
    each poll would fetch every page."""
    if item.updated and (entry.updated is None or item.updated > entry.updated):
        return True
    return entry.feed_id == feed.pk and bool(item.title and entry.title and item.title.strip() != entry.title.strip())


def _feed_failed(feed: Feed, error: Exception, now: datetime, *, message: str | None = None) -> FeedOutcome:
    message = message if message is not None else str(error)
    feed.error_count += 1
    feed.last_error = message[:2000]
    feed.last_status = getattr(error, "status", None)
    delay = backoff(
        feed.error_count, base=settings.NEWSDESK_FEED_MIN_INTERVAL, maximum=settings.NEWSDESK_FEED_MAX_BACKOFF
    )
    retry_after = getattr(error, "retry_after", None)
    if retry_after:
        delay = max(delay, int(retry_after))
    feed.next_fetch_at = now + timedelta(seconds=delay)
    feed.save()
    log.warning("feed %s failed (%d in a row): %s", feed.url, feed.error_count, message)
    return FeedOutcome(feed.pk, "error", error=message)


# --- Pages ---------------------------------------------------------------------------


@dataclass
class PageOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    retried: int = 0
    failed: int = 0
    fallback: int = 0
    stored: list[int] = field(default_factory=list)  # articles created or updated

    def add(self, other: PageOutcome) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def process_entries(entry_ids: Iterable[int]) -> PageOutcome:
    """Fetch, extract and store the pages of pending entries.

    Pages are fetched concurrently (the fetcher keeps per-host politeness) while this
    thread extracts and stores each page as it arrives; the database is only touched
    from this thread.
    """
    outcome = PageOutcome()
    entries = list(Entry.objects.filter(pk__in=list(entry_ids), state=Entry.State.PENDING).select_related("source"))
    if not entries:
        return outcome
    fetcher = get_fetcher()
    workers = max(1, min(settings.NEWSDESK_FETCH_CONCURRENCY, len(entries)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="page") as pool:
        futures = {pool.submit(fetcher.get, e.url, accept=PAGE_ACCEPT): e for e in entries}
        for future in as_completed(futures):
            entry = futures[future]
            try:
                outcome.add(_page(entry, future.result))
            except Exception as error:  # one page's bug must not cost the rest of the batch
                log.exception("entry %s (%s): internal error", entry.pk, entry.url)
                outcome.add(_page_crashed(entry, error))
    return outcome


def _page(entry: Entry, fetched: Callable[[], FetchResult]) -> PageOutcome:
    try:
        result = fetched()
    except FetchError as error:
        return _page_failed(entry, error)
    return store_page(entry, result)


def _page_crashed(entry: Entry, error: Exception) -> PageOutcome:
    """An unexpected exception: retried with back-off like a server error, then the
    feed's own content, then (if even that fails) the entry is marked failed."""
    attempts = entry.attempts + 1
    message = internal_error(error)
    if attempts < MAX_PAGE_ATTEMPTS:
        Entry.objects.filter(pk=entry.pk).update(
            attempts=attempts,
            last_error=message[:2000],
            next_attempt_at=timezone.now() + timedelta(seconds=backoff(attempts, base=60, maximum=3600)),
        )
        return PageOutcome(retried=1)
    try:
        return _fall_back_to_feed(entry, message)
    except Exception as again:
        log.exception("entry %s: storing the feed's content failed too", entry.pk)
        Entry.objects.filter(pk=entry.pk).update(
            state=Entry.State.FAILED, attempts=attempts, last_error=f"{message}; then {internal_error(again)}"[:2000]
        )
        return PageOutcome(failed=1)


def store_page(entry: Entry, result: FetchResult) -> PageOutcome:
    """Extract a fetched page and store it as the entry's article (the feed's own content
    when extraction fails); used by the batches here and by `newsdesk add`."""
    try:
        extracted = extract(result.text(), result.final_url)  # decoded once, as discovery read it
    except ExtractionError as error:
        return _fall_back_to_feed(entry, f"extraction: {error}")
    data = _from_page(entry, result, extracted)
    return _save(entry, data, error="")


def _from_page(entry: Entry, result: FetchResult, page: Extracted) -> ArticleData:
    final = canonical_url(result.final_url) or entry.url
    url = page.canonical_url if page.canonical_url and same_site(page.canonical_url, final) else final
    return ArticleData(
        url=url,
        aliases={entry.url, final},
        source_id=entry.source_id,
        feed_id=entry.feed_id,
        title=choose_title(entry.title, page.title) or url,
        byline=(page.byline or entry.author or "")[:300],
        description=page.description or html_to_text(entry.summary_html)[:1000],
        body_text=page.body_text,
        body_html=page.body_html,
        language=page.language or entry.source.language,
        lead_image=(page.lead_image or entry.image or "")[:1000],
        word_count=page.word_count,
        reading_time=page.reading_time_minutes,
        origin=Article.Origin.PAGE,  # type: ignore[arg-type]  # TextChoices: a str at run time
        publisher_sections=list(dict.fromkeys([*page.sections, *entry.categories])),
        published_at=choose_published(
            page.published,
            guessed=page.published_guessed,
            feed=entry.published,
            urls=[final, page.canonical_url, entry.url],
        ),
        modified_at=page.modified or entry.updated,
    )


def _page_failed(entry: Entry, error: FetchError) -> PageOutcome:
    attempts = entry.attempts + 1
    if (
        error.kind in PERMANENT_FETCH_ERRORS
        or (error.kind == "http-status" and error.status not in {408, 425, 429, 500, 502, 503, 504})
        or attempts >= MAX_PAGE_ATTEMPTS
    ):
        return _fall_back_to_feed(entry, str(error))
    delay = backoff(attempts, base=60, maximum=3600)
    if error.retry_after:
        delay = max(delay, int(error.retry_after))
    Entry.objects.filter(pk=entry.pk).update(
        attempts=attempts,
        last_error=str(error)[:2000],
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
    )
    return PageOutcome(retried=1)


def _fall_back_to_feed(entry: Entry, reason: str) -> PageOutcome:
    """Keep what the feed said when the page itself cannot be had."""
    content = entry.content_html or entry.summary_html
    if not (entry.title or content):
        Entry.objects.filter(pk=entry.pk).update(
            state=Entry.State.FAILED, attempts=entry.attempts + 1, last_error=reason[:2000]
        )
        return PageOutcome(failed=1)
    body_html = sanitize_html(content, entry.url) if content else ""
    body_text = html_to_text(body_html) if body_html else ""
    words = len(body_text.split())
    data = ArticleData(
        url=entry.url,
        source_id=entry.source_id,
        feed_id=entry.feed_id,
        title=(entry.title or entry.url).strip(),
        byline=entry.author,
        description=html_to_text(entry.summary_html)[:1000] if entry.summary_html else "",
        body_text=body_text,
        body_html=body_html,
        language=entry.source.language,
        lead_image=entry.image,
        word_count=words,
        reading_time=max(1, -(-words // 230)) if words else 0,
        origin=Article.Origin.FEED,  # type: ignore[arg-type]  # TextChoices: a str at run time
        publisher_sections=list(entry.categories),
        published_at=choose_published(None, feed=entry.published, urls=[entry.url]),
        modified_at=entry.updated,
    )
    outcome = _save(entry, data, error=reason)
    outcome.fallback = 1
    return outcome


def _save(entry: Entry, data: ArticleData, *, error: str) -> PageOutcome:
    with transaction.atomic():
        article, result = save_article(data)
        Entry.objects.filter(pk=entry.pk).update(
            state=Entry.State.DONE,
            article=article,
            attempts=entry.attempts + 1,
            last_error=error[:2000],
        )
    outcome = PageOutcome()
    setattr(outcome, result, 1)
    if result != "unchanged":
        outcome.stored.append(article.pk)
    return outcome


def same_site(a: str, b: str) -> bool:
    """Whether two URLs belong to one publisher, so a canonical link may be trusted.

    A page may name any URL as canonical; only one on the publisher's own site (the
    same host, or sharing its registrable part, e.g. www./m./amp. variants) may
    replace the URL we fetched.
    """
    return _site(host_of(a)) == _site(host_of(b))


def _site(host: str) -> str:
    labels = host.split(".")
    # Keep three labels under two-letter public suffixes such as co.uk or com.au.
    keep = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and len(labels[-2]) <= 3 else 2
    return ".".join(labels[-keep:])


# --- Scheduling ----------------------------------------------------------------------


def claim_due_feeds(now: datetime | None = None, limit: int = 100) -> list[int]:
    """Feeds due for a poll; their next poll moves a lease ahead so none is queued twice."""
    now = now or timezone.now()
    ids = list(
        Feed.objects.filter(enabled=True, next_fetch_at__lte=now)
        .order_by("next_fetch_at")
        .values_list("pk", flat=True)[:limit]
    )
    Feed.objects.filter(pk__in=ids).update(next_fetch_at=now + lease_time())
    return ids


def claim_due_entries(now: datetime | None = None, limit: int = 500) -> list[int]:
    now = now or timezone.now()
    ids = list(
        Entry.objects.filter(state=Entry.State.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    lease(ids, now)
    return ids


def unenriched_articles_of(entry_ids: Iterable[int]) -> list[int]:
    """Articles that these entries stored and that have no enrichment yet."""
    return list(
        Article.objects.filter(entries__pk__in=list(entry_ids), enrichment__isnull=True)
        .values_list("pk", flat=True)
        .distinct()
    )


def lease_time() -> timedelta:
    """How long a queued step may take before it is presumed lost and queued again."""
    return timedelta(seconds=settings.NEWSDESK_TASK_LEASE)


def lease(entry_ids: list[int], now: datetime | None = None) -> None:
    now = now or timezone.now()
    Entry.objects.filter(pk__in=entry_ids).update(next_attempt_at=now + lease_time())


def batches(ids: list[int], size: int = ENTRY_BATCH) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]
