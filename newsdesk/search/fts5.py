"""Search on SQLite with FTS5 (the tables and triggers are in schema.py).

FTS5 yields the matching rowids; each is joined by primary key to its narrow row in
search_article_meta (publication day, source, language), the filters are checked there or
by indexed lookups (section, hashtag), and BM25 times the freshness factor scores what
remains. One query returns the newest CANDIDATES + 1 matches with their scores, which are
ranked and counted as on every backend (types.ranked); for a common word it reads only
the matches of the newest ids when that is sure to give the same answer
(_recent_candidates). Snippets are made by a second query for the page's hits only,
because FTS5 would otherwise build one for every match.
"""

from __future__ import annotations

import math

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from newsdesk.search import highlight
from newsdesk.search.query import Query, Term
from newsdesk.search.schema import FTS_TABLE, META_TABLE
from newsdesk.search.types import (
    CANDIDATES,
    FRESHNESS_WEIGHT,
    HALF_LIFE_DAYS,
    Hit,
    Results,
    SearchFilters,
    ranked,
    time_bounds,
)

# bm25() weights per indexed column, in table order: title, description, body_text.
COLUMN_WEIGHTS = (10.0, 3.0, 1.0)
SNIPPET_TOKENS = 32


def _quoted(term: Term) -> str:
    """An FTS5 string: inside double quotes nothing is syntax, and the words are ours."""
    return '"' + " ".join(term.words) + '"'


def match_expression(query: Query) -> str:
    """`("a" "b c") NOT "d" NOT "e"`: all included terms, none of the excluded ones."""
    expression = "(" + " ".join(_quoted(term) for term in query.included) + ")"
    for term in query.excluded:
        expression += " NOT " + _quoted(term)
    return expression


def _filter_sql(filters: SearchFilters, connection: BaseDatabaseWrapper) -> tuple[str, list]:
    """Conditions on the meta row `m`, as SQL to append to a WHERE clause, and params.

    Section and hashtag are `m.id IN (...)` lists read from their indexes once per query;
    a constraint on the FTS table's rowid instead would make FTS5 seek once per listed
    article (seconds, not milliseconds, at 100,000 articles).
    """
    clauses: list[str] = []
    params: list = []
    if filters.source:
        clauses.append("m.source_id = (SELECT id FROM sources_source WHERE slug = %s)")
        params.append(filters.source)
    if filters.section:
        clauses.append("m.id IN (SELECT article_id FROM articles_enrichment WHERE section = %s)")
        params.append(filters.section)
    if filters.hashtag:
        clauses.append(
            "m.id IN (SELECT article_id FROM articles_articlehashtag"
            " WHERE hashtag_id = (SELECT id FROM articles_hashtag WHERE slug = %s))"
        )
        params.append(filters.hashtag)
    if filters.language:
        language = filters.language.lower()
        clauses.append("(lower(m.language) = %s OR substr(lower(m.language), 1, %s) = %s)")
        params += [language, len(language) + 1, language + "-"]
    start, end = time_bounds(filters)
    if start:
        clauses.append("m.published >= julianday(%s)")
        params.append(connection.ops.adapt_datetimefield_value(start))
    if end:
        clauses.append("m.published < julianday(%s)")
        params.append(connection.ops.adapt_datetimefield_value(end))
    return "".join(f" AND {clause}" for clause in clauses), params


# A query for a common word takes its candidates from the matches of the newest article
# ids when that gives the same answer: FTS5 walks its index backwards from the newest id
# and stops, instead of joining and scoring every match (5-7 ms for a word in every
# third article of 20,000, and growing with the archive). Ids follow arrival, and
# arrival nearly follows publication; the answer is checked, see _recent_candidates.
# The matches by id read, in multiples of CANDIDATES + 1: every one of them is scored
# (bm25, the larger part of the query), so a narrow margin is tried first. It serves a
# word whose newest matches arrived about in the order of their dates, as feeds deliver
# them; a wider one is tried when its check fails (older pages stored late among them).
RECENT_MARGINS = (1.25, 2.0)
RECENT_ID_SPAN = 20  # times CANDIDATES: the newest ids whose dates the check may read


class FTS5Backend:
    def __init__(self, using: str = "default") -> None:
        self.using = using

    def search(self, query: Query, filters: SearchFilters, *, offset: int, limit: int) -> Results:
        connection = connections[self.using]
        expression = match_expression(query)
        where, filter_params = _filter_sql(filters, connection)
        with connection.cursor() as cursor:
            candidates = None if where else _recent_candidates(cursor, expression, connection)
            if candidates is None:
                candidates = _candidates(cursor, expression, where, filter_params, connection)
            rows, total, exact = ranked(candidates, offset=offset, limit=limit, using=self.using)
            snippets = _snippets(cursor, expression, [article_id for article_id, _ in rows], in_range=not where)
        hits = [Hit(article_id, float(score), snippets.get(article_id, "")) for article_id, score in rows]
        return Results(hits, total, exact)


def _candidates(
    cursor: CursorWrapper,
    expression: str,
    where: str,
    params: list,
    connection: BaseDatabaseWrapper,
) -> list[tuple[int, float, float]]:
    """The newest CANDIDATES + 1 matches with their score (see types.py); bm25() is
    negative, lower is better. types.ranked orders them."""
    # CROSS JOIN fixes the join order: FTS5 drives, whatever the planner's statistics.
    weights = ", ".join(str(weight) for weight in COLUMN_WEIGHTS)
    cursor.execute(
        f"""
        SELECT m.id, m.published,
            -bm25({FTS_TABLE}, {weights})
            * (1.0 + %s * exp(%s * max(0.0, julianday(%s) - m.published))) AS score
        FROM {FTS_TABLE} CROSS JOIN {META_TABLE} m ON m.id = {FTS_TABLE}.rowid
        WHERE {FTS_TABLE} MATCH %s{where}
        ORDER BY m.published DESC
        LIMIT %s
        """,
        [
            FRESHNESS_WEIGHT,
            -math.log(2) / HALF_LIFE_DAYS,
            connection.ops.adapt_datetimefield_value(timezone.now()),
            expression,
            *params,
            CANDIDATES + 1,
        ],
    )
    return cursor.fetchall()


def _recent_candidates(
    cursor: CursorWrapper, expression: str, connection: BaseDatabaseWrapper
) -> list[tuple[int, float, float]] | None:
    """_candidates of an unfiltered query from the matches with the newest ids only, or
    None where that is not sure to be the same answer.

    It takes the matches from about the 1.25 x CANDIDATES-th newest id up (twice that if
    the check fails), keeps the newest CANDIDATES + 1 of them by date, and then checks
    that no older id carries a date as late as the last one kept (an old page that
    arrived early, a date corrected later): only then could no older match have
    belonged. Words with fewer matches, or whose newest matches are spread over more than
    20 x CANDIDATES ids (the check would read too many dates), take the full path.
    """
    for margin in RECENT_MARGINS:
        cursor.execute(
            f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s ORDER BY rowid DESC LIMIT 1 OFFSET %s",
            [expression, math.ceil(margin * (CANDIDATES + 1))],
        )
        row = cursor.fetchone()
        if row is None:
            return None
        floor = row[0]
        cursor.execute(f"SELECT max(id) FROM {META_TABLE}")
        if cursor.fetchone()[0] - floor > RECENT_ID_SPAN * CANDIDATES:
            return None
        candidates = _candidates(cursor, expression, f" AND {FTS_TABLE}.rowid >= %s", [floor], connection)
        if len(candidates) <= CANDIDATES:
            return None
        # The last candidate's date, less a second: Django stores dates as text, and the
        # margin keeps the comparison on the safe side of rounding.
        cursor.execute(
            "SELECT 1 FROM articles_article"
            " WHERE published_at >= strftime('%%Y-%%m-%%d %%H:%%M:%%f', %s) AND id < %s LIMIT 1",
            [candidates[-1][1] - 1.0 / 86400, floor],
        )
        if cursor.fetchone() is None:
            return candidates
    return None


def _snippets(cursor: CursorWrapper, expression: str, ids: list[int], *, in_range: bool) -> dict[int, str]:
    """The best passage of each article's body (of its description when it has none).

    FTS5 finds the listed rows by seeking each one in every segment of its index: 20
    hits in a dozen segments cost more than the snippets themselves for a rare word.
    `in_range` (an unfiltered query, whose hits lie among its newest matches by id, or
    among all when it has few), FTS5 reads the matches between the lowest and the
    highest hit once instead, and SQLite keeps the listed ones (the unary + keeps the
    list from FTS5). That reads more only for a common word whose newest ids failed the
    check of _recent_candidates. A filtered query's hits may lie far apart among many
    matches that the filters turned away, and each is sought.
    """
    if not ids:
        return {}
    marks = [highlight.OPEN, highlight.CLOSE, "…", SNIPPET_TOKENS]
    listed = ", ".join(["%s"] * len(ids))
    rows = f"rowid >= %s AND rowid <= %s AND +rowid IN ({listed})" if in_range else f"rowid IN ({listed})"
    cursor.execute(
        f"""
        SELECT rowid, CASE WHEN body_text != ''
            THEN snippet({FTS_TABLE}, 2, %s, %s, %s, %s)
            ELSE snippet({FTS_TABLE}, 1, %s, %s, %s, %s) END
        FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s AND {rows}
        """,
        [*marks, *marks, expression, *([min(ids), max(ids)] if in_range else []), *ids],
    )
    return {rowid: highlight.to_html(text) for rowid, text in cursor.fetchall()}
