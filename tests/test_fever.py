"""The Fever API through Django's test client and over real HTTP, answer by answer,
against what the Fever documentation, FreshRSS (p/api/fever.php, docs/en/developers/
06_Fever_API.md) and Miniflux (internal/fever/README.md) document: `{"api_version":3,
"auth":0}` byte for byte for a wrong key, the key as md5("username:password") posted
url-encoded, multipart (FreshRSS's `curl -F`) or in the query (Miniflux's examples),
the members and types of groups, feeds, feeds_groups, items, total_items, the
comma-separated id lists, since_id / max_id / with_ids paging by 50, and the writes.
No maintained Python Fever client exists on PyPI, so the live-server test walks a
reader app's sync with plain HTTP requests."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
import requests
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from newsdesk.reader import app_passwords, follows, saved, state
from newsdesk.reader.models import AppPassword, Saved
from newsdesk.sources.models import Feed
from tests import web_data

pytestmark = pytest.mark.django_db
User = get_user_model()
URL = "/api/fever.php"
BBC_FEED = "https://feeds.bbci.co.uk/news/rss.xml"
RT_FEED = "https://www.rt.com/rss/"
ITEM_KEYS = {"id", "feed_id", "title", "author", "html", "url", "is_saved", "is_read", "created_on_time"}
FEED_KEYS = {"id", "favicon_id", "title", "url", "site_url", "is_spark", "last_updated_on_time"}


def md5_key(username: str, password: str) -> str:
    return hashlib.md5(f"{username}:{password}".encode()).hexdigest()


class World:
    pass


@pytest.fixture
def world():
    w = World()
    now = timezone.now()
    w.user = User.objects.create_user("reeder", "reeder@example.org", "the account password 1")
    w.row, w.password = app_passwords.create(w.user, "Reeder")
    w.key = md5_key("reeder", w.password)
    w.bbc = web_data.source("bbc", "BBC News", "https://www.bbc.co.uk/")
    w.rt = web_data.source("rt", "Russia Today", "https://www.rt.com/")
    w.loose = web_data.source("loose", "Loose Leaf", "https://loose.example/")
    w.other = web_data.source("other", "Other Paper", "https://other.example/")
    Feed.objects.create(source=w.bbc, url=BBC_FEED, kind="rss")
    Feed.objects.create(source=w.rt, url=RT_FEED, kind="rss")
    w.old = web_data.article(w.bbc, 9, title="From last month", published=now - timedelta(days=30))
    w.b = [
        web_data.article(w.bbc, n, published=now - timedelta(hours=n), byline="A. Writer", body_html="<p>Body</p>")
        for n in range(1, 4)
    ]
    w.r = [web_data.article(w.rt, 10 + n, published=now - timedelta(minutes=30 + 60 * n)) for n in range(1, 3)]
    w.elsewhere = web_data.article(w.other, 20, published=now)
    follows.follow(w.user, w.bbc, "World")
    follows.follow(w.user, w.rt, "World")
    follows.follow(w.user, w.loose)  # outside any folder
    return w


def call(client: Client, world, query: str = "", key: str | None = None, path: str = URL, **data):
    """POST as the apps do: the selectors in the query string, api_key (and writes) url-encoded."""
    body = urlencode({"api_key": world.key if key is None else key, **data})
    response = client.post(
        f"{path}?api{'&' + query if query else ''}", body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200, (query, response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    return response.json()


def ids(text: str) -> list[int]:
    return [int(part) for part in text.split(",")] if text else []


# --- signing in ---------------------------------------------------------------------------


def test_a_wrong_or_missing_key_answers_auth_0_byte_for_byte(client, world):
    for data in [{}, {"api_key": ""}, {"api_key": md5_key("reeder", "wrong")}, {"api_key": "not hex at all"}]:
        response = client.post(URL + "?api", data)
        assert response.status_code == 200 and response.content == b'{"api_version":3,"auth":0}', data
        assert "no-store" in response["Cache-Control"]
    # The account password is not for apps, nor is another user's name with the app password.
    assert call(client, world, key=md5_key("reeder", "the account password 1")) == {"api_version": 3, "auth": 0}
    assert call(client, world, key=md5_key("someone", world.password)) == {"api_version": 3, "auth": 0}
    assert call(client, world, "groups", key=md5_key("reeder", "wrong")) == {"api_version": 3, "auth": 0}


def test_the_documented_calls_authenticate(client, world):
    # FreshRSS's documentation: curl -F "api_key=$api_key" '.../api/fever.php?api' (multipart).
    response = client.post(URL + "?api", {"api_key": world.key})
    assert response.content.startswith(b'{"api_version":3,"auth":1,"last_refreshed_on_time":')
    body = response.json()
    assert set(body) == {"api_version", "auth", "last_refreshed_on_time"}
    assert isinstance(body["last_refreshed_on_time"], int) and body["last_refreshed_on_time"] > 1_500_000_000
    # Url-encoded, upper-case hex, and Miniflux's documented GET with the key in the query.
    assert call(client, world, key=world.key.upper())["auth"] == 1
    response = client.get("/api/fever/", {"api_key": world.key, "items": "", "max_id": "0"})
    assert response.json()["auth"] == 1 and len(response.json()["items"]) == 6
    for path in ["/api/fever.php/", "/api/fever/"]:
        assert call(client, world, path=path)["auth"] == 1
    assert client.put(URL + "?api", {"api_key": world.key}).status_code == 405


def test_the_key_is_stored_hashed_and_dies_with_the_app_password(client, world):
    row = AppPassword.objects.get(pk=world.row.pk)
    assert row.fever_key == hashlib.sha256(world.key.encode()).hexdigest()
    assert world.key not in row.fever_key and world.password not in row.password
    AppPassword.objects.filter(pk=row.pk).update(fever_key="")  # an app password from before Fever
    assert call(client, world)["auth"] == 0
    assert call(client, world, key="")["auth"] == 0
    second, plain = app_passwords.create(world.user, "Unread")
    assert call(client, world, key=md5_key("reeder", plain))["auth"] == 1
    app_passwords.revoke(world.user, second.pk)
    assert call(client, world, key=md5_key("reeder", plain))["auth"] == 0
    third, plain = app_passwords.create(world.user, "ReadKit")
    User.objects.filter(pk=world.user.pk).update(is_active=False)
    assert call(client, world, key=md5_key("reeder", plain))["auth"] == 0


def test_no_csrf_token_is_needed(world):
    strict = Client(enforce_csrf_checks=True)
    body = call(strict, world, "", mark="item", **{"as": "saved", "id": str(world.b[0].pk)})
    assert body["auth"] == 1 and ids(body["saved_item_ids"]) == [world.b[0].pk]


def test_calls_are_rate_limited_per_app_password_with_the_google_reader_api(client, world, settings):
    settings.NEWSDESK_API_TOKEN_PER_MINUTE = 3
    login = client.post("/api/greader.php/accounts/ClientLogin", {"Email": "reeder", "Passwd": world.password})
    token = login.content.decode().split("Auth=")[1].strip()
    greader = client.get("/api/greader.php/reader/api/0/user-info", HTTP_AUTHORIZATION=f"GoogleLogin auth={token}")
    assert greader.status_code == 200
    call(client, world)
    call(client, world)
    response = client.post(URL + "?api", {"api_key": world.key})
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    _, plain = app_passwords.create(world.user, "Another app")
    assert call(client, world, key=md5_key("reeder", plain))["auth"] == 1  # its own budget


def test_wrong_keys_are_rate_limited_per_address(client, world, settings):
    settings.NEWSDESK_API_ANON_PER_MINUTE = 3
    for n in range(3):
        assert call(client, world, key=md5_key("reeder", f"guess {n}"))["auth"] == 0
    response = client.post(URL + "?api", {"api_key": world.key})
    assert response.status_code == 429 and int(response["Retry-After"]) > 0


# --- groups, feeds, favicons, links -------------------------------------------------------


def test_groups_and_feeds_are_the_folders_and_followed_sources(client, world):
    body = call(client, world, "groups")
    assert set(body) == {"api_version", "auth", "last_refreshed_on_time", "groups", "feeds_groups"}
    [group] = body["groups"]
    assert group["title"] == "World" and isinstance(group["id"], int) and group["id"] > 0
    first, second = sorted([world.bbc.pk, world.rt.pk])
    assert body["feeds_groups"] == [{"group_id": group["id"], "feed_ids": f"{first},{second}"}]
    assert call(client, world, "groups")["groups"] == [group]  # the same id on every call

    body = call(client, world, "feeds")
    assert body["feeds_groups"] == [{"group_id": group["id"], "feed_ids": f"{first},{second}"}]
    feeds = {feed["id"]: feed for feed in body["feeds"]}
    assert set(feeds) == {world.bbc.pk, world.rt.pk, world.loose.pk}  # not the unfollowed one
    assert all(set(feed) == FEED_KEYS for feed in feeds.values())
    assert feeds[world.bbc.pk] == {
        "id": world.bbc.pk,
        "favicon_id": 0,
        "title": "BBC News",
        "url": BBC_FEED,
        "site_url": "https://www.bbc.co.uk/",
        "is_spark": 0,
        "last_updated_on_time": 0,
    }
    assert feeds[world.loose.pk]["url"] == "http://testserver/sources/loose/rss"  # our own feed of it

    fetched = timezone.now() - timedelta(minutes=5)
    Feed.objects.filter(url=BBC_FEED).update(last_success_at=fetched)
    body = call(client, world, "feeds&groups")
    assert "groups" in body and "feeds" in body
    assert body["last_refreshed_on_time"] == int(fetched.timestamp())
    assert {f["id"]: f for f in body["feeds"]}[world.bbc.pk]["last_updated_on_time"] == int(fetched.timestamp())

    body = call(client, world, "favicons&links")
    assert body["favicons"] == [] and body["links"] == []
    raw = client.post(URL + "?api&favicons", {"api_key": world.key}).content
    assert b'"favicons":[]' in raw


# --- items ----------------------------------------------------------------------------------


def test_items_are_the_followed_sources_articles_with_the_readers_state(client, world):
    saved.save(world.user, world.b[0])
    body = call(client, world, "items")
    followed = [world.old, *world.b, *world.r]
    assert body["total_items"] == len(followed)
    assert [item["id"] for item in body["items"]] == sorted((a.pk for a in followed), reverse=True)
    item = {i["id"]: i for i in body["items"]}[world.b[0].pk]
    assert set(item) == ITEM_KEYS
    assert item == {
        "id": world.b[0].pk,
        "feed_id": world.bbc.pk,
        "title": world.b[0].title,
        "author": "A. Writer",
        "html": "<p>Body</p>",
        "url": world.b[0].url,
        "is_saved": 1,
        "is_read": 0,
        "created_on_time": int(world.b[0].published_at.timestamp()),
    }
    by_id = {i["id"]: i for i in body["items"]}
    assert by_id[world.old.pk]["is_read"] == 1  # under the follow's watermark
    assert by_id[world.r[0].pk]["html"] == f"<p>{world.r[0].description}</p>"  # no body: the description
    assert world.elsewhere.pk not in by_id
    raw = client.post(URL + "?api&items&with_ids=" + str(world.b[0].pk), {"api_key": world.key}).content
    assert b'"is_saved":1,"is_read":0,' in raw  # integers, not booleans


def test_items_page_by_50_with_since_id_max_id_and_with_ids(client, world):
    now = timezone.now()
    many = [web_data.article(world.rt, 100 + n, published=now - timedelta(seconds=n)) for n in range(55)]
    everything = sorted(a.pk for a in [world.old, *world.b, *world.r, *many])
    assert len(everything) == 61
    first = call(client, world, "items&since_id=0")["items"]
    assert [i["id"] for i in first] == everything[:50]
    rest = call(client, world, "items", since_id=0)  # a posted since_id is not a read argument
    assert [i["id"] for i in rest["items"]] == everything[::-1][:50]
    second = call(client, world, f"items&since_id={everything[49]}")["items"]
    assert [i["id"] for i in second] == everything[50:]
    assert call(client, world, f"items&since_id={everything[-1]}")["items"] == []

    newest = call(client, world, "items&max_id=0")["items"]
    assert [i["id"] for i in newest] == everything[::-1][:50]
    older = call(client, world, f"items&max_id={everything[11]}")["items"]
    assert [i["id"] for i in older] == everything[:11][::-1]
    assert call(client, world, f"items&max_id={everything[0]}")["items"] == []

    wanted = [world.b[1].pk, world.elsewhere.pk, world.r[0].pk]
    got = call(client, world, "items&with_ids=" + ",".join(map(str, wanted)) + ",x,-3")["items"]
    assert sorted(i["id"] for i in got) == sorted([world.b[1].pk, world.r[0].pk])  # never an unfollowed one
    got = call(client, world, "items&with_ids=" + ",".join(map(str, everything[::-1])))["items"]
    assert [i["id"] for i in got] == everything[-50:]  # the first 50 asked for, in id order

    by_feed = call(client, world, f"items&feed_ids={world.bbc.pk}")["items"]
    assert {i["feed_id"] for i in by_feed} == {world.bbc.pk} and len(by_feed) == 4
    group = call(client, world, "groups")["groups"][0]["id"]
    assert len(call(client, world, f"items&group_ids={group}")["items"]) == 50
    assert call(client, world, f"items&group_ids={group + 1}")["items"] == []
    assert call(client, world, "items&max_id=0")["total_items"] == 61


def test_unread_and_saved_ids_are_comma_separated_strings(client, world):
    saved.save(world.user, world.b[2])
    saved.save(world.user, world.r[0])
    saved.save(world.user, world.elsewhere)  # not followed: not a Fever item
    state.mark_read(world.user, [world.b[1].pk])
    body = call(client, world, "unread_item_ids&saved_item_ids")
    unread = sorted(a.pk for a in [world.b[0], world.b[2], *world.r])
    assert body["unread_item_ids"] == ",".join(map(str, unread))
    assert body["saved_item_ids"] == ",".join(map(str, sorted([world.b[2].pk, world.r[0].pk])))
    raw = client.post(URL + "?api&unread_item_ids", {"api_key": world.key}).content
    assert f'"unread_item_ids":"{",".join(map(str, unread))}"'.encode() in raw
    follows.unfollow(world.user, world.rt)
    follows.unfollow(world.user, world.bbc)
    follows.unfollow(world.user, world.loose)
    body = call(client, world, "unread_item_ids&saved_item_ids&items")
    assert body["unread_item_ids"] == "" and body["saved_item_ids"] == "" and body["items"] == []


# --- writes -------------------------------------------------------------------------------


def mark(client, world, what: str, as_: str, pk: int, **extra):
    return call(client, world, "", mark=what, id=str(pk), **{"as": as_}, **extra)


def test_mark_item_read_unread_saved_unsaved(client, world):
    pk = world.b[0].pk
    body = mark(client, world, "item", "read", pk)
    assert pk not in ids(body["unread_item_ids"]) and state.read_ids(world.user, [pk]) == {pk}
    assert mark(client, world, "item", "read", pk)["auth"] == 1  # again: nothing changes
    assert state.read_ids(world.user, [pk]) == {pk}
    body = mark(client, world, "item", "unread", pk)
    assert pk in ids(body["unread_item_ids"]) and state.read_ids(world.user, [pk]) == set()
    # Old news under the watermark can be kept unread too.
    assert world.old.pk in ids(mark(client, world, "item", "unread", world.old.pk)["unread_item_ids"])

    body = mark(client, world, "item", "saved", pk)
    assert ids(body["saved_item_ids"]) == [pk] and "unread_item_ids" not in body
    mark(client, world, "item", "saved", pk)  # setting, not toggling: still saved
    assert Saved.objects.filter(user=world.user, article_id=pk).count() == 1
    assert ids(mark(client, world, "item", "unsaved", pk)["saved_item_ids"]) == []
    assert not Saved.objects.filter(user=world.user).exists()

    # In the query string, as FreshRSS's documented calls put them.
    response = client.post(f"{URL}?api&mark=item&as=read&id={pk}", {"api_key": world.key})
    assert pk not in ids(response.json()["unread_item_ids"])
    # Nonsense changes nothing and is not an error.
    for bad in [{"as": "sparkly"}, {"id": "abc"}, {"id": "0"}, {"mark": "everything"}]:
        data = {"mark": "item", "as": "unread", "id": str(pk), **bad}
        assert call(client, world, "", **data)["auth"] == 1
    assert state.read_ids(world.user, [pk]) == {pk}
    assert mark(client, world, "item", "read", 10**12)["auth"] == 1  # no such article


def test_mark_feed_read_before(client, world):
    before = int(world.b[1].published_at.timestamp()) + 1  # b[1] and older, not b[0]
    body = mark(client, world, "feed", "read", world.bbc.pk, before=str(before))
    unread = ids(body["unread_item_ids"])
    assert world.b[0].pk in unread and world.b[1].pk not in unread and world.b[2].pk not in unread
    assert all(a.pk in unread for a in world.r)  # another feed is untouched
    mark(client, world, "feed", "read", world.other.pk, before=str(before))  # not followed: nothing
    mark(client, world, "feed", "read", world.bbc.pk)  # no `before`: everything up to now
    assert state.read_ids(world.user, [a.pk for a in world.b]) == {a.pk for a in world.b}
    assert all(a.pk in ids(call(client, world, "unread_item_ids")["unread_item_ids"]) for a in world.r)


def test_mark_group_read_and_kindling(client, world):
    loose = web_data.article(world.loose, 50, published=timezone.now() - timedelta(minutes=1))
    group = call(client, world, "groups")["groups"][0]["id"]
    assert mark(client, world, "group", "read", group + 1)["unread_item_ids"] != ""  # unknown group: nothing
    assert mark(client, world, "group", "read", -1)["auth"] == 1  # Sparks: nothing
    assert len(ids(call(client, world, "unread_item_ids")["unread_item_ids"])) == 6
    body = mark(client, world, "group", "read", group, before=str(int(timezone.now().timestamp())))
    assert ids(body["unread_item_ids"]) == [loose.pk]  # only the folder's feeds
    body = mark(client, world, "group", "read", 0, before=str(int(timezone.now().timestamp()) + 3600))
    assert body["unread_item_ids"] == ""  # Kindling: everything, never past now
    later = web_data.article(world.loose, 51, published=timezone.now() + timedelta(seconds=5))
    assert ids(call(client, world, "unread_item_ids")["unread_item_ids"]) == [later.pk]


def test_unread_recently_read_takes_back_the_last_30_seconds(client, world):
    pk = world.b[0].pk
    mark(client, world, "item", "read", pk)
    body = call(client, world, "", unread_recently_read="1")
    assert pk in ids(body["unread_item_ids"])


def test_state_is_shared_with_the_site_and_the_google_reader_api(client, world):
    state.mark_read(world.user, [world.b[0].pk])  # read on the site
    body = call(client, world, "items&with_ids=" + str(world.b[0].pk))
    assert body["items"][0]["is_read"] == 1
    mark(client, world, "item", "read", world.r[0].pk)  # read in a Fever app
    login = client.post("/api/greader.php/accounts/ClientLogin", {"Email": "reeder", "Passwd": world.password})
    token = login.content.decode().split("Auth=")[1].strip()
    response = client.get(
        "/api/greader.php/reader/api/0/stream/items/ids",
        {"s": "user/-/state/com.google/reading-list", "xt": "user/-/state/com.google/read", "n": "100"},
        HTTP_AUTHORIZATION=f"GoogleLogin auth={token}",
    )
    unread = {int(ref["id"]) for ref in response.json()["itemRefs"]}
    assert unread == {world.b[1].pk, world.b[2].pk, world.r[1].pk}


def test_one_reader_sees_nothing_of_another(client, world):
    other = User.objects.create_user("unread", "unread@example.org", "another account password")
    _, plain = app_passwords.create(other, "Unread")
    follows.follow(other, world.other, "Elsewhere")
    saved.save(world.user, world.b[0])
    key = md5_key("unread", plain)
    body = call(client, world, "groups&feeds&items&unread_item_ids&saved_item_ids", key=key)
    assert [g["title"] for g in body["groups"]] == ["Elsewhere"]
    assert [f["id"] for f in body["feeds"]] == [world.other.pk]
    assert [i["id"] for i in body["items"]] == [world.elsewhere.pk] and body["total_items"] == 1
    assert body["unread_item_ids"] == str(world.elsewhere.pk) and body["saved_item_ids"] == ""
    call(client, world, "", key=key, mark="item", id=str(world.b[0].pk), **{"as": "unsaved"})
    assert Saved.objects.filter(user=world.user, article=world.b[0]).exists()


# --- over HTTP --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_sync_as_a_fever_app_does_it(live_server):
    user = User.objects.create_user("fiery", "fiery@example.org", "account password 123")
    _, password = app_passwords.create(user, "Fiery Feeds")
    bbc = web_data.source("bbc", "BBC News", "https://www.bbc.co.uk/")
    Feed.objects.create(source=bbc, url=BBC_FEED, kind="rss")
    now = timezone.now()
    articles = [web_data.article(bbc, n, published=now - timedelta(minutes=n)) for n in range(1, 6)]
    follows.follow(user, bbc, "News")
    endpoint = live_server.url + URL
    key = md5_key("fiery", password)
    with requests.Session() as http:

        def fever(query: str, **data: str) -> dict:
            response = http.post(f"{endpoint}?api{query}", data={"api_key": key, **data}, timeout=10)
            assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
            assert "no-store" in response.headers["Cache-Control"]
            return json.loads(response.content)

        assert http.post(endpoint + "?api", data={"api_key": "0" * 32}, timeout=10).content == (
            b'{"api_version":3,"auth":0}'
        )
        assert fever("")["auth"] == 1
        groups = fever("&groups")
        feeds = fever("&feeds")
        assert [g["title"] for g in groups["groups"]] == ["News"]
        assert feeds["feeds"][0]["url"] == BBC_FEED
        assert feeds["feeds_groups"] == [{"group_id": groups["groups"][0]["id"], "feed_ids": str(bbc.pk)}]
        unread = ids(fever("&unread_item_ids")["unread_item_ids"])
        assert unread == sorted(a.pk for a in articles)
        items = fever("&items&with_ids=" + ",".join(map(str, unread)))["items"]
        assert {i["title"] for i in items} == {a.title for a in articles}
        assert fever("&items&since_id=" + str(max(unread)))["items"] == []
        fever("", mark="item", id=str(articles[0].pk), **{"as": "read"})
        fever("", mark="item", id=str(articles[1].pk), **{"as": "saved"})
        assert ids(fever("&saved_item_ids")["saved_item_ids"]) == [articles[1].pk]
        assert articles[0].pk not in ids(fever("&unread_item_ids")["unread_item_ids"])
        before = str(int(timezone.now().timestamp()))
        fever("", mark="group", id=str(groups["groups"][0]["id"]), before=before)  # no `as`: nothing
        assert len(ids(fever("&unread_item_ids")["unread_item_ids"])) == 4
        done = fever("", mark="group", id=str(groups["groups"][0]["id"]), before=before, **{"as": "read"})
        assert done["unread_item_ids"] == "" and fever("&unread_item_ids")["unread_item_ids"] == ""
    assert state.followed_unread(user).count() == 0
    assert Saved.objects.filter(user=user, article=articles[1]).exists()
