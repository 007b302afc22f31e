"""The AI stage's enrichers (newsdesk.pipeline.enrichers): the built-ins as registered,
and add-ons registered the same way, recorded, stored and redone like the built-ins."""

from __future__ import annotations

from typing import Any

import pytest

from newsdesk.ai import embeddings, hashtags, sections, summary
from newsdesk.articles.models import Article, ArticleHashtag, Enrichment, Hashtag
from newsdesk.pipeline import enrich, enrichers
from newsdesk.pipeline.enrichers import Context, Enricher
from tests.test_enrich import FOLLOW_UP, SEED, make_article, source  # noqa: F401 - a fixture

BUILT_IN_NAMES = ["embedding", "hashtags", "summary", "sections", "language"]


def methods_before_enrichers() -> dict[str, str]:
    """Enrichment.methods as the stage wrote it before it had enrichers; rows stored then
    must not look outdated now."""
    return {
        "embedding": f"{embeddings.model_name()}@{embeddings.max_tokens()}",
        "hashtags": hashtags.VERSION,
        "summary": summary.VERSION,
        "sections": sections.VERSION,
    }


def test_built_ins_are_registered_in_their_order():
    registered = enrichers.enrichers()
    assert [e.name for e in registered[: len(BUILT_IN_NAMES)]] == BUILT_IN_NAMES
    assert registered[:5] == [enrich.EMBEDDING, enrich.HASHTAGS, enrich.SUMMARY, enrich.SECTIONS, enrich.LANGUAGE]
    versions = enrich.method_versions()
    assert versions == methods_before_enrichers()
    # Language has no version; the keys keep their order, so SQLite stores the same JSON text.
    assert list(versions) == ["embedding", "hashtags", "summary", "sections"]


def test_register_replaces_in_place_and_registered_puts_back():
    def analyse(article, context):
        return None

    names = [e.name for e in enrichers.enrichers()]
    addon = Enricher(name="test-addon", analyse=analyse)
    replacement = Enricher(name="summary", analyse=analyse)
    with enrichers.registered(addon), enrichers.registered(replacement):
        assert [e.name for e in enrichers.enrichers()] == [*names, "test-addon"]
        assert enrichers.enrichers()[names.index("summary")] is replacement
    assert [e.name for e in enrichers.enrichers()] == names
    assert enrichers.enrichers()[names.index("summary")] is enrich.SUMMARY
    assert enrichers.unregister("no-such-enricher") is None


@pytest.mark.django_db
def test_methods_are_stored_as_before_enrichers(source):  # noqa: F811
    article = make_article(source, "Russia prepared to wait if Ukraine rejects talks", SEED, 1)
    assert enrich.enrich_articles([article.pk]) == 1
    stored = Enrichment.objects.get(article=article)
    assert stored.methods == methods_before_enrichers()
    assert stored.model == embeddings.model_name() and stored.section and stored.summary
    # A row written by the stage before it had enrichers is up to date.
    Enrichment.objects.filter(article=article).update(methods=methods_before_enrichers())
    assert list(enrich.outdated_articles()) == []


@pytest.mark.django_db
def test_an_add_on_is_recorded_stored_and_redone(source):  # noqa: F811
    first = make_article(source, "Russia prepared to wait if Ukraine rejects talks", SEED, 1)
    second = make_article(source, "Putin and Lukashenko agree on trade", FOLLOW_UP, 2)
    assert enrich.enrich_articles([first.pk]) == 1
    assert list(enrich.outdated_articles()) == [second.pk]

    groups: list[list[tuple[int, int]]] = []

    def count_summary_words(article: Article, context: Context) -> int:
        # Runs after the built-ins, so it finds their results for this article.
        return len(context.results["summary"].digest.summary.split())

    def store_counts(counted: list[tuple[Article, int]]) -> None:
        groups.append([(article.pk, words) for article, words in counted])
        for article, words in counted:
            Article.objects.filter(pk=article.pk).update(reading_time=words)

    addon = Enricher(
        name="summary-words", analyse=count_summary_words, version=lambda: "words/1", store_group=store_counts
    )
    with enrichers.registered(addon):
        assert enrich.method_versions() == {**methods_before_enrichers(), "summary-words": "words/1"}
        assert sorted(enrich.outdated_articles()) == [first.pk, second.pk]  # the first lacks the add-on
        assert enrich.enrich_articles([first.pk, second.pk]) == 2
        assert list(enrich.outdated_articles()) == []
    assert len(groups) == 1 and [pk for pk, _ in groups[0]] == [first.pk, second.pk]  # one write group
    for article in (first, second):
        stored = Enrichment.objects.get(article=article)
        assert stored.methods == {**methods_before_enrichers(), "summary-words": "words/1"}
        words = len(stored.summary.split())
        assert words > 5 and Article.objects.get(pk=article.pk).reading_time == words
    # Unregistered again: what it recorded is now a method the stage no longer has.
    assert sorted(enrich.outdated_articles()) == [first.pk, second.pk]


@pytest.mark.django_db
def test_an_add_on_replaces_a_built_in_through_its_fields(source):  # noqa: F811
    article = make_article(source, "Russia prepared to wait if Ukraine rejects talks", SEED, 1)
    enrich.enrich_articles([article.pk])
    assert Enrichment.objects.get(article=article).section in {"world", "politics"}

    desk = Enricher(
        name="sections",
        analyse=lambda article, context: "desk-choice" if context.vector.shape == (384,) else "no-vector",
        version=lambda: "desk/1",
        fields=lambda article, section: {"section": section, "section_confidence": 1.0},
    )
    with enrichers.registered(desk):
        assert list(enrich.outdated_articles()) == [article.pk]
        assert enrich.enrich_articles([article.pk]) == 1
    stored = Enrichment.objects.get(article=article)
    assert (stored.section, stored.section_confidence) == ("desk-choice", 1.0)
    assert stored.methods == {**methods_before_enrichers(), "sections": "desk/1"}
    assert stored.summary and stored.embedding  # the other enrichers still wrote theirs
    assert list(enrich.outdated_articles()) == [article.pk]  # the built-in is back


@pytest.mark.django_db
@pytest.mark.parametrize("failing", ["analyse", "fields", "store", "store_group"])
def test_a_failing_add_on_costs_only_its_article(source, monkeypatch, failing):  # noqa: F811
    """An add-on that fails on one article, when it analyses or when it writes, loses that
    article's enrichment, hashtags included, and nothing of the others'. A group writer
    fails for its whole write group, here one article each."""
    good = make_article(source, "Russia prepared to wait if Ukraine rejects talks", SEED, 1)
    bad = make_article(source, "Putin and Lukashenko agree on trade", FOLLOW_UP, 2)
    if failing == "store_group":
        monkeypatch.setattr(enrich, "WRITE_GROUP", 1)

    def fail_on_bad(article: Article, *rest: Any) -> dict[str, Any]:
        if article.pk == bad.pk:
            raise ValueError(f"{failing} failed")
        return {}

    def fail_on_bad_group(results: list[tuple[Article, Any]]) -> None:
        Article.objects.filter(pk__in=[a.pk for a, _ in results]).update(reading_time=7)  # rolled back too
        for article, _ in results:
            fail_on_bad(article)

    addon = Enricher(
        name="fragile",
        analyse=fail_on_bad if failing == "analyse" else lambda article, context: None,
        version=lambda: "fragile/1",
        fields=fail_on_bad if failing == "fields" else None,
        store=fail_on_bad if failing == "store" else None,
        store_group=fail_on_bad_group if failing == "store_group" else None,
    )
    with enrichers.registered(addon):
        assert enrich.enrich_articles([good.pk, bad.pk]) == 1
    assert Enrichment.objects.get(article=good).methods["fragile"] == "fragile/1"
    assert not Enrichment.objects.filter(article=bad).exists()
    assert not ArticleHashtag.objects.filter(article=bad).exists()
    assert ArticleHashtag.objects.filter(article=good, hashtag__slug="vladimir-putin").exists()
    assert Hashtag.objects.get(slug="vladimir-putin").article_count == 1
    expected_reading_time = 7 if failing == "store_group" else 0
    assert Article.objects.get(pk=good.pk).reading_time == expected_reading_time
    assert Article.objects.get(pk=bad.pk).reading_time == 0


def test_warm_up_warms_add_ons_too():
    warmed = []
    addon = Enricher(name="warm", analyse=lambda article, context: None, warm_up=lambda: warmed.append(True))
    with enrichers.registered(addon):
        enrich.warm_up()
    assert warmed == [True]
