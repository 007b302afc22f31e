"""The store finds a text already stored by its publisher with one index lookup.

Each new article asks whether this publisher already has this text (its content hash)
under another URL, inside the write transaction. With the hash indexed alone and the
articles' default order (newest first), SQLite walked every article of the publisher by
date instead: 6-10 ms per new article at 3,000-3,900 articles, growing with the
archive, while other writers waited for the lock.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from newsdesk.articles.models import Article
from newsdesk.articles.store import ArticleData, content_hash, save_article
from newsdesk.sources.models import Source

pytestmark = pytest.mark.django_db


def _source(slug: str) -> Source:
    return Source.objects.create(name=slug.title(), slug=slug, home_url=f"https://{slug}.example/")


def _data(source: Source, url: str, title: str, body: str) -> ArticleData:
    return ArticleData(url=url, source_id=source.pk, title=title, body_text=body)


def test_the_same_text_is_found_within_its_publisher_only():
    coast, inland = _source("coast"), _source("inland")
    first, outcome = save_article(_data(coast, "https://coast.example/a", "Ferry capsizes", "Twelve people died."))
    assert outcome == "created"
    again, outcome = save_article(_data(coast, "https://coast.example/b", "Ferry capsizes", "Twelve people died."))
    assert again.pk == first.pk and outcome == "unchanged"
    assert {alias.url for alias in first.aliases.all()} == {"https://coast.example/a", "https://coast.example/b"}
    other, outcome = save_article(_data(inland, "https://inland.example/a", "Ferry capsizes", "Twelve people died."))
    assert outcome == "created" and other.pk != first.pk


def test_the_hash_is_indexed_within_its_publisher():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Article._meta.db_table)
    indexed = [c["columns"] for c in constraints.values() if c["index"] and not c["primary_key"]]
    assert ["source_id", "content_hash"] in indexed
    assert ["content_hash"] not in indexed  # the single-column index had no reader left


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's planner keeps no statistics; the plan is its own")
def test_a_new_text_is_looked_up_by_index_not_by_walking_the_publisher():
    coast = _source("coast")
    for n in range(60):
        save_article(_data(coast, f"https://coast.example/{n}", f"Story {n}", f"Text number {n}."))
    digest = content_hash("A new story", "A text never seen.")
    with CaptureQueriesContext(connection) as queries:
        save_article(_data(coast, "https://coast.example/new", "A new story", "A text never seen."))
    lookups = [q["sql"] for q in queries.captured_queries if digest in q["sql"] and q["sql"].startswith("SELECT")]
    assert len(lookups) == 1
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + lookups[0])
        plan = " / ".join(row[-1] for row in cursor.fetchall())
    assert "INDEX article_source_text (source_id=? AND content_hash=?)" in plan, plan
    assert "TEMP B-TREE" not in plan, plan
