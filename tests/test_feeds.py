"""Feed parsing: every format, broken and hostile documents, charsets."""

from __future__ import annotations

import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsdesk.sources.feeds import FeedError, ParsedFeed, parse_feed, xml_from_root
from newsdesk.sources.http import Fetcher, FetchPolicy
from tests.fixtureserver import FixtureServer

FEEDS = Path(__file__).parent / "fixtures" / "feeds"
FEED_URL = "https://feeds.example/feed"


def parse(name: str, content_type: str | None = None) -> ParsedFeed:
    return parse_feed((FEEDS / name).read_bytes(), FEED_URL, content_type)


def test_rss_091_with_netscape_doctype() -> None:
    feed = parse("rss091.xml")
    assert (feed.kind, feed.title, feed.site_url, feed.language) == (
        "rss",
        "Harbour Gazette",
        "https://gazette.example/",
        "en-gb",
    )
    assert [e.url for e in feed.entries] == [
        "https://gazette.example/2024/ferry-timetable",  # utm_source stripped by canonical_url
        "https://gazette.example/2024/lighthouse",
    ]
    assert feed.entries[0].summary_html == "The morning ferry now leaves at 7:15."


def test_rss_092_enclosure_image_and_escaped_html() -> None:
    feed = parse("rss092.xml")
    assert feed.kind == "rss"
    [entry] = feed.entries  # the item without a link is dropped
    assert entry.image == "http://radio.example/media/river.jpg"
    assert entry.summary_html == "<p>The river is back <b>below</b> the alert level.</p>"
    assert entry.tags == ("weather",)


def test_rss_20_full_item() -> None:
    feed = parse("rss20.xml")
    assert (feed.kind, feed.title, feed.language, feed.ttl_seconds) == (
        "rss",
        "The Daily Example",
        "en-us",
        1800,
    )
    first, second, third = feed.entries
    assert first.url == "https://daily.example/news/bridge-plan"
    assert first.guid == "daily-1001"
    assert first.title == "Council approves new bridge & tunnel plan"
    assert first.author == "Ana Souza"
    assert first.published == datetime(2024, 3, 5, 13, 30, tzinfo=UTC)
    assert first.tags == ("Politics", "Transport")
    assert first.image == "https://cdn.daily.example/img/bridge.jpg"
    assert first.summary_html == "The council voted 7–2 for the bridge."
    assert "<strong>7–2</strong>" in first.content_html
    assert "<script>" not in first.content_html
    assert 'href="https://feeds.example/news/bridge-history"' in first.content_html
    assert second.image == "https://daily.example/img/markets-thumb.jpg"
    assert second.content_html is None
    assert third.url == "https://daily.example/news/guid-permalink"


def test_rss_10_rdf_with_syndication_module() -> None:
    feed = parse("rss10.rdf")
    assert (feed.kind, feed.title, feed.language) == ("rdf", "Science Notes", "de")
    assert feed.ttl_seconds == 1800  # hourly, twice
    comet = feed.entries[0]
    assert comet.title == "Komet über München gesichtet"
    assert comet.author == "Jonas Weber"
    assert comet.published == datetime(2024, 2, 10, 20, 15, tzinfo=UTC)
    assert comet.tags == ("Astronomie",)


def test_atom_10() -> None:
    feed = parse("atom10.xml")
    assert (feed.kind, feed.title, feed.site_url, feed.language) == (
        "atom",
        "Le Carnet & les Notes",
        "https://blog.example/",
        "fr",
    )
    first, second = feed.entries
    assert first.url == "https://blog.example/2024/04/premier-billet"  # resolved against xml:base
    assert first.author == "Claire Martin"
    assert first.published == datetime(2024, 4, 1, 8, 0, tzinfo=UTC)
    assert first.updated == datetime(2024, 4, 2, 7, 30, tzinfo=UTC)
    assert first.summary_html == "Un résumé court."
    assert first.content_html.startswith("<p>Le texte <em>complet</em>")
    assert first.image == "https://blog.example/img/premier.png"
    assert first.tags == ("Voyage", "photo")
    assert second.title == "Deuxième billet"
    assert second.published == second.updated == datetime(2024, 4, 2, 8, 0, tzinfo=UTC)
    assert second.summary_html is None and second.content_html == "<p>Contenu en XHTML.</p>"
    assert second.image == "https://blog.example/img/deuxieme-thumb.jpg"


def test_json_feed_11() -> None:
    feed = parse("jsonfeed11.json", "application/feed+json")
    assert (feed.kind, feed.title, feed.site_url, feed.language, feed.ttl_seconds) == (
        "json",
        "Quiet Pages",
        "https://quiet.example/",
        "en",
        None,
    )
    two, one = feed.entries  # the item without a URL is dropped
    assert two.url == "https://quiet.example/posts/two"
    assert two.guid == "2"
    assert two.title == "Two <not a tag> & more"  # JSON titles are plain text already
    assert two.content_html == "<p>First paragraph with &lt;angle&gt; brackets.</p><p>Second paragraph.</p>"
    assert two.summary_html == "<p>A plain summary &amp; co.</p>"
    assert two.author == "Sam Lee"
    assert two.published == datetime(2024, 5, 1, 13, 30, tzinfo=UTC)
    assert two.updated == datetime(2024, 5, 2, 10, 0, tzinfo=UTC)
    assert two.image == "https://quiet.example/img/soil.webp"
    assert two.tags == ("Gardening", "Soil")
    assert one.url == "https://quiet.example/posts/one"
    assert one.image == "https://quiet.example/img/one.jpg"
    assert one.content_html == "<p>Hello <em>world</em>.</p>"


def test_json_that_is_not_a_feed() -> None:
    with pytest.raises(FeedError, match="JSON Feed version"):
        parse_feed(b'{"hello": "world"}', FEED_URL, "application/json")
    with pytest.raises(FeedError, match="malformed JSON"):
        parse_feed(b'{"version": "https://jsonfeed.org/version/1.1", ', FEED_URL)
    with pytest.raises(FeedError, match="malformed JSON"):
        parse_feed(b"{" + b'"a":[' * 100_000, FEED_URL)


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("cp1252-declared-utf8.xml", "application/rss+xml; charset=utf-8"),
        ("cp1252-declared-utf8.xml", None),
        ("latin1-undeclared.xml", None),
        ("latin1-undeclared.xml", "text/xml"),
        ("utf16-bom.xml", "application/xml"),
    ],
)
def test_wrong_and_missing_charsets(name: str, content_type: str | None) -> None:
    feed = parse(name, content_type)
    assert feed.title == "Le Petit Écho"
    assert feed.entries[0].title == "Déjà vu au café: naïve résumé à la française"
    assert "élèves" in feed.entries[0].summary_html


def test_charset_only_in_the_header() -> None:
    feed = parse("cp1251-header-only.xml", "application/rss+xml; charset=windows-1251")
    assert feed.title == "Вести"
    assert feed.entries[0].title == "Новости дня: погода в Москве и Санкт-Петербурге"


def test_recoverable_breakage_is_accepted() -> None:
    feed = parse("recoverable.xml")
    [entry] = feed.entries
    assert entry.title == "Fish & chips & more"  # &nbsp; decoded, then whitespace collapsed
    assert entry.url == "https://sloppy.example/fish"


def test_malformed_xml_gives_a_clear_error() -> None:
    with pytest.raises(FeedError, match=r"^malformed XML at line 4, column \d+: not well-formed"):
        parse("malformed.xml")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ((FEEDS / "not-a-feed.html").read_bytes(), "not a feed (looks like HTML)"),
        (
            b"<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'/>",
            "sitemap",
        ),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a feed"),
        (b"", "not a feed"),
        (b"<?xml version='1.0'?><note><to>you</to></note>", "not a feed"),
    ],
)
def test_not_a_feed(content: bytes, message: str) -> None:
    with pytest.raises(FeedError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_feed(content, FEED_URL, "application/rss+xml")


def test_empty_but_valid_feed_is_not_an_error() -> None:
    feed = parse_feed(b'<rss version="2.0"><channel><title>Quiet</title></channel></rss>', FEED_URL)
    assert feed.title == "Quiet" and feed.entries == []


@pytest.mark.parametrize("name", ["entity-bomb.xml", "external-entity.xml"])
def test_entity_declarations_are_refused(name: str) -> None:
    with pytest.raises(FeedError, match="internal DTD subset"):
        parse(name)


def test_entity_bomb_is_refused_fast_and_small() -> None:
    """A 10-level billion-laughs plus quadratic blowup padding: refused before any parsing."""
    big = "x" * 200_000
    bomb = (
        (FEEDS / "entity-bomb.xml")
        .read_bytes()
        .replace(b"]>", f'<!ENTITY q "{big}">]>'.encode(), 1)
        .replace(b"<channel>", b"<channel>" + b"&q;" * 50_000, 1)
    )
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(FeedError, match="entity-expansion"):
            parse_feed(bomb, FEED_URL)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < 0.3
    assert peak < 10 * len(bomb) + 5_000_000


@pytest.mark.parametrize(
    "prolog",
    [
        "<!DOCTYPE r [<!entity x 'y'>]>",  # not XML (lower case), still a subset
        "<!DOCTYPE r [ ]>",  # an empty subset is refused too: no feed needs one
        "<!DOCTYPE r [<?pi <!-- ?>\n<!ENTITY x 'y'>]>",  # the PI hid it from the old scanner
        "<!DOCTYPE r [<!ELEMENT r ANY>]>",
        "<!DOCTYPE r SYSTEM 'x.dtd' [<!ATTLIST r a CDATA 'y'>]>",
    ],
)
def test_any_internal_subset_is_refused(prolog: str) -> None:
    with pytest.raises(FeedError, match="internal DTD subset|malformed XML"):
        xml_from_root(prolog + "<r/>")


def test_prolog_check_drops_the_prolog_and_stays_linear() -> None:
    """Comments, PIs and an external-only DOCTYPE are fine and dropped; the read stops at
    the root, so a long prolog is one pass and a long body is not read at all."""
    text = (
        "<?xml version='1.0'?>\n<!-- <!ENTITY x 'y'> -->\n<?pi <!-- ?>\n"
        "<!DOCTYPE rss PUBLIC '-//Netscape Communications//DTD RSS 0.91//EN' 'x.dtd'>\n"
        "<rss><![CDATA[ <!ENTITY in cdata> ]]></rss>"
    )
    assert xml_from_root(text) == "\n\n\n\n<rss><![CDATA[ <!ENTITY in cdata> ]]></rss>"
    started = time.perf_counter()
    assert xml_from_root("<!-- x -->" * 200_000 + "<r/>").lstrip() == "<r/>"
    assert xml_from_root("<r>" + "<![CDATA[" * 500_000) == "<r>" + "<![CDATA[" * 500_000
    assert time.perf_counter() - started < 0.5


def test_feedparser_never_opens_local_paths(tmp_path: Path) -> None:
    """feedparser.parse(bytes) treats bytes naming a file as that file; we pass a stream."""
    secret = tmp_path / "secret.xml"
    secret.write_bytes(b'<rss version="2.0"><channel><title>LOCAL FILE</title></channel></rss>')
    with pytest.raises(FeedError):
        parse_feed(str(secret).encode(), FEED_URL)


@pytest.mark.parametrize("name", ["rss091.xml", "rss20.xml", "rss10.rdf", "atom10.xml", "jsonfeed11.json"])
def test_fetch_and_parse_over_http(fixture_server: FixtureServer, name: str) -> None:
    with Fetcher(FetchPolicy(allow_hosts=frozenset({"127.0.0.1"}), host_delay=0, obey_robots=False)) as fetcher:
        result = fetcher.get(fixture_server.url(f"/feeds/{name}"))
    feed = parse_feed(result.content, result.final_url, result.headers.get("content-type"))
    assert feed.entries and all(e.url.startswith("http") for e in feed.entries)


def test_huge_author_does_not_hit_feedparsers_quadratic_email_search() -> None:
    """feedparser looks for an e-mail in every author with a regex that is quadratic on
    'a.a.a...': 8 KB took 0.3 s, so 1 MB would take over an hour without the cut."""
    author = "a." * 500_000
    content = (
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>x</title>'
        f"<managingEditor>{author}</managingEditor><item><title>t</title>"
        f"<link>https://a.example/1</link><author>{author}</author>"
        f"<dc:creator>{author}</dc:creator></item></channel></rss>"
    ).encode()
    started = time.perf_counter()
    [entry] = parse_feed(content, FEED_URL).entries
    assert time.perf_counter() - started < 2
    assert entry.author is not None and len(entry.author) <= 300
