"""Follow and mute from the site's pages (hashtags, sections, stories, searches, sources,
words), the Following page with its unread and new counts, and "new since your last
visit" markers; the rules: signed-in only, CSRF, idempotent, rate-limited, clear errors
that change nothing, and no trace of a reader in any page an anonymous reader gets."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from newsdesk.reader import interests, new_since, state
from newsdesk.reader.models import Follow, Interest, Visit
from newsdesk.search.types import SearchFilters
from tests import web_data
from tests.reader_support import alice, fan_out_everything, signed_in, world  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db
User = get_user_model()
INTEREST = reverse("reader:interest")


def change(client: Client, kind: str, key, do: str, *, status: int = 302, **extra):
    response = client.post(INTEREST, {"kind": kind, "key": key, "do": do, **extra})
    assert response.status_code == status, (kind, key, do, response.status_code, response.content[:400])
    return response


def interest_rows(user) -> set[tuple[str, str, bool]]:
    return set(Interest.objects.filter(user=user).values_list("kind", "key", "muted"))


# --- the module ----------------------------------------------------------------------------


def test_keys_are_normalised_and_must_name_something(world):
    assert interests.resolve("hashtag", "#Vladimir-Putin").key == "vladimir-putin"
    assert interests.resolve("hashtag", "vladimir-putin").label == "#Vladimir Putin"
    assert interests.resolve("section", "World").key == "world"
    assert interests.resolve("story", str(world.story.pk)).label == world.story.title
    assert interests.resolve("word", "  Royal   Family ").key == "royal family"
    # A saved search: its filters as the search page takes them, sorted, empty ones out.
    key = interests.search_key({"q": "  oil   prices ", "hashtag": "#Kyiv", "section": "", "source": "bbc"})
    assert key == "hashtag=kyiv&q=oil+prices&source=bbc"
    assert interests.resolve("search", "?source=bbc&q=oil prices&hashtag=Kyiv").key == key
    assert interests.describe_search(key) == "“oil prices” from BBC News with #kyiv"
    assert interests.search_of(key) == ("oil prices", SearchFilters(source="bbc", hashtag="kyiv"))
    dated = interests.search_key({"q": "oil", "since": "2025-01-02", "until": "2025-02-01"})
    assert interests.search_of(dated)[1] == SearchFilters(since=date(2025, 1, 2), until=date(2025, 2, 1))
    for kind, key, message in [
        ("hashtag", "no-such-tag", "no hashtag"),
        ("section", "gardening", "no section"),
        ("story", "99999", "no story"),
        ("story", "abc", "by its number"),
        ("source", "nowhere", "no source"),
        ("word", "x", "2 to"),
        ("search", "q=", "needs words"),
        ("search", "q=oil&since=yesterday", "since"),
        ("planet", "mars", "not something"),
    ]:
        with pytest.raises(interests.InterestError, match=message):
            interests.resolve(kind, key)


def test_follow_mute_and_their_undoing_are_idempotent_and_exclusive(alice, world):
    for _ in range(2):
        interests.follow(alice, "hashtag", "Vladimir-Putin")
    assert interest_rows(alice) == {("hashtag", "vladimir-putin", False)}
    seen = Interest.objects.get(user=alice).seen_at
    interests.follow(alice, "hashtag", "vladimir-putin")
    assert Interest.objects.get(user=alice).seen_at == seen  # following again keeps its place
    interests.mute(alice, "hashtag", "vladimir-putin")  # muting replaces the follow
    assert interest_rows(alice) == {("hashtag", "vladimir-putin", True)}
    interests.unfollow(alice, "hashtag", "vladimir-putin")  # not followed: the mute stays
    assert interest_rows(alice) == {("hashtag", "vladimir-putin", True)}
    interests.follow(alice, "hashtag", "vladimir-putin")  # following lifts the mute
    assert interest_rows(alice) == {("hashtag", "vladimir-putin", False)}
    for _ in range(2):
        interests.unfollow(alice, "hashtag", "vladimir-putin")
    assert interest_rows(alice) == set()
    # A source: following is a Follow (a reader app's subscription); muting drops it.
    interests.follow(alice, "source", "rt")
    assert Follow.objects.filter(user=alice, source__slug="rt").exists()
    interests.mute(alice, "source", "rt")
    assert not Follow.objects.filter(user=alice).exists()
    assert interest_rows(alice) == {("source", "rt", True)}
    interests.follow(alice, "source", "rt")
    assert interest_rows(alice) == set() and Follow.objects.filter(user=alice).count() == 1
    with pytest.raises(interests.InterestError, match="muted, not followed"):
        interests.follow(alice, "word", "weather")
    with pytest.raises(interests.InterestError, match="can be muted"):
        interests.mute(alice, "story", world.story.pk)


def test_a_reader_has_at_most_so_many_interests(alice, world, monkeypatch):
    monkeypatch.setattr(interests, "MAX_PER_READER", 2)
    interests.mute(alice, "word", "one")
    interests.mute(alice, "word", "two")
    with pytest.raises(interests.InterestError, match="the most we keep"):
        interests.mute(alice, "word", "three")
    interests.mute(alice, "word", "two")  # changing what is there is still allowed
    assert Interest.objects.filter(user=alice).count() == 2


# --- the buttons on the site's pages ------------------------------------------------------


def test_follow_and_mute_buttons_on_hashtag_section_story_source_and_search_pages(signed_in, alice, world):
    pages = [
        (reverse("hashtag", args=["vladimir-putin"]), "Follow #Vladimir Putin", "Mute #Vladimir Putin"),
        (reverse("section", args=["world"]), "Follow World", "Mute World"),
        (reverse("story", args=[world.story.pk]), "Follow this story", None),
        (reverse("source", args=["rt"]), "Follow Russia Today", "Mute Russia Today"),
        (reverse("search:search") + "?q=Putin&section=world", "Follow this search", None),
    ]
    for url, follow_text, mute_text in pages:
        page = signed_in.get(url).content.decode()
        assert follow_text in page, url
        assert (mute_text in page) if mute_text else ("Mute " not in page), url
        assert f'action="{INTEREST}"' in page and "csrfmiddlewaretoken" in page, url
        assert "reader/reader.js" in page and "htmx.min.js" in page, url
    # The forms' fields are what the view takes: post the search page's own form.
    page = signed_in.get(reverse("search:search") + "?q=Putin&section=world").content.decode()
    form = re.search(r'<form method="post" action="/reading/interest/".*?</form>', page, re.S).group(0)
    fields = {name: html.unescape(value) for name, value in re.findall(r'name="(\w+)" value="([^"]*)"', form)}
    assert fields["do"] == "follow" and fields["kind"] == "search"
    response = signed_in.post(INTEREST, fields)
    assert response.status_code == 302 and response["Location"] == "/search/?q=Putin&section=world"
    assert interest_rows(alice) == {("search", "q=Putin&section=world", False)}
    assert "Unfollow this search" in signed_in.get(reverse("search:search") + "?section=world&q=Putin").content.decode()


def test_buttons_work_without_javascript_and_swap_in_place_with_htmx(signed_in, alice, world):
    url = reverse("hashtag", args=["vladimir-putin"])
    for _ in range(2):
        response = change(signed_in, "hashtag", "vladimir-putin", "follow", next=url)
        assert response["Location"] == url
    assert interest_rows(alice) == {("hashtag", "vladimir-putin", False)}
    page = signed_in.get(url).content.decode()
    assert "Unfollow #Vladimir Putin" in page and 'aria-pressed="true"' in page
    response = signed_in.post(
        INTEREST, {"kind": "hashtag", "key": "vladimir-putin", "do": "mute", "next": url}, HTTP_HX_REQUEST="true"
    )
    text = response.content.decode()
    assert response.status_code == 200 and "<html" not in text
    assert "Unmute #Vladimir Putin" in text and "never appear in For You" in text and "csrfmiddlewaretoken" in text
    assert interest_rows(alice) == {("hashtag", "vladimir-putin", True)}
    # A source page offers Mute beside its own Follow button; htmx keeps it that way.
    response = signed_in.post(
        INTEREST, {"kind": "source", "key": "rt", "do": "mute", "show": "mute"}, HTTP_HX_REQUEST="true"
    )
    text = response.content.decode()
    assert "Unmute Russia Today" in text and "Follow Russia Today" not in text


def test_bad_requests_say_why_and_change_nothing(signed_in, alice, world):
    for kind, key, do, message in [
        ("hashtag", "no-such-tag", "follow", "There is no hashtag #no-such-tag."),
        ("word", "x", "mute", "2 to 60 characters"),
        ("hashtag", "vladimir-putin", "explode", "follow, unfollow, mute or unmute"),
        ("search", "q=", "follow", "needs words"),
        ("story", world.story.pk, "mute", "can be muted"),
    ]:
        response = change(signed_in, kind, key, do, status=400, next="/hashtags/vladimir-putin/")
        text = response.content.decode()
        assert message in text and "Nothing was changed." in text and 'href="/hashtags/vladimir-putin/"' in text
    assert interest_rows(alice) == set()


def test_changes_need_a_signed_in_reader_a_post_and_a_csrf_token(client, alice, world):
    response = client.post(INTEREST, {"kind": "hashtag", "key": "vladimir-putin", "do": "follow"})
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert strict.get(INTEREST).status_code == 405
    assert strict.post(INTEREST, {"kind": "hashtag", "key": "vladimir-putin", "do": "follow"}).status_code == 403
    assert strict.post(reverse("reader:nudge", args=[world.article.pk]), {"do": "more"}).status_code == 403
    assert interest_rows(alice) == set()
    page = strict.get(reverse("hashtag", args=["vladimir-putin"])).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = {"kind": "hashtag", "key": "vladimir-putin", "do": "follow", "csrfmiddlewaretoken": token}
    assert strict.post(INTEREST, data).status_code == 302
    assert interest_rows(alice) == {("hashtag", "vladimir-putin", False)}


def test_changes_are_rate_limited_per_reader(signed_in, alice, world, settings):
    settings.NEWSDESK_READER_ACTIONS_PER_MINUTE = 2
    change(signed_in, "hashtag", "vladimir-putin", "follow")
    change(signed_in, "section", "world", "follow")
    response = change(signed_in, "word", "weather", "mute", status=429)
    assert int(response["Retry-After"]) > 0
    assert ("word", "weather", True) not in interest_rows(alice)


# --- the Following page -------------------------------------------------------------------


def test_following_page_lists_everything_with_unread_and_new_counts(signed_in, alice, world, monkeypatch, settings):
    now = timezone.now()
    interests.follow(alice, "source", "bbc")
    interests.follow(alice, "hashtag", "vladimir-putin")
    interests.follow(alice, "section", "world")
    interests.follow(alice, "story", world.story.pk)
    interests.follow(alice, "search", "q=Putin")
    interests.mute(alice, "word", "harbour")
    interests.mute(alice, "source", "evil")
    # Everything was last opened three hours ago; the world's articles are newer. A saved
    # search counts its matches from the alerts' fan-out, as it runs after ingest.
    Interest.objects.filter(user=alice).update(seen_at=now - timedelta(hours=3))
    assert new_since.counts(alice)[-1].kind == "search" and new_since.counts(alice)[-1].count == 0
    fan_out_everything(settings)
    state.mark_read(alice, [world.other.pk])  # read: not new any more
    page = signed_in.get(reverse("reader:following"))
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    text = page.content.decode()
    # bbc: its one article is read; #Vladimir Putin: two articles, one read; world: three
    # articles (the evil one counts: muting is For You's), one read; the story: two, one read.
    counts = {(c.kind, c.key): c.shown for c in new_since.counts(alice)}
    assert counts == {
        ("source", "bbc"): "0",
        ("hashtag", "vladimir-putin"): "1",
        ("section", "world"): "2",
        ("story", str(world.story.pk)): "1",
        ("search", "q=Putin"): "1",
    }
    for label in ["BBC News", "#Vladimir Putin", "World", world.story.title, "“Putin”", "“harbour”"]:
        assert label in text, label
    assert "0 unread" in text and "1 new" in text and "2 new" in text
    assert 'href="/search/?q=Putin"' in text and "Unmute" in text
    # A busy followed thing reads "N+" instead of counting on.
    monkeypatch.setattr(new_since, "COUNT_CAP", 1)
    assert {(c.kind, c.key): c.shown for c in new_since.counts(alice)}[("section", "world")] == "1+"
    # Unfollow and unmute from the page.
    change(signed_in, "section", "world", "unfollow", next=reverse("reader:following"))
    change(signed_in, "word", "harbour", "unmute")
    assert ("section", "world", False) not in interest_rows(alice)
    assert ("word", "harbour", True) not in interest_rows(alice)


def test_unread_counts_keep_to_state_rules(alice, world):
    interests.follow(alice, "source", "rt")
    extra = [web_data.article(world.article.source, 70 + n, title=f"Extra {n}") for n in range(3)]
    assert {c.key: c.count for c in new_since.counts(alice)}["rt"] == 4
    state.mark_read(alice, [extra[0].pk])
    follow = Follow.objects.get(user=alice)
    state.mark_all_read(alice, [follow], timezone.now())
    assert {c.key: c.count for c in new_since.counts(alice)}["rt"] == 0
    state.mark_unread(alice, [extra[1].pk])  # kept unread under the watermark
    assert {c.key: c.count for c in new_since.counts(alice)}["rt"] == 1
    assert state.unread_counts(alice)[follow.source_id][0] == 1


def test_counts_come_in_order_and_a_stray_story_key_counts_nothing(alice, world):
    """Sources by name, then the rest as followed; a story key that is not an id (a row
    written around the checks) is listed with nothing new, on SQLite and PostgreSQL."""
    interests.follow(alice, "source", "rt")
    interests.follow(alice, "source", "bbc")
    interests.follow(alice, "section", "world")
    Interest.objects.create(user=alice, kind="story", key="12x", label="Not a story")
    interests.follow(alice, "hashtag", "vladimir-putin")
    found = new_since.counts(alice)
    assert [(c.kind, c.key) for c in found] == [
        ("source", "bbc"),
        ("source", "rt"),
        ("section", "world"),
        ("story", "12x"),
        ("hashtag", "vladimir-putin"),
    ]
    assert found[3].count == 0 and not found[3].more and found[3].url == ""


# --- new since your last visit ------------------------------------------------------------


def test_new_since_last_visit_markers(signed_in, alice, world):
    home = reverse("home")
    marker = "since your last visit"
    assert marker not in signed_in.get(home).content.decode()  # a first visit marks nothing
    visit = Visit.objects.get(user=alice)
    # Two hours later: what was published since the last visit ended is new.
    Visit.objects.filter(user=alice).update(last_at=timezone.now() - timedelta(minutes=90))
    fresh = web_data.article(world.article.source, 80, title="Arrived while you were away")
    text = signed_in.get(home).content.decode()
    assert text.count(marker) == 3  # the three articles of the last 90 minutes
    listing = text[text.index(fresh.title) - 600 : text.index(fresh.title)]
    assert marker in listing
    # The same visit keeps its markers on every listing and on reload.
    assert signed_in.get(home).content.decode().count(marker) == 3
    assert marker in signed_in.get(reverse("source", args=["rt"])).content.decode()
    visit.refresh_from_db()
    assert visit.since is not None and visit.last_at > visit.since
    # A followed hashtag: new since the reader last opened it, then seen.
    interests.follow(alice, "hashtag", "vladimir-putin")
    Interest.objects.filter(user=alice).update(seen_at=timezone.now() - timedelta(minutes=30))
    Visit.objects.filter(user=alice).update(since=timezone.now() - timedelta(minutes=5))
    page = signed_in.get(reverse("hashtag", args=["vladimir-putin"])).content.decode()
    assert page.count(marker) == 1  # the main article (16 min old), not the other (an hour)
    seen = Interest.objects.get(user=alice).seen_at
    assert timezone.now() - seen < timedelta(seconds=30)
    # Anonymous readers never get a marker.
    anonymous = Client()
    assert marker not in anonymous.get(home).content.decode()


def test_listings_with_nothing_new_to_store_write_nothing(signed_in, alice, world):
    """A signed-in listing stores the visit at most once a minute, and the opened followed
    listing's seen_at. Every such page used to open a write transaction whether or not
    it had anything to store: on SQLite that is the write lock, which an ingest holds
    often, so searches waited behind the workers' batches."""
    interests.follow(alice, "hashtag", "vladimir-putin")
    urls = [reverse("home"), reverse("search:search") + "?q=Putin", reverse("source", args=["rt"])]
    signed_in.get(urls[0])  # the visit starts: stored
    with CaptureQueriesContext(connection) as queries:
        for url in urls:
            assert signed_in.get(url).status_code == 200, url
    # On SQLite a transaction is the write lock (IMMEDIATE); PostgreSQL's search scopes
    # its settings in one, which locks nothing.
    writes = (
        r"\s*(SAVEPOINT|BEGIN|INSERT|UPDATE|DELETE)" if connection.vendor == "sqlite" else r"\s*(INSERT|UPDATE|DELETE)"
    )
    assert [q["sql"] for q in queries if re.match(writes, q["sql"], re.I)] == []
    # The followed hashtag's page has something to store: when the reader opened it.
    Interest.objects.filter(user=alice).update(seen_at=timezone.now() - timedelta(hours=1))
    with CaptureQueriesContext(connection) as queries:
        assert signed_in.get(reverse("hashtag", args=["vladimir-putin"])).status_code == 200
    assert any(q["sql"].lstrip().upper().startswith("UPDATE") for q in queries)
    assert timezone.now() - Interest.objects.get(user=alice).seen_at < timedelta(seconds=30)


def test_an_opened_article_is_marked_read_once_its_page_has_gone_out(alice, world):
    """The read mark is written when the server closes the response, after sending it
    (as the visit is): the page never waits for the write lock an ingest holds."""
    from django.core.signals import request_finished
    from django.db import close_old_connections
    from django.http import HttpResponse
    from django.test import RequestFactory
    from django.urls import resolve

    from newsdesk.lazy_writes import AfterResponseMiddleware
    from newsdesk.reader.middleware import ReadingMiddleware
    from newsdesk.reader.models import ReadMark

    request = RequestFactory().get(world.article.get_absolute_url())
    request.user = alice
    request.resolver_match = resolve(request.path)
    response = AfterResponseMiddleware(ReadingMiddleware(lambda request: HttpResponse("the page")))(request)
    assert response.status_code == 200
    assert not ReadMark.objects.filter(user=alice, article=world.article).exists()
    # The WSGI server, once the bytes are out. As Django's test client does, without the
    # request_finished handler that would close the test's open transaction's connection.
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
    assert ReadMark.objects.get(user=alice, article=world.article).is_read


def test_no_trace_of_follows_mutes_or_markers_in_anonymous_pages(
    client, alice, signed_in, world, django_capture_on_commit_callbacks
):
    urls = [
        "/",
        reverse("hashtag", args=["vladimir-putin"]),
        reverse("section", args=["world"]),
        reverse("story", args=[world.story.pk]),
        reverse("source", args=["rt"]),
        reverse("search:search") + "?q=Putin",
        world.article.get_absolute_url(),
        reverse("reader:for-you-how"),
    ]
    for url in urls:
        assert client.get(url).status_code == 200, url
    with django_capture_on_commit_callbacks(execute=True):
        change(signed_in, "hashtag", "vladimir-putin", "follow")
        change(signed_in, "section", "world", "mute")
        change(signed_in, "search", "q=Putin", "follow")
        change(signed_in, "word", "zebra-crossing", "mute")
        Visit.objects.update_or_create(user=alice, defaults={"last_at": timezone.now() - timedelta(hours=2)})
        for url in urls:
            assert signed_in.get(url).status_code == 200, url
    mine = signed_in.get(reverse("hashtag", args=["vladimir-putin"])).content.decode()
    assert "Unfollow #Vladimir Putin" in mine and "since your last visit" in mine
    personal = [
        alice.get_username(),
        "Unfollow",
        "Unmute",
        "since your last visit",
        "zebra-crossing",
        "csrfmiddlewaretoken",
    ]
    for url in urls:
        for attempt in range(2):
            response = client.get(url)
            text = response.content.decode()
            for trace in personal:
                assert trace not in text, (url, attempt, trace)
            assert "sessionid" not in response.cookies
