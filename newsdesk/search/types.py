"""What every search backend shares: the filters, hits and results, and the ranking rules.

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

What is ranked, also the same on every backend: the newest CANDIDATES matches (after the
filters), not every match. Ranking all of them costs a text score per match, which for a
common word among a million articles is seconds; the newest matches are found by walking
the publication-date order (or the full-text index, for rare words) and stop there. Deep
pages are served from the same candidates, so paging never shows an article twice. For
a query with more matches than that, the best of the newest CANDIDATES is what readers
of news want: an older article wins over a fresher one when it matches clearly better,
within that window. The total is counted just as far: exact up to CANDIDATES, and
CANDIDATES with `exact` False ("1,100+ results") beyond; see Results.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol

from django.utils import timezone

from newsdesk.articles.copies import originals
from newsdesk.search.query import Query

FRESHNESS_WEIGHT = 0.5
HALF_LIFE_DAYS = 3.0
MAX_LIMIT = 100
# Deep pages cost as much as ranking everything and nobody reads them.
MAX_OFFSET = 1000
# Matches ranked (the newest ones) and counted; every page the backend serves lies within.
CANDIDATES = 1100
assert CANDIDATES >= MAX_OFFSET + MAX_LIMIT


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


class Results(tuple):
    """(hits, total), as a pair, with `exact`: False when `total` is only how many were
    found before counting stopped (CANDIDATES, or fewer where a backend bounds its work),
    and there may be more; pages read "1,100+ results" then."""

    exact: bool

    def __new__(cls, hits: list[Hit], total: int, exact: bool = True) -> Results:
        results = super().__new__(cls, (hits, total))
        results.exact = exact
        return results


def ranked(
    candidates: list[tuple[int, float, float]], *, offset: int, limit: int, using: str = "default"
) -> tuple[list[tuple[int, float]], int, bool]:
    """The page of (article_id, score), the total and whether it is exact, from a
    backend's candidates: (article_id, published, score), newest first, as many as
    matched but at most CANDIDATES + 1 (the one beyond only tells that there are more);
    `published` is anything that orders like the publication time. Each article text
    is ranked and counted once (articles/copies.py), by its best-scoring match.
    """
    exact = len(candidates) <= CANDIDATES
    rows = candidates[:CANDIDATES]
    rows = one_per_text(rows, originals([row[0] for row in rows], using))
    best = sorted(rows, key=lambda row: (-row[2], -row[1], -row[0]))
    page = [(article_id, score) for article_id, _, score in best[offset : offset + limit]]
    return page, len(best), exact


def one_per_text(rows: list[tuple[int, float, float]], original_of: dict[int, int]) -> list[tuple[int, float, float]]:
    """The (article_id, published, score) rows keeping, of each text (a copy's text is
    its original's), its best-scoring row (the earlier on a tie: the original before its
    copies), in their order."""
    best: dict[int, tuple[int, float, float]] = {}
    for row in rows:
        text = original_of.get(row[0], row[0])
        kept = best.get(text)
        if kept is None or (row[2], -row[1]) > (kept[2], -kept[1]):
            best[text] = row
    kept_ids = {row[0] for row in best.values()}
    return [row for row in rows if row[0] in kept_ids]


def time_bounds(filters: SearchFilters) -> tuple[datetime | None, datetime | None]:
    """The date filters as [start, end) instants: whole days in the site's time zone."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(filters.since, time.min, tzinfo=zone) if filters.since else None
    end = None
    if filters.until and filters.until < date.max:
        end = datetime.combine(filters.until + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


class Backend(Protocol):
    def search(self, query: Query, filters: SearchFilters, *, offset: int, limit: int) -> Results: ...
