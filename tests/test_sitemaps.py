"""Sitemaps: Google News urlsets, sitemap indexes, gzip, hostile input."""

from __future__ import annotations

import gzip
import time
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsdesk.sources import sitemaps
from newsdesk.sources.feeds import FeedError
from newsdesk.sources.http import Fetcher, FetchPolicy
from newsdesk.sources.sitemaps import SitemapEntry, parse_sitemap
from tests.fixtureserver import FixtureServer, Reply

SITE = Path(__file__).parent / "fixtures" / "site"
URL = "https://daily.example/sitemap.xml"


def test_google_news_sitemap() -> None:
    entries, children = parse_sitemap((SITE / "news-sitemap.xml").read_bytes(), URL)
    assert children == []
    assert entries == [
        SitemapEntry(
            url="https://daily.example/news/bridge-plan",
            title="Council approves new bridge & tunnel plan",
            published=datetime(2024, 3, 5, 13, 30, tzinfo=UTC),
            language="en",
            modified=datetime(2024, 3, 5, 14, 0, tzinfo=UTC),
        ),
        SitemapEntry(
            url="https://daily.example/sport/derby",
            title="德比战平局",
            published=datetime(2024, 3, 6, tzinfo=UTC),
            language="zh-cn",
            modified=None,
        ),
        SitemapEntry(
            url="https://daily.example/about",
            title=None,
            published=None,
            language=None,
            modified=datetime(2023, 11, 1, tzinfo=UTC),
        ),
    ]  # the javascript: URL is dropped


def test_sitemap_index() -> None:
    entries, children = parse_sitemap((SITE / "sitemap-index.xml").read_bytes(), URL)
    assert entries == []
    assert children == [
        "https://daily.example/sitemaps/news.xml",
        "https://daily.example/sitemaps/2024-03.xml.gz",
    ]


def test_gzipped_sitemap_over_http(fixture_server: FixtureServer) -> None:
    fixture_server.route("/sitemap.xml.gz", Reply(200, gzip.compress((SITE / "news-sitemap.xml").read_bytes())))
    with Fetcher(FetchPolicy(allow_hosts=frozenset({"127.0.0.1"}), host_delay=0, obey_robots=False)) as fetcher:
        result = fetcher.get(fixture_server.url("/sitemap.xml.gz"))
    entries, _ = parse_sitemap(result.content, result.final_url)
    assert len(entries) == 3 and entries[1].title == "德比战平局"


def test_sitemap_without_namespaces_and_odd_dates() -> None:
    content = b"""<urlset>
      <url><loc> https://a.example/1 </loc><lastmod>2024-01-02T03:04:05.678Z</lastmod></url>
      <url><loc>/relative</loc><lastmod>2024</lastmod></url>
      <url><loc>https://a.example/3</loc><lastmod>yesterday</lastmod></url>
      <url><lastmod>2024-01-01</lastmod></url>
    </urlset>"""
    entries, _ = parse_sitemap(content, "https://a.example/sitemap.xml")
    assert [(e.url, e.modified) for e in entries] == [
        ("https://a.example/1", datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)),
        ("https://a.example/relative", datetime(2024, 1, 1, tzinfo=UTC)),
        ("https://a.example/3", None),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<urlset><url><loc>https://a.example/</loc></url>", "malformed XML at line 1"),
        (b"\x00\x01\x02 garbage", "malformed XML"),
        (b"", "malformed XML"),
        (b"<html><body>Not found</body></html>", r"not a sitemap \(root element <html>\)"),
        (b'<rss version="2.0"/>', "not a sitemap"),
        (b"\x1f\x8b\x08\x00broken gzip", "corrupt gzip"),
    ],
)
def test_garbage_raises_feed_error(content: bytes, message: str) -> None:
    with pytest.raises(FeedError, match=message):
        parse_sitemap(content, URL)


def test_entity_bomb_is_refused_fast() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(9))
        + b"]><urlset><url><loc>https://a.example/&j;</loc></url></urlset>"
    )
    started = time.perf_counter()
    with pytest.raises(FeedError, match="entit"):
        parse_sitemap(bomb, URL)
    assert time.perf_counter() - started < 0.3


def test_gzip_bomb_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sitemaps, "MAX_SITEMAP_BYTES", 1_000_000)
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = b"".join(compressor.compress(b"\0" * (1 << 20)) for _ in range(20)) + compressor.flush()
    with pytest.raises(FeedError, match="too large"):
        parse_sitemap(bomb, URL)
