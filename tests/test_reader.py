"""A signed-in reader's own state on the site: follow and unfollow a source, save with
a note, read marks when an article is opened, mark all as read, history cleared or
switched off, app passwords; and the rules: signed-in only, CSRF, idempotent,
rate-limited, and nothing of it in any page an anonymous reader gets."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from newsdesk.reader import state
from newsdesk.reader.models import AppPassword, Follow, HistoryEntry, ReadMark, Saved
from newsdesk.web import pagecache
from tests import web_data
from tests.reader_support import alice, signed_in, world  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db
User = get_user_model()
NOTE = "zebra-crossing-note-7731"


def post(client: Client, name: str, *args, status: int = 302, **data):
    response = client.post(reverse(name, args=args), data)
    assert response.status_code == status, (name, response.status_code, response.content[:300])
    return response


# --- follow -----------------------------------------------------------------------------


def test_follow_and_unfollow_from_the_source_page_are_idempotent(signed_in, alice, world):
    source = world.article.source
    page = signed_in.get(reverse("source", args=[source.slug])).content.decode()
    assert f'action="{reverse("reader:follow", args=[source.slug])}"' in page and "csrfmiddlewaretoken" in page
    for _ in range(2):
        response = post(signed_in, "reader:follow", source.slug, next="/sources/rt/?page=1")
        assert response["Location"] == "/sources/rt/?page=1"
    assert Follow.objects.filter(user=alice, source=source).count() == 1
    page = signed_in.get(reverse("source", args=[source.slug])).content.decode()
    assert f"Unfollow {source.name}" in page and 'aria-pressed="true"' in page
    # A second follow with a folder moves it, and keeps the watermark.
    watermark = Follow.objects.get(user=alice).read_before
    post(signed_in, "reader:follow", source.slug, category="World")
    follow = Follow.objects.get(user=alice)
    assert (follow.category, follow.read_before) == ("World", watermark)
    for _ in range(2):
        post(signed_in, "reader:unfollow", source.slug)
    assert not Follow.objects.filter(user=alice).exists()


def test_with_htmx_the_buttons_come_back_swapped_in_place(signed_in, alice, world):
    source = world.article.source
    response = signed_in.post(
        reverse("reader:follow", args=[source.slug]), {"next": "/sources/rt/"}, HTTP_HX_REQUEST="true"
    )
    text = response.content.decode()
    assert response.status_code == 200 and "<html" not in text
    assert f'id="reader-follow-{source.pk}"' in text and f"Unfollow {source.name}" in text
    assert "csrfmiddlewaretoken" in text and 'name="next" value="/sources/rt/"' in text
    response = signed_in.post(reverse("reader:save", args=[world.article.pk]), {"note": NOTE}, HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert response.status_code == 200 and 'id="reader-actions"' in text and NOTE in text and "<html" not in text
    response = signed_in.post(reverse("reader:unsave", args=[world.article.pk]), HTTP_HX_REQUEST="true")
    assert "Save for later" in response.content.decode() and not Saved.objects.exists()
    assert Follow.objects.filter(user=alice).exists()


def test_next_must_stay_on_this_site(signed_in, world):
    response = post(signed_in, "reader:follow", "rt", next="https://evil.example/phish")
    assert response["Location"] == reverse("source", args=["rt"])


def test_changes_need_a_signed_in_reader_and_a_post(client, signed_in, world):
    response = client.post(reverse("reader:follow", args=["rt"]))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]
    assert not Follow.objects.exists()
    assert signed_in.get(reverse("reader:follow", args=["rt"])).status_code == 405
    for name in ("reader:unread", "reader:saved", "reader:history", "reader:following", "reader:apps"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and reverse("accounts:login") in response["Location"], name


def test_changes_are_csrf_protected(alice, world):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    for name, args in [
        ("reader:follow", ["rt"]),
        ("reader:save", [world.article.pk]),
        ("reader:mark-read", []),
        ("reader:apps", []),
        ("reader:clear-history", []),
    ]:
        assert strict.post(reverse(name, args=args), {"i": world.article.pk}).status_code == 403, name
    assert not Follow.objects.exists() and not Saved.objects.exists() and not ReadMark.objects.exists()
    assert not AppPassword.objects.exists()
    # With the token from the page, the same form works.
    page = strict.get(reverse("source", args=["rt"])).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = strict.post(reverse("reader:follow", args=["rt"]), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302 and Follow.objects.filter(user=alice).exists()


def test_changes_are_rate_limited(signed_in, alice, world, settings):
    settings.NEWSDESK_READER_ACTIONS_PER_MINUTE = 3
    for _ in range(3):
        post(signed_in, "reader:follow", "rt")
    response = post(signed_in, "reader:unfollow", "rt", status=429)
    assert int(response["Retry-After"]) > 0 and "Too many changes" in response.content.decode()
    assert Follow.objects.filter(user=alice).exists()  # refused, not done
    other = User.objects.create_user("bob-reader")
    bob = Client()
    bob.force_login(other)
    post(bob, "reader:follow", "rt")  # counted per reader


# --- saved --------------------------------------------------------------------------------


def test_save_with_a_note_then_unsave(signed_in, alice, world):
    article = world.article
    page = signed_in.get(article.get_absolute_url()).content.decode()
    assert "Save for later" in page
    post(signed_in, "reader:save", article.pk, note=NOTE)
    post(signed_in, "reader:save", article.pk)  # again, without a note: the note stays
    saved = Saved.objects.get(user=alice, article=article)
    assert saved.note == NOTE
    listing = signed_in.get(reverse("reader:saved"))
    assert listing.status_code == 200 and "no-store" in listing["Cache-Control"]
    assert NOTE in listing.content.decode() and article.title in listing.content.decode()
    assert NOTE in signed_in.get(article.get_absolute_url()).content.decode()
    post(signed_in, "reader:save", article.pk, note="")
    assert Saved.objects.get(user=alice).note == ""
    for _ in range(2):
        post(signed_in, "reader:unsave", article.pk)
    assert not Saved.objects.filter(user=alice).exists()
    post(signed_in, "reader:save", 999999, status=404)


# --- read state ---------------------------------------------------------------------------


def test_opening_an_article_marks_it_read_and_records_history(signed_in, alice, world):
    assert state.read_ids(alice, [world.article.pk]) == set()
    signed_in.get(world.article.get_absolute_url())
    assert state.read_ids(alice, [world.article.pk, world.other.pk]) == {world.article.pk}
    assert HistoryEntry.objects.filter(user=alice, article=world.article).count() == 1
    signed_in.get(world.article.get_absolute_url())
    assert HistoryEntry.objects.filter(user=alice).count() == 1  # one entry, moved up
    history = signed_in.get(reverse("reader:history")).content.decode()
    assert world.article.title in history
    # A missing article or a HEAD request marks nothing.
    signed_in.get("/articles/999999/")
    signed_in.head(world.other.get_absolute_url())
    assert ReadMark.objects.filter(user=alice).count() == 1


def test_anonymous_and_other_readers_mark_nothing(client, alice, world):
    client.get(world.article.get_absolute_url())
    assert not ReadMark.objects.exists() and not HistoryEntry.objects.exists()


def test_history_can_be_cleared_and_switched_off(signed_in, alice, world):
    signed_in.get(world.article.get_absolute_url())
    post(signed_in, "reader:clear-history")
    assert not HistoryEntry.objects.filter(user=alice).exists()
    assert state.read_ids(alice, [world.article.pk]) == {world.article.pk}  # still read
    signed_in.get(world.article.get_absolute_url())
    post(signed_in, "reader:clear-history", forget_read="1")
    assert not HistoryEntry.objects.exists() and state.read_ids(alice, [world.article.pk]) == set()
    post(signed_in, "reader:switch-history", keep="off")
    assert "Switch history on" in signed_in.get(reverse("reader:history")).content.decode()
    signed_in.get(world.other.get_absolute_url())
    assert not HistoryEntry.objects.exists() and not ReadMark.objects.exists()
    post(signed_in, "reader:switch-history", keep="on")
    signed_in.get(world.other.get_absolute_url())
    assert HistoryEntry.objects.filter(article=world.other).exists()


def test_unread_page_and_mark_all_as_read(signed_in, alice, world):
    bbc = world.other.source
    old = web_data.article(bbc, 50, title="An old one", published=timezone.now() - timedelta(days=30))
    post(signed_in, "reader:follow", bbc.slug)
    page = signed_in.get(reverse("reader:unread"))
    text = page.content.decode()
    assert "no-store" in page["Cache-Control"]
    assert world.other.title in text and old.title not in text  # a follow starts a week back
    assert world.article.title not in text  # not followed
    assert "1 unread" in signed_in.get(reverse("reader:following")).content.decode()
    ts = re.search(r'name="ts" value="([^"]+)"', text).group(1)
    newer = web_data.article(bbc, 51, title="Arrived after the page was shown", published=timezone.now())
    post(signed_in, "reader:mark-read", all="1", ts=ts)
    text = signed_in.get(reverse("reader:unread")).content.decode()
    assert world.other.title not in text and newer.title in text
    # Kept unread below the watermark, then read again.
    post(signed_in, "reader:mark-unread", i=world.other.pk)
    assert world.other.title in signed_in.get(reverse("reader:unread")).content.decode()
    post(signed_in, "reader:mark-read", i=[world.other.pk, newer.pk])
    post(signed_in, "reader:mark-read", i=[world.other.pk, newer.pk])  # idempotent
    assert "Nothing new" in signed_in.get(reverse("reader:unread")).content.decode()


def test_mark_a_listing_read_from_the_source_page(signed_in, alice, world):
    extra = [web_data.article(world.article.source, 60 + n, title=f"Extra {n}") for n in range(3)]
    page = signed_in.get(reverse("source", args=["rt"])).content.decode()
    ids = set(map(int, re.findall(r'name="i" value="(\d+)"', page)))
    assert ids == {world.article.pk, *(a.pk for a in extra)}
    assert "Mark all 4 as read" in page and "4 unread here" in page
    post(signed_in, "reader:mark-read", i=sorted(ids), next="/sources/rt/")
    assert state.read_ids(alice, ids) == ids
    assert "4 unread here" not in signed_in.get(reverse("source", args=["rt"])).content.decode()


# --- app passwords ------------------------------------------------------------------------


def test_app_passwords_are_hashed_shown_once_and_revocable(signed_in, alice):
    response = signed_in.post(reverse("reader:apps"), {"name": "Reeder on my phone"})
    assert response.status_code == 201 and "no-store" in response["Cache-Control"]
    plain = re.search(r'<code class="app-password">([^<]+)</code>', response.content.decode()).group(1)
    row = AppPassword.objects.get(user=alice)
    assert row.name == "Reeder on my phone"
    assert plain not in row.password and row.password.startswith("argon2$") and check_password(plain, row.password)
    listing = signed_in.get(reverse("reader:apps")).content.decode()
    assert plain not in listing and "Reeder on my phone" in listing and "never used" in listing
    row.last_used_at = timezone.now()
    row.save()
    assert "last used" in signed_in.get(reverse("reader:apps")).content.decode()
    assert reverse("reader:apps") in signed_in.get(reverse("accounts:profile")).content.decode()
    other = User.objects.create_user("mallory")
    mallory = Client()
    mallory.force_login(other)
    post(mallory, "reader:revoke", row.pk)
    assert AppPassword.objects.filter(pk=row.pk).exists()  # not hers to revoke
    post(signed_in, "reader:revoke", row.pk)
    post(signed_in, "reader:revoke", row.pk)
    assert not AppPassword.objects.exists()


# --- nothing personal in anonymous pages --------------------------------------------------


def test_no_trace_of_a_reader_in_anonymous_pages(client, alice, signed_in, world, django_capture_on_commit_callbacks):
    source = world.article.source
    urls = [
        "/",
        world.article.get_absolute_url(),
        world.other.get_absolute_url(),
        reverse("source", args=[source.slug]),
        reverse("sources"),
        reverse("hashtag", args=[world.hashtag.slug]),
        reverse("section", args=["world"]),
        reverse("stories"),
        reverse("story", args=[world.story.pk]),
        reverse("search:search") + "?q=Putin",
        reverse("feed-rss"),
        reverse("source-rss", args=[source.slug]),
    ]
    for url in urls:  # the anonymous pages are cached before the reader does anything
        assert client.get(url).status_code == 200, url
    with django_capture_on_commit_callbacks(execute=True):
        post(signed_in, "reader:follow", source.slug, category="Folder-" + NOTE)
        post(signed_in, "reader:save", world.article.pk, note=NOTE)
        assert signed_in.get(world.article.get_absolute_url()).status_code == 200
        signed_in.post(reverse("reader:apps"), {"name": "App-" + NOTE})
    personal = [alice.get_username(), NOTE, "Unfollow", "Your copy", "csrfmiddlewaretoken", "Keep unread", "as read"]
    # The signed-in pages do show the reader's state (so the check below can fail) and are private.
    mine = signed_in.get(world.article.get_absolute_url())
    assert NOTE in mine.content.decode() and "private" in mine["Cache-Control"]
    mine = signed_in.get(reverse("source", args=[source.slug]))
    assert "Unfollow" in mine.content.decode() and "s-maxage" not in mine.get("Cache-Control", "")
    for url in urls:
        for attempt in range(2):  # from the cache or freshly rendered, the same
            response = client.get(url)
            text = response.content.decode()
            for trace in personal:
                assert trace not in text, (url, attempt, trace)
            assert "sessionid" not in response.cookies, url
    assert client.get(world.article.get_absolute_url())[pagecache.HEADER] == "hit"
    assert client.get("/")[pagecache.HEADER] == "hit"
