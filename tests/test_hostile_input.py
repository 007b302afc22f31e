"""Hostile publishers, end to end: the real fixture HTTP server, the real pipeline
(`fetch_feed`, `process_entries`) and the real database.

One test (or parametrized group) per attack class. Each asserts what is stored: the
valid items of the same document are there, nothing is bigger than its named limit, no
entity was expanded, no implausible date was kept; and that the worker lives: the call
returns, and a refused document leaves an error on its Feed.

Item links point at paths the server does not know (404), so articles come from the
feed's own content: the path hostile feed text takes to the database.
"""

from __future__ import annotations

import base64
import gzip
import itertools
import json
import time
import zlib
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from newsdesk import limits
from newsdesk.articles.models import Article
from newsdesk.articles.store import ArticleData, save_article
from newsdesk.dates import EARLIEST
from newsdesk.pipeline import ingest
from newsdesk.sources import sitemaps
from newsdesk.sources.models import Entry, Feed, Source
from newsdesk.sources.opml import parse_opml
from tests.fixtureserver import FixtureServer, Reply
from tests.pages import article_page

pytestmark = pytest.mark.django_db

_ids = itertools.count()
MARK = "EXPANDED"  # the text of every hostile entity: it must never be stored
GOOD_DATE = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)


@pytest.fixture
def prefix() -> str:
    return f"/hostile{next(_ids)}"


# --- serving and polling ---------------------------------------------------------------


def serve_feed(
    server: FixtureServer,
    prefix: str,
    body: bytes | object,
    content_type: str = "application/xml",
    **reply: object,
) -> Feed:
    """Route `prefix`/feed to `body` and subscribe a new source to it."""
    headers = {"Content-Type": content_type, **reply.pop("headers", {})}  # type: ignore[dict-item]
    server.route(f"{prefix}/feed", Reply(200, body, headers, **reply))  # type: ignore[arg-type]
    source = Source.objects.create(name=f"Hostile {prefix}", slug=prefix.strip("/"), home_url=server.base + "/")
    return Feed.objects.create(source=source, url=server.url(f"{prefix}/feed"))


def poll(feed: Feed) -> tuple[ingest.FeedOutcome, ingest.PageOutcome]:
    """One poll and the pages it found, as a worker runs them; the feed is reloaded."""
    outcome = ingest.fetch_feed(feed.pk)
    pages = ingest.process_entries(outcome.new_entries)
    feed.refresh_from_db()
    return outcome, pages


def assert_refused(feed: Feed, outcome: ingest.FeedOutcome, reason: str) -> None:
    assert outcome.status == "error", outcome
    assert reason in feed.last_error, feed.last_error
    assert feed.error_count == 1 and feed.next_fetch_at > timezone.now()
    assert not Entry.objects.filter(feed=feed).exists()
    assert not Article.objects.filter(source=feed.source).exists()


def assert_nothing_expanded() -> None:
    for title, body, summary in Entry.objects.values_list("title", "content_html", "summary_html"):
        assert MARK not in title + body + summary
    for title, body in Article.objects.values_list("title", "body_text"):
        assert MARK not in title + body


def stored_titles(feed: Feed) -> set[str]:
    return set(Article.objects.filter(source=feed.source).values_list("title", flat=True))


def link(server: FixtureServer, prefix: str, name: str) -> str:
    return server.url(f"{prefix}/a/{name}")  # unrouted: 404, the feed's content is kept


# --- documents of every format ----------------------------------------------------------


def rss(items: str, prolog: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{prolog}'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>Hostile</title><link>http://127.0.0.1/</link>{items}</channel></rss>"
    ).encode()


def rss_item(url: str, title: str, extra: str = "") -> str:
    return f"<item><title>{title}</title><link>{url}</link>{extra}</item>"


def atom(entries: str, prolog: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{prolog}'
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>Hostile</title>'
        f"<id>urn:hostile</id><updated>2024-05-06T07:08:09Z</updated>{entries}</feed>"
    ).encode()


def atom_entry(url: str, title: str, extra: str = "") -> str:
    return f'<entry><title>{title}</title><link href="{url}"/><id>{url}</id>{extra}</entry>'


def rdf(items: str, prolog: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{prolog}'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        '<channel rdf:about="http://127.0.0.1/"><title>Hostile</title>'
        f"<link>http://127.0.0.1/</link></channel>{items}</rdf:RDF>"
    ).encode()


def rdf_item(url: str, title: str, extra: str = "") -> str:
    return f'<item rdf:about="{url}"><title>{title}</title><link>{url}</link>{extra}</item>'


def sitemap(urls: str, prolog: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{prolog}'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}</urlset>'
    ).encode()


def sitemap_url(url: str, title: str, extra: str = "") -> str:
    return (
        f"<url><loc>{url}</loc>{extra}<news:news><news:publication><news:name>H</news:name>"
        "<news:language>en</news:language></news:publication>"
        f"<news:title>{title}</news:title></news:news></url>"
    )


XML_FORMATS = {
    "rss": (rss, rss_item, "rss"),
    "atom": (atom, atom_entry, "feed"),
    "rdf": (rdf, rdf_item, "rdf:RDF"),
    "sitemap": (sitemap, sitemap_url, "urlset"),
}


# --- 1. entity tricks ---------------------------------------------------------------------

BIG = MARK * 1_000  # 8 KB; 1,000 references would make 8 MB
SECRET = "/hostile-secret.dtd"

# Every place an internal DTD subset can declare something. {root} is the root element,
# {secret} a URL on the fixture server that must never be requested.
SUBSET_TRICKS = {
    "plain-entity": '<!DOCTYPE {root} [<!ENTITY big "{big}">]>',
    "after-pi-holding-a-comment-opener": ('<!DOCTYPE {root} [<?pi <!-- ?>\n<!ENTITY big "{big}">\n]>'),
    "inside-comment-like-pis": ('<!DOCTYPE {root} [<?a <!-- ?>\n<!ENTITY big "{big}">\n<?b --> ?>]>'),
    "parameter-entity": ("<!DOCTYPE {root} [<!ENTITY % decl \"<!ENTITY big '{big}'>\">\n%decl;\n]>"),
    "billion-laughs": (
        '<!DOCTYPE {root} [<!ENTITY l0 "{mark}">'
        + "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
        + '<!ENTITY big "&l9;">]>'
    ),
    "external-file": '<!DOCTYPE {root} [<!ENTITY big SYSTEM "file:///etc/passwd">]>',
    "external-http": '<!DOCTYPE {root} [<!ENTITY big SYSTEM "{secret}">]>',
    "external-parameter-entity": '<!DOCTYPE {root} [<!ENTITY % ext SYSTEM "{secret}">\n%ext;]>',
    "external-dtd-plus-subset": '<!DOCTYPE {root} SYSTEM "{secret}" [<!ENTITY big "{big}">]>',
    "attlist-default": ('<!DOCTYPE {root} [<!ENTITY big "{big}"><!ATTLIST {root} trap CDATA "&big;">]>'),
    "element-and-notation": ('<!DOCTYPE {root} [<!ELEMENT {root} ANY><!NOTATION n SYSTEM "{secret}">]>'),
    "lower-case-keyword": '<!DOCTYPE {root} [<!entity big "{big}">]>',
}


def hostile_document(fmt: str, prolog: str, server: FixtureServer, prefix: str) -> bytes:
    build, item, root = XML_FORMATS[fmt]
    prolog = prolog.format(root=root, big=BIG, mark=MARK, secret=server.url(SECRET))
    reference = "&big;" * 1_000 if fmt != "sitemap" else "&big;"
    items = item(link(server, prefix, "good"), "A good item") + item(
        link(server, prefix, "bad"), f"Hostile {reference}"
    )
    return build(items, prolog)


@pytest.mark.parametrize("fmt", XML_FORMATS)
@pytest.mark.parametrize("trick", SUBSET_TRICKS)
def test_internal_subset_tricks_are_refused(fixture_server: FixtureServer, prefix: str, fmt: str, trick: str) -> None:
    body = hostile_document(fmt, SUBSET_TRICKS[trick], fixture_server, prefix)
    feed = serve_feed(fixture_server, prefix, body)
    before = len(fixture_server.hits(SECRET))
    started = time.monotonic()

    outcome, _ = poll(feed)

    assert time.monotonic() - started < 5
    assert_refused(feed, outcome, "internal DTD subset")
    assert "entity-expansion" in feed.last_error
    assert len(fixture_server.hits(SECRET)) == before  # no external entity was fetched


@pytest.mark.parametrize("trick", SUBSET_TRICKS)
def test_internal_subset_tricks_in_opml_are_refused(fixture_server: FixtureServer, trick: str) -> None:
    prolog = SUBSET_TRICKS[trick].format(root="opml", big=BIG, mark=MARK, secret=fixture_server.url(SECRET))
    body = (
        f'<?xml version="1.0"?>{prolog}<opml version="2.0"><head><title>&big;</title></head>'
        '<body><outline text="x" xmlUrl="https://a.example/feed"/></body></opml>'
    ).encode()
    before = len(fixture_server.hits(SECRET))
    with pytest.raises(ValueError, match="internal DTD subset"):
        parse_opml(body)
    assert len(fixture_server.hits(SECRET)) == before


# Declarations where no parser honours them, but feedparser's own DOCTYPE rewriting looks:
# it copies every line-initial `<!ENTITY` before the first element, even from a comment,
# into a DOCTYPE of its own. These documents carry no internal subset, so they are read;
# the entity must still never be expanded.
PROLOG_TRICKS = {
    "entity-in-a-comment-before-an-external-doctype": (
        '<!--\n<!ENTITY big "{big}">\n-->\n<!DOCTYPE {root} SYSTEM "{secret}">'
    ),
    "entity-in-a-pi-before-a-doctype": '<?pi \n<!ENTITY big "{big}">\n?>\n<!DOCTYPE {root}>',
}


@pytest.mark.parametrize("fmt", ["rss", "atom", "rdf"])
@pytest.mark.parametrize("trick", PROLOG_TRICKS)
def test_entity_text_outside_a_subset_is_never_declared(
    fixture_server: FixtureServer, prefix: str, fmt: str, trick: str
) -> None:
    body = hostile_document(fmt, PROLOG_TRICKS[trick], fixture_server, prefix)
    feed = serve_feed(fixture_server, prefix, body)
    before = len(fixture_server.hits(SECRET))

    outcome, pages = poll(feed)

    assert outcome.status == "ok", feed.last_error
    assert "A good item" in stored_titles(feed)
    assert pages.fallback == 2
    assert_nothing_expanded()
    assert len(fixture_server.hits(SECRET)) == before


def test_a_subset_after_the_root_element_is_never_declared(fixture_server: FixtureServer, prefix: str) -> None:
    """Not XML at all: feedparser's lenient parser reads on, and must not expand
    (the reference stays as text)."""
    items = rss_item(link(fixture_server, prefix, "good"), "A good item") + rss_item(
        link(fixture_server, prefix, "bad"), "Hostile " + "&big;" * 1_000
    )
    subset = f'\n<!DOCTYPE rss [\n<!ENTITY big "{BIG}">\n]>\n'
    body = rss(items).replace(b"<channel>", b"<channel>" + subset.encode(), 1)
    feed = serve_feed(fixture_server, prefix, body)

    outcome, _ = poll(feed)

    assert outcome.status == "ok", feed.last_error
    assert "A good item" in stored_titles(feed)
    assert_nothing_expanded()


# --- 2. compression bombs -------------------------------------------------------------------

ZEROS = b"\0" * (1 << 20)


def bomb(coding: str, megabytes: int = 64) -> bytes:
    """A small body that decodes to `megabytes` MB of zeros."""
    if coding in {"gzip", "deflate"}:
        c = zlib.compressobj(9, zlib.DEFLATED, 31 if coding == "gzip" else 15)
        return b"".join(c.compress(ZEROS) for _ in range(megabytes)) + c.flush()
    if coding == "br":
        import brotli

        c = brotli.Compressor(quality=5)
        return b"".join(c.process(ZEROS) for _ in range(megabytes)) + c.finish()
    import zstandard

    c = zstandard.ZstdCompressor(level=3).compressobj()
    return b"".join(c.compress(ZEROS) for _ in range(megabytes)) + c.flush()


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd"])
def test_compression_bombs_are_refused_at_the_fetch_cap(
    fixture_server: FixtureServer, prefix: str, settings, coding: str
) -> None:
    settings.NEWSDESK_FETCH_MAX_BYTES = 2_000_000
    body = bomb(coding)
    assert len(body) < 1_000_000
    feed = serve_feed(fixture_server, prefix, body, headers={"Content-Encoding": coding})

    outcome, _ = poll(feed)

    assert_refused(feed, outcome, "2000000")  # the message names the cap


def test_gzipped_sitemap_bomb_stops_at_the_sitemap_cap(
    fixture_server: FixtureServer, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A .xml.gz served as is (no Content-Encoding): the fetch cap sees 100 KB, the
    sitemap reader inflates it, up to MAX_SITEMAP_BYTES."""
    monkeypatch.setattr(sitemaps, "MAX_SITEMAP_BYTES", 4_000_000)
    head = sitemap(sitemap_url(link(fixture_server, prefix, "x"), "x"))[: -len("</urlset>")]
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    body = c.compress(head) + b"".join(c.compress(b" " * (1 << 20)) for _ in range(64)) + c.flush()
    feed = serve_feed(fixture_server, prefix, body, content_type="application/gzip")

    outcome, _ = poll(feed)

    assert_refused(feed, outcome, "sitemap too large")


def test_fifty_megabytes_of_content_in_a_small_gzip_feed_is_refused(fixture_server: FixtureServer, prefix: str) -> None:
    """With the default fetch cap (10 MB decoded): refused whole, nothing stored."""
    head, tail = rss(rss_item(link(fixture_server, prefix, "x"), "x", "<description>PAYLOAD</description>")).split(
        b"PAYLOAD"
    )
    c = zlib.compressobj(6, zlib.DEFLATED, 31)
    body = c.compress(head) + b"".join(c.compress(b"A" * (1 << 20)) for _ in range(50))
    body += c.compress(tail) + c.flush()
    assert len(body) < 200_000
    feed = serve_feed(fixture_server, prefix, body, headers={"Content-Encoding": "gzip"})

    outcome, _ = poll(feed)

    assert_refused(feed, outcome, "too large")


# --- 3. charset tricks -----------------------------------------------------------------------

TITLE = "Café in Zürich – Вести"


def _charset_case(name: str, url: str) -> tuple[bytes, str]:
    def doc(declared: str) -> str:
        return rss(rss_item(url, TITLE)).decode().replace('encoding="utf-8"', f'encoding="{declared}"')

    if name == "utf8-bom-vs-latin1-header-vs-cp1251-declaration":
        return b"\xef\xbb\xbf" + doc("windows-1251").encode(), "application/xml; charset=iso-8859-1"
    if name == "utf16le-bom-vs-utf8-declaration":
        return "\ufeff".encode("utf-16-le") + doc("utf-8").encode("utf-16-le"), "application/xml"
    if name == "utf16be-no-bom-header-only":
        return doc("utf-16").encode("utf-16-be"), "application/xml; charset=utf-16be"
    if name == "utf32-bom-vs-utf8-header":
        return doc("utf-8").encode("utf-32"), "application/xml; charset=utf-8"
    raise AssertionError(name)


@pytest.mark.parametrize(
    "case",
    [
        "utf8-bom-vs-latin1-header-vs-cp1251-declaration",
        "utf16le-bom-vs-utf8-declaration",
        "utf16be-no-bom-header-only",
        "utf32-bom-vs-utf8-header",
    ],
)
def test_charset_contradictions_still_read_right(fixture_server: FixtureServer, prefix: str, case: str) -> None:
    body, content_type = _charset_case(case, link(fixture_server, prefix, "one"))
    feed = serve_feed(fixture_server, prefix, body, content_type=content_type)

    outcome, _ = poll(feed)

    assert outcome.status == "ok", feed.last_error
    assert stored_titles(feed) == {TITLE}


def _utf7_hide(text: str) -> str:
    """Markup characters spelled the UTF-7 way (+ADw- is '<'), the rest as ASCII."""
    return "".join(
        f"+{base64.b64encode(ch.encode('utf-16-be')).decode().rstrip('=')}-" if ch in '<>![]"&;%' else ch for ch in text
    )


@pytest.mark.parametrize("header", ["application/xml; charset=utf-7", "application/xml"])
def test_utf7_spelled_entity_declaration_is_not_obeyed(fixture_server: FixtureServer, prefix: str, header: str) -> None:
    hidden = _utf7_hide(f'<!DOCTYPE rss [<!ENTITY big "{MARK * 100}">]>')
    item = rss_item(link(fixture_server, prefix, "x"), "Hostile " + _utf7_hide("&big;") * 100)
    body = rss(item, hidden).replace(b'encoding="utf-8"', b'encoding="utf-7"')
    feed = serve_feed(fixture_server, prefix, body, content_type=header)

    outcome, _ = poll(feed)

    # UTF-7 is no web encoding, so neither label is obeyed (newsdesk/charset.py):
    # the UTF-7 spelling stays junk between the prolog's markup and the document is refused.
    assert_refused(feed, outcome, "malformed XML")


# --- 4. slow and endless responses -------------------------------------------------------------


def test_endless_feed_hits_the_size_cap(fixture_server: FixtureServer, prefix: str, settings) -> None:
    settings.NEWSDESK_FETCH_MAX_BYTES = 1_000_000
    endless = itertools.chain(
        [rss(rss_item("http://a.example/1", "x"))[:-30]], itertools.repeat(b"<!-- more -->" * 5_000)
    )
    feed = serve_feed(fixture_server, prefix, endless)
    started = time.monotonic()

    outcome, _ = poll(feed)

    assert time.monotonic() - started < 10
    assert_refused(feed, outcome, "1000000")


def test_slow_drip_feed_hits_the_time_cap(fixture_server: FixtureServer, prefix: str, settings) -> None:
    settings.NEWSDESK_FETCH_TIMEOUT = 1.0
    feed = serve_feed(fixture_server, prefix, (b" " for _ in range(200)), chunk_delay=0.05)
    started = time.monotonic()

    outcome, _ = poll(feed)

    assert time.monotonic() - started < 3
    assert_refused(feed, outcome, "timeout")


def test_endless_and_slow_pages_fall_back_or_retry(fixture_server: FixtureServer, prefix: str, settings) -> None:
    settings.NEWSDESK_FETCH_TIMEOUT = 1.0
    settings.NEWSDESK_FETCH_MAX_BYTES = 1_000_000
    endless, slow = fixture_server.url(f"{prefix}/endless"), fixture_server.url(f"{prefix}/slow")
    html = {"Content-Type": "text/html"}
    fixture_server.route(f"{prefix}/endless", lambda _r: Reply(200, itertools.repeat(b"<p>more</p>" * 5_000), html))
    fixture_server.route(
        f"{prefix}/slow",
        lambda _r: Reply(200, (b"<p>" for _ in range(200)), html, chunk_delay=0.05),
    )
    items = rss_item(endless, "Endless page", "<description>What the feed said.</description>")
    items += rss_item(slow, "Slow page", "<description>Slowly said.</description>")
    feed = serve_feed(fixture_server, prefix, rss(items))
    started = time.monotonic()

    outcome, pages = poll(feed)

    assert time.monotonic() - started < 5
    assert outcome.status == "ok"
    assert (pages.fallback, pages.retried) == (1, 1)
    article = Article.objects.get(source=feed.source)
    assert (article.title, article.origin) == ("Endless page", Article.Origin.FEED)
    assert "What the feed said." in article.body_text
    slow_entry = Entry.objects.get(url=slow)
    assert slow_entry.state == Entry.State.PENDING and "timeout" in slow_entry.last_error


# --- 5. redirects to private addresses -----------------------------------------------------------

PRIVATE_TARGETS = [
    "http://10.0.0.1/admin",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]:{port}/landing",
    "http://localhost:{port}/landing",  # a name that resolves to loopback
    "http://2130706433:{port}/landing",  # 127.0.0.1 as one number
    "http://0.0.0.0:{port}/landing",
]


@pytest.mark.parametrize("target", PRIVATE_TARGETS)
def test_feed_redirected_to_a_private_address_is_refused(
    fixture_server: FixtureServer, prefix: str, target: str
) -> None:
    fixture_server.route("/landing", Reply(200, rss(rss_item("http://a.example/1", "internal"))))
    feed = serve_feed(fixture_server, prefix, b"")
    fixture_server.route(f"{prefix}/feed", Reply(302, b"", {"Location": target.format(port=fixture_server.port)}))
    before = len(fixture_server.hits("/landing"))

    outcome, _ = poll(feed)

    assert_refused(feed, outcome, "blocked")
    assert len(fixture_server.hits("/landing")) == before


@pytest.mark.parametrize("target", PRIVATE_TARGETS[:2] + PRIVATE_TARGETS[3:4])
def test_page_redirected_to_a_private_address_keeps_the_feed_text(
    fixture_server: FixtureServer, prefix: str, target: str
) -> None:
    fixture_server.route("/landing", Reply(200, article_page("Internal page")))
    fixture_server.route(f"{prefix}/page", Reply(302, b"", {"Location": target.format(port=fixture_server.port)}))
    item = rss_item(
        fixture_server.url(f"{prefix}/page"), "Public story", "<description>The feed's own words.</description>"
    )
    feed = serve_feed(fixture_server, prefix, rss(item))
    before = len(fixture_server.hits("/landing"))

    outcome, pages = poll(feed)

    assert pages.fallback == 1
    article = Article.objects.get(source=feed.source)
    assert article.origin == Article.Origin.FEED and "The feed's own words." in article.body_text
    assert "blocked" in Entry.objects.get(feed=feed).last_error
    assert len(fixture_server.hits("/landing")) == before


def test_allowing_one_local_port_does_not_allow_the_others(
    fixture_server: FixtureServer, fresh_server: FixtureServer, prefix: str, settings
) -> None:
    """The allow-list names host:port; a redirect to another port of the same host (an
    admin service, a metadata proxy) is blocked like any private address."""
    from newsdesk.sources.client import reset_fetcher

    settings.NEWSDESK_FETCH_ALLOW_HOSTS = [f"127.0.0.1:{fixture_server.port}"]
    reset_fetcher()
    fresh_server.route("/internal", Reply(200, rss(rss_item("http://a.example/1", "internal"))))
    feed = serve_feed(fixture_server, prefix, b"")
    fixture_server.route(f"{prefix}/feed", Reply(302, b"", {"Location": fresh_server.url("/internal")}))

    outcome, _ = poll(feed)

    assert not fresh_server.hits("/internal")
    assert_refused(feed, outcome, "blocked")


# --- 6. oversized fields -------------------------------------------------------------------------


def assert_within_limits() -> None:
    for entry in Entry.objects.all():
        assert len(entry.title) <= limits.MAX_TITLE
        assert len(entry.summary_html) <= limits.MAX_SUMMARY_HTML
        assert len(entry.content_html) <= limits.MAX_BODY_HTML
        assert len(entry.author) <= limits.MAX_AUTHOR
        assert len(entry.guid) <= limits.MAX_GUID and len(entry.url) <= limits.MAX_URL
        assert len(entry.categories) <= limits.MAX_TAGS
    for article in Article.objects.all():
        assert len(article.title) <= limits.MAX_TITLE
        assert len(article.byline) <= limits.MAX_AUTHOR
        assert len(article.description) <= limits.MAX_DESCRIPTION
        assert len(article.body_text) <= limits.MAX_BODY_TEXT
        assert len(article.body_html) <= limits.MAX_BODY_HTML
        assert len(article.lead_image) <= limits.MAX_URL


def huge_rss_item(url: str) -> str:
    return rss_item(
        url,
        "T" * (3 * limits.MAX_TITLE) + " " + "title " * 500_000,  # 3 MB
        # "a." repeated is the worst case of feedparser's e-mail regex (quadratic)
        f"<author>{'a.' * 500_000}</author>"
        f"<guid isPermaLink='false'>{'g' * 100_000}</guid>"
        f"<description>{'d ' * limits.MAX_SUMMARY_HTML}</description>"
        f"<content:encoded><![CDATA[<p>{'word ' * (limits.MAX_BODY_HTML // 4)}</p>]]>"
        "</content:encoded>"
        + "".join(f"<category>c{n}</category>" for n in range(2 * limits.MAX_TAGS))
        + f"<category>{'k' * 100_000}</category>",
    )


def test_oversized_rss_fields_are_capped_and_the_rest_stored(fixture_server: FixtureServer, prefix: str) -> None:
    items = huge_rss_item(link(fixture_server, prefix, "huge"))
    items += rss_item(
        link(fixture_server, prefix, "small"), "A normal item", "<description>Normal words.</description>"
    )
    body = gzip.compress(rss(items))
    assert len(body) < 200_000
    feed = serve_feed(fixture_server, prefix, body, headers={"Content-Encoding": "gzip"})
    started = time.monotonic()

    outcome, pages = poll(feed)

    assert time.monotonic() - started < 30
    assert outcome.status == "ok" and pages.fallback == 2
    assert_within_limits()
    huge = Article.objects.get(url=link(fixture_server, prefix, "huge"))
    assert len(huge.title) == limits.MAX_TITLE and len(huge.byline) == limits.MAX_AUTHOR
    assert len(huge.body_text) > limits.MAX_BODY_TEXT // 2  # capped, not emptied
    assert Article.objects.get(title="A normal item").body_text == "Normal words."


def test_oversized_json_feed_fields_are_capped(fixture_server: FixtureServer, prefix: str) -> None:
    items = [
        {
            "id": "g" * 100_000,
            "url": link(fixture_server, prefix, "huge"),
            "title": "T" * 3_000_000,
            "content_text": "word " * (limits.MAX_BODY_HTML // 4),
            "summary": "s" * (2 * limits.MAX_SUMMARY_HTML),
            "authors": [{"name": "a." * 500_000}],
            "tags": [f"t{n}" for n in range(1_000)],
            "image": "http://127.0.0.1/" + "i" * 100_000,
        },
        {
            "id": "2",
            "url": link(fixture_server, prefix, "small"),
            "title": "A normal item",
            "content_text": "Normal words.",
        },
    ]
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": items})
    feed = serve_feed(fixture_server, prefix, body.encode(), content_type="application/feed+json")

    outcome, pages = poll(feed)

    assert outcome.status == "ok" and pages.fallback == 2
    assert_within_limits()
    huge = Article.objects.get(url=link(fixture_server, prefix, "huge"))
    assert len(huge.title) == limits.MAX_TITLE and huge.lead_image == ""
    assert Article.objects.get(title="A normal item").body_text == "Normal words."


def test_oversized_page_is_capped(fixture_server: FixtureServer, prefix: str) -> None:
    paragraphs = [f"Paragraph {n} of a very long article: " + "words " * 200 for n in range(1_000)]
    page = article_page("T" * 3 * limits.MAX_TITLE, paragraphs)
    assert len(page) > limits.MAX_BODY_TEXT
    fixture_server.route(f"{prefix}/long", Reply(200, page, {"Content-Type": "text/html"}))
    item = rss_item(fixture_server.url(f"{prefix}/long"), "")
    feed = serve_feed(fixture_server, prefix, rss(item))

    outcome, pages = poll(feed)

    assert outcome.status == "ok" and pages.created == 1
    assert_within_limits()
    article = Article.objects.get(source=feed.source)
    assert article.origin == Article.Origin.PAGE and len(article.body_text) == limits.MAX_BODY_TEXT


def test_storage_caps_whatever_the_caller_passes() -> None:
    source = Source.objects.create(name="Direct", slug="direct", home_url="https://a.example/")
    deep = "<blockquote>" * 10 + "<p>" + "x" * limits.MAX_BODY_HTML + "</p>"
    article, outcome = save_article(
        ArticleData(
            url="https://a.example/1",
            aliases={"https://a.example/" + "x" * 2_000},
            source_id=source.pk,
            title="T" * 10_000,
            byline="B" * 10_000,
            description="D" * 100_000,
            body_text="w " * limits.MAX_BODY_TEXT,
            body_html=deep,
            language="x" * 50,
            lead_image="https://a.example/" + "i" * 2_000,
            publisher_sections=["s" * 1_000] * 100,
            published_at=datetime(9999, 12, 31, tzinfo=UTC),
            modified_at=datetime(1, 1, 1, tzinfo=UTC),
        )
    )
    article.refresh_from_db()
    assert outcome == "created"
    assert_within_limits()
    assert article.language == "x" * limits.MAX_LANGUAGE and article.lead_image == ""
    assert len(article.publisher_sections) == limits.MAX_SECTIONS
    assert article.body_html.endswith("</blockquote>")  # cut HTML is balanced again
    assert timezone.now() - article.published_at < timedelta(minutes=1)
    assert article.modified_at is None
    assert [a.url for a in article.aliases.all()] == ["https://a.example/1"]


# --- 7. dates out of range ------------------------------------------------------------------------

FUTURE = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
BAD_RFC822 = [
    "Fri, 31 Dec 9999 23:59:59 -1400",
    "Mon, 01 Jan 0001 00:00:00 +1400",
    "Mon, 01 Jan 0001 00:00:00 GMT",
    FUTURE.strftime("%a, %d %b %Y %H:%M:%S +0000"),
]
BAD_ISO = [
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00Z",
    "-0001-01-01T00:00:00Z",
    "1970-01-01T00:00:00Z",
    FUTURE.isoformat(),
]


def dated_document(fmt: str, server: FixtureServer, prefix: str) -> tuple[bytes, int]:
    """A document with one item per bad date and one good item; (body, bad count)."""
    if fmt == "json":
        items = [
            {
                "id": f"b{n}",
                "url": link(server, prefix, f"bad{n}"),
                "title": f"Bad {n}",
                "content_text": "Kept.",
                "date_published": d,
            }
            for n, d in enumerate(BAD_ISO)
        ]
        items.append(
            {
                "id": "g",
                "url": link(server, prefix, "good"),
                "title": "Good",
                "content_text": "Kept.",
                "date_published": GOOD_DATE.isoformat(),
            }
        )
        doc = {"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": items}
        return json.dumps(doc).encode(), len(BAD_ISO)
    build, item, _ = XML_FORMATS[fmt]
    element = {"rss": "pubDate", "atom": "updated", "rdf": "dc:date", "sitemap": "lastmod"}[fmt]
    bad = BAD_RFC822 if fmt == "rss" else BAD_ISO
    good = GOOD_DATE.isoformat()
    if fmt == "rss":
        good = GOOD_DATE.strftime("%a, %d %b %Y %H:%M:%S +0000")
    parts = [
        item(link(server, prefix, f"bad{n}"), f"Bad {n}", f"<{element}>{d}</{element}>") for n, d in enumerate(bad)
    ]
    parts.append(item(link(server, prefix, "good"), "Good", f"<{element}>{good}</{element}>"))
    if fmt == "sitemap":  # and the news date, too
        parts += [
            sitemap_url(link(server, prefix, f"news{n}"), f"News {n}", "").replace(
                "<news:title>", f"<news:publication_date>{d}</news:publication_date><news:title>"
            )
            for n, d in enumerate(bad)
        ]
    return build("".join(parts)), len(bad) * (2 if fmt == "sitemap" else 1)


@pytest.mark.parametrize("fmt", ["rss", "atom", "rdf", "json", "sitemap"])
def test_dates_out_of_range_are_dropped_not_fatal(fixture_server: FixtureServer, prefix: str, fmt: str) -> None:
    body, bad_count = dated_document(fmt, fixture_server, prefix)
    feed = serve_feed(fixture_server, prefix, body)
    started = timezone.now()

    outcome, _ = poll(feed)

    assert outcome.status == "ok", feed.last_error
    entries = Entry.objects.filter(feed=feed)
    assert entries.count() == bad_count + 1  # every item kept
    good = entries.get(url=link(fixture_server, prefix, "good"))
    if fmt == "sitemap":
        assert good.updated == GOOD_DATE
    else:
        assert good.published == GOOD_DATE
    for entry in entries.exclude(pk=good.pk):
        assert entry.published is None and entry.updated is None, (entry.url, entry.published)
    if fmt != "sitemap":  # sitemaps give no text: their articles wait for real pages
        articles = Article.objects.filter(source=feed.source)
        assert articles.count() == bad_count + 1
        for article in articles.exclude(url=good.url):
            assert started - timedelta(seconds=5) <= article.published_at <= timezone.now()
        assert articles.get(url=good.url).published_at == GOOD_DATE
    assert not Article.objects.filter(published_at__lt=EARLIEST).exists()


@pytest.mark.parametrize("stated", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "1900-01-01"])
def test_impossible_page_dates_fall_back(fixture_server: FixtureServer, prefix: str, stated: str) -> None:
    page = article_page("A page with a wrong date", published=GOOD_DATE).replace(
        GOOD_DATE.isoformat().encode(), stated.encode()
    )
    fixture_server.route(f"{prefix}/dated", Reply(200, page, {"Content-Type": "text/html"}))
    item = rss_item(
        fixture_server.url(f"{prefix}/dated"),
        "A page with a wrong date",
        f"<pubDate>{GOOD_DATE.strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>",
    )
    feed = serve_feed(fixture_server, prefix, rss(item))

    outcome, pages = poll(feed)

    assert pages.created == 1
    assert Article.objects.get(source=feed.source).published_at == GOOD_DATE  # the feed's


@pytest.mark.parametrize(
    ("when", "kept"),
    [
        (datetime(2024, 1, 1, tzinfo=UTC), True),
        (datetime(2024, 1, 1), True),  # naive: taken as UTC
        (datetime(1990, 12, 31, 23, 59, tzinfo=UTC), False),
        (datetime(1, 1, 1, tzinfo=timezone.get_fixed_timezone(14 * 60)), False),  # overflows
        (datetime(9999, 12, 31, 23, 59, tzinfo=timezone.get_fixed_timezone(-14 * 60)), False),
        (datetime.now(UTC) + timedelta(hours=20), True),  # clock skew
        (datetime.now(UTC) + timedelta(days=2), False),
    ],
)
def test_the_one_date_rule(when: datetime, kept: bool) -> None:
    from newsdesk.dates import plausible

    assert (plausible(when) is not None) == kept
