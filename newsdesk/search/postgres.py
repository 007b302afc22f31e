"""Search on PostgreSQL with its own full-text search (the index is in schema.py).

Each article is indexed with the text search configuration of its own language
(stemming English as English, German as German). A reader's words are not in any one
language, so the query is the reader's terms parsed with each configuration in use,
OR-ed: an English article matches the English stems, a German one the German stems. The
configurations in use are those of the sources' languages plus the simple one, or only
the filtered language's.

The ranking blend is the same as on SQLite (see types.py), with ts_rank weighting
the headline (A) over the description (B) and the body (C).

What is ranked is the newest CANDIDATES + 1 matches (see types.py). The tsvector is a
stored column (search_vector) with a GIN index, so neither matching nor ranking re-parses
an article; the reader's query is parsed once into a constant tsquery. The newest
matches are found one of two ways (_Plan): for a word in a good share of the articles,
by walking an index in publication order (published_at, or the index that starts with
the source, language, hashtag or section filtered on) and testing each stored vector
until there are enough; for a rarer word, by reading its matches from the GIN index
(within a date window when there are many) and keeping the newest. A short walk over the newest
articles measures the share first, since the planner's estimates for words are often
several times off. Only the candidates are ranked, and only the page's articles get a
ts_headline snippet.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.db import connections, transaction
from django.db.backends.utils import CursorWrapper

from newsdesk.search import highlight
from newsdesk.search.query import Query
from newsdesk.search.schema import (
    POSTGRES_CONFIGS,
    POSTGRES_LANGUAGE,
    POSTGRES_SIMPLE,
    postgres_config,
)
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

# ts_rank weights for D, C, B, A (unused, body, description, headline).
RANK_WEIGHTS = [0.05, 0.2, 0.4, 1.0]
SNIPPET_WORDS = (15, 35)
# What finding the candidates costs per article, in microseconds (measured at a million
# articles): walking the dates, an article read and its stored vector (about 4 kB, in
# TOAST) tested; from the GIN index, a match's row read, or read and its vector tested
# again for a phrase (the index has no word positions).
WALK_ROW_US = 12.0
SECTION_ROW_US = 4.0  # an article's section looked up (the vector only when it is the one)
MATCH_ROW_US = 3.0
RECHECK_ROW_US = 12.0
GIN_TID_US = 0.1  # a match's entry read from the GIN index (its posting list)
# The walk that samples how many of the newest articles match.
SAMPLE = 300
# A walk reads at most this many articles (about 30 ms, with or without a section to
# look up: reading the article row costs most): a phrase of two common words, say, is
# looked for among the newest 5,000 articles only, and the total then reads "N+". It is
# chosen when reading the GIN index would cost more than READ_BUDGET_US.
WALK_LIMIT = 5000
READ_BUDGET_US = 100_000
# A date window for the GIN index spans at most this many articles (finding its start
# reads the date index that far).
WINDOW_MAX = 100_000
# The language filter as the index search_article_language spells it.
LANGUAGE_SQL = POSTGRES_LANGUAGE.replace("language", "a.language")
# A safety net only: a search that takes this long is cancelled (an OperationalError).
STATEMENT_TIMEOUT_MS = 5000


def config_for(language: str) -> str:
    """Mirrors the SQL function newsdesk_search_config."""
    return postgres_config(POSTGRES_CONFIGS.get(language.lower().split("-")[0], POSTGRES_SIMPLE))


def _configs(filters: SearchFilters, cursor: CursorWrapper) -> list[str]:
    """The configurations the query is parsed with: one per language the articles and
    their sources are in. The articles' own matter: a source's language is often unset
    while extraction stores each text's own, and a query parsed only with `simple` never
    meets the English stems of an English article ("laos" against "lao"). Read by a
    loose scan of the language index: one probe per distinct language, not a pass over
    the table."""
    if filters.language:
        return [config_for(filters.language)]
    cursor.execute(
        f"""
        WITH RECURSIVE found(lang) AS (
            (SELECT {POSTGRES_LANGUAGE} FROM articles_article ORDER BY 1 LIMIT 1)
            UNION ALL
            SELECT (
                SELECT {POSTGRES_LANGUAGE} FROM articles_article
                WHERE {POSTGRES_LANGUAGE} > found.lang ORDER BY 1 LIMIT 1
            ) FROM found WHERE found.lang IS NOT NULL
        )
        SELECT lang FROM found WHERE lang IS NOT NULL
        UNION SELECT language FROM sources_source
        """
    )
    return sorted({postgres_config(POSTGRES_SIMPLE), *(config_for(language) for (language,) in cursor)})


def _parsed(query: Query, config: str) -> tuple[str, list]:
    """SQL for all included terms AND NOT any excluded term, parsed with `config`."""
    parts: list[str] = []
    params: list = []
    for term in query.included:
        parts.append("phraseto_tsquery(%s::regconfig, %s)")
        params += [config, " ".join(term.words)]
    for term in query.excluded:
        parts.append("!! phraseto_tsquery(%s::regconfig, %s)")
        params += [config, " ".join(term.words)]
    return "(" + " && ".join(parts) + ")", params


def tsquery(query: Query, configs: list[str]) -> tuple[str, list]:
    """SQL for the query parsed with each config, OR-ed; and its parameters. Every term is
    a phraseto_tsquery of our own quoted words."""
    alternatives = [_parsed(query, config) for config in configs]
    return "(" + " || ".join(sql for sql, _ in alternatives) + ")", [
        param for _, params in alternatives for param in params
    ]


def parse_once(cursor: CursorWrapper, query: Query, configs: list[str]) -> str:
    """The tsquery as text: parsed here once, so that in the search queries it is a
    constant (spelled out, it would be parsed again for every article tested, since the
    text-to-regconfig cast is only stable). The configurations often parse a word alike
    ("government" in French, German, Spanish and simple): each distinct reading appears
    once, which keeps ts_rank's work and the planner's estimate to the real query."""
    alternatives = [_parsed(query, config) for config in configs]
    cursor.execute(
        "SELECT " + ", ".join(f"({sql})::text" for sql, _ in alternatives),
        [param for _, params in alternatives for param in params],
    )
    readings = sorted({text for text in cursor.fetchone() if text})
    return " | ".join(f"( {text} )" for text in readings)


# The rows a walk reads in date order, by their alias: the articles themselves, or the
# hashtag's or the section's rows, each with its copy of the article's date.
_WALKED = {
    "a": "articles_article a",
    "h": "articles_articlehashtag h JOIN articles_article a ON a.id = h.article_id",
    "e": "articles_enrichment e JOIN articles_article a ON a.id = e.article_id",
}


@dataclass
class _Filters:
    """The filters as SQL on the article `a` (and on `h`, its hashtag row, or `e`, its
    enrichment, when the walk reads those): `walk` are those an index walked in date
    order satisfies by itself."""

    walk: list[str] = field(default_factory=list)
    walk_params: list = field(default_factory=list)
    other: list[str] = field(default_factory=list)
    other_params: list = field(default_factory=list)
    walk_rows: str = "a"  # a key of _WALKED

    def sql(self, *, walk: bool = True, other: bool = True) -> tuple[str, list]:
        clauses = (self.walk if walk else []) + (self.other if other else [])
        params = (self.walk_params if walk else []) + (self.other_params if other else [])
        return "".join(f" AND {clause}" for clause in clauses), params

    @property
    def tables(self) -> str:
        return _WALKED[self.walk_rows]

    @property
    def order(self) -> str:
        """The date the walk's index is ordered by."""
        return f"{self.walk_rows}.published_at"


def _filters(filters: SearchFilters, cursor: CursorWrapper) -> _Filters | None:
    """None when a filter names a source or hashtag that does not exist (nothing can
    match). Source and hashtag are looked up first, so that the planner sees their ids."""
    found = _Filters()
    if filters.source:
        cursor.execute("SELECT id FROM sources_source WHERE slug = %s", [filters.source])
        row = cursor.fetchone()
        if row is None:
            return None
        found.walk.append("a.source_id = %s")  # (source_id, published_at): article_source_latest
        found.walk_params.append(row[0])
    if filters.hashtag:
        cursor.execute("SELECT id FROM articles_hashtag WHERE slug = %s", [filters.hashtag])
        row = cursor.fetchone()
        if row is None:
            return None
        found.walk_rows = "h"
        found.walk.append("h.hashtag_id = %s")  # (hashtag_id, published_at): hashtag_latest
        found.walk_params.append(row[0])
    if filters.section and (filters.source or filters.hashtag):
        # Walking the source's or hashtag's index (fewer articles than a section's), a
        # lookup per article (not EXISTS, which PostgreSQL may hash over the whole
        # section first).
        found.other.append("(SELECT e.section FROM articles_enrichment e WHERE e.article_id = a.id) = %s")
        found.other_params.append(filters.section)
    elif filters.section:
        found.walk_rows = "e"
        found.walk.append("e.section = %s")  # (section, published_at): section_latest
        found.walk_params.append(filters.section)
    if filters.language:
        language = filters.language.lower()
        if "-" in language:
            found.walk.append("lower(a.language) = %s")
        else:  # "en" is also "en-GB": the index search_article_language
            found.walk.append(f"{LANGUAGE_SQL} = %s")
        found.walk_params.append(language)
    start, end = time_bounds(filters)
    # On the walked index's own copy of the date, so that the walk starts and stops there.
    if start:
        found.walk.append(f"{found.order} >= %s")
        found.walk_params.append(start)
    if end:
        found.walk.append(f"{found.order} < %s")
        found.walk_params.append(end)
    return found


def _estimate(cursor: CursorWrapper, sql: str, params: list) -> float:
    """The planner's estimate of the rows `sql` returns."""
    cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
    plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return max(float(plan[0]["Plan"]["Plan Rows"]), 1.0)


class PostgresBackend:
    def __init__(self, using: str = "default") -> None:
        self.using = using

    def search(self, query: Query, filters: SearchFilters, *, offset: int, limit: int) -> Results:
        connection = connections[self.using]
        with transaction.atomic(using=self.using), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}")
            # One core per search: parallel workers only add start-up time at this size.
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            return self._search(cursor, query, filters, offset=offset, limit=limit)

    def _search(
        self, cursor: CursorWrapper, query: Query, filters: SearchFilters, *, offset: int, limit: int
    ) -> Results:
        found = _filters(filters, cursor)
        if found is None:
            return Results([], 0)
        q_text = parse_once(cursor, query, _configs(filters, cursor))
        if not q_text:  # only stop words
            return Results([], 0)
        q_sql, q_params = "%s::tsquery", [q_text]
        plan = _Plan(cursor, query, q_sql, q_params, found)
        if plan.walks:
            rows, complete = plan.walk(rank=True)
        else:
            ids, complete = plan.read_index()
            rows = _rank(cursor, q_sql, q_params, ids)
        page, total, exact = ranked(rows, offset=offset, limit=limit, using=self.using)
        snippets = _snippets(cursor, q_sql, q_params, [article_id for article_id, _ in page])
        hits = [Hit(article_id, float(score), snippets.get(article_id, "")) for article_id, score in page]
        return Results(hits, total, exact and complete)


def _score(q_sql: str, q_params: list, vector: str, published: str) -> tuple[str, list]:
    """SQL for the score of types.py, and its parameters. (date_part is float8; extract
    would be numeric, several times slower here.) The half-lives are capped at 1,000:
    PostgreSQL raises on underflow, and an article dated in the year 1 is 1,400 of them
    old (0.5^1000 is already nothing next to 1)."""
    return (
        f"ts_rank(%s::float4[], {vector}, {q_sql}) * (1.0 + %s * power(0.5::float8, least(1000.0,"
        f" greatest(0.0, date_part('epoch', statement_timestamp() - {published}))"
        " / 86400.0 / %s)))"
    ), [RANK_WEIGHTS, *q_params, FRESHNESS_WEIGHT, HALF_LIFE_DAYS]


def _rank(cursor: CursorWrapper, q_sql: str, q_params: list, ids: list[int]) -> list[tuple[int, float, float]]:
    """(id, published, score) of the candidates `ids`, newest first: their stored vectors
    read once more."""
    score, params = _score(q_sql, q_params, "a.search_vector", "a.published_at")
    cursor.execute(
        f"""
        SELECT a.id, date_part('epoch', a.published_at), {score}
        FROM articles_article a WHERE a.id = ANY(%s) ORDER BY a.published_at DESC
        """,
        [*params, ids],
    )
    return cursor.fetchall()


class _Plan:
    """How to find the newest CANDIDATES + 1 matches.

    walk: the articles newest first through a date-ordered index (published_at, or with
    a source, language, hashtag or section filter the index that starts with it), each
    tested (a section, when another filter's index is walked, first; then the stored
    vector), until there are enough; it suits words in a good share of the articles,
    and stops after WALK_LIMIT articles whatever it found.
    read_index: the matches from the GIN index (AND-ed with a date window when a share
    of the articles is known to be enough), then the newest of them; suits rarer words.

    The choice starts with a short walk over the newest SAMPLE articles: the share that
    matches tells how far a walk would go (the planner's estimates for a word often miss
    by several times, and it multiplies a word's share with a filter's as if unrelated).
    The planner's estimates then only cost the GIN side.
    """

    def __init__(self, cursor: CursorWrapper, query: Query, q_sql: str, q_params: list, found: _Filters) -> None:
        self.cursor, self.q_sql, self.q_params, self.found = cursor, q_sql, q_params, found
        section = bool(found.other)
        self.sample, complete = self.walk(SAMPLE)
        self.window: int | None = None
        self.domain = float("inf")
        self.finishes = True  # a walk is expected to find CANDIDATES + 1 or all matches
        if complete or len(self.sample) > CANDIDATES:
            self.walks = True
            return
        share = max(len(self.sample), 0.5) / SAMPLE
        needed = (CANDIDATES + 1) / share  # articles a walk reads
        walked, walked_params = found.sql(other=False)
        self.domain = domain = _estimate(cursor, f"SELECT 1 FROM {found.tables} WHERE true{walked}", walked_params)
        word = _estimate(cursor, f"SELECT 1 FROM articles_article a WHERE a.search_vector @@ {q_sql}", q_params)
        indexed = _estimate(
            cursor,
            f"SELECT 1 FROM {found.tables} WHERE a.search_vector @@ {q_sql}{walked}",
            [*q_params, *walked_params],
        )
        if needed < min(domain, WINDOW_MAX) / 2:
            self.window = int(2 * needed)
            indexed = indexed * self.window / domain
        phrase = any(term.is_phrase for term in query.terms)
        row = MATCH_ROW_US + (RECHECK_ROW_US if phrase else 0) + (SECTION_ROW_US if section else 0)
        read = word * GIN_TID_US + indexed * row
        walk = min(needed, domain) * (SECTION_ROW_US if section else WALK_ROW_US)
        self.finishes = needed <= WALK_LIMIT
        if self.finishes:
            self.walks = walk <= read
        else:  # a walk would stop short: only when reading the index costs too much
            self.walks = read > READ_BUDGET_US

    def walk(self, limit: int | None = None, *, rank: bool = False) -> tuple[list, bool]:
        """The ids found (with `rank`, (id, published, score) rows), and whether that is
        all (False when the walk stopped after `limit` articles short of CANDIDATES + 1
        matches: there may be more, older)."""
        limit = limit or WALK_LIMIT
        walked, walked_params = self.found.sql(other=False)
        other, other_params = self.found.sql(walk=False)
        if rank and self.finishes and not other:
            # Most articles read match: each vector is read once (`||` an empty vector
            # makes the in-memory copy) for both the test and the score.
            score, score_params = _score(self.q_sql, self.q_params, "a.v", "a.published_at")
            self.cursor.execute(
                f"""
                SELECT a.id, date_part('epoch', a.published_at), {score} FROM (
                    SELECT a.id, a.published_at, a.search_vector || ''::tsvector AS v
                    FROM {self.found.tables}
                    WHERE true{walked} ORDER BY {self.found.order} DESC LIMIT %s
                ) a
                WHERE a.v @@ {self.q_sql}
                LIMIT %s
                """,
                [*score_params, *walked_params, limit, *self.q_params, CANDIDATES + 1],
            )
            found = self.cursor.fetchall()
        else:
            # CASE: the other filters (section) are tested before the vector, which
            # costs more; the matches (few, for a walk that stops short) ranked after.
            match = f"a.search_vector @@ {self.q_sql}"
            if other:
                match = f"CASE WHEN true{other} THEN {match} ELSE false END"
            self.cursor.execute(
                f"""
                SELECT a.id FROM (
                    SELECT a.id, a.search_vector FROM {self.found.tables}
                    WHERE true{walked} ORDER BY {self.found.order} DESC LIMIT %s
                ) a
                WHERE {match}
                LIMIT %s
                """,
                [*walked_params, limit, *other_params, *self.q_params, CANDIDATES + 1],
            )
            found = [article_id for (article_id,) in self.cursor.fetchall()]
            if rank:
                found = _rank(self.cursor, self.q_sql, self.q_params, found)
        if len(found) > CANDIDATES:
            return found, True
        self.cursor.execute(
            f"SELECT 1 FROM {self.found.tables} WHERE true{walked} ORDER BY {self.found.order} DESC OFFSET %s LIMIT 1",
            [*walked_params, limit],
        )
        return found, self.cursor.fetchone() is None

    def read_index(self) -> tuple[list[int], bool]:
        where, params = self.found.sql()
        walked, walked_params = self.found.sql(other=False)
        window = self.window
        while True:
            since = None
            if window is not None and window < self.domain:
                self.cursor.execute(
                    f"SELECT {self.found.order} FROM {self.found.tables} WHERE true{walked}"
                    f" ORDER BY {self.found.order} DESC OFFSET %s LIMIT 1",
                    [*walked_params, window],
                )
                row = self.cursor.fetchone()
                since = row[0] if row else None
            dates = " AND a.published_at >= %s" if since else ""
            # OFFSET 0 keeps the planner from walking the dates instead.
            self.cursor.execute(
                f"""
                SELECT id FROM (
                    SELECT a.id, a.published_at FROM {self.found.tables}
                    WHERE a.search_vector @@ {self.q_sql}{where}{dates} OFFSET 0
                ) m ORDER BY published_at DESC LIMIT %s
                """,
                [*self.q_params, *params, *([since] if since else []), CANDIDATES + 1],
            )
            ids = [article_id for (article_id,) in self.cursor.fetchall()]
            if len(ids) > CANDIDATES or since is None or window is None:  # (no window: no since)
                return ids, True
            window *= 4  # too few in the window (the sample was lucky): a wider one


def _snippets(cursor: CursorWrapper, q_sql: str, q_params: list, ids: list[int]) -> dict[int, str]:
    """The best passage of each article's body (of its description when it has none), in
    the article's language."""
    if not ids:
        return {}
    options = (
        f'StartSel="{highlight.OPEN}", StopSel="{highlight.CLOSE}",'
        f" MinWords={SNIPPET_WORDS[0]}, MaxWords={SNIPPET_WORDS[1]}"
    )
    cursor.execute(
        f"""
        SELECT id, ts_headline(newsdesk_search_config(language),
            coalesce(nullif(body_text, ''), description), {q_sql}, %s)
        FROM articles_article WHERE id = ANY(%s)
        """,
        [*q_params, options, ids],
    )
    return {article_id: highlight.to_html(snippet) for article_id, snippet in cursor.fetchall()}
