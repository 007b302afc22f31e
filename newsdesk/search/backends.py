"""One search interface over the database's own full-text engine.

Ranking, the same on every backend:

    score = relevance × (1 + FRESHNESS_WEIGHT × 0.5 ** (age_in_days / HALF_LIFE_DAYS))

`relevance` is the engine's text score with the headline weighing most (BM25 on SQLite,
ts_rank on PostgreSQL). The freshness factor is 1 + FRESHNESS_WEIGHT for an article
published now, loses half its bonus every HALF_LIFE_DAYS and tends to 1 for old
articles: readers of news want recent coverage first when two articles match equally
well, but an older article that matches clearly better should still win. The bonus is
kept small (+50% at most, +25% after three days, +10% after a week) because BM25
saturates: a word in the headline scores only about twice a single mention in the body,
so a larger bonus would let this hour's passing mention beat last month's headline.
Equal scores are broken by recency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol

from django.db import connections
from django.utils import timezone

from newsdesk.search.query import Query, parse

FRESHNESS_WEIGHT = 0.5
HALF_LIFE_DAYS = 3.0
MAX_LIMIT = 100
# Deep pages cost as much as ranking everything and nobody reads them.
MAX_OFFSET = 1000


@dataclass(frozen=True)
class SearchFilters:
    source: str | None = None  # Source.slug
    section: str | None = None  # Enrichment.section
    hashtag: str | None = None  # Hashtag.slug
    language: str | None = None  # ISO 639-1; "en" also matches "en-GB"
    since: date | None = None  # inclusive, in the site's time zone
    until: date | None = None  # inclusive, in the site's time zone


@dataclass(frozen=True)
class Hit:
    article_id: int
    score: float
    snippet: str  # escaped HTML with <mark>...</mark> around matches


def time_bounds(filters: SearchFilters) -> tuple[datetime | None, datetime | None]:
    """The date filters as [start, end) instants: whole days in the site's time zone."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(filters.since, time.min, tzinfo=zone) if filters.since else None
    end = None
    if filters.until and filters.until < date.max:
        end = datetime.combine(filters.until + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


class Backend(Protocol):
    def search(
        self, query: Query, filters: SearchFilters, *, offset: int, limit: int
    ) -> tuple[list[Hit], int]: ...


def backend(using: str = "default") -> Backend:
    """The backend for the database behind `using`."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        from newsdesk.search.postgres import PostgresBackend

        return PostgresBackend(using)
    if connection.vendor == "sqlite":
        from newsdesk.search.fts5 import FTS5Backend

        return FTS5Backend(using)
    raise NotImplementedError(f"no full-text search for {connection.vendor}")


def search(
    query: str, filters: SearchFilters = SearchFilters(), *, offset: int = 0, limit: int = 20
) -> tuple[list[Hit], int]:
    """Hits for the reader's `query`, best first, and how many there are in all.

    Never raises on what a reader can type: the query is reduced to quoted words first
    (see query.py), and an empty or exclude-only query is an empty result.
    """
    parsed = parse(query)
    if not parsed:
        return [], 0
    offset = min(max(offset, 0), MAX_OFFSET)
    limit = min(max(limit, 1), MAX_LIMIT)
    return backend().search(parsed, filters, offset=offset, limit=limit)
