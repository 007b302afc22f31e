"""The reader's API (/api/reading/...): follows and mutes, For You, unread and its
counts, saved; a token is required and every call acts on the token's own user only."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.test import Client
from django.utils import timezone

from newsdesk.api.models import ApiToken
from newsdesk.reader import interests
from newsdesk.reader.models import Follow, Interest, ReadMark, Saved
from tests import web_data
from tests.reader_support import fan_out_everything

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture(autouse=True)
def _fresh_limits():
    caches["default"].clear()
    caches["ratelimit"].clear()


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return web_data.build_world()


@pytest.fixture
def alice():
    return User.objects.create_user("alice-api", "alice@example.org")


@pytest.fixture
def token(alice) -> str:
    return ApiToken.issue(alice, "reading")[1]


def call(method: str, path: str, token: str | None, data=None, **params):
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    if data is not None:
        return getattr(client, method)(path, data=json.dumps(data), content_type="application/json", **headers)
    if params:
        from urllib.parse import urlencode

        path = f"{path}?{urlencode(params)}"
    return getattr(client, method)(path, **headers)


def test_every_reading_endpoint_needs_a_token(world):
    for method, path in [
        ("get", "/api/reading/follows"),
        ("post", "/api/reading/follows"),
        ("delete", "/api/reading/follows?kind=hashtag&key=belarus"),
        ("get", "/api/reading/mutes"),
        ("get", "/api/reading/for-you"),
        ("get", "/api/reading/unread"),
        ("get", "/api/reading/unread/counts"),
        ("post", "/api/reading/read"),
        ("get", "/api/reading/saved"),
        ("post", "/api/reading/saved"),
        ("delete", f"/api/reading/saved/{world.article.pk}"),
    ]:
        response = call(method, path, None)
        assert response.status_code == 401, (method, path, response.status_code)
        assert "token" in response.json()["detail"]
    assert call("get", "/api/reading/follows", "nd_wrong").status_code == 401


def test_follows_and_mutes_add_list_remove(token, alice, world, settings):
    for _ in range(2):
        response = call("post", "/api/reading/follows", token, {"kind": "hashtag", "key": "#Vladimir-Putin"})
        assert response.status_code == 200, response.content
    assert response.json() == {
        "kind": "hashtag",
        "key": "vladimir-putin",
        "label": "#Vladimir Putin",
        "site_url": "http://testserver/hashtags/vladimir-putin/",
        "muted": False,
        "count": None,
        "more": False,
        "since": None,
    }
    call("post", "/api/reading/follows", token, {"kind": "source", "key": "bbc"})
    call("post", "/api/reading/follows", token, {"kind": "search", "key": "section=world&q=Putin"})
    Interest.objects.filter(user=alice).update(seen_at=timezone.now() - timedelta(hours=2))
    fan_out_everything(settings)  # a saved search counts the matches the alerts' fan-out found
    items = call("get", "/api/reading/follows", token).json()["items"]
    assert [(i["kind"], i["key"], i["count"]) for i in items] == [
        ("source", "bbc", 1),
        ("hashtag", "vladimir-putin", 2),
        ("search", "q=Putin&section=world", 2),
    ]
    assert Follow.objects.filter(user=alice, source__slug="bbc").exists()
    # Mutes: a word, and a hashtag (which drops its follow).
    response = call("post", "/api/reading/mutes", token, {"kind": "word", "key": "Harbour Walls"})
    assert response.json()["key"] == "harbour walls" and response.json()["muted"] is True
    call("post", "/api/reading/mutes", token, {"kind": "hashtag", "key": "vladimir-putin"})
    mutes = call("get", "/api/reading/mutes", token).json()["items"]
    assert [(m["kind"], m["key"], m["site_url"]) for m in mutes] == [
        ("hashtag", "vladimir-putin", "http://testserver/hashtags/vladimir-putin/"),
        ("word", "harbour walls", None),
    ]
    assert "vladimir-putin" not in [i["key"] for i in call("get", "/api/reading/follows", token).json()["items"]]
    for _ in range(2):
        assert call("delete", "/api/reading/mutes", token, kind="word", key="harbour walls").status_code == 204
        assert call("delete", "/api/reading/follows", token, kind="source", key="bbc").status_code == 204
    assert not Follow.objects.filter(user=alice).exists()
    assert [m["key"] for m in call("get", "/api/reading/mutes", token).json()["items"]] == ["vladimir-putin"]


def test_bad_input_is_a_422_that_says_why(token, alice, world):
    for path, body, message in [
        ("/api/reading/follows", {"kind": "hashtag", "key": "no-such"}, "There is no hashtag #no-such."),
        ("/api/reading/follows", {"kind": "word", "key": "weather"}, "muted, not followed"),
        ("/api/reading/mutes", {"kind": "story", "key": str(world.story.pk)}, "can be muted"),
        ("/api/reading/follows", {"kind": "planet", "key": "mars"}, "kind"),
        ("/api/reading/follows", {"kind": "search", "key": "q=&section=world"}, "needs words"),
    ]:
        response = call("post", path, token, body)
        assert response.status_code == 422, (body, response.content)
        assert message in response.json()["detail"], response.json()
    assert not Interest.objects.exists() and not Follow.objects.exists()
    response = call("post", "/api/reading/saved", token, {"article_id": 999999})
    assert response.status_code == 404 and "no article 999999" in response.json()["detail"]


def test_for_you_through_the_api(token, alice, world):
    interests.follow(alice, "hashtag", "vladimir-putin")
    interests.mute(alice, "source", "evil")
    response = call("get", "/api/reading/for-you", token)
    assert response.status_code == 200, response.content
    items = response.json()["items"]
    assert len(items) == 1  # one story (two articles), the hostile source muted
    entry = items[0]
    assert entry["article"]["id"] in (world.article.pk, world.other.pk)
    assert entry["story"] == {
        "id": world.story.pk,
        "title": world.story.title,
        "article_count": 2,
        "publisher_count": 2,
    }
    assert entry["more_sources"] == 1
    assert entry["reasons"][0] == {
        "kind": "followed hashtag",
        "text": "You follow #Vladimir Putin",
        "points": 2.0,
        "url": "http://testserver/hashtags/vladimir-putin/",
    }
    assert entry["score"] == pytest.approx(sum(p["points"] for p in entry["score_parts"]), abs=0.01)
    assert call("get", "/api/reading/for-you?limit=0", token).status_code == 422


def test_unread_list_counts_and_marks(token, alice, world):
    interests.follow(alice, "source", "rt")
    extra = web_data.article(world.article.source, 90, title="Another from RT")
    page = call("get", "/api/reading/unread", token).json()
    assert page["count"] == 2 and [i["id"] for i in page["items"]] == [extra.pk, world.article.pk]
    counts = call("get", "/api/reading/unread/counts", token).json()
    assert counts["total"] == 2 and counts["items"][0]["count"] == 2 and counts["items"][0]["key"] == "rt"
    response = call("post", "/api/reading/read", token, {"article_ids": [extra.pk, 999999]})
    assert response.json() == {"changed": 1}
    assert call("get", "/api/reading/unread/counts", token).json()["total"] == 1
    call("post", "/api/reading/read", token, {"article_ids": [extra.pk], "read": False})
    assert ReadMark.objects.get(user=alice, article=extra).is_read is False
    assert call("post", "/api/reading/read", token, {"article_ids": list(range(1, 300))}).status_code == 422


def test_saved_list_save_unsave(token, alice, world):
    for _ in range(2):
        response = call("post", "/api/reading/saved", token, {"article_id": world.article.pk, "note": "  for Sunday "})
        assert response.status_code == 200
    assert response.json()["note"] == "for Sunday" and response.json()["article"]["id"] == world.article.pk
    call("post", "/api/reading/saved", token, {"article_id": world.other.pk})
    call("post", "/api/reading/saved", token, {"article_id": world.article.pk})  # no note: the note stays
    page = call("get", "/api/reading/saved", token).json()
    assert page["count"] == 2 and [(i["article"]["id"], i["note"]) for i in page["items"]] == [
        (world.other.pk, ""),
        (world.article.pk, "for Sunday"),
    ]
    for _ in range(2):
        assert call("delete", f"/api/reading/saved/{world.article.pk}", token).status_code == 204
    assert list(Saved.objects.filter(user=alice).values_list("article_id", flat=True)) == [world.other.pk]


def test_a_token_acts_on_its_own_reader_only(token, alice, world):
    bob = User.objects.create_user("bob-api")
    bob_token = ApiToken.issue(bob, "bob")[1]
    interests.follow(bob, "hashtag", "belarus")
    interests.mute(bob, "word", "secret-of-bob")
    Saved.objects.create(user=bob, article=world.other, note="bob's note")
    Follow.objects.create(user=bob, source=world.other.source, read_before=timezone.now())
    for path in ["/api/reading/follows", "/api/reading/mutes", "/api/reading/saved", "/api/reading/unread/counts"]:
        text = call("get", path, token).content.decode()
        assert "belarus" not in text and "secret-of-bob" not in text and "bob's note" not in text, path
    call("delete", f"/api/reading/saved/{world.other.pk}", token)
    call("delete", "/api/reading/mutes", token, kind="word", key="secret-of-bob")
    assert Saved.objects.filter(user=bob).exists() and Interest.objects.filter(user=bob).count() == 2
    assert len(call("get", "/api/reading/follows", bob_token).json()["items"]) == 2


def test_changes_count_against_the_readers_change_limit(token, alice, world, settings):
    settings.NEWSDESK_READER_ACTIONS_PER_MINUTE = 2
    call("post", "/api/reading/follows", token, {"kind": "hashtag", "key": "belarus"})
    call("post", "/api/reading/saved", token, {"article_id": world.article.pk})
    response = call("post", "/api/reading/mutes", token, {"kind": "word", "key": "weather"})
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert not Interest.objects.filter(kind="word").exists()
    assert call("get", "/api/reading/follows", token).status_code == 200  # reads are not changes
