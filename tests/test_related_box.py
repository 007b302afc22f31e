"""The related box's items written in Python (newsdesk/web/related_box.py): the same
HTML as the item template they replace, for every kind of item (a picture or none, a
byline, the same-story badge, a long excerpt or none, copies by other publishers, a
publisher with a profile, text to escape), and the box on the article page itself."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.template import engines
from django.test import RequestFactory

from newsdesk.images.models import ArticleImage, variant_name
from newsdesk.stories.related_db import Related
from tests.test_search import make_article, make_source

# The item template the related box used before related_box.py, kept here as the reference.
REFERENCE_ITEMS = """{% load newsdesk images perspectives %}{% for item in related %}{% with article=item.article %}
    <li class="item{% if article|has_picture %} has-pic{% endif %}">
      {% picture article "thumb" %}
      <p class="meta"><a href="{% cached_url 'source' article.source.slug %}">{{ article.source.name }}</a> {% byline_profile article.source %}
        · {% when article.published_at %}
        {% if article.byline %}· <span class="byline">{{ article.byline }}</span>{% endif %}
        {% if item.same_story %}· <span class="badge">same story</span>{% endif %}</p>
      <h3 class="headline"><a href="{% cached_url 'article' article.pk %}">{{ article.title }}</a></h3>
      {% if item.excerpt %}<p class="excerpt">{{ item.excerpt|truncatewords:30 }}</p>{% endif %}
      {% if item.also %}<p class="also">Also published by {% for source in item.also %}{{ source.name }}{% if not forloop.last %}, {% endif %}{% endfor %}</p>{% endif %}
    </li>{% endwith %}{% endfor %}"""
LONG = " ".join(f"word{n}" for n in range(50))


@pytest.fixture
def related(db) -> list[Related]:
    daily, herald, wire = make_source("daily"), make_source("herald"), make_source("wire")
    herald.name = 'Herald & "Sons" <Ltd>'
    herald.kind, herald.country = "broadcaster", "GB"
    herald.save()
    pictured = make_article(daily, "Comet seen over the hills", age=timedelta(hours=2), byline="Ann <Lee>")
    escaped = make_article(herald, "Comet <b>&</b> 'quotes' \"here\"", age=timedelta(days=3))
    bare = make_article(wire, "Comet fades", age=timedelta(days=40))
    variants = [{"width": w, "height": w // 2, "name": variant_name("cd" * 32, w)} for w in (320, 640)]
    ArticleImage.objects.create(
        article=pictured, source_url="https://x.example/a.jpg", state="stored", digest="cd" * 32,
        width=640, height=320, variants=variants, alt="A comet",
    )  # fmt: skip
    ArticleImage.objects.create(article=bare, source_url="https://x.example/b.jpg", state="failed")
    for article in (pictured, escaped, bare):  # as related_for reads them: publisher and picture at hand
        article.source  # noqa: B018
        getattr(article, "image", None)
    return [
        Related(pictured, 0.9, True, f"A long <excerpt> & {LONG}", [herald, wire]),
        Related(escaped, 0.8, False, "Short & <sweet>.", [daily]),
        Related(bare, 0.5, True, "", []),
    ]


def _render(source: str, related: list[Related]) -> str:
    return engines["django"].from_string(source).render({"related": related}, RequestFactory().get("/articles/1/"))


def test_items_are_the_html_of_the_former_template(related):
    html = _render("{% load newsdesk %}{% related_items related %}", related)
    assert html == _render(REFERENCE_ITEMS, related)
    # Every kind of item is there.
    assert html.count("<li ") == 3 and html.count('class="item has-pic"') == 1 and "srcset=" in html
    assert html.count('<span class="badge">same story</span>') == 2
    assert '<span class="byline">Ann &lt;Lee&gt;</span>' in html
    assert "Also published by Herald &amp; &quot;Sons&quot; &lt;Ltd&gt;, Wire" in html
    assert '<span class="src-profile">(' in html
    assert "&lt;b&gt;&amp;&lt;/b&gt; &#x27;quotes&#x27;" in html and "word25 …" in html


def test_the_box_says_so_when_there_is_nothing_related(db):
    html = engines["django"].get_template("stories/_related.html").render({"related": []})
    assert '<p class="muted">No related articles yet.</p>' in html and "<li" not in html
