"""The staff's desk against a real HTTP server on 127.0.0.1 serving a fixture site: only
staff get in; a URL's feeds are previewed (title, kind, item count, latest items, through
the guarded fetcher, which refuses private addresses unless allowed) and nothing is
stored until the chosen ones are subscribed (without fetching again, from a signed
preview); sources and feeds are edited with the API's rules; readers suggest sources
(limited, idempotent), staff approve through the same flow or decline, and the reader
sees the outcome; nothing of it reaches an anonymous page."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from newsdesk.desk.models import Suggestion
from newsdesk.sources.client import reset_fetcher
from newsdesk.sources.models import Feed, Source
from tests.fixtureserver import Reply
from tests.pages import atom, rss

pytestmark = pytest.mark.django_db
User = get_user_model()
PASSWORD = "a long password 42"
_ids = itertools.count()
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def prefix() -> str:
    return f"/desk{next(_ids)}"


def serve_site(server, prefix: str) -> dict[str, str]:
    """A publisher's home page advertising an RSS feed, an Atom feed and a feed that is gone."""
    news = [
        {"title": f"Harbour story {n}", "link": server.url(f"{prefix}/news/{n}"), "published": NOW - timedelta(hours=n)}
        for n in range(7)
    ]
    sport = [
        {"title": "Regatta won", "link": server.url(f"{prefix}/sport/1"), "updated": NOW - timedelta(hours=2)},
        {"title": "Pier race", "link": server.url(f"{prefix}/sport/2"), "updated": NOW - timedelta(days=1)},
    ]
    server.route(
        f"{prefix}/rss.xml",
        Reply(200, rss(news, title="Harbour Gazette: News"), {"Content-Type": "application/rss+xml"}),
    )
    server.route(
        f"{prefix}/sport.atom",
        Reply(200, atom(sport, title="Harbour Gazette: Sport"), {"Content-Type": "application/atom+xml"}),
    )
    server.route(f"{prefix}/gone.xml", Reply(404, b"gone", {"Content-Type": "text/plain"}))
    home = f"""<!doctype html><html><head><title>Harbour Gazette</title>
<meta property="og:site_name" content="Harbour Gazette">
<link rel="alternate" type="application/rss+xml" title="News" href="{prefix}/rss.xml">
<link rel="alternate" type="application/atom+xml" title="Sport" href="{prefix}/sport.atom">
<link rel="alternate" type="application/rss+xml" title="Old" href="{prefix}/gone.xml">
</head><body><h1>Harbour Gazette</h1></body></html>""".encode()
    server.route(prefix, Reply(200, home, {"Content-Type": "text/html; charset=utf-8"}))
    return {
        "home": server.url(prefix),
        "rss": server.url(f"{prefix}/rss.xml"),
        "atom": server.url(f"{prefix}/sport.atom"),
        "gone": server.url(f"{prefix}/gone.xml"),
    }


@pytest.fixture
def staff():
    user = User.objects.create_user("desk-staff", "staff@example.org", PASSWORD, is_staff=True)
    client = Client()
    client.force_login(user)
    return user, client


@pytest.fixture
def reader():
    user = User.objects.create_user("desk-reader", "reader@example.org", PASSWORD)
    client = Client()
    client.force_login(user)
    return user, client


def token_of(html: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', html).group(1)


def hits(server, prefix: str) -> int:
    return sum(1 for r in server.requests if r.path.startswith(prefix))


# --- who may ------------------------------------------------------------------------------


def test_the_desk_is_for_staff_only(client, reader, staff, fixture_server, prefix):
    site = serve_site(fixture_server, prefix)
    response = client.get(reverse("desk:index"))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]
    _, reading = reader
    response = reading.get(reverse("desk:index"))
    assert response.status_code == 403 and "Staff only" in response.content.decode()
    # A reader cannot make the server fetch, nor subscribe, nor edit.
    assert reading.post(reverse("desk:preview"), {"url": site["home"]}).status_code == 403
    assert hits(fixture_server, prefix) == 0
    Source.objects.create(name="Kept", slug="kept", home_url="https://kept.example/")
    assert reading.get(reverse("desk:source", args=["kept"])).status_code == 403
    assert reading.post(reverse("desk:save-source", args=["kept"]), {"source-name": "Taken"}).status_code == 403
    assert Source.objects.get(slug="kept").name == "Kept"
    _, desk = staff
    response = desk.get(reverse("desk:index"))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert desk.get(reverse("desk:preview")).status_code == 405  # a preview fetches: POST only
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(staff[0])
    assert strict.post(reverse("desk:preview"), {"url": site["home"]}).status_code == 403


def test_the_header_links_staff_to_the_desk_and_nobody_else(client, reader, staff):
    desk_link = f'href="{reverse("desk:index")}"'
    assert desk_link in staff[1].get(reverse("sources")).content.decode()
    assert desk_link not in reader[1].get(reverse("sources")).content.decode()
    assert desk_link not in client.get(reverse("sources")).content.decode()


# --- add: preview, then subscribe ----------------------------------------------------------


def test_a_home_page_is_previewed_then_the_chosen_feeds_subscribed(staff, fixture_server, prefix):
    user, desk = staff
    site = serve_site(fixture_server, prefix)
    response = desk.post(reverse("desk:preview"), {"url": site["home"]})
    html = response.content.decode()
    assert response.status_code == 200, html[:500]
    assert "a home page that leads to 3 feeds" in html
    assert "Harbour Gazette: News" in html and "Harbour Gazette: Sport" in html
    assert ">RSS<" in html and ">Atom<" in html
    assert "7 items" in html and "2 items" in html
    # The latest items, newest first, five at most.
    news = html[html.index("Harbour Gazette: News") :]
    shown = re.findall(r"Harbour story (\d)", news[: news.index("Harbour Gazette: Sport")])
    assert shown == ["0", "1", "2", "3", "4"]
    assert "Regatta won" in html and "<time" in html
    assert "404" in html  # the gone feed says why it cannot be chosen
    assert html.count('name="feed"') == 2
    assert 'value="Harbour Gazette"' in html  # the new source's name, from the page
    assert not Source.objects.exists() and not Feed.objects.exists()  # nothing stored yet

    fetched = hits(fixture_server, prefix)
    form = {
        "token": token_of(html),
        "feed": [site["rss"]],
        "name": "Harbour Gazette",
        "country": "gb",
        "language": "EN",
        "kind": "public",
    }
    response = desk.post(reverse("desk:subscribe"), form)
    assert response.status_code == 302, response.content.decode()[:500]
    source = Source.objects.get()
    assert response["Location"] == reverse("desk:source", args=[source.slug]) + "?added=1"
    assert (source.name, source.country, source.language, source.kind) == ("Harbour Gazette", "GB", "en", "public")
    assert [(f.url, f.title) for f in Feed.objects.all()] == [(site["rss"], "Harbour Gazette: News")]
    assert hits(fixture_server, prefix) == fetched  # subscribing fetched nothing again
    # Twice is once.
    response = desk.post(reverse("desk:subscribe"), form)
    assert response["Location"].endswith("?added=0") and Feed.objects.count() == 1 and Source.objects.count() == 1
    page = desk.get(response["Location"]).content.decode()
    assert "Nothing new to subscribe to" in page

    # Previewed again, the site is that source and its feed is already there.
    html = desk.post(reverse("desk:preview"), {"url": site["home"]}).content.decode()
    assert "The chosen feeds join" in html and "Already a feed of" in html
    assert html.count('name="feed"') == 1  # only the Atom feed is left to choose
    desk.post(reverse("desk:subscribe"), {"token": token_of(html), "feed": [site["atom"], site["gone"]]})
    assert sorted(Feed.objects.values_list("url", flat=True)) == sorted([site["rss"], site["atom"]])
    assert {f.source_id for f in Feed.objects.all()} == {source.pk}


def test_a_feed_url_is_its_own_preview(staff, fixture_server, prefix):
    _, desk = staff
    site = serve_site(fixture_server, prefix)
    html = desk.post(reverse("desk:preview"), {"url": site["atom"]}).content.decode()
    assert "it is a feed itself" in html and "Harbour Gazette: Sport" in html and "2 items" in html
    response = desk.post(reverse("desk:subscribe"), {"token": token_of(html), "feed": [site["atom"]], "name": "Sport"})
    assert response.status_code == 302
    assert Feed.objects.get().url == site["atom"] and Source.objects.get().name == "Sport"


def test_bad_input_is_explained_and_kept(staff, fixture_server, prefix):
    _, desk = staff
    site = serve_site(fixture_server, prefix)
    response = desk.post(reverse("desk:preview"), {"url": "javascript:alert(1)"})
    assert response.status_code == 400 and "starting with http:// or https://" in response.content.decode()
    assert 'value="javascript:alert(1)"' in response.content.decode()
    response = desk.post(reverse("desk:preview"), {"url": site["gone"]})
    assert response.status_code == 200 and "could not fetch" in response.content.decode()
    html = desk.post(reverse("desk:preview"), {"url": site["home"]}).content.decode()
    token = token_of(html)
    # No feed chosen, or a bad country: the preview comes back with the problem and the fields kept.
    response = desk.post(reverse("desk:subscribe"), {"token": token, "name": "Harbour"})
    assert response.status_code == 400 and "Choose at least one feed" in response.content.decode()
    assert "Harbour Gazette: News" in response.content.decode()  # the preview is still there
    response = desk.post(
        reverse("desk:subscribe"), {"token": token, "feed": [site["rss"]], "name": "Harbour", "country": "Britain"}
    )
    text = response.content.decode()
    assert response.status_code == 400 and "Two letters" in text and 'value="Britain"' in text
    # An altered preview cannot slip in another feed.
    altered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    response = desk.post(reverse("desk:subscribe"), {"token": altered, "feed": [site["rss"]], "name": "Harbour"})
    assert response.status_code == 400 and "was altered" in response.content.decode()
    assert not Source.objects.exists() and not Feed.objects.exists()


def test_private_addresses_are_refused_unless_allowed(staff, fixture_server, prefix, settings):
    _, desk = staff
    site = serve_site(fixture_server, prefix)
    settings.NEWSDESK_FETCH_ALLOW_HOSTS = []
    reset_fetcher()
    response = desk.post(reverse("desk:preview"), {"url": site["home"]})
    text = response.content.decode()
    assert response.status_code == 200 and "could not fetch" in text and "Harbour Gazette" not in text
    assert hits(fixture_server, prefix) == 0  # refused before any connection
    assert not Source.objects.exists()


# --- edit -----------------------------------------------------------------------------------


def test_a_source_and_its_feeds_are_edited(staff):
    _, desk = staff
    source = Source.objects.create(name="Harbour", slug="harbour", home_url="https://harbour.example/")
    feed = Feed.objects.create(
        source=source, url="https://harbour.example/rss", etag='"v1"', last_modified="yesterday", title="Old"
    )
    Feed.objects.create(source=source, url="https://harbour.example/other")
    page = desk.get(reverse("desk:source", args=["harbour"])).content.decode()
    assert 'value="Harbour"' in page and 'value="https://harbour.example/rss"' in page
    form = {
        "source-name": "  Harbour   Gazette ",
        "source-slug": "harbour-gazette",
        "source-home_url": "HTTPS://Harbour.example",
        "source-country": "gb",
        "source-language": "EN-gb",
        "source-kind": "blog",
    }
    response = desk.post(reverse("desk:save-source", args=["harbour"]), form)
    assert response.status_code == 302 and response["Location"] == "/desk/sources/harbour-gazette/?saved=source"
    source.refresh_from_db()
    assert (source.name, source.slug, source.home_url, source.country, source.language, source.kind) == (
        "Harbour Gazette",
        "harbour-gazette",
        "https://harbour.example/",
        "GB",
        "en-gb",
        "blog",
    )
    bad = {**form, "source-country": "GBR", "source-language": "not a tag"}
    response = desk.post(reverse("desk:save-source", args=["harbour-gazette"]), bad)
    text = response.content.decode()
    assert response.status_code == 400 and "Two letters" in text and "language tag" in text and 'value="GBR"' in text
    source.refresh_from_db()
    assert source.country == "GB"

    # A feed's new address starts afresh; turned off, it is not polled.
    prefix = f"feed-{feed.pk}"
    response = desk.post(
        reverse("desk:save-feed", args=[feed.pk]),
        {f"{prefix}-url": "https://harbour.example/feed.xml", f"{prefix}-title": "News"},
    )
    assert response.status_code == 302
    feed.refresh_from_db()
    assert (feed.url, feed.title, feed.enabled, feed.etag, feed.last_modified) == (
        "https://harbour.example/feed.xml",
        "News",
        False,
        "",
        "",
    )
    response = desk.post(
        reverse("desk:save-feed", args=[feed.pk]),
        {f"{prefix}-url": "https://harbour.example/other", f"{prefix}-title": "Dup", f"{prefix}-enabled": "on"},
    )
    text = response.content.decode()
    assert response.status_code == 400 and "is already a feed of Harbour Gazette" in text and 'value="Dup"' in text
    feed.refresh_from_db()
    assert (feed.url, feed.title) == ("https://harbour.example/feed.xml", "News")
    before = feed.next_fetch_at
    desk.post(
        reverse("desk:save-feed", args=[feed.pk]),
        {f"{prefix}-url": feed.url, f"{prefix}-title": "News", f"{prefix}-enabled": "on"},
    )
    feed.refresh_from_db()
    assert feed.enabled and feed.next_fetch_at >= before


# --- suggestions ----------------------------------------------------------------------------


def test_a_suggestion_approved_through_the_add_flow(reader, staff, fixture_server, prefix):
    user, reading = reader
    _, desk = staff
    site = serve_site(fixture_server, prefix)
    for _ in range(2):  # idempotent: one suggestion
        response = reading.post(reverse("desk:send-suggestion"), {"url": site["home"], "note": "Local harbour news"})
        assert response.status_code == 302 and response["Location"] == "/desk/suggest/?sent=1"
    suggestion = Suggestion.objects.get()
    assert (suggestion.user, suggestion.status, suggestion.note) == (user, "pending", "Local harbour news")
    assert hits(fixture_server, prefix) == 0  # suggesting fetches nothing
    page = reading.get(reverse("desk:suggest")).content.decode()
    assert (
        "Waiting for review" in page
        and site["home"] in page
        and "no-store" in reading.get(reverse("desk:suggest"))["Cache-Control"]
    )

    index = desk.get(reverse("desk:index")).content.decode()
    assert site["home"] in index and "Local harbour news" in index and "desk-reader" in index
    html = desk.post(reverse("desk:preview"), {"url": suggestion.url, "suggestion": suggestion.pk}).content.decode()
    assert "Suggested by <strong>desk-reader</strong>" in html and "Harbour Gazette: News" in html
    response = desk.post(
        reverse("desk:subscribe"), {"token": token_of(html), "feed": [site["rss"]], "name": "Harbour Gazette"}
    )
    assert response.status_code == 302
    suggestion.refresh_from_db()
    source = Source.objects.get()
    assert (suggestion.status, suggestion.source, suggestion.decided_by) == ("approved", source, staff[0])
    page = reading.get(reverse("desk:suggest")).content.decode()
    assert "Added" in page and f'href="/sources/{source.slug}/"' in page
    assert "1 waiting" not in desk.get(reverse("desk:index")).content.decode()

    # Suggested again as the feed itself: nothing new to subscribe to, approved as that source.
    other = User.objects.create_user("desk-reader-2")
    again = Suggestion.objects.create(user=other, url=site["rss"])
    html = desk.post(reverse("desk:preview"), {"url": again.url, "suggestion": again.pk}).content.decode()
    assert 'name="feed"' not in html and "Approve: Harbour Gazette already covers it" in html
    assert desk.post(reverse("desk:subscribe"), {"token": token_of(html)}).status_code == 302
    again.refresh_from_db()
    assert (again.status, again.source) == ("approved", source) and Feed.objects.count() == 1


def test_a_suggestion_declined_and_the_reader_sees_why(reader, staff):
    user, reading = reader
    _, desk = staff
    reading.post(reverse("desk:send-suggestion"), {"url": "https://tabloid.example/"})
    suggestion = Suggestion.objects.get()
    response = desk.post(reverse("desk:decline", args=[suggestion.pk]), {"reason": "Not a news publisher"})
    assert response.status_code == 302
    suggestion.refresh_from_db()
    decided = suggestion.decided_at
    assert (suggestion.status, suggestion.reason) == ("declined", "Not a news publisher")
    desk.post(reverse("desk:decline", args=[suggestion.pk]), {"reason": "again"})  # decided stays decided
    suggestion.refresh_from_db()
    assert (suggestion.reason, suggestion.decided_at) == ("Not a news publisher", decided)
    page = reading.get(reverse("desk:suggest")).content.decode()
    assert "Declined" in page and "Not a news publisher" in page
    # Declined, the same address can be suggested again.
    reading.post(reverse("desk:send-suggestion"), {"url": "https://tabloid.example/"})
    assert Suggestion.objects.filter(status="pending").count() == 1
    assert reading.post(reverse("desk:decline", args=[suggestion.pk])).status_code == 403


def test_suggestions_are_limited_and_bad_ones_explained(reader, client, settings):
    user, reading = reader
    settings.NEWSDESK_SUGGESTIONS_PER_HOUR = 2
    response = client.post(reverse("desk:send-suggestion"), {"url": "https://one.example/"})
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]
    response = reading.post(reverse("desk:send-suggestion"), {"url": "javascript:alert(1)", "note": "keep me"})
    text = response.content.decode()
    assert response.status_code == 400 and "starting with http:// or https://" in text and "keep me" in text
    for n in range(2):
        assert reading.post(reverse("desk:send-suggestion"), {"url": f"https://site{n}.example/"}).status_code == 302
    response = reading.post(reverse("desk:send-suggestion"), {"url": "https://site9.example/", "note": "third"})
    text = response.content.decode()
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "2 suggestions in the last hour" in text and 'value="https://site9.example/"' in text and "third" in text
    assert Suggestion.objects.filter(user=user).count() == 2
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.post(reverse("desk:send-suggestion"), {"url": "https://csrf.example/"}).status_code == 403


def test_no_trace_of_the_desk_in_anonymous_pages(client, reader, staff, fixture_server, prefix):
    _, reading = reader
    _, desk = staff
    site = serve_site(fixture_server, prefix)
    Source.objects.create(name="Kept", slug="kept", home_url="https://kept.example/")
    urls = ["/", reverse("sources"), reverse("source", args=["kept"])]
    for url in urls:
        assert client.get(url).status_code == 200
    reading.post(reverse("desk:send-suggestion"), {"url": "https://secret-tip.example/", "note": "NOTE-7731"})
    desk.post(reverse("desk:preview"), {"url": site["home"]})
    for name in ("desk:index", "desk:suggest"):
        response = (desk if name == "desk:index" else reading).get(reverse(name))
        assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
        anonymous = client.get(reverse(name))
        assert anonymous.status_code == 302
    for url in urls:
        text = client.get(url).content.decode()
        for trace in ("NOTE-7731", "secret-tip", "desk-reader", "desk-staff", "csrfmiddlewaretoken"):
            assert trace not in text, (url, trace)
