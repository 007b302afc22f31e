"""The source-kind registry: the built-ins recognise and read real documents, and an
add-on kind, registered the way the built-ins are, feeds the real pipeline (the fixture
HTTP server on 127.0.0.1, `ingest.fetch_feed`, the database)."""

from __future__ import annotations

import gzip
import itertools
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsdesk.articles.models import Article
from newsdesk.pipeline import ingest
from newsdesk.pipeline.add import AddError, add_url
from newsdesk.sources import kinds
from newsdesk.sources.feeds import FeedError, parse_feed
from newsdesk.sources.http import FetchResult
from newsdesk.sources.kinds import MAX_CATEGORIES, Item, Listing, SourceKind
from newsdesk.sources.models import Entry, Feed
from newsdesk.sources.sitemaps import MAX_CHILD_SITEMAPS
from tests.fixtureserver import FixtureServer, Reply
from tests.pages import article_page, atom, fetched, rss

FIXTURES = Path(__file__).parent / "fixtures"
_ids = itertools.count()


@pytest.fixture
def prefix() -> str:
    """A path prefix of its own per test: the server is shared by the whole session."""
    return f"/kinds{next(_ids)}"


def urlset(urls: list[str]) -> bytes:
    locs = "".join(f"<url><loc>{url}</loc></url>" for url in urls)
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'.encode()


def sitemap_index(urls: list[str]) -> bytes:
    locs = "".join(f"<sitemap><loc>{url}</loc></sitemap>" for url in urls)
    return f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</sitemapindex>'.encode()


# --- an add-on kind: a plain-text list of links ------------------------------------------

LINKS_MARK = b"#newsdesk-links"


def _is_link_list(content: bytes, content_type: str) -> bool:
    return content.startswith(LINKS_MARK)


def _read_link_list(result: FetchResult) -> Listing:
    """'#newsdesk-links <title>', then 'ISO time | url | title | category, ...' a line."""
    first, *lines = result.text().splitlines()
    items = []
    for line in lines:
        when, url, title, categories = (part.strip() for part in line.split("|"))
        items.append(
            Item(
                url=url,
                title=title,
                published=datetime.fromisoformat(when),
                categories=[c.strip() for c in categories.split(",")],
            )
        )
    return Listing("links", first.removeprefix(LINKS_MARK.decode()).strip(), items, ttl=2 * 3600)


LINKS = SourceKind("links", recognises=_is_link_list, read=_read_link_list, label="a link list")


# --- the built-ins --------------------------------------------------------------------------


def test_the_built_ins_are_registered_like_any_kind() -> None:
    assert [k.name for k in kinds.in_order()][:3] == ["feed", "sitemap", "html"]
    assert kinds.in_order()[:3] == [kinds.FEED, kinds.SITEMAP, kinds.HTML]
    assert kinds.FEED.listing and kinds.SITEMAP.listing
    assert not kinds.HTML.listing  # a page: an article to store, or a home page to look at


NEWS_SITEMAP = (FIXTURES / "site" / "news-sitemap.xml").read_bytes()
RECOGNISED = [
    # Content types lie: each document is served under a misleading one.
    ("rss", rss([{"title": "Budget passed", "link": "https://daily.example/a"}]), "text/html", "feed"),
    (
        "atom",
        atom([{"title": "Storm", "link": "https://daily.example/b", "updated": datetime(2026, 1, 2, tzinfo=UTC)}]),
        "application/octet-stream",
        "feed",
    ),
    ("rdf", (FIXTURES / "feeds" / "rss10.rdf").read_bytes(), "text/plain", "feed"),
    ("json feed", (FIXTURES / "feeds" / "jsonfeed11.json").read_bytes(), "application/json", "feed"),
    ("utf-16 rss", (FIXTURES / "feeds" / "utf16-bom.xml").read_bytes(), "", "feed"),
    ("news sitemap", NEWS_SITEMAP, "text/plain", "sitemap"),
    ("gzipped sitemap", gzip.compress(NEWS_SITEMAP), "application/gzip", "sitemap"),
    ("sitemap index", (FIXTURES / "site" / "sitemap-index.xml").read_bytes(), "text/html", "sitemap"),
    ("article", article_page("Harbour expansion approved"), "application/xml", "html"),
    ("home page", (FIXTURES / "site" / "index.html").read_bytes(), "application/rss+xml", "html"),
    ("opml", (FIXTURES / "site" / "subscriptions.opml").read_bytes(), "text/xml", None),
    ("png", b"\x89PNG\r\n\x1a\n" + bytes(64), "image/png", None),
    ("text", b"just some words", "text/html", None),
]


@pytest.mark.parametrize(
    ("content", "content_type", "expected"),
    [case[1:] for case in RECOGNISED],
    ids=[case[0] for case in RECOGNISED],
)
def test_the_built_ins_recognise_real_documents_from_their_bytes(
    content: bytes, content_type: str, expected: str | None
) -> None:
    kind = kinds.recognise(content, content_type)
    assert (kind.name if kind else None) == expected


def test_the_content_type_decides_only_when_the_bytes_say_nothing() -> None:
    undecided = b"<!-- " + b"x" * 10_000  # markup, but no element in the first bytes
    assert kinds.recognise(undecided, "application/rss+xml") is kinds.FEED
    assert kinds.recognise(undecided, "text/html; charset=utf-8") is kinds.HTML
    assert kinds.recognise(undecided, "text/plain") is None
    assert kinds.recognise(b"", "application/rss+xml") is None  # no markup at all
    soup = b"<!-- never closed <html><body>hi"  # tag soup beats the header
    assert kinds.recognise(soup, "application/rss+xml") is kinds.HTML


def test_the_feed_kind_reads_rss_atom_and_json_feed_into_items() -> None:
    when = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    categories = [f"Topic {n}" for n in range(MAX_CATEGORIES + 5)]
    body = rss(
        [
            {
                "title": "Budget passed",
                "link": "https://daily.example/a?utm_source=rss",
                "guid": "budget-1",
                "published": when,
                "description": "Short version",
                "content": "<p>The whole story</p>",
                "categories": categories,
            }
        ],
        title="Daily Example",
    )
    listing = kinds.FEED.read(fetched(body, "application/rss+xml"))
    assert (listing.kind, listing.title, listing.ttl) == ("rss", "Daily Example", None)
    [item] = listing.items
    assert (item.url, item.title, item.guid, item.published) == (
        "https://daily.example/a",
        "Budget passed",
        "https://daily.example/budget-1",  # feedparser resolves a permalink guid
        when,
    )
    assert item.summary_html == "Short version" and "The whole story" in item.content_html
    assert item.categories == categories[:MAX_CATEGORIES]

    updated = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    body = atom([{"title": "Storm warning", "link": "https://daily.example/s", "updated": updated}], title="Weather")
    listing = kinds.read(fetched(body, "application/atom+xml"))
    assert (listing.kind, listing.title) == ("atom", "Weather")
    assert [(i.url, i.title, i.updated) for i in listing.items] == [
        ("https://daily.example/s", "Storm warning", updated)
    ]

    listing = kinds.read(fetched((FIXTURES / "feeds" / "jsonfeed11.json").read_bytes(), "application/feed+json"))
    assert (listing.kind, listing.title) == ("json", "Quiet Pages")
    assert listing.items[0].url == "https://quiet.example/posts/two" and listing.items[0].author == "Sam Lee"


def test_the_sitemap_kind_reads_news_sitemaps_and_the_first_children_of_an_index(
    fixture_server: FixtureServer, prefix: str
) -> None:
    listing = kinds.read(fetched(NEWS_SITEMAP, "text/plain", "https://daily.example/sitemap.xml"))
    assert (listing.kind, listing.title, listing.ttl) == (Feed.Kind.SITEMAP, None, None)
    assert (listing.items[0].url, listing.items[0].title, listing.items[0].published, listing.items[0].updated) == (
        "https://daily.example/news/bridge-plan",
        "Council approves new bridge & tunnel plan",
        datetime(2024, 3, 5, 13, 30, tzinfo=UTC),
        datetime(2024, 3, 5, 14, 0, tzinfo=UTC),
    )

    children = [f"{prefix}/child{n}.xml" for n in range(MAX_CHILD_SITEMAPS + 2)]
    for n, child in enumerate(children):
        story = fixture_server.url(f"{prefix}/story{n}")
        fixture_server.route(child, Reply(200, urlset([story]), {"Content-Type": "application/xml"}))
    index = sitemap_index([fixture_server.url(child) for child in children])
    listing = kinds.read(fetched(index, "application/xml", fixture_server.url(f"{prefix}/index.xml")))
    assert [i.url for i in listing.items] == [
        fixture_server.url(f"{prefix}/story{n}") for n in range(MAX_CHILD_SITEMAPS)
    ]
    assert not fixture_server.hits(children[MAX_CHILD_SITEMAPS])  # past the cap: never fetched


def test_documents_no_listing_kind_claims_go_to_the_feed_reader() -> None:
    items = [{"id": n, "url": f"https://quiet.example/{n}", "title": "A title " * 10} for n in range(60)]
    late = json.dumps({"title": "Late", "items": items, "version": "https://jsonfeed.org/version/1.1"}).encode()
    assert len(late) > 4096 and kinds.recognise(late, "application/json") is None
    listing = kinds.read(fetched(late, "application/json"))
    assert (listing.kind, len(listing.items)) == ("json", 60)  # found past the first bytes

    with pytest.raises(FeedError, match=r"not a feed \(looks like HTML\)"):
        kinds.read(fetched(article_page("A page"), "application/rss+xml"))
    with pytest.raises(FeedError, match=r"not a feed \(looks like a sitemap\)"):
        parse_feed(NEWS_SITEMAP, "https://daily.example/sitemap.xml")
    with pytest.raises(FeedError, match="neither XML nor JSON"):
        kinds.read(fetched(LINKS_MARK + b" not registered", "text/plain"))


# --- the registry and add-ons ------------------------------------------------------------


def test_order_then_registration_decides_which_kind_claims_a_document() -> None:
    body = rss([{"title": "Episode 1", "link": "https://pod.example/1"}], title="A Podcast")
    read_by: list[str] = []

    def read_podcast(result: FetchResult) -> Listing:
        read_by.append(result.final_url)
        return kinds.FEED.read(result)

    late = SourceKind("podcast", recognises=lambda content, _type: b"Podcast" in content, read=read_podcast)
    with kinds.registered(late):
        assert kinds.recognise(body, "application/rss+xml") is kinds.FEED  # same order, registered later
        kinds.read(fetched(body, "application/rss+xml"))
    assert read_by == []

    early = replace(late, order=10)
    with kinds.registered(early):
        assert kinds.recognise(body, "application/rss+xml") is early
        assert kinds.read(fetched(body, "application/rss+xml", "https://pod.example/feed")).kind == "rss"
        assert parse_feed(body, "https://pod.example/feed").title == "A Podcast"  # still a feed to the parser
    assert read_by == ["https://pod.example/feed"]
    assert kinds.recognise(body, "application/rss+xml") is kinds.FEED
    assert "podcast" not in [k.name for k in kinds.in_order()]

    with kinds.registered(LINKS):
        kinds.unregister("links")
        assert kinds.recognise(LINKS_MARK, "text/plain") is None
    kinds.unregister("no-such-kind")  # nothing to do


@pytest.mark.django_db
def test_an_add_on_kind_feeds_its_entries_into_the_pipeline(fixture_server: FixtureServer, prefix: str) -> None:
    published = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    stories = {"Harbour expansion approved": ["World", "Business"], "Tram line reopens": ["Local"]}
    lines, expected = ["#newsdesk-links Harbour Weekly"], []
    for n, (title, categories) in enumerate(stories.items()):
        path = f"{prefix}/story/{n}"
        page = article_page(title, published=published)
        fixture_server.route(path, Reply(200, page, {"Content-Type": "text/html; charset=utf-8"}))
        when = published - timedelta(minutes=n)
        lines.append(f"{when.isoformat()} | {fixture_server.url(path)} | {title} | {', '.join(categories)}")
        expected.append((fixture_server.url(path), title, categories, when))
    document = "\n".join(lines).encode()
    fixture_server.route(f"{prefix}/links.txt", Reply(200, document, {"Content-Type": "text/plain"}))
    url = fixture_server.url(f"{prefix}/links.txt")

    assert kinds.recognise(document, "text/plain") is None
    with pytest.raises(AddError, match="not a feed or a page"):
        add_url(url)

    with kinds.registered(LINKS):
        assert kinds.recognise(document, "text/plain") is LINKS
        [feed] = add_url(url).feeds  # a listing kind: subscribed to
        outcome = ingest.fetch_feed(feed.pk)
        assert outcome.status == "ok" and len(outcome.new_entries) == 2, outcome
        feed.refresh_from_db()
        assert (feed.kind, feed.title, feed.error_count, feed.entries_total) == ("links", "Harbour Weekly", 0, 2)
        assert feed.interval_seconds >= 2 * 3600  # the listing's ttl is the schedule's floor
        entries = Entry.objects.filter(feed=feed).order_by("-published")
        assert [(e.url, e.title, e.categories, e.published) for e in entries] == expected
        assert all(e.state == Entry.State.PENDING for e in entries)

        pages = ingest.process_entries(outcome.new_entries)
        assert pages.created == 2
        assert set(Article.objects.filter(entries__feed=feed).values_list("title", flat=True)) == set(stories)

    assert kinds.recognise(document, "text/plain") is None  # gone with the `with` block
    outcome = ingest.fetch_feed(feed.pk)
    assert outcome.status == "error" and "not a feed" in outcome.error


@pytest.mark.django_db
def test_newsdesk_add_asks_the_registry_what_a_page_is(fixture_server: FixtureServer, prefix: str) -> None:
    path = f"{prefix}/2026/11/28/lone-article"
    page = article_page("Lone article")
    fixture_server.route(path, Reply(200, page, {"Content-Type": "text/html; charset=utf-8"}))

    blind = replace(kinds.HTML, recognises=lambda content, content_type: False)
    with kinds.registered(blind):
        assert kinds.in_order()[2] is blind  # replaced in its place
        with pytest.raises(AddError, match="not a feed or a page"):
            add_url(fixture_server.url(path))
    assert kinds.recognise(page, "text/html") is kinds.HTML
    added = add_url(fixture_server.url(path))
    assert added.article is not None and added.article.title == "Lone article"


@pytest.mark.django_db
def test_a_home_page_advertising_a_sitemap_subscribes_to_it_as_a_sitemap(
    fixture_server: FixtureServer, prefix: str
) -> None:
    """The advertised document is read as what it is, not as what the page called it."""
    story = fixture_server.url(f"{prefix}/2026/11/28/harbour")
    fixture_server.route(f"{prefix}/news-sitemap.xml", Reply(200, urlset([story]), {"Content-Type": "application/xml"}))
    home = (
        "<html><head><title>Harbour Daily</title>"
        f'<link rel="alternate" type="application/rss+xml" href="{prefix}/news-sitemap.xml"></head>'
        "<body><p>Front page</p></body></html>"
    ).encode()
    fixture_server.route(f"{prefix}/", Reply(200, home, {"Content-Type": "text/html; charset=utf-8"}))

    [feed] = add_url(fixture_server.url(f"{prefix}/")).feeds
    assert feed.url.endswith("/news-sitemap.xml")
    outcome = ingest.fetch_feed(feed.pk)
    feed.refresh_from_db()
    assert outcome.status == "ok" and feed.kind == Feed.Kind.SITEMAP
    assert list(Entry.objects.filter(feed=feed).values_list("url", flat=True)) == [story]
