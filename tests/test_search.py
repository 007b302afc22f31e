"""Full-text search: the index follows every write to an article, ranking prefers the
headline and then freshness, every filter narrows, and nothing a reader types can break
the query or the page.

Runs on the real database engine: SQLite FTS5 by default. The same tests pass on
PostgreSQL (DATABASE_URL=postgres://...), except the few marked as SQLite-only.
"""

from __future__ import annotations

import io
import itertools
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from newsdesk.articles.models import Article, ArticleHashtag, Enrichment, Hashtag
from newsdesk.search import highlight
from newsdesk.search.backends import search
from newsdesk.search.query import MAX_QUERY_CHARS, MAX_TERMS, parse
from newsdesk.search.types import MAX_OFFSET, SearchFilters
from newsdesk.sources.models import Source

NO_FILTERS = SearchFilters()
sqlite_only = pytest.mark.skipif("connection.vendor != 'sqlite'", reason="checks the FTS5 tables")

_numbers = itertools.count(1)

FILLER = [
    ("Markets steady ahead of bank meeting", "Traders waited for the decision on interest rates."),
    ("Rain expected across the north", "Forecasters warned of heavy showers and local flooding."),
    ("Museum reopens after repairs", "The gallery restored its roof and reopened to visitors."),
    ("Team names new captain", "The club announced its new captain before the season."),
]


@pytest.fixture
def source(db) -> Source:
    return make_source("daily")


def make_source(slug: str, language: str = "en") -> Source:
    return Source.objects.create(name=slug.title(), slug=slug, home_url=f"https://{slug}.example", language=language)


def make_article(
    source: Source, title: str, body: str = "", *, age: timedelta = timedelta(hours=1), **fields
) -> Article:
    n = next(_numbers)
    return Article.objects.create(
        source=source,
        url=f"https://{source.slug}.example/{n}",
        title=title,
        body_text=body,
        content_hash=f"{n:040x}",
        published_at=fields.pop("published_at", timezone.now() - age),
        **fields,
    )


def ids(query: str, filters: SearchFilters = NO_FILTERS, **kwargs) -> list[int]:
    hits, _ = search(query, filters, **kwargs)
    return [hit.article_id for hit in hits]


@pytest.fixture
def filler(source) -> list[Article]:
    """Unrelated articles, so that a word in a few documents is a rare word."""
    return [make_article(source, title, body, age=timedelta(days=2)) for title, body in FILLER]


# --- Keeping the index in sync -------------------------------------------------------


def test_created_article_is_found(source, filler):
    article = make_article(source, "Volcano erupts on remote island", "Lava reached the sea overnight.")
    assert ids("volcano") == [article.pk]
    assert ids("lava") == [article.pk]


def test_updated_article_is_found_by_new_words_not_old(source, filler):
    article = make_article(source, "Volcano erupts on remote island", "Lava reached the sea overnight.")
    article.title = "Earthquake shakes coastal town"
    article.body_text = "Tremors were felt along the coast."
    article.save()
    assert ids("earthquake") == [article.pk]
    assert ids("tremors") == [article.pk]
    assert ids("volcano") == []
    assert ids("lava") == []


def test_bulk_update_and_raw_writes_are_indexed(source, filler):
    """Articles are written by several code paths; the triggers see QuerySet.update too."""
    article = make_article(source, "Volcano erupts on remote island")
    Article.objects.filter(pk=article.pk).update(description="Ash clouds ground flights.")
    assert ids("ash") == [article.pk]
    Article.objects.filter(pk=article.pk).update(language="de")  # not indexed text
    assert ids("volcano") == [article.pk]


def test_deleted_article_is_not_found(source, filler):
    article = make_article(source, "Volcano erupts on remote island")
    other = make_article(source, "Volcano quiet again")
    article.delete()
    assert ids("volcano") == [other.pk]
    Article.objects.filter(pk=other.pk).delete()
    assert ids("volcano") == []


def test_deleting_a_source_removes_its_articles_from_the_index(db, filler):
    gone = make_source("gone")
    make_article(gone, "Volcano erupts on remote island")
    gone.delete()
    assert ids("volcano") == []


@sqlite_only
def test_index_stays_consistent(source, filler):
    """FTS5's own integrity check compares the index with the articles table."""
    from newsdesk.search.schema import SQLITE_CHECK

    article = make_article(source, "Volcano erupts", "Lava flows.")
    article.title = "Volcano calms"
    article.save()
    make_article(source, "Another volcano").delete()
    with connection.cursor() as cursor:
        cursor.execute(SQLITE_CHECK)  # raises on a corrupt index


@sqlite_only
def test_repair_restores_triggers_dropped_by_a_table_rebuild(source, filler):
    """A migration that alters articles_article drops its triggers on SQLite."""
    from newsdesk.search.schema import SQLITE_TRIGGERS, repair_sqlite

    article = make_article(source, "Volcano erupts")
    with connection.cursor() as cursor:
        for name in SQLITE_TRIGGERS:
            cursor.execute(f"DROP TRIGGER {name}")
    missed = make_article(source, "Glacier melts")  # written while the index was blind
    assert ids("glacier") == []
    assert repair_sqlite(connection) is True
    assert ids("glacier") == [missed.pk]
    assert ids("volcano") == [article.pk]
    assert repair_sqlite(connection) is False  # nothing to do the second time
    later = make_article(source, "Glacier calves")
    assert set(ids("glacier")) == {missed.pk, later.pk}


# --- Ranking -------------------------------------------------------------------------


def test_headline_match_ranks_above_body_only_match(source, filler):
    published = timezone.now() - timedelta(hours=3)
    in_body = make_article(
        source,
        "Island news roundup",
        "Residents said the volcano was active again this week.",
        published_at=published,
    )
    in_headline = make_article(
        source,
        "Volcano active again",
        "Residents said the mountain was rumbling this week.",
        published_at=published,
    )
    assert ids("volcano") == [in_headline.pk, in_body.pk]


def test_fresher_article_ranks_above_older_equally_relevant_one(source, filler):
    old = make_article(source, "Volcano erupts", "Lava reached the sea.", age=timedelta(days=6))
    new = make_article(source, "Volcano erupts", "Lava reached the sea.", age=timedelta(hours=2))
    older = make_article(source, "Volcano erupts", "Lava reached the sea.", age=timedelta(days=60))
    assert ids("volcano") == [new.pk, old.pk, older.pk]
    hits, _ = search("volcano")
    assert hits[0].score > hits[1].score > hits[2].score > 0


def test_much_better_match_beats_freshness(source, filler):
    """Freshness at most doubles a score: an old article about the subject still wins
    over a fresh one that mentions it in passing."""
    passing = make_article(
        source,
        "Weekly roundup",
        "Sport, weather, a volcano, markets, politics, culture, travel and food.",
        age=timedelta(hours=1),
    )
    about = make_article(
        source,
        "Volcano erupts",
        "The volcano erupted at dawn; volcano experts expect more volcano activity.",
        age=timedelta(days=30),
    )
    assert ids("volcano") == [about.pk, passing.pk]


# --- Filters -------------------------------------------------------------------------


def test_source_filter(source, filler):
    other = make_source("weekly")
    mine = make_article(source, "Volcano erupts")
    theirs = make_article(other, "Volcano erupts again")
    assert ids("volcano", SearchFilters(source="weekly")) == [theirs.pk]
    assert ids("volcano", SearchFilters(source="daily")) == [mine.pk]
    assert ids("volcano", SearchFilters(source="nobody")) == []


def test_section_filter(source, filler):
    science = make_article(source, "Volcano study published")
    travel = make_article(source, "Volcano tours resume")
    Enrichment.objects.create(article=science, section="science", published_at=science.published_at)
    Enrichment.objects.create(article=travel, section="lifestyle", published_at=travel.published_at)
    make_article(source, "Volcano erupts")  # not enriched yet
    assert ids("volcano", SearchFilters(section="science")) == [science.pk]
    assert ids("volcano", SearchFilters(section="sports")) == []


def test_section_filter_with_dates(source, filler):
    """The section's walk (its own copy of the dates on PostgreSQL) keeps the date range."""

    def at(day: int) -> datetime:
        return datetime(2024, 3, day, 12, tzinfo=UTC)

    found = []
    for day in (1, 2, 3):
        article = make_article(source, f"Volcano day {day}", published_at=at(day))
        Enrichment.objects.create(article=article, section="science", published_at=article.published_at)
        found.append(article.pk)
    assert ids("volcano", SearchFilters(section="science", since=date(2024, 3, 2), until=date(2024, 3, 2))) == [
        found[1]
    ]
    assert set(ids("volcano", SearchFilters(section="science", until=date(2024, 3, 2)))) == set(found[:2])


def test_hashtag_filter(source, filler):
    tagged = make_article(source, "Volcano erupts in Iceland")
    make_article(source, "Volcano erupts in Italy")
    tag = Hashtag.objects.create(slug="iceland", name="Iceland", kind=Hashtag.Kind.PLACE)
    ArticleHashtag.objects.create(article=tagged, hashtag=tag, published_at=tagged.published_at)
    assert ids("volcano", SearchFilters(hashtag="iceland")) == [tagged.pk]
    assert ids("volcano", SearchFilters(hashtag="nowhere")) == []


def test_language_filter(source, filler):
    english = make_article(source, "Volcano erupts", language="en")
    british = make_article(source, "Volcano erupts again", language="en-GB")
    german = make_article(source, "Vulkan volcano ausgebrochen", language="de")
    assert set(ids("volcano", SearchFilters(language="en"))) == {english.pk, british.pk}
    assert ids("volcano", SearchFilters(language="de")) == [german.pk]
    assert ids("volcano", SearchFilters(language="EN-gb")) == [british.pk]


def test_date_range_filter_includes_whole_days(source, filler):
    def at(day: int, hour: int) -> datetime:
        return datetime(2024, 3, day, hour, tzinfo=UTC)

    early = make_article(source, "Volcano early", published_at=at(1, 0))
    middle = make_article(source, "Volcano middle", published_at=at(2, 23))
    late = make_article(source, "Volcano late", published_at=at(3, 12))
    assert set(ids("volcano", SearchFilters(since=date(2024, 3, 2)))) == {middle.pk, late.pk}
    assert set(ids("volcano", SearchFilters(until=date(2024, 3, 2)))) == {early.pk, middle.pk}
    assert ids("volcano", SearchFilters(since=date(2024, 3, 2), until=date(2024, 3, 2))) == [middle.pk]
    assert ids("volcano", SearchFilters(since=date(2024, 3, 4))) == []
    assert len(ids("volcano", SearchFilters(since=date.min, until=date.max))) == 3


def test_filters_combine(source, filler):
    other = make_source("weekly")
    hit = make_article(other, "Volcano erupts", language="en")
    make_article(other, "Volcano erupts", language="de")
    make_article(source, "Volcano erupts", language="en")
    Enrichment.objects.create(article=hit, section="science", published_at=hit.published_at)
    filters = SearchFilters(source="weekly", language="en", section="science", since=date.today() - timedelta(days=1))
    assert ids("volcano", filters) == [hit.pk]


# --- Query syntax --------------------------------------------------------------------


def test_phrase_query(source, filler):
    phrase = make_article(source, "Central bank raises rates")
    apart = make_article(source, "Bank holiday as central heating fails")
    assert set(ids("central bank")) == {phrase.pk, apart.pk}
    assert ids('"central bank"') == [phrase.pk]


def test_excluded_word_and_phrase(source, filler):
    iceland = make_article(source, "Volcano erupts in Iceland")
    italy = make_article(source, "Volcano erupts in Italy", "Etna sent lava down the slope.")
    assert ids("volcano -iceland") == [italy.pk]
    assert ids('volcano -"down the slope"') == [iceland.pk]
    assert ids("-volcano") == []  # nothing left to look for


def test_words_must_all_match(source, filler):
    both = make_article(source, "Volcano erupts in Iceland")
    make_article(source, "Volcano erupts in Italy")
    assert ids("iceland volcano") == [both.pk]


def test_diacritics_are_folded(source, filler):
    zurich = make_article(source, "Zürich council votes", "The vote in Zürich was close.")
    sao_paulo = make_article(source, "Sao Paulo floods", "Rain hit Sao Paulo.")
    assert ids("zurich") == [zurich.pk]
    assert ids("Zürich") == [zurich.pk]
    assert ids("ZÜRICH") == [zurich.pk]
    assert ids("são paulo") == [sao_paulo.pk]


def test_stemming_finds_other_forms(source, filler):
    article = make_article(source, "Elections called early", "Voters will elect a new parliament.")
    assert ids("election") == [article.pk]


@pytest.mark.parametrize(
    "query",
    [
        '"volcano',
        'volcano"',
        '"""',
        "NEAR(",
        "NEAR(volcano island, 2)",
        "volcano NEAR/2 island",
        "*",
        "volc*",
        "^volcano",
        "OR",
        "volcano OR",
        "AND NOT",
        "title:",
        "title:volcano",
        "{title body_text}: volcano",
        "-",
        "- - -",
        "volcano + island",
        "(volcano",
        "volcano)",
        "'; DROP TABLE articles_article; --",
        '" OR 1=1 --',
        "%s %s %(x)s",
        "\\",
        "\x00volcano",
        "\ue000volcano\ue001",
        "volcano" * 2000,
        "volcano " * 2000,
        "x" * 10_000,
        "<script>alert(1)</script>",
        "🌋 volcano",
        "",
        "   ",
    ],
)
def test_hostile_queries_never_raise(source, filler, query):
    make_article(source, "Volcano erupts on remote island")
    hits, total = search(query)
    assert isinstance(hits, list) and total >= len(hits)
    # And the table is still there.
    assert Article.objects.filter(title__contains="Volcano").exists()


def test_operators_are_searched_as_words(source, filler):
    make_article(source, "Volcano erupts on remote island")
    near = make_article(source, "Volcano seen near the island")
    assert ids("volcano NEAR island") == [near.pk]  # "near" is a word that must occur
    assert ids("title: volcano") == []  # no column filter: "title" is a word too


def test_parser_quotes_everything_itself():
    query = parse('Volcano "lava flow" -ash -"tour group" e-mail NEAR( title:x *')
    words = [(term.words, term.exclude) for term in query.terms]
    assert words == [
        (("volcano",), False),
        (("lava", "flow"), False),
        (("ash",), True),
        (("tour", "group"), True),
        (("e", "mail"), False),
        (("near",), False),
        (("title", "x"), False),
    ]


def test_parser_bounds_the_work():
    assert len(parse("word " * 1000).terms) == 1  # repeated terms collapse
    many = " ".join(f"w{i}" for i in range(100))
    assert len(parse(many).terms) == MAX_TERMS
    assert sum(len(term.words) for term in parse("z" * 100_000).terms) == 1
    assert len("".join(parse("a" * 100_000).terms[0].words)) <= MAX_QUERY_CHARS


# --- Snippets ------------------------------------------------------------------------


def test_snippet_highlights_matches_and_escapes_text(source, filler):
    make_article(
        source,
        "Volcano <b>erupts</b>",
        "Witnesses saw <script>alert('x')</script> as the volcano & the island shook.",
    )
    (hit,), _ = search("volcano")
    assert "<mark>volcano</mark>" in hit.snippet
    assert "<script>" not in hit.snippet
    assert "&amp;" in hit.snippet
    if connection.vendor == "sqlite":  # ts_headline drops tags; FTS5 keeps them as text
        assert "&lt;script&gt;" in hit.snippet
    assert re.sub(r"</?mark>", "", hit.snippet).count("<") == 0


def test_snippet_falls_back_to_description(source, filler):
    make_article(source, "Volcano erupts", "", description="Feed summary about the volcano.")
    (hit,), _ = search("volcano")
    assert "<mark>volcano</mark>" in hit.snippet


def test_each_hit_gets_its_own_snippet_filtered_or_not(source, filler):
    """Snippets are made for the page's hits only, between other matches (unfiltered:
    FTS5 reads the matches between the lowest and highest hit; filtered: it seeks each
    hit), and a hit has the same passage either way."""
    other = make_source("other-wire")
    ours = [make_article(source, f"Island report {i}", f"The volcano {i} shook the island.") for i in range(4)]
    theirs = [make_article(other, f"Wire report {i}", f"A wire volcano {i} story.") for i in range(4)]
    everything = {hit.article_id: hit.snippet for hit in search("volcano")[0]}
    assert set(everything) == {a.pk for a in ours + theirs}
    for article in ours + theirs:
        assert f"<mark>volcano</mark> {article.title[-1]}" in everything[article.pk]
    filtered = {hit.article_id: hit.snippet for hit in search("volcano", SearchFilters(source="other-wire"))[0]}
    assert filtered == {a.pk: everything[a.pk] for a in theirs}
    page = search("volcano", offset=2, limit=3)[0]
    assert [hit.snippet for hit in page] == [everything[hit.article_id] for hit in page]


def test_highlight_pairs_stray_markers():
    o, c = highlight.OPEN, highlight.CLOSE
    assert highlight.to_html(f"a {o}b{c} <i>") == "a <mark>b</mark> &lt;i&gt;"
    assert highlight.to_html(f"{c}a {o}{o}b") == "a <mark>b</mark>"
    assert highlight.to_html(f"{o}{c}") == ""


# --- Pagination ----------------------------------------------------------------------


def test_pagination_totals_and_pages(source, filler):
    articles = [make_article(source, f"Volcano report {i}", age=timedelta(hours=i)) for i in range(45)]
    pages = [search("volcano", offset=offset, limit=20) for offset in (0, 20, 40, 60)]
    assert [total for _, total in pages] == [45, 45, 45, 45]
    assert [len(hits) for hits, _ in pages] == [20, 20, 5, 0]
    found = [hit.article_id for hits, _ in pages for hit in hits]
    assert len(found) == len(set(found)) == 45
    assert found == [article.pk for article in articles]  # equal text: newest first
    assert search("volcano", offset=10**9)[1] == 45  # clamped to MAX_OFFSET, still counted
    assert MAX_OFFSET >= 40


def test_only_the_newest_candidates_are_ranked_and_counted(client, source, filler, monkeypatch):
    """Past CANDIDATES matches, the newest CANDIDATES are ranked (an older headline match
    is not seen) and the total says "CANDIDATES+"; pages stay within them."""
    for module in ("types", "fts5", "postgres"):
        monkeypatch.setattr(f"newsdesk.search.{module}.CANDIDATES", 5, raising=False)
    old_headline = make_article(source, "Volcano erupts", age=timedelta(days=30))
    newest = [
        make_article(source, "Island news", f"A volcano was mentioned {i}.", age=timedelta(hours=i)) for i in range(7)
    ]
    results = search("volcano")
    hits, total = results
    assert total == 5 and not results.exact
    assert [hit.article_id for hit in hits] == [article.pk for article in newest[:5]]
    assert old_headline.pk not in [hit.article_id for hit in hits]
    assert search("volcano", offset=4)[0][0].article_id == newest[4].pk
    assert search("volcano", offset=5) == ([], 5)
    assert search("volcano", SearchFilters(since=date.today() - timedelta(days=60)))[1] == 5
    # Fewer matches than that: everything is ranked, the headline first, the count exact.
    results = search("volcano erupts")
    hits, total = results
    assert total == 1 and results.exact
    assert hits[0].article_id == old_headline.pk
    response = client.get(reverse("search:search"), {"q": "volcano"})
    assert "5+ results" in response.content.decode()


@sqlite_only
def test_common_words_take_candidates_from_the_newest_ids_only_when_that_is_the_same(source, filler, monkeypatch):
    """Past twice CANDIDATES matches, SQLite ranks the matches of the newest ids (FTS5
    stops walking there) when ids follow publication, and gives the same answer as
    ranking every match; an older id with a later date (a date corrected after the
    article was stored) sends the query down the full path, which finds it."""
    from newsdesk.search import fts5

    monkeypatch.setattr("newsdesk.search.types.CANDIDATES", 5)
    monkeypatch.setattr("newsdesk.search.fts5.CANDIDATES", 5)
    corrected = make_article(source, "Island notes", "A volcano was mentioned early.", age=timedelta(days=40))
    old_headline = make_article(source, "Volcano erupts", age=timedelta(days=30))
    arrivals = [
        make_article(source, "Island news", f"A volcano was mentioned {i}.", age=timedelta(hours=30 - i))
        for i in range(30)
    ]
    expression = fts5.match_expression(parse("volcano"))
    with connection.cursor() as cursor:
        full = fts5._candidates(cursor, expression, "", [], connection)
        recent = fts5._recent_candidates(cursor, expression, connection)
    # The same rows in the same order; bm25 may differ in the last bits between the two
    # statements (the index's statistics are read per statement).
    assert recent is not None and [row[:2] for row in recent] == [row[:2] for row in full]
    assert [row[2] for row in recent] == pytest.approx([row[2] for row in full], rel=1e-9)
    assert [row[0] for row in recent] == [a.pk for a in reversed(arrivals[-6:])]
    assert old_headline.pk not in [hit.article_id for hit in search("volcano")[0]]

    Article.objects.filter(pk=corrected.pk).update(published_at=timezone.now())
    with connection.cursor() as cursor:
        assert fts5._recent_candidates(cursor, expression, connection) is None
        full = fts5._candidates(cursor, expression, "", [], connection)
    assert full[0][0] == corrected.pk
    assert corrected.pk in [hit.article_id for hit in search("volcano")[0]]


@sqlite_only
def test_common_words_try_the_wider_margin_of_newest_ids_when_the_narrow_one_is_not_sure(source, filler, monkeypatch):
    """A page stored a little late (its id just below the narrow margin's newest
    matches, its date among the newest kept) fails the narrow margin's check; the wider
    margin takes it in and gives the answer of the full path."""
    from newsdesk.search import fts5

    monkeypatch.setattr("newsdesk.search.types.CANDIDATES", 5)
    monkeypatch.setattr("newsdesk.search.fts5.CANDIDATES", 5)
    arrivals = [
        make_article(source, "Island news", f"A volcano was mentioned {i}.", age=timedelta(hours=30 - i))
        for i in range(30)
    ]
    # The narrow margin reads the 9 newest matches by id (ceil(1.25 x 6) + 1); the tenth
    # newest is dated among the newest six, as if its feed was polled late.
    late = arrivals[-10]
    Article.objects.filter(pk=late.pk).update(published_at=timezone.now() - timedelta(hours=2.5))
    expression = fts5.match_expression(parse("volcano"))
    with connection.cursor() as cursor:
        full = fts5._candidates(cursor, expression, "", [], connection)
        monkeypatch.setattr("newsdesk.search.fts5.RECENT_MARGINS", (1.25,))
        assert fts5._recent_candidates(cursor, expression, connection) is None
        monkeypatch.setattr("newsdesk.search.fts5.RECENT_MARGINS", (1.25, 2.0))
        recent = fts5._recent_candidates(cursor, expression, connection)
    assert late.pk in [row[0] for row in full[:6]]
    assert recent is not None and [row[:2] for row in recent] == [row[:2] for row in full]


def test_total_respects_filters(source, filler):
    other = make_source("weekly")
    for i in range(25):
        make_article(source if i % 5 else other, f"Volcano report {i}")
    assert search("volcano", SearchFilters(source="weekly"), limit=2)[1] == 5
    assert search("volcano", SearchFilters(source="daily"), limit=2)[1] == 20


# --- The page ------------------------------------------------------------------------


def test_page_without_query_shows_the_form(client, db):
    response = client.get(reverse("search:search"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<form method="get"' in html
    assert "No results" not in html
    for name in ("q", "source", "section", "hashtag", "language", "since", "until"):
        assert f'name="{name}"' in html
        assert f'for="id_{name}"' in html  # every field has a label
    assert "<h1>Search</h1>" in html


def test_empty_query_is_an_empty_page(client, db):
    response = client.get(reverse("search:search"), {"q": "   "})
    assert response.status_code == 200
    assert "Type one or more words" in response.content.decode()


def test_results_page_lists_hits_with_snippets(client, source, filler):
    article = make_article(source, "Volcano erupts on remote island", "Lava reached the sea as the volcano woke.")
    response = client.get(reverse("search:search"), {"q": "volcano"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "1 result for" in html
    assert article.get_absolute_url() in html
    assert reverse("source", args=["daily"]) in html
    assert "<mark>volcano</mark>" in html
    assert 'name="robots" content="noindex"' in html


def test_results_page_escapes_query_and_article(client, source, filler):
    make_article(
        source,
        "Volcano <script>alert('title')</script>",
        "The volcano <script>alert('body')</script> <img src=x onerror=alert(1)> erupted.",
        description="<script>alert('description')</script>",
    )
    response = client.get(
        reverse("search:search"),
        {"q": "volcano <script>alert('q')</script>", "language": "<script>"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<script" not in html.lower()
    assert "<img" not in html
    assert "&lt;script&gt;" in html  # shown as text
    assert " style=" not in html  # the CSP forbids inline style


def test_no_results_message(client, source, filler):
    response = client.get(reverse("search:search"), {"q": "quokka"})
    html = response.content.decode()
    assert "No results for" in html
    assert "quokka" in html


def test_form_keeps_values_and_shows_field_errors(client, source, filler):
    make_article(source, "Volcano erupts")
    params = {"q": "volcano", "source": "daily", "language": "not a code", "since": "2024-02-30"}
    response = client.get(reverse("search:search"), params)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="volcano"' in html
    assert '<option value="daily" selected>' in html
    assert "Give a code such as en" in html
    assert "1 result for" in html  # the invalid filters are left out, the rest apply


def test_form_filters_apply(client, source, filler):
    other = make_source("weekly")
    make_article(source, "Volcano erupts")
    theirs = make_article(other, "Volcano erupts again")
    # The article's own day (an hour ago is yesterday when the test runs just after midnight).
    day = timezone.localdate(theirs.published_at).isoformat()
    response = client.get(
        reverse("search:search"),
        {"q": "volcano", "source": "weekly", "since": day, "until": day},
    )
    html = response.content.decode()
    assert "1 result for" in html
    assert theirs.get_absolute_url() in html


def test_form_takes_hashtags_as_readers_write_them(client, source, filler):
    tagged = make_article(source, "Volcano erupts in Iceland")
    make_article(source, "Volcano erupts in Italy")
    tag = Hashtag.objects.create(slug="iceland", name="Iceland")
    ArticleHashtag.objects.create(article=tagged, hashtag=tag, published_at=tagged.published_at)
    response = client.get(reverse("search:search"), {"q": "volcano", "hashtag": "#Iceland"})
    assert "1 result for" in response.content.decode()


def test_page_links_keep_the_query_and_filters(client, source, filler):
    for i in range(45):
        make_article(source, f"Volcano report {i}", age=timedelta(hours=i))
    url = reverse("search:search")
    first = client.get(url, {"q": "volcano", "source": "daily"}).content.decode()
    assert "Page 1 of 3" in first
    assert 'rel="next" href="?q=volcano&amp;source=daily&amp;page=2"' in first
    second = client.get(url, {"q": "volcano", "source": "daily", "page": "2"}).content.decode()
    assert "Page 2 of 3" in second
    assert 'rel="prev"' in second and 'rel="next"' in second
    beyond = client.get(url, {"q": "volcano", "page": "99"}).content.decode()
    assert "Page 3 of 3" in beyond and "Volcano report 44" in beyond
    junk = client.get(url, {"q": "volcano", "page": "x" * 5000}).content.decode()
    assert "Page 1 of 3" in junk


@sqlite_only
def test_index_command_checks_and_rebuilds(source, filler):
    from django.core.management import call_command

    article = make_article(source, "Volcano erupts")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM search_article_meta")  # damage the ranking table
    assert ids("volcano") == []
    call_command("search_index", "rebuild", stdout=io.StringIO())
    call_command("search_index", "check", stdout=io.StringIO())
    assert ids("volcano") == [article.pk]
