"""Feed autodiscovery, document sniffing and site naming."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from newsdesk.sources.discovery import COMMON_FEED_PATHS, classify, discover_feeds, page_site_name
from newsdesk.sources.http import Fetcher, FetchPolicy
from tests.fixtureserver import FixtureServer

FIXTURES = Path(__file__).parent / "fixtures"


def test_discover_feeds_in_page_order_absolute_and_unique() -> None:
    html = (FIXTURES / "site" / "index.html").read_text()
    assert discover_feeds(html, "https://daily.example/") == [
        "https://daily.example/feed/",
        "https://daily.example/news/atom.xml",  # relative to <base href>
        "https://cdn.daily.example/feed.json",  # protocol-relative; rel has several tokens
    ]


def test_discover_feeds_from_a_fetched_home_page(fixture_server: FixtureServer) -> None:
    with Fetcher(FetchPolicy(allow_hosts=frozenset({"127.0.0.1"}), host_delay=0, obey_robots=False)) as fetcher:
        page = fetcher.get(fixture_server.url("/site/index.html"))
    feeds = discover_feeds(page.text(), page.final_url)
    assert feeds[0] == "https://daily.example/feed/" and len(feeds) == 3


@pytest.mark.parametrize(
    "html",
    [
        "",
        "   ",
        "<html><head><title>x</title></head></html>",
        '<?xml version="1.0" encoding="utf-8"?><html><head></head></html>',
        "<link rel=alternate type=application/rss+xml>",  # no href
        "\x00\x01 not html at all",
    ],
)
def test_discover_feeds_finds_nothing_without_crashing(html: str) -> None:
    assert discover_feeds(html, "https://a.example/") == []


def test_discover_feeds_without_base_and_with_xml_types() -> None:
    html = """<head>
      <link rel="alternate" type="text/xml" title="RSS" href="rss.php">
      <link rel="alternate" type="application/rdf+xml" href="/index.rdf">
      <link rel="alternate" type="text/xml" href="/sitemap-for-humans.xml">
      <link rel="alternate feed" type="application/rss+xml" href="/feed#top">
    </head>"""
    assert discover_feeds(html, "https://a.example/blog/") == [
        "https://a.example/blog/rss.php",
        "https://a.example/index.rdf",
        "https://a.example/feed",
    ]


def test_common_feed_paths() -> None:
    assert {
        "/feed",
        "/rss",
        "/rss.xml",
        "/atom.xml",
        "/feed.xml",
        "/index.xml",
        "/feeds/posts/default",
    } <= set(COMMON_FEED_PATHS)
    assert all(p.startswith("/") for p in COMMON_FEED_PATHS)
    assert len(set(COMMON_FEED_PATHS)) == len(COMMON_FEED_PATHS)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("feeds/rss091.xml", "feed"),
        ("feeds/rss20.xml", "feed"),
        ("feeds/rss10.rdf", "feed"),
        ("feeds/atom10.xml", "feed"),
        ("feeds/jsonfeed11.json", "feed"),
        ("feeds/utf16-bom.xml", "feed"),
        ("feeds/latin1-undeclared.xml", "feed"),
        ("feeds/not-a-feed.html", "html"),
        ("site/index.html", "html"),
        ("site/news-sitemap.xml", "sitemap"),
        ("site/sitemap-index.xml", "sitemap"),
        ("site/subscriptions.opml", "unknown"),
    ],
)
def test_classify_fixture_files_whatever_the_content_type(name: str, expected: str) -> None:
    content = (FIXTURES / name).read_bytes()
    for content_type in ("text/html", "application/octet-stream", "application/rss+xml", ""):
        assert classify(content, content_type) == expected


@pytest.mark.parametrize(
    ("content", "content_type", "expected"),
    [
        (
            b"<!-- generated -->\n<?xml-stylesheet href='x.xsl'?><rss version='2.0'/>",
            "text/html",
            "feed",
        ),
        (
            b"<!DOCTYPE feed [ <!ELEMENT x ANY> ]><feed xmlns='http://www.w3.org/2005/Atom'/>",
            "",
            "feed",
        ),
        (b"\xef\xbb\xbf  <?xml version='1.0'?>\n<rdf:RDF xmlns:rdf='x'/>", "", "feed"),
        (b"<HTML><BODY>hi</BODY></HTML>", "application/rss+xml", "html"),
        (b"<p>a fragment</p><body>", "text/html", "unknown"),
        (b"   <head><title>t</title></head>", "application/xml", "html"),
        (gzip.compress(b"<?xml version='1.0'?><urlset/>"), "application/gzip", "sitemap"),
        (b'{"version": "https://jsonfeed.org/version/1", "items": []}', "text/plain", "feed"),
        (b'{"version": "https:\\/\\/jsonfeed.org\\/version\\/1.1"}', "", "feed"),
        (b'{"data": [1, 2, 3]}', "application/feed+json", "unknown"),
        (
            b"<!-- " + b"x" * 10_000,
            "application/rss+xml",
            "feed",
        ),  # nothing to see: the header decides
        (b"", "application/rss+xml", "unknown"),
        (b"\x89PNG\r\n\x1a\n", "image/png", "unknown"),
        (b"\x1f\x8b not really gzip", "", "unknown"),
    ],
)
def test_classify_sniffs(content: bytes, content_type: str, expected: str) -> None:
    assert classify(content, content_type) == expected


def test_page_site_name() -> None:
    assert page_site_name((FIXTURES / "site" / "index.html").read_text()) == "The Daily Example"
    assert page_site_name((FIXTURES / "site" / "no-feeds.html").read_text()) == "A Plain Site"
    assert page_site_name('<meta name="application-name" content="Appy"><title>T</title>') == "Appy"
    assert page_site_name("<title>  </title>") is None
    assert page_site_name("") is None
