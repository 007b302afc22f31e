"""The search entry point: picks the database's own full-text engine and bounds the page.

The ranking and the shared types are in `types.py`; SQLite's FTS5 backend is `fts5.py`,
PostgreSQL's is `postgres.py`.
"""

from __future__ import annotations

from django.db import connections

from newsdesk.search.fts5 import FTS5Backend
from newsdesk.search.postgres import PostgresBackend
from newsdesk.search.query import parse
from newsdesk.search.types import MAX_LIMIT, MAX_OFFSET, Backend, Results, SearchFilters


def backend(using: str = "default") -> Backend:
    """The backend for the database behind `using`."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        return PostgresBackend(using)
    if connection.vendor == "sqlite":
        return FTS5Backend(using)
    raise NotImplementedError(f"no full-text search for {connection.vendor}")


def search(query: str, filters: SearchFilters = SearchFilters(), *, offset: int = 0, limit: int = 20) -> Results:
    """Hits for the reader's `query`, best first, and how many there are in all (up to
    CANDIDATES; see Results and the module's docstring).

    Never raises on what a reader can type: the query is reduced to quoted words first
    (see query.py), and an empty or exclude-only query is an empty result.
    """
    parsed = parse(query)
    if not parsed:
        return Results([], 0)
    offset = min(max(offset, 0), MAX_OFFSET)
    limit = min(max(limit, 1), MAX_LIMIT)
    return backend().search(parsed, filters, offset=offset, limit=limit)
