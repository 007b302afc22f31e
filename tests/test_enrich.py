"""The AI stage on stored articles: what is stored, how it shows, how it is redone."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone

from newsdesk.ai import summary as summary_module
from newsdesk.articles.models import Article, ArticleHashtag, Enrichment, Hashtag, HashtagAlias, from_blob
from newsdesk.pipeline import enrich
from newsdesk.sources.models import Source
from tests.llmserver import Completion, LLMServer

pytestmark = pytest.mark.django_db

SEED = """'If the Ukrainian leadership believes waiting is necessary, they are welcome. We are prepared to wait,' Vladimir Putin said, when asked by the media about direct negotiations hosted by Türkiye since May.

Moscow believes that 'negotiations are always required and important, especially when they lead to peace,' he added. Putin said however, that prisoner swaps and repatriation of soldiers' remains alone, which were facilitated by the talks, were a positive outcome.

The Russian leader's remarks came as he was meeting with his Belarusian counterpart, Alexander Lukashenko, who is currently visiting Russia. On Thursday, Lukashenko stressed that Moscow is his nation's closest ally and the guarantor of its national security.

Putin reminded the press that in June last year he detailed Russia's goals in the conflict with Ukraine. Achieving them remains Moscow's condition for peace, he stressed.

Ukrainian officials previously acknowledged that Kiev agreed to resume direct talks with Russia, which it suspended in 2022 to pursue victory on the battlefield."""

FOLLOW_UP = """Putin met the Belarusian president in Minsk on Friday to discuss trade between the two countries.

The Kremlin said Putin and Lukashenko agreed to expand cooperation on energy and transport, and that the talks in Kyiv could resume next month.

Officials in Moscow said the agreement would be signed before the end of the year."""


@pytest.fixture
def source():
    return Source.objects.create(name="Russia Today", slug="rt", home_url="https://www.rt.com/", language="en")


def make_article(source, title: str, body: str, n: int) -> Article:
    return Article.objects.create(
        source=source,
        url=f"https://www.rt.com/news/{n}/",
        title=title,
        body_text=body,
        language="en",
        content_hash=str(n),
        published_at=timezone.now(),
    )


def test_enrichment_is_stored_with_its_methods(source):
    article = make_article(source, "Russia prepared to wait if Ukraine rejects talks", SEED, 1)
    assert enrich.enrich_articles([article.pk]) == 1
    stored = Enrichment.objects.get(article=article)
    assert stored.summary and stored.summary_sentences
    assert all(sentence in SEED for sentence in [stored.summary.split(". ")[0]])
    assert 3 <= len(stored.key_points) <= 5
    assert all(point["sentences"] for point in stored.key_points)
    assert stored.section in {"world", "politics"}
    assert stored.published_at == article.published_at  # the section's date index
    assert stored.methods == enrich.method_versions()
    assert len(from_blob(stored.embedding)) == 384
    slugs = list(ArticleHashtag.objects.filter(article=article).values_list("hashtag__slug", flat=True))
    assert "vladimir-putin" in slugs and "kyiv" in slugs
    assert Hashtag.objects.get(slug="vladimir-putin").article_count == 1


@pytest.mark.parametrize("one_batch", [False, True])
def test_hashtags_are_one_across_articles(source, one_batch):
    first = make_article(source, "Russia prepared to wait if Ukraine rejects talks", SEED, 1)
    second = make_article(source, "Putin and Lukashenko agree on trade", FOLLOW_UP, 2)
    if one_batch:  # the second is analysed before the first's aliases are stored
        assert enrich.enrich_articles([first.pk, second.pk]) == 2
    else:
        enrich.enrich_articles([first.pk])
        enrich.enrich_articles([second.pk])
    tags_of_second = set(ArticleHashtag.objects.filter(article=second).values_list("hashtag__slug", flat=True))
    assert "vladimir-putin" in tags_of_second  # "Putin" alone, known from the first article
    assert "alexander-lukashenko" in tags_of_second
    assert Hashtag.objects.get(slug="vladimir-putin").article_count == 2
    putin = HashtagAlias.objects.get(key=enrich.hashtags.alias_key("Putin"))
    assert putin.hashtag.slug == "vladimir-putin"
    assert putin.uses == 2  # once per article that said it


def test_reenriching_replaces_tags_and_keeps_counts_right(source):
    article = make_article(source, "Russia prepared to wait if Ukraine rejects talks", SEED, 1)
    enrich.enrich_articles([article.pk])
    enrich.enrich_articles([article.pk])
    assert Hashtag.objects.get(slug="vladimir-putin").article_count == 1
    assert ArticleHashtag.objects.filter(article=article, hashtag__slug="vladimir-putin").count() == 1


def test_reprocess_redoes_outdated_methods(source, monkeypatch):
    article = make_article(source, "Russia prepared to wait if Ukraine rejects talks", SEED, 1)
    other = make_article(source, "Putin and Lukashenko agree on trade", FOLLOW_UP, 2)
    enrich.enrich_articles([article.pk, other.pk])
    assert list(enrich.outdated_articles()) == []
    monkeypatch.setattr(summary_module, "VERSION", summary_module.VERSION + "-next")
    assert sorted(enrich.outdated_articles()) == sorted([article.pk, other.pk])
    call_command("reprocess", verbosity=0)
    assert list(enrich.outdated_articles()) == []
    assert Enrichment.objects.get(article=article).methods["summary"].endswith("-next")


def test_a_failing_article_does_not_cost_the_batch(source, monkeypatch):
    good = make_article(source, "Russia prepared to wait if Ukraine rejects talks", SEED, 1)
    bad = make_article(source, "Putin and Lukashenko agree on trade", FOLLOW_UP, 2)
    real = enrich.summary.summarize

    def flaky(title, text, **kwargs):
        if title.startswith("Putin and"):
            raise ValueError("boom")
        return real(title, text, **kwargs)

    monkeypatch.setattr(enrich.summary, "summarize", flaky)
    assert enrich.enrich_articles([good.pk, bad.pk]) == 1
    assert Enrichment.objects.filter(article=good).exists()
    assert not Enrichment.objects.filter(article=bad).exists()
    assert enrich.unenriched_since(timezone.now() - timezone.timedelta(days=1), timezone.now()) == [bad.pk]


def test_an_article_whose_write_fails_costs_the_batch_nothing(source, monkeypatch):
    """The batch is written in one transaction; a database error on one article rolls
    back that article's savepoint only, with none of its rows half-written."""
    good = make_article(source, "Russia prepared to wait if Ukraine rejects talks", SEED, 1)
    bad = make_article(source, "Putin and Lukashenko agree on trade", FOLLOW_UP, 2)
    real = enrich._store

    def failing(article, vector, analysis):
        real(article, vector, analysis)  # its enrichment written, then the failure
        if article.pk == bad.pk:
            Article.objects.create(
                source=source, url=good.url, title="x", content_hash="x", published_at=timezone.now()
            )  # IntegrityError: URL taken

    monkeypatch.setattr(enrich, "_store", failing)
    assert enrich.enrich_articles([good.pk, bad.pk]) == 1
    assert Enrichment.objects.filter(article=good).exists()
    assert not Enrichment.objects.filter(article=bad).exists()
    assert not ArticleHashtag.objects.filter(article=bad).exists()
    assert Hashtag.objects.get(slug="vladimir-putin").article_count == 1


def test_article_page_shows_hashtags_summary_and_answers(source, client):
    article = make_article(source, "Russia prepared to wait if Ukraine rejects talks", SEED, 1)
    enrich.enrich_articles([article.pk])
    page = client.get(article.get_absolute_url()).content.decode()
    assert 'href="/hashtags/vladimir-putin/"' in page and "#Vladimir Putin" in page
    assert Enrichment.objects.get(article=article).summary.split(" ")[0] in page
    assert "Key points" in page and "Ask the article" in page

    answered = client.get(f"/articles/{article.pk}/ask", {"question": "Who is Alexander Lukashenko?"})
    assert answered.status_code == 200
    assert "Belarusian counterpart, Alexander Lukashenko" in answered.content.decode()
    partial = client.get(
        f"/articles/{article.pk}/ask", {"question": "What is the capital of Peru?"}, headers={"HX-Request": "true"}
    )
    text = partial.content.decode()
    assert "<html" not in text and "does not" in text.lower()

    tag_page = client.get("/hashtags/vladimir-putin/").content.decode()
    assert "Russia prepared to wait" in tag_page


def test_llm_summary_used_when_grounded_and_skipped_when_down(source, settings):
    server = LLMServer()
    try:
        settings.NEWSDESK_LLM_URL = server.base_url

        def reword_first(request):
            # A faithful rewording: the first numbered sentence, cited.
            first = request["messages"][1]["content"].split("[1] ", 1)[1].split("\n")[0]
            return Completion(f"In short: {first} [1]")

        server.answer = reword_first
        article = make_article(source, "Russia prepared to wait if Ukraine rejects talks", SEED, 1)
        enrich.enrich_articles([article.pk])
        stored = Enrichment.objects.get(article=article)
        first = server.requests[-1]["body"]["messages"][1]["content"].split("[1] ", 1)[1].split("\n")[0]
        assert stored.llm_summary == f"In short: {first}"
        assert first in stored.summary

        server.answer = lambda request: Completion("Putin announced a ceasefire starting on Monday [1].")
        invented = make_article(source, "Russia prepared to wait (copy)", SEED.replace("Thursday", "Friday"), 3)
        enrich.enrich_articles([invented.pk])
        assert Enrichment.objects.get(article=invented).llm_summary == ""  # not grounded: refused

        server.answer = lambda request: Completion(status=503)
        other = make_article(source, "Putin and Lukashenko agree on trade", FOLLOW_UP, 2)
        enrich.enrich_articles([other.pk])
        assert Enrichment.objects.get(article=other).llm_summary == ""
        assert Enrichment.objects.get(article=other).summary
    finally:
        server.stop()


def test_embedding_reads_the_headline_and_lead_only(settings):
    """Texts are embedded up to NEWSDESK_EMBEDDING_MAX_TOKENS word pieces (128): two
    articles that differ only after their lead get one vector, and the method version
    records the length so that changing it re-embeds the stored articles."""
    from newsdesk.ai import embeddings

    lead = " ".join(SEED.split()[:150])  # well over 128 word pieces
    first, second = embeddings.embed([f"{lead} The talks ended.", f"{lead} A storm hit Florida."])
    assert float(first @ second) > 0.9999
    short_a, short_b = embeddings.embed(["The talks ended.", "A storm hit Florida."])
    assert float(short_a @ short_b) < 0.9
    assert enrich.method_versions()["embedding"].endswith("@128")
    settings.NEWSDESK_EMBEDDING_MAX_TOKENS = 256
    assert enrich.method_versions()["embedding"].endswith("@256")
