"""Feeds, sitemaps and robots.txt the site publishes."""

from __future__ import annotations

from datetime import timedelta

import feedparser
import pytest
from django.utils import timezone
from lxml import etree

from newsdesk.articles.models import Article, ArticleHashtag, Enrichment, Hashtag
from newsdesk.sources.models import Source

pytestmark = pytest.mark.django_db


@pytest.fixture
def articles():
    bbc = Source.objects.create(name="BBC News", slug="bbc-news", home_url="https://www.bbc.com/")
    rt = Source.objects.create(name="Russia Today", slug="rt", home_url="https://www.rt.com/")
    tag = Hashtag.objects.create(slug="vladimir-putin", name="Vladimir Putin", kind="person", article_count=1)
    made = []
    for n, (source, title, section) in enumerate(
        [
            (bbc, "Storm hits the coast", "world"),
            (rt, "Putin <script>alert(1)</script> & talks", "politics"),
            (bbc, "Old news", "world"),
        ]
    ):
        article = Article.objects.create(
            source=source,
            url=f"{source.home_url}{n}",
            title=title,
            description="A description.",
            body_text="Body.",
            content_hash=str(n),
            published_at=timezone.now() - timedelta(days=3 * (n == 2), minutes=n),
        )
        Enrichment.objects.create(
            article=article, summary=f"Summary of {title}.", section=section, published_at=article.published_at
        )
        made.append(article)
    ArticleHashtag.objects.create(article=made[1], hashtag=tag, published_at=made[1].published_at)
    return made


def parse(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, url
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, (url, parsed.get("bozo_exception"))
    return parsed


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_every_listing_has_feeds(client, articles, kind):
    latest = parse(client, f"/{kind}")
    assert [e.title for e in latest.entries][:2] == ["Storm hits the coast", "Putin <script>alert(1)</script> & talks"]
    assert latest.entries[0].link.endswith(articles[0].get_absolute_url())
    assert latest.entries[0].summary == "Summary of Storm hits the coast."
    assert latest.version == ("rss20" if kind == "rss" else "atom10")
    assert [e.title for e in parse(client, f"/sources/rt/{kind}").entries] == [articles[1].title]
    assert [e.title for e in parse(client, f"/hashtags/vladimir-putin/{kind}").entries] == [articles[1].title]
    assert [e.title for e in parse(client, f"/sections/world/{kind}").entries] == ["Storm hits the coast", "Old news"]
    assert client.get(f"/sources/nope/{kind}").status_code == 404


def test_hostile_titles_stay_text_in_feeds(client, articles):
    raw = client.get("/rss").content
    assert b"<script>" not in raw
    etree.fromstring(raw)  # well-formed XML


def test_sitemaps_and_robots(client, articles):
    sitemap = etree.fromstring(client.get("/sitemap.xml").content)
    locations = [loc.text for loc in sitemap.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert any(loc.endswith(articles[2].get_absolute_url()) for loc in locations)
    assert any(loc.endswith("/sources/rt/") for loc in locations)
    assert any(loc.endswith("/hashtags/vladimir-putin/") for loc in locations)

    news = etree.fromstring(client.get("/news-sitemap.xml").content)
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "n": "http://www.google.com/schemas/sitemap-news/0.9"}
    titles = [t.text for t in news.iterfind(".//n:title", ns)]
    assert "Storm hits the coast" in titles and "Old news" not in titles  # only the last two days

    robots = client.get("/robots.txt")
    assert robots["Content-Type"].startswith("text/plain")
    assert "Sitemap: http://testserver/sitemap.xml" in robots.content.decode()
    assert "Disallow: /admin/" in robots.content.decode()


def test_section_page(client, articles):
    page = client.get("/sections/world/").content.decode()
    assert "Storm hits the coast" in page and "Putin" not in page
    assert client.get("/sections/nonsense/").status_code == 404
