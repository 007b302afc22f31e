"""Data migrations run on stored rows: an installation upgraded with articles in it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from newsdesk.articles.models import Enrichment

BEFORE = [("articles", "0003_enrichment")]


@pytest.mark.django_db(transaction=True)
def test_enrichment_dates_are_copied_from_their_articles():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Source = old.get_model("sources", "Source")
    Article = old.get_model("articles", "Article")
    OldEnrichment = old.get_model("articles", "Enrichment")
    source = Source.objects.create(slug="daily", name="Daily", home_url="https://daily.example/")
    published = [datetime(2024, 3, day, 12, tzinfo=UTC) for day in (1, 2)]
    articles = [
        Article.objects.create(
            source=source,
            url=f"https://daily.example/{n}",
            title=f"Story {n}",
            content_hash=f"{n:040x}",
            published_at=when,
        )
        for n, when in enumerate(published)
    ]
    for article in articles:
        OldEnrichment.objects.create(article=article, section="science")

    # Forward to the latest state: the tests after this one expect every column there.
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    copied = dict(Enrichment.objects.values_list("article_id", "published_at"))
    assert copied == {article.pk: when for article, when in zip(articles, published, strict=True)}
