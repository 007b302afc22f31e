"""A reader's own data: the OPML and JSON exports (page and API) hold exactly this reader's
data and parse; deleting the account needs the password again (a POST with CSRF), leaves
no row pointing at the reader and no session signed in as them, removes or keeps the
comments anonymised as chosen (and the cached article pages follow), and leaves a second
reader's data as it was."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.sessions.backends.cache import SessionStore as CacheStore
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from newsdesk.api.models import ApiToken
from newsdesk.comments.models import Comment, Report
from newsdesk.desk.models import Suggestion
from newsdesk.reader import app_passwords, follows, state, yourdata
from newsdesk.reader.models import AppPassword, Follow, HistoryEntry, Interest, ReaderSettings, ReadMark, Saved
from newsdesk.sources.models import Feed
from newsdesk.sources.opml import parse_opml
from newsdesk.web import pagecache
from tests import web_data

pytestmark = pytest.mark.django_db
User = get_user_model()
PASSWORD = "a long password 42"


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        world = web_data.build_world()
    Feed.objects.create(source=world.other.source, url="https://www.bbc.co.uk/news/rss.xml", title="BBC Top")
    return world


def fill(user, world, marker: str) -> dict:
    """A row of every kind for `user`, each carrying `marker` where it has text."""
    follows.follow(user, world.article.source, f"Folder-{marker}")
    follows.follow(user, world.other.source, "")
    Interest.objects.create(user=user, kind="hashtag", key="vladimir-putin", label=f"#Putin-{marker}")
    Interest.objects.create(user=user, kind="word", key=f"mute-{marker}", muted=True)
    Saved.objects.create(user=user, article=world.article, note=f"note-{marker}")
    HistoryEntry.objects.create(user=user, article=world.other)
    ReadMark.objects.create(user=user, article=world.hostile, is_read=True)
    state.set_history(user, False)
    row, plain = app_passwords.create(user, f"app-{marker}")
    token, secret = ApiToken.issue(user, f"token-{marker}")
    comment = Comment.objects.create(article=world.article, author=user, body=f"comment-{marker}")
    Suggestion.objects.create(user=user, url=f"https://{marker}.example/", note=f"suggest-{marker}")
    return {"app": plain, "app_row": row, "token": secret, "token_row": token, "comment": comment}


@pytest.fixture
def readers(world):
    alice = User.objects.create_user("alice-data", "alice@example.org", PASSWORD)
    bob = User.objects.create_user("bob-data", "bob@example.org", PASSWORD)
    mine, theirs = fill(alice, world, "ALICE7"), fill(bob, world, "BOB9")
    # They talk to each other: bob replies to alice and reports... alice reports bob.
    reply = Comment.objects.create(article=world.article, author=bob, parent=mine["comment"], body="reply-BOB9")
    Report.objects.create(comment=theirs["comment"], reporter=alice, reason="spam", details="report-ALICE7")
    Report.objects.create(comment=mine["comment"], reporter=bob, reason="off-topic", details="report-BOB9")
    return alice, bob, mine, theirs, reply


def signed_in(user) -> Client:
    client = Client()
    assert client.login(username=user.get_username(), password=PASSWORD)  # a real session row
    return client


def personal_rows(user_id: int) -> dict[str, int]:
    """Rows of every model that point at `user_id` through any foreign key to the user."""
    user_model = User
    found = {}
    from django.apps import apps

    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if getattr(field, "remote_field", None) is not None and field.remote_field.model is user_model:
                count = model._default_manager.filter(**{field.attname: user_id}).count()
                if count:
                    found[f"{model._meta.label}.{field.name}"] = count
    return found


def sessions_of(user_id: int) -> int | None:
    """Stored sessions signed in as the user. With REDIS_URL (the PostgreSQL leg) sessions
    live in the cache alone and cannot be listed: None; the tests then rely on the
    devices' clients being signed out."""
    if issubclass(import_module(settings.SESSION_ENGINE).SessionStore, CacheStore):
        return None
    return sum(1 for s in Session.objects.all() if str(s.get_decoded().get(SESSION_KEY)) == str(user_id))


# --- export ------------------------------------------------------------------------------


def test_the_json_export_holds_exactly_this_readers_data(readers):
    alice, bob, mine, theirs, reply = readers
    response = signed_in(alice).get(reverse("yourdata:json"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith('attachment; filename="newsdesk-alice-data-data-')
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    text = response.content.decode()
    data = json.loads(text)
    assert (data["format"], data["version"]) == ("newsdesk-export", 1)
    assert data["account"]["username"] == "alice-data" and data["account"]["email"] == "alice@example.org"
    assert data["settings"] == {"keep_history": False}
    assert [(f["source"], f["category"]) for f in data["follows"]] == [("bbc", ""), ("rt", "Folder-ALICE7")]
    assert data["follows"][0]["feed_url"] == "https://www.bbc.co.uk/news/rss.xml"
    assert {(i["kind"], i["key"], i["muted"]) for i in data["interests"]} == {
        ("hashtag", "vladimir-putin", False),
        ("word", "mute-ALICE7", True),
    }
    assert [s["note"] for s in data["saved"]] == ["note-ALICE7"]
    assert data["saved"][0]["article"]["url"] == Saved.objects.get(user=alice).article.url
    assert [h["article"]["id"] for h in data["history"]] == [HistoryEntry.objects.get(user=alice).article_id]
    assert [m["article_id"] for m in data["read_marks"]] == [ReadMark.objects.get(user=alice).article_id]
    assert [c["body"] for c in data["comments"]] == ["comment-ALICE7"]
    assert [r["details"] for r in data["comment_reports"]] == ["report-ALICE7"]
    assert [a["name"] for a in data["app_passwords"]] == ["app-ALICE7"]
    other = data["other"]
    assert [row["name"] for row in other["api.apitoken"]] == ["token-ALICE7"]
    assert [row["note"] for row in other["desk.suggestion"]] == ["suggest-ALICE7"]
    # Nothing of the other reader, and no secret of this one.
    assert "BOB9" not in text and "bob-data" not in text
    for secret in (mine["app"], mine["app_row"].password, mine["token"], mine["token_row"].key_hash, PASSWORD):
        assert secret not in text
    assert "key_hash" not in text and "fever_key" not in text


def test_the_opml_export_parses_and_holds_the_follows(readers):
    alice, bob, *_ = readers
    response = signed_in(alice).get(reverse("yourdata:opml"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/x-opml")
    assert response["Content-Disposition"].endswith('.opml"') and "no-store" in response["Cache-Control"]
    feeds = parse_opml(response.content)  # the project's own (hostile-input-proof) reader of OPML
    by_title = {feed.title: feed for feed in feeds}
    assert set(by_title) == {"Russia Today", "BBC News"}
    # A source with a feed of its own gives that feed (what reader apps are given)...
    assert by_title["BBC News"].xml_url == "https://www.bbc.co.uk/news/rss.xml"
    assert by_title["BBC News"].category is None
    # ...one without gives this site's feed of it, in the reader's folder.
    assert by_title["Russia Today"].xml_url == "http://testserver/sources/rt/rss"
    assert by_title["Russia Today"].category == "Folder-ALICE7"
    assert by_title["Russia Today"].html_url == "https://www.rt.com/"
    assert b"BOB9" not in response.content


def test_the_api_export_is_the_pages_and_needs_the_readers_token(readers):
    alice, bob, mine, theirs, _ = readers
    browser = signed_in(alice)  # first: signing in is in the export (last_login)
    client = Client()
    assert client.get("/api/me/export").status_code == 401
    assert client.get("/api/me/export", HTTP_AUTHORIZATION="Bearer nd_wrong").status_code == 401
    # A token's use is noted after its response: the first export shows the use before it.
    first = client.get("/api/me/export", HTTP_AUTHORIZATION=f"Bearer {mine['token']}").json()
    assert first["other"]["api.apitoken"][0]["last_used_at"] is None
    response = client.get("/api/me/export", HTTP_AUTHORIZATION=f"Bearer {mine['token']}")
    assert response.status_code == 200, response.content[:300]
    api = response.json()
    assert api["other"]["api.apitoken"][0]["last_used_at"] is not None
    page = browser.get(reverse("yourdata:json")).json()  # after: the token's last use is in both
    page.pop("exported_at"), api.pop("exported_at")
    assert api == page
    theirs_export = client.get("/api/me/export", HTTP_AUTHORIZATION=f"Bearer {theirs['token']}").json()
    assert theirs_export["account"]["username"] == "bob-data" and "ALICE7" not in json.dumps(theirs_export)


def test_a_time_in_the_first_millisecond_of_a_second_is_the_same_in_both_exports(readers):
    """The page writes times in milliseconds; the API reads its document back into the
    schema's datetimes and writes them again, where a whole second has no fraction. A
    time of 21:26:22.000456 must not read "22.000Z" in one and "22Z" in the other (a
    test comparing the two failed about once a hundred runs)."""
    alice, _, mine, *_ = readers
    Interest.objects.filter(user=alice).update(seen_at=datetime(2026, 12, 6, 21, 26, 22, 456, tzinfo=UTC))
    api = Client().get("/api/me/export", HTTP_AUTHORIZATION=f"Bearer {mine['token']}").json()
    page = signed_in(alice).get(reverse("yourdata:json")).json()
    assert [i["seen_at"] for i in api["interests"]] == ["2026-12-06T21:26:22Z"] * 2
    assert api["interests"] == page["interests"]


def test_downloads_and_the_page_are_for_the_signed_in_reader_only(readers, client, settings):
    alice, *_ = readers
    for name in ("yourdata:page", "yourdata:json", "yourdata:opml"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and reverse("accounts:login") in response["Location"], name
    mine = signed_in(alice)
    page = mine.get(reverse("yourdata:page"))
    text = page.content.decode()
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert 'href="/reading/data/follows.opml"' in text and 'href="/reading/data/export.json"' in text
    assert "Your 1 comment<" in text and 'name="password"' in text and "csrfmiddlewaretoken" in text
    settings.NEWSDESK_READER_ACTIONS_PER_MINUTE = 2
    assert mine.get(reverse("yourdata:json")).status_code == 200
    assert mine.get(reverse("yourdata:opml")).status_code == 200
    response = mine.get(reverse("yourdata:json"))
    assert response.status_code == 429 and int(response["Retry-After"]) > 0


# --- deletion ----------------------------------------------------------------------------


def test_deleting_needs_a_post_with_csrf_and_the_password(readers, settings):
    alice, *_ = readers
    mine = signed_in(alice)
    url = reverse("yourdata:delete")
    assert mine.get(url).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.login(username=alice.get_username(), password=PASSWORD)
    assert strict.post(url, {"comments": "remove", "password": PASSWORD}).status_code == 403
    # No choice made, or a wrong password: told why, with the choice kept; nothing deleted.
    response = mine.post(url, {"password": PASSWORD})
    assert response.status_code == 400 and "Choose what becomes of your comments" in response.content.decode()
    response = mine.post(url, {"comments": "anonymise", "password": "not it"})
    text = response.content.decode()
    assert response.status_code == 400 and "That is not your password" in text
    assert re.search(r'value="anonymise"[^>]*checked', text)
    assert User.objects.filter(pk=alice.pk).exists()
    # Wrong guesses are limited as failed logins are.
    for _ in range(settings.NEWSDESK_LOGIN_FAILURES_PER_USER - 1):
        mine.post(url, {"comments": "remove", "password": "guess"})
    response = mine.post(url, {"comments": "remove", "password": PASSWORD})
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert User.objects.filter(pk=alice.pk).exists()


def test_deleting_with_comments_removed_leaves_no_personal_row(readers, world, django_capture_on_commit_callbacks):
    alice, bob, mine, theirs, reply = readers
    bob_before = personal_rows(bob.pk)
    bob_export = yourdata.export(bob)
    client, elsewhere = signed_in(alice), signed_in(alice)  # two devices
    assert sessions_of(alice.pk) in (2, None)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("yourdata:delete"), {"comments": "remove", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"].startswith(reverse("yourdata:deleted"))
    page = client.get(response["Location"]).content.decode()
    assert "Your account is deleted" in page and "were removed" in page
    assert not User.objects.filter(pk=alice.pk).exists()
    assert personal_rows(alice.pk) == {}
    assert sessions_of(alice.pk) in (0, None)
    for model in (Follow, Interest, Saved, HistoryEntry, ReadMark, ReaderSettings, AppPassword, ApiToken, Suggestion):
        assert not model._default_manager.filter(user_id=alice.pk).exists(), model
    # Signed out on both devices.
    assert elsewhere.get(reverse("reader:unread")).status_code == 302
    assert client.get(reverse("yourdata:page")).status_code == 302
    # The comment's text is gone; bob's reply keeps its place under "[deleted]".
    comment = Comment.objects.get(pk=mine["comment"].pk)
    assert (comment.author_id, comment.body, comment.status) == (None, "", Comment.Status.DELETED)
    assert Report.objects.get(comment=comment).resolved
    article = Client().get(world.article.get_absolute_url()).content.decode()
    assert "comment-ALICE7" not in article and "[deleted]" in article and "reply-BOB9" in article
    # The other reader's data is untouched, but for their report on the removed comment,
    # now resolved as when an author deletes a comment.
    assert personal_rows(bob.pk) == bob_before
    after = yourdata.export(bob)
    for export in (bob_export, after):
        export.pop("exported_at")
        assert [r["details"] for r in export.pop("comment_reports")] == ["report-BOB9"]
    assert after == bob_export


def test_deleting_with_comments_kept_shows_them_from_a_deleted_reader(
    readers, world, client, django_capture_on_commit_callbacks
):
    alice, bob, mine, *_ = readers
    # An anonymous reader's cached article page shows alice's name before...
    before = client.get(world.article.get_absolute_url())
    assert "alice-data" in before.content.decode()
    assert client.get(world.article.get_absolute_url())[pagecache.HEADER] == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(alice).post(reverse("yourdata:delete"), {"comments": "anonymise", "password": PASSWORD})
    assert response.status_code == 302 and "comments=kept" in response["Location"]
    comment = Comment.objects.get(pk=mine["comment"].pk)
    assert (comment.author_id, comment.body, comment.status) == (None, "comment-ALICE7", Comment.Status.PUBLISHED)
    assert personal_rows(alice.pk) == {} and sessions_of(alice.pk) in (0, None)
    # ...and not after: the page was refreshed, the comment stays, from "[deleted account]".
    after = client.get(world.article.get_absolute_url()).content.decode()
    assert "alice-data" not in after and "comment-ALICE7" in after and "[deleted account]" in after
    assert User.objects.filter(pk=bob.pk).exists() and Saved.objects.filter(user=bob).count() == 1


def test_a_superuser_is_deleted_in_the_admin_not_here(world):
    admin = User.objects.create_superuser("root-data", "root@example.org", PASSWORD)
    client = signed_in(admin)
    assert "disabled>Delete my account" in client.get(reverse("yourdata:page")).content.decode()
    response = client.post(reverse("yourdata:delete"), {"comments": "remove", "password": PASSWORD})
    assert response.status_code == 400 and "another administrator" in response.content.decode()
    assert User.objects.filter(pk=admin.pk).exists()


def test_no_trace_of_the_reader_in_anonymous_pages(readers, world, client):
    alice, *_ = readers
    urls = ["/", world.article.get_absolute_url(), reverse("source", args=["rt"]), reverse("sources")]
    for url in urls:
        assert client.get(url).status_code == 200
    mine = signed_in(alice)
    for name in ("yourdata:page", "yourdata:json", "yourdata:opml"):
        response = mine.get(reverse(name))
        assert response.status_code == 200 and "private" in response["Cache-Control"], name
    for url in urls:
        text = client.get(url).content.decode()
        # (Comments are public: a comment's author and text are not a trace.)
        for trace in ("note-ALICE7", "Folder-ALICE7", "app-ALICE7", "alice@example.org", "csrfmiddlewaretoken"):
            assert trace not in text, (url, trace)
    assert client.get(reverse("yourdata:deleted")).status_code == 200
