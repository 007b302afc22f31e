"""Primary sources (issue 17, item 6 and its part of item 7): the documents a story's
articles link to, recognised by kind; news, social and own-site links left out; one
document linked in two forms counted once; per story with its publishers, on the story
page and in the story endpoint.

Real SQLite through the ORM and the Django test client; nothing of ours is mocked."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from newsdesk.links import canonical_url
from newsdesk.perspectives import primary
from newsdesk.perspectives.primary import document_key, kind_of
from newsdesk.sources.models import Source
from tests import web_data

pytestmark = pytest.mark.django_db


def kind(url: str) -> str | None:
    return kind_of(canonical_url(url) or "")


def key(url: str) -> str:
    return document_key(canonical_url(url) or "")


# --- recognition --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://doi.org/10.1038/s41586-024-07000-1", "study"),
        ("https://onlinelibrary.wiley.com/doi/10.1002/abc.123", "study"),
        ("https://arxiv.org/abs/2401.01234", "study"),
        ("https://pubmed.ncbi.nlm.nih.gov/1234567/", "study"),
        ("https://papers.ssrn.com/sol3/papers.cfm?abstract_id=123", "study"),
        ("https://www.supremecourt.gov/opinions/23pdf/22-451_7m58.pdf", "court"),
        ("https://www.courtlistener.com/docket/123/state-v-harbour/", "court"),
        ("https://www.nysd.uscourts.gov/cases/x", "court"),
        ("https://www.gov.uk/government/publications/flood-review", "government"),
        ("https://ec.europa.eu/commission/presscorner/detail/en/ip_24_1", "government"),
        ("https://www.who.int/publications/i/item/x", "government"),
        ("https://www.mhlw.go.jp/stf/x.html", "government"),
        ("https://www.apple.com/newsroom/2024/01/statement/", "press"),
        ("https://www.siemens.com/de/pressemitteilungen/x", "press"),
        ("https://www.prnewswire.com/news-releases/x-302.html", "press"),
        ("https://catalog.data.gov/dataset/floods", "data"),
        ("https://zenodo.org/records/123", "data"),
        ("https://www.kaggle.com/datasets/a/b", "data"),
        ("https://example.org/figures/floods.csv", "data"),
        ("https://example.org/annual-report-2024.pdf", "document"),
        ("https://www.documentcloud.org/documents/123-indictment", "document"),
    ],
)
def test_each_kind_is_recognised(url, expected):
    assert kind(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://twitter.com/agency/status/1",  # social media, whatever it quotes
        "https://x.com/agency/status/1",
        "https://www.youtube.com/watch?v=abc",
        "https://www.facebook.com/agency/posts/1",
        "https://abcnews.go.com/US/story",  # go.com is not a government
        "https://www.whitehouse.gov/",  # a home page is not a document
        "https://example.org/about",  # an ordinary page
    ],
)
def test_links_that_are_not_documents_are_refused(url):
    assert kind(url) is None


def test_forms_of_one_document_meet_on_one_key():
    assert key("https://doi.org/10.1038/S41586-024-07000-1") == key("http://dx.doi.org/10.1038/s41586-024-07000-1")
    assert key("https://www.nature.com/articles/s41586-024-07000-1") == key(
        "https://doi.org/10.1038/s41586-024-07000-1"
    )
    assert key("https://onlinelibrary.wiley.com/doi/10.1002/abc.123?utm_source=x") == key(
        "https://doi.org/10.1002/ABC.123"
    )
    assert key("https://arxiv.org/pdf/2401.01234v2.pdf") == key("https://arxiv.org/abs/2401.01234")
    assert key("https://www.ncbi.nlm.nih.gov/pubmed/1234567") == key("https://pubmed.ncbi.nlm.nih.gov/1234567/")
    assert key("http://www.gov.uk/government/x/?utm_campaign=y#part") == key("https://gov.uk/government/x")
    assert key("https://gov.uk/government/x") != key("https://gov.uk/government/y")


# --- a story ------------------------------------------------------------------------------

DOI_A = "https://doi.org/10.1016/j.floods.2024.01.001"
COURT = "https://www.courtlistener.com/docket/123/state-v-harbour/"
PRESS = "https://www.harbourworks.com/press-releases/walls-repaired/"


def body(*links: tuple[str, str]) -> str:
    return "".join(
        f'<p>Officials said <a href="{href}" rel="nofollow noopener">{text}</a> today.</p>' for href, text in links
    )


def newsroom():
    """Three publishers on one story. Gazette links the study twice (two articles), in two
    URL forms, and the court docket; Herald links the study, the press release, Tribune
    (a news publisher of the site), Reuters, a tweet and its own site; Tribune links the
    press release and its own PDF."""
    now = timezone.now()
    gazette = web_data.source("gazette", "The Gazette", "https://www.gazette.example/")
    herald = web_data.source("herald", "Herald", "https://herald.example/")
    tribune = web_data.source("tribune", "Tribune", "https://tribune.example/")
    items = [
        web_data.article(
            gazette,
            1,
            title="Harbour walls breached",
            published=now - timedelta(minutes=30),
            body_html=body((DOI_A, "the flood study"), (COURT, "court filing")),
        ),
        web_data.article(
            gazette,
            2,
            title="Harbour walls: what the study says",
            published=now - timedelta(minutes=20),
            body_html=body(("http://dx.doi.org/10.1016/J.FLOODS.2024.01.001?utm_source=gazette", "here")),
        ),
        web_data.article(
            herald,
            3,
            title="Storm breaks harbour walls",
            published=now - timedelta(minutes=10),
            body_html=body(
                (DOI_A, "a study published on Monday"),
                (PRESS, "Harbour Works said in a statement"),
                ("https://tribune.example/news/report.pdf", "Tribune's report"),
                ("https://www.reuters.com/world/harbour.pdf", "Reuters"),
                ("https://twitter.com/harbourworks/status/1", "a post"),
                ("https://herald.example/documents/our-own.pdf", "our own PDF"),
            ),
        ),
        web_data.article(
            tribune,
            4,
            title="Harbour repair costs",
            published=now,
            body_html=body((PRESS + "?utm_medium=email", "press release"), ("https://tribune.example/x.pdf", "own")),
        ),
    ]
    story = web_data.story_of(items, "Harbour walls breached by the storm")
    return story, gazette, herald, tribune


def test_a_story_collects_its_primary_sources_with_publishers_most_linked_first():
    story, gazette, herald, tribune = newsroom()
    found = primary.of_story(story)
    assert [(p.kind, p.key) for p in found] == [
        ("study", "https://doi.org/10.1016/j.floods.2024.01.001"),  # two publishers, three articles
        ("press", "https://harbourworks.com/press-releases/walls-repaired"),  # two publishers, two articles
        ("court", "https://courtlistener.com/docket/123/state-v-harbour"),
    ]
    study, press, court = found
    assert [(p.source.slug, p.articles) for p in study.publishers] == [("gazette", 2), ("herald", 1)]
    assert study.label == "a study published on Monday"  # "here" is no label; then the longer of two
    assert study.url == DOI_A
    assert [p.source.slug for p in press.publishers] == ["herald", "tribune"]
    assert press.label == "Harbour Works said in a statement"
    assert press.url == PRESS  # the tracking parameter is gone, so both links are one form
    assert [p.source.slug for p in court.publishers] == ["gazette"]
    assert court.label == "court filing"
    # News publishers (the site's and Reuters), social media and own sites are left out.
    urls = " ".join(p.url for p in found)
    for refused in ("tribune.example", "reuters.com", "twitter.com", "herald.example"):
        assert refused not in urls


def test_a_generic_link_text_gives_way_to_the_url():
    now = timezone.now()
    paper = web_data.source("paper", "Paper", "https://paper.example/")
    item = web_data.article(
        paper,
        1,
        published=now,
        body_html=body(
            ("https://example.org/files/budget-2025.pdf", "here"),
            ("https://mirror.example/10.1016/J.ECOLECON.2004.02.011", "a paper"),
        ),
    )
    story = web_data.story_of([item], "Budget")
    found = {p.kind: p for p in primary.of_story(story)}
    assert found["document"].label == "example.org: budget-2025.pdf"
    # A DOI found on a mirror is shown at its resolver.
    assert found["study"].url == "https://doi.org/10.1016/j.ecolecon.2004.02.011"


def test_links_are_read_once_per_article_version():
    story, *_ = newsroom()
    primary.of_story(story)
    with CaptureQueriesContext(connection) as queries:
        again = primary.of_story(story)
    assert len(again) == 3
    assert not any("body_html" in q["sql"] for q in queries.captured_queries)
    # A publisher newly on the site is a news publisher from then on.
    Source.objects.create(slug="harbour", name="Harbour Works", home_url="https://www.harbourworks.com/")
    assert [p.kind for p in primary.of_story(story)] == ["study", "court"]


def test_a_story_without_documents_has_none_and_no_box(client):
    now = timezone.now()
    paper = web_data.source("paper", "Paper", "https://paper.example/")
    item = web_data.article(paper, 1, published=now, body_html=body(("https://example.org/about", "about us")))
    story = web_data.story_of([item], "Nothing to cite")
    assert primary.of_story(story) == []
    assert "Primary sources" not in client.get(f"/stories/{story.pk}/").content.decode()


# --- the story page and the API -----------------------------------------------------------


def text_of(html: str) -> str:
    html = re.sub(r"</(p|li|h\d|div|section)>", " ", html)
    return " ".join(unescape(re.sub(r"<[^>]+>", "", html)).split())


def test_the_story_page_shows_them_without_javascript(client):
    story, *_ = newsroom()
    response = client.get(f"/stories/{story.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    box = html[html.index('aria-labelledby="prim-title"') :]
    box = box[: box.index("</section>")]
    assert f'href="{DOI_A}"' in box
    assert 'href="https://www.courtlistener.com/docket/123/state-v-harbour/"' in box
    words = text_of(box)
    assert "Primary sources 3 documents" in words
    assert "Study" in words and "Press release" in words and "Court document" in words
    assert "Linked by The Gazette (2 articles), Herald" in words
    assert "Linked by Herald, Tribune" in words
    assert "twitter.com" not in box and "reuters.com" not in box
    # Under the coverage box, before the list of articles.
    assert html.index('id="cov-title"') < html.index('id="prim-title"') < html.index('id="coverage-title"')


def test_the_story_endpoint_carries_them(client):
    story, *_ = newsroom()
    response = client.get(f"/api/stories/{story.pk}")
    assert response.status_code == 200
    data = response.json()["primary_sources"]
    assert [(p["kind"], p["url"]) for p in data][:1] == [("study", DOI_A)]
    assert data[0]["publishers"] == [
        {"slug": "gazette", "name": "The Gazette", "articles": 2},
        {"slug": "herald", "name": "Herald", "articles": 1},
    ]
    assert data[0]["kind_label"] == "Study" and data[0]["host"] == "doi.org"
    assert {p["kind"] for p in data} == {"study", "press", "court"}


def test_many_documents_fold_into_more_and_link_text_stays_text(client):
    now = timezone.now()
    paper = web_data.source("paper", "Paper", "https://paper.example/")
    links = [(f"https://example.org/files/report-{n}.pdf", f"Report {n}") for n in range(10)]
    links.append(("https://example.org/files/evil.pdf", "&lt;script&gt;window.__x=1&lt;/script&gt;Evil"))
    item = web_data.article(paper, 1, published=now, body_html=body(*links))
    story = web_data.story_of([item], "Many reports")
    html = client.get(f"/stories/{story.pk}/").content.decode()
    box = html[html.index('aria-labelledby="prim-title"') :]
    box = box[: box.index("</section>")]
    assert "Primary sources 11 documents" in text_of(box)
    assert box.count('class="prim-item"') == 11
    assert '<details class="prim-more"><summary>3 more</summary>' in box
    assert "<script>" not in box and "&lt;script&gt;window.__x=1&lt;/script&gt;Evil" in box
