"""OPML import and export."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from lxml import etree

from newsdesk.sources.opml import OpmlFeed, build_opml, parse_opml

SITE = Path(__file__).parent / "fixtures" / "site"


def test_parse_flattens_folders_and_drops_junk() -> None:
    assert parse_opml((SITE / "subscriptions.opml").read_bytes()) == [
        OpmlFeed("https://daily.example/feed/", "The Daily Example", "https://daily.example/", "News"),
        OpmlFeed("https://gazette.example/rss.xml", "Harbour Gazette", None, "Regional"),
        OpmlFeed("http://quiet.example/feed.json", "Quiet Pages", None, None),  # feed:// rewritten
    ]  # the duplicate, file:, javascript: and relative URLs are gone


def test_round_trip() -> None:
    feeds = [
        OpmlFeed("https://a.example/feed", "Alpha & Co <news>", "https://a.example/", "World"),
        OpmlFeed("https://b.example/rss.xml", "Beta", None, "World"),
        OpmlFeed("https://c.example/atom.xml", None, None, None),
        OpmlFeed("https://d.example/feed.json", "Délta “quoted”", "https://d.example/", "Tech / Science"),
    ]
    document = build_opml(feeds, title="Mine")
    root = etree.fromstring(document)
    assert root.get("version") == "2.0" and root.findtext("head/title") == "Mine"
    assert parse_opml(document) == feeds


def test_build_escapes_hostile_titles() -> None:
    feeds = [OpmlFeed('https://e.example/?a=1&b="2"', '"><script>alert(1)</script>', None, "</outline>")]
    document = build_opml(feeds)
    assert b"<script>" not in document
    assert parse_opml(document) == feeds


def test_hostile_opml_with_entities_is_refused_fast() -> None:
    started = time.perf_counter()
    with pytest.raises(ValueError, match="declares XML entities"):
        parse_opml((SITE / "hostile.opml").read_bytes())
    assert time.perf_counter() - started < 0.3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "malformed XML"),
        (b"<opml><body><outline", "malformed XML at line 1"),
        (b'<rss version="2.0"><channel/></rss>', r"root element is <rss>"),
        (b"<opml version='2.0'><head/></opml>", "no <body>"),
        (b"\xff\xfe\x00garbage", "malformed XML"),
    ],
)
def test_bad_opml_raises_value_error(content: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_opml(content)


def test_deep_nesting_and_many_feeds_stay_bounded() -> None:
    deep = b"<opml><body>" + b"<outline text='x'>" * 5000 + b"</outline>" * 5000 + b"</body></opml>"
    with pytest.raises(ValueError):  # libxml2 refuses absurd depth without huge_tree
        parse_opml(deep)
    many = (
        b"<opml><body>"
        + b"".join(f'<outline xmlUrl="https://f{i}.example/feed"/>'.encode() for i in range(10_001))
        + b"</body></opml>"
    )
    with pytest.raises(ValueError, match="more than 10000 feeds"):
        parse_opml(many)


def test_uppercase_and_missing_titles() -> None:
    content = b"""<OPML version="1.1"><BODY>
        <outline TEXT="Folder"><outline XMLURL="https://x.example/feed" TEXT="https://x.example/feed"/></outline>
    </BODY></OPML>"""
    assert parse_opml(content) == [OpmlFeed("https://x.example/feed", None, None, "Folder")]
