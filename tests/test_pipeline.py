"""The ingest pipeline against a real HTTP server on 127.0.0.1, in one process."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from newsdesk.articles.models import Article
from newsdesk.pipeline import ingest
from newsdesk.pipeline.add import AddError, add_url, source_for
from newsdesk.sources.models import Entry, Feed
from tests.fixtureserver import Reply
from tests.pages import LOREM, article_page, atom, rss

pytestmark = pytest.mark.django_db

_ids = itertools.count()
CHROME = [
    "Try Our AI Features",
    "No comments yet",
    "Related Articles",
    "Hashtags",
    "Share on Facebook",
    "Subscribe to our newsletter",
    "Explore what Daily8 AI",
]


@pytest.fixture
def prefix() -> str:
    """A path prefix of its own per test: the server is shared by the whole session."""
    return f"/t{next(_ids)}"


def html_reply(body: bytes) -> Reply:
    return Reply(200, body, {"Content-Type": "text/html; charset=utf-8"})


def feed_reply(body: bytes, kind: str = "application/rss+xml") -> Reply:
    return Reply(200, body, {"Content-Type": kind})


def serve_site(server, prefix: str, titles: list[str]) -> str:
    """A feed listing one page per title (links carry tracking parameters); returns the feed URL."""
    items = []
    for n, title in enumerate(titles):
        path = f"{prefix}/news/{n}"
        server.route(path, html_reply(article_page(title, [f"{title}: {p}" for p in LOREM])))
        items.append({"title": title, "link": server.url(path) + "?utm_source=rss&utm_medium=feed"})
    server.route(f"{prefix}/feed.xml", feed_reply(rss(items)))
    return server.url(f"{prefix}/feed.xml")


def fetch_all() -> None:
    call_command("fetch", once=True, verbosity=0)


def test_add_and_fetch_store_clean_articles(fixture_server, prefix, client):
    feed_url = serve_site(fixture_server, prefix, ["Bridge reopens after repairs", "Rail strike called off"])
    added = add_url(feed_url)
    assert [f.url for f in added.feeds] == [feed_url]
    fetch_all()

    articles = list(Article.objects.order_by("title"))
    assert [a.title for a in articles] == ["Bridge reopens after repairs", "Rail strike called off"]
    for article in articles:
        assert article.origin == Article.Origin.PAGE
        assert "utm_" not in article.url and article.url.startswith(fixture_server.base + prefix + "/news/")
        assert LOREM[0] in article.body_text and LOREM[3] in article.body_text
        assert article.byline == "Jane Reporter"
        assert timezone.now() - article.published_at < timedelta(hours=1)
        assert article.word_count > 60 and article.reading_time >= 1
        for chrome in CHROME:
            assert chrome not in article.body_text, chrome

    page = client.get(articles[0].get_absolute_url()).content.decode()
    assert "Bridge reopens after repairs" in page
    assert "Jane Reporter" in page and LOREM[1] in page
    assert f'href="{articles[0].url}"' in page  # link to the original
    assert "16 minutes ago" in page
    assert "No comments yet" not in page.split('class="body"')[1].split("</div>")[0]
    home = client.get("/").content.decode()
    assert "Bridge reopens after repairs" in home and "Rail strike called off" in home


def test_refetch_is_idempotent_and_conditional(fixture_server, prefix):
    feed_body = rss([{"title": "Budget passed", "link": fixture_server.url(f"{prefix}/a")}])
    fixture_server.route(f"{prefix}/a", html_reply(article_page("Budget passed")))

    def feed(request):
        if request.headers.get("if-none-match") == '"v1"':
            return Reply(304, b"", {"ETag": '"v1"'})
        return Reply(200, feed_body, {"Content-Type": "application/rss+xml", "ETag": '"v1"'})

    fixture_server.route(f"{prefix}/feed.xml", feed)
    add_url(fixture_server.url(f"{prefix}/feed.xml"))
    fetch_all()
    fetch_all()
    feed_obj = Feed.objects.get()
    assert Article.objects.count() == 1 and Entry.objects.count() == 1
    assert feed_obj.etag == '"v1"' and feed_obj.error_count == 0
    assert fixture_server.hits(f"{prefix}/feed.xml")[-1].headers.get("if-none-match") == '"v1"'
    assert len(fixture_server.hits(f"{prefix}/a")) == 1  # the page was not fetched again


def test_updated_article_is_updated_in_place(fixture_server, prefix):
    link = fixture_server.url(f"{prefix}/story")
    first = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    fixture_server.route(f"{prefix}/story", html_reply(article_page("Storm warning", LOREM[:2])))
    fixture_server.route(
        f"{prefix}/feed.atom",
        feed_reply(atom([{"title": "Storm warning", "link": link, "updated": first}]), "application/atom+xml"),
    )
    add_url(fixture_server.url(f"{prefix}/feed.atom"))
    fetch_all()
    article = Article.objects.get()
    assert LOREM[2] not in article.body_text

    update = "The warning was raised to red on Wednesday morning as the storm moved north faster than expected."
    fixture_server.route(f"{prefix}/story", html_reply(article_page("Storm warning", [*LOREM[:2], update])))
    fixture_server.route(
        f"{prefix}/feed.atom",
        feed_reply(
            atom([{"title": "Storm warning", "link": link, "updated": first + timedelta(hours=2)}]),
            "application/atom+xml",
        ),
    )
    fetch_all()
    updated = Article.objects.get()
    assert updated.pk == article.pk
    assert update in updated.body_text
    assert updated.updated_at > article.updated_at


def test_same_text_under_two_urls_is_one_article(fixture_server, prefix):
    page = article_page("Harbour expansion approved")
    fixture_server.route(f"{prefix}/news/123", html_reply(page))
    fixture_server.route(f"{prefix}/news/harbour-expansion-approved-123", html_reply(page))
    fixture_server.route(
        f"{prefix}/feed.xml",
        feed_reply(
            rss(
                [
                    {"title": "Harbour expansion approved", "link": fixture_server.url(f"{prefix}/news/123")},
                    {
                        "title": "Harbour expansion approved",
                        "link": fixture_server.url(f"{prefix}/news/harbour-expansion-approved-123"),
                    },
                ]
            )
        ),
    )
    add_url(fixture_server.url(f"{prefix}/feed.xml"))
    fetch_all()
    article = Article.objects.get()
    assert {a.url for a in article.aliases.all()} >= {
        fixture_server.url(f"{prefix}/news/123"),
        fixture_server.url(f"{prefix}/news/harbour-expansion-approved-123"),
    }
    assert Entry.objects.filter(article=article).count() == 2


def test_canonical_url_is_used_only_on_the_same_site(fixture_server, prefix):
    fixture_server.route(
        f"{prefix}/own",
        html_reply(
            article_page("Own canonical", canonical=fixture_server.url(f"{prefix}/canonical-own?utm_campaign=x"))
        ),
    )
    fixture_server.route(
        f"{prefix}/foreign", html_reply(article_page("Foreign canonical", canonical="https://elsewhere.example/stolen"))
    )
    fixture_server.route(
        f"{prefix}/feed.xml",
        feed_reply(
            rss(
                [
                    {"title": "Own canonical", "link": fixture_server.url(f"{prefix}/own")},
                    {"title": "Foreign canonical", "link": fixture_server.url(f"{prefix}/foreign")},
                ]
            )
        ),
    )
    add_url(fixture_server.url(f"{prefix}/feed.xml"))
    fetch_all()
    assert Article.objects.get(title="Own canonical").url == fixture_server.url(f"{prefix}/canonical-own")
    assert Article.objects.get(title="Foreign canonical").url == fixture_server.url(f"{prefix}/foreign")


def test_unavailable_page_falls_back_to_sanitized_feed_content(fixture_server, prefix):
    content = (
        '<p>The full text came with the feed.</p><script>alert("x")</script>'
        '<p onclick="steal()">Second <a href="javascript:alert(1)">paragraph</a>.</p>'
    )
    fixture_server.route(f"{prefix}/gone", Reply(404, b"gone", {"Content-Type": "text/plain"}))
    fixture_server.route(
        f"{prefix}/feed.xml",
        feed_reply(
            rss(
                [
                    {
                        "title": "Only in the feed",
                        "link": fixture_server.url(f"{prefix}/gone"),
                        "content": content,
                        "description": "A summary.",
                    }
                ]
            )
        ),
    )
    add_url(fixture_server.url(f"{prefix}/feed.xml"))
    fetch_all()
    article = Article.objects.get()
    entry = Entry.objects.get()
    assert article.origin == Article.Origin.FEED
    assert "The full text came with the feed." in article.body_text and "Second paragraph." in article.body_text
    assert "<script" not in article.body_html and "onclick" not in article.body_html
    assert "javascript:" not in article.body_html
    assert entry.state == Entry.State.DONE and "404" in entry.last_error


def test_publisher_sections_reach_the_article_and_file_a_borderline_story(fixture_server, prefix):
    """The page's article:section and the feed's categories are kept on the article, and
    the same borderline text (a council's transport plan) is filed where its publisher
    filed it."""
    from newsdesk.pipeline.enrich import enrich_articles

    for name, section in (("a", "Sport"), ("b", None), ("c", None)):
        fixture_server.route(f"{prefix}/{name}", html_reply(article_page(f"Story {name}", section=section)))
    fixture_server.route(f"{prefix}/gone", Reply(404, b"gone", {"Content-Type": "text/plain"}))
    fixture_server.route(
        f"{prefix}/feed.xml",
        feed_reply(
            rss(
                [
                    {
                        "title": "Story a",
                        "link": fixture_server.url(f"{prefix}/a"),
                        "categories": ["Football", "Sport"],
                    },
                    {
                        "title": "Story b",
                        "link": fixture_server.url(f"{prefix}/b"),
                        "categories": ["Business & Economy"],
                    },
                    {"title": "Story c", "link": fixture_server.url(f"{prefix}/c")},
                    {
                        "title": "Story d",
                        "link": fixture_server.url(f"{prefix}/gone"),
                        "content": "<p>" + LOREM[0] + "</p>",
                        "categories": ["Travel"],
                    },
                ]
            )
        ),
    )
    add_url(fixture_server.url(f"{prefix}/feed.xml"))
    fetch_all()
    stored = {a.title: a for a in Article.objects.all()}
    assert stored["Story a"].publisher_sections == ["Sport", "Football"]  # the page's first, each once
    assert stored["Story b"].publisher_sections == ["Business & Economy"]
    assert stored["Story c"].publisher_sections == []
    assert stored["Story d"].publisher_sections == ["Travel"]  # kept on the feed fallback too
    assert Entry.objects.get(url=fixture_server.url(f"{prefix}/a")).categories == ["Football", "Sport"]

    enrich_articles([a.pk for a in stored.values()])
    section = {
        title: a.enrichment.section
        for title, a in ((t, Article.objects.select_related("enrichment").get(pk=a.pk)) for t, a in stored.items())
    }
    assert section["Story a"] == "sports"
    assert section["Story b"] == "business"
    assert section["Story c"] == "politics"  # the same text, left to itself


def test_transient_errors_are_retried_then_stored(fixture_server, prefix):
    calls = []

    def flaky(request):
        calls.append(request)
        if len(calls) == 1:
            return Reply(503, b"busy", {"Content-Type": "text/plain", "Retry-After": "120"})
        return html_reply(article_page("Second time lucky"))

    fixture_server.route(f"{prefix}/flaky", flaky)
    fixture_server.route(
        f"{prefix}/feed.xml",
        feed_reply(rss([{"title": "Second time lucky", "link": fixture_server.url(f"{prefix}/flaky")}])),
    )
    add_url(fixture_server.url(f"{prefix}/feed.xml"))
    fetch_all()
    entry = Entry.objects.get()
    assert not Article.objects.exists()
    assert entry.state == Entry.State.PENDING and entry.attempts == 1
    assert entry.next_attempt_at >= timezone.now() + timedelta(seconds=110)  # Retry-After honoured
    assert ingest.claim_due_entries() == []  # not due yet

    later = entry.next_attempt_at + timedelta(seconds=1)
    due = ingest.claim_due_entries(now=later)
    assert due == [entry.pk]
    ingest.process_entries(due)
    assert Article.objects.get().origin == Article.Origin.PAGE


def test_broken_feed_is_reported_and_does_not_stop_others(fixture_server, prefix, client):
    good = serve_site(fixture_server, prefix, ["Healthy feed item"])
    fixture_server.route(f"{prefix}/broken.xml", feed_reply(b'<?xml version="1.0"?><rss><channel><item><title>x'))
    add_url(good)
    broken = Feed.objects.create(source=Feed.objects.get().source, url=fixture_server.url(f"{prefix}/broken.xml"))
    fetch_all()
    broken.refresh_from_db()
    assert broken.error_count == 1 and broken.last_error
    assert broken.next_fetch_at > timezone.now() + timedelta(minutes=4)  # backed off
    assert Article.objects.filter(title="Healthy feed item").exists()
    sources_page = client.get("/sources/").content.decode()
    assert "failing (1 in a row)" in sources_page and broken.url in sources_page


def test_crash_mid_batch_loses_nothing(fixture_server, prefix, monkeypatch):
    serve_site(fixture_server, prefix, [f"Crash test {n}" for n in range(4)])
    add_url(fixture_server.url(f"{prefix}/feed.xml"))
    feed = Feed.objects.get()
    outcome = ingest.fetch_feed(feed.pk)
    assert len(outcome.new_entries) == 4

    real_extract = ingest.extract
    seen = []

    def dying_extract(*args, **kwargs):
        seen.append(args[1])
        if len(seen) == 3:
            raise SystemExit("worker killed")  # not an Exception: nothing may catch it
        return real_extract(*args, **kwargs)

    monkeypatch.setattr(ingest, "extract", dying_extract)
    with pytest.raises(SystemExit):
        ingest.process_entries(outcome.new_entries)
    stored = list(Article.objects.all())
    assert len(stored) == 2
    assert all(LOREM[3] in a.body_text for a in stored)  # whole articles only
    pending = Entry.objects.filter(state=Entry.State.PENDING)
    assert pending.count() == 2
    assert ingest.claim_due_entries() == []  # still leased

    monkeypatch.setattr(ingest, "extract", real_extract)
    due = ingest.claim_due_entries(now=timezone.now() + ingest.lease_time() + timedelta(seconds=1))
    assert sorted(due) == sorted(pending.values_list("pk", flat=True))
    ingest.process_entries(due)
    assert Article.objects.count() == 4
    assert not Entry.objects.filter(state=Entry.State.PENDING).exists()


def test_add_single_article_and_home_page_discovery(fixture_server, prefix):
    fixture_server.route(f"{prefix}/2026/11/28/lone-article", html_reply(article_page("A lone article")))
    added = add_url(fixture_server.url(f"{prefix}/2026/11/28/lone-article"))
    assert added.article is not None and added.article.title == "A lone article"
    assert LOREM[2] in added.article.body_text

    home = (
        f'<html><head><title>Site</title><link rel="alternate" type="application/rss+xml" '
        f'href="{prefix}/feed.xml"></head><body>Front page</body></html>'
    ).encode()
    serve_site(fixture_server, prefix, ["Discovered item"])
    fixture_server.route(f"{prefix}", html_reply(home))
    added = add_url(fixture_server.url(f"{prefix}"))
    assert [f.url for f in added.feeds] == [fixture_server.url(f"{prefix}/feed.xml")]


def test_add_reports_unusable_urls(fixture_server, prefix):
    with pytest.raises(AddError, match="not an http"):
        add_url("ftp://example.com/feed")
    fixture_server.route(f"{prefix}/missing", Reply(404, b"no", {"Content-Type": "text/plain"}))
    with pytest.raises(AddError, match="404"):
        add_url(fixture_server.url(f"{prefix}/missing"))


def test_opml_import_and_export(fixture_server, prefix, tmp_path, capsys):
    opml = tmp_path / "subs.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>'
        '<outline text="News"><outline type="rss" text="One" xmlUrl="https://one.example/feed.xml" '
        'htmlUrl="https://one.example/"/><outline type="rss" text="Two" xmlUrl="https://two.example/rss"/>'
        "</outline></body></opml>"
    )
    call_command("import_opml", str(opml))
    call_command("import_opml", str(opml))  # again: nothing doubles
    assert sorted(Feed.objects.values_list("url", flat=True)) == [
        "https://one.example/feed.xml",
        "https://two.example/rss",
    ]
    capsys.readouterr()
    call_command("export_opml")
    exported = capsys.readouterr().out
    assert 'xmlUrl="https://one.example/feed.xml"' in exported and 'xmlUrl="https://two.example/rss"' in exported


def test_publishers_on_two_ports_of_one_host_are_two_sources():
    """Local publishers (../shared/tools/local-publishers serves four on 127.0.0.1) are
    told apart by port; a default port or "www." names the same site."""
    first = source_for("http://127.0.0.1:8701/feed.xml", "Publisher 1")
    second = source_for("http://127.0.0.1:8702/feed.xml", "Publisher 2")
    assert first != second and second.name == "Publisher 2"
    assert source_for("http://127.0.0.1:8701/news/1.html", None) == first
    site = source_for("https://www.example.com/news/1", "Example")
    assert source_for("https://example.com:443/feed.xml", None) == site
