"""Search result rows written in Python (newsdesk/search/rows.py): the same HTML as the
item template they replace, for every kind of row (a picture or none, copies by other
publishers, text to escape, a snippet or the description), the reader's "new" marker
only for them, and a page's cost that does not grow with its rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.template import engines
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from newsdesk.images.models import ArticleImage, variant_name
from newsdesk.reader.models import Visit
from newsdesk.search.backends import search
from newsdesk.search.rows import result_rows, shown_articles
from newsdesk.stories.models import NearDuplicate
from tests.test_search import make_article, make_source

# The row template the search page used before rows.py, kept here as the reference.
REFERENCE_ROW = """{% load newsdesk images %}{% for hit in hits %}<li class="item hit{% if hit.article|has_picture %} has-pic{% endif %}">
  {% picture hit.article "thumb" %}
  <p class="meta">{% if reader_since and hit.article.published_at > reader_since %}<span class="badge reader-new">New<span class="visually-hidden"> since your last visit</span></span> {% endif %}<a href="{% cached_url 'source' hit.article.source.slug %}">{{ hit.article.source.name }}</a>
    · {% when hit.article.published_at %}</p>
  <h3 class="headline"><a href="{% cached_url 'article' hit.article.pk %}">{{ hit.article.title }}</a></h3>
  {% if hit.snippet %}<p class="excerpt snippet">{{ hit.snippet }}</p>{% elif hit.article.description %}<p class="excerpt">{{ hit.article.description|truncatewords:40 }}</p>{% endif %}
  {% include "newsdesk/_also_published.html" with sources=hit.article.also_published_by %}
</li>
{% endfor %}"""
# The rows as search.html joins them.
PAGE_ROWS = """{% load newsdesk %}{% for hit in hits %}{{ hit.head }}{% if reader_since and hit.published_at > reader_since %}<span class="badge reader-new">New<span class="visually-hidden"> since your last visit</span></span> {% endif %}{{ hit.source }}{% when hit.published_at %}{{ hit.tail }}{% endfor %}"""
LONG = " ".join(f"word{n}" for n in range(60))


@pytest.fixture
def world(db):
    """Articles about a comet covering every kind of row."""
    daily, herald = make_source("daily"), make_source("herald")
    herald.name = 'Herald & "Sons" <Ltd>'
    herald.save()
    made = {
        "pictured": make_article(daily, "Comet seen over the hills", "The comet was bright.", age=timedelta(hours=2)),
        "escaped": make_article(
            herald, "Comet <b>&</b> 'quotes' \"here\"", "A comet & <i>tags</i>.", age=timedelta(hours=3)
        ),
        "described": make_article(daily, "Comet returns", "", description=f"comet {LONG}", age=timedelta(days=2)),
        "bare": make_article(herald, "Comet fades", "", age=timedelta(days=3)),
        "copied": make_article(daily, "Comet wire story", "The comet wire text.", age=timedelta(days=4)),
        "copy": make_article(herald, "Comet wire story", "The comet wire text.", age=timedelta(days=4, hours=1)),
        "refused": make_article(daily, "Comet picture refused", "No comet picture.", age=timedelta(days=5)),
    }
    variants = [{"width": w, "height": w // 2, "name": variant_name("ab" * 32, w)} for w in (320, 640)]
    ArticleImage.objects.create(
        article=made["pictured"], source_url="https://x.example/a.jpg", state="stored", digest="ab" * 32,
        width=640, height=320, variants=variants, alt='A "comet" <alt>',
    )  # fmt: skip
    ArticleImage.objects.create(article=made["refused"], source_url="https://x.example/b.jpg", state="failed")
    NearDuplicate.objects.create(article=made["copy"], original=made["copied"], similarity=0.95)
    return made


def _reference(hits, since=None) -> str:
    """The rows as the former template rendered them, from ORM instances."""
    from newsdesk.articles.copies import also_published_by
    from newsdesk.articles.models import Article

    articles = Article.objects.select_related("source", "image").in_bulk([hit.article_id for hit in hits])
    also_published_by(articles.values())
    shown = [{"article": articles[hit.article_id], "snippet": mark_safe(hit.snippet)} for hit in hits]
    template = engines["django"].from_string(REFERENCE_ROW)
    return template.render({"hits": shown, "reader_since": since}, RequestFactory().get("/search/"))


def _rows(hits, since=None) -> str:
    template = engines["django"].from_string(PAGE_ROWS)
    return template.render({"hits": result_rows(hits), "reader_since": since}, RequestFactory().get("/search/"))


@pytest.mark.parametrize("since_days", [None, 2.5])
def test_rows_are_the_html_of_the_former_template(world, since_days):
    hits, total = search("comet")
    assert total == 6  # the copy is folded into its original
    since = None if since_days is None else timezone.now() - timedelta(days=since_days)
    html = _rows(hits, since)
    assert html == _reference(hits, since)
    # Every kind of row is there.
    assert 'class="item hit has-pic"' in html and "srcset=" in html
    assert "Also published by" in html and "Herald &amp; &quot;Sons&quot; &lt;Ltd&gt;" in html
    assert "&lt;b&gt;&amp;&lt;/b&gt; &#x27;quotes&#x27;" in html
    assert html.count("reader-new") == (0 if since is None else 3)


def test_description_excerpt_when_the_snippet_is_empty(world):
    """A hit without a snippet shows the description, cut at 40 words, as the template did."""
    hits, _ = search("comet")
    hits = [type(hit)(hit.article_id, hit.score, "") for hit in hits]
    html = _rows(hits)
    assert html == _reference(hits)
    assert f"comet {' '.join(LONG.split()[:39])} …</p>" in html


def test_an_article_deleted_since_the_search_is_left_out(world):
    hits, _ = search("comet")
    world["bare"].delete()
    rows = result_rows(hits)
    assert len(rows) == len(hits) - 1
    assert all(f"/articles/{world['bare'].pk}/" not in row["tail"] for row in rows)
    assert set(shown_articles([world["pictured"].pk, 10**9])) == {world["pictured"].pk}


def test_a_pages_queries_do_not_grow_with_its_rows(client, world):
    """Publishers, pictures and copies come with the rows' one or two statements: a page
    of 20 rows reads no more than a page of a few (the search backend's own statements
    differ between SQLite and PostgreSQL, so the count is compared, not fixed)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(reverse("search:search"), {"q": "comet"})  # warm what is read once per process
    with CaptureQueriesContext(connection) as few:
        response = client.get(reverse("search:search"), {"q": "comet"})
    assert 0 < response.content.decode().count('<li class="item hit') < 20
    source = world["pictured"].source
    for n in range(25):
        make_article(source, f"Comet report {n}", "The comet again.", age=timedelta(hours=n))
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("search:search"), {"q": "comet"})
    assert response.content.decode().count('<li class="item hit') == 20
    assert len(many.captured_queries) <= len(few.captured_queries)


def test_new_markers_only_for_the_signed_in_reader(client, world):
    reader = get_user_model().objects.create_user("reader", password="a long passphrase 1")
    Visit.objects.create(user=reader, last_at=timezone.now(), since=timezone.now() - timedelta(hours=2, minutes=30))
    client.force_login(reader)
    signed = client.get(reverse("search:search"), {"q": "comet"}).content.decode()
    assert signed.count("reader-new") == 1  # the article of two hours ago
    client.logout()
    anonymous = client.get(reverse("search:search"), {"q": "comet"}).content.decode()
    assert "reader-new" not in anonymous
    # Apart from the marker and the signed-in parts, the results are the same rows.
    assert _results(signed).replace(_MARKER, "") == _results(anonymous)


_MARKER = '<span class="badge reader-new">New<span class="visually-hidden"> since your last visit</span></span> '


def _results(html: str) -> str:
    return html[html.index('<ol class="items">') : html.index("</ol>")]
