"""The Google Reader API through Django's test client, answer by answer, against what
FreshRSS (p/api/greader.php) and Miniflux (internal/googlereader/) send: the three-line
ClientLogin answer byte for byte, the 57-character edit token, 401 with the bad-token
header, the JSON shapes of subscriptions, tags, unread counts, item ids and items, the
three spellings of an item id, continuation, and `OK` for every edit."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from newsdesk.articles.models import Article
from newsdesk.reader import app_passwords, state
from newsdesk.reader.models import AppPassword, Follow, Saved
from newsdesk.sources.models import Feed
from tests import web_data

pytestmark = pytest.mark.django_db
User = get_user_model()
BASE = "/api/greader.php"
API = BASE + "/reader/api/0/"
BBC_FEED = "https://feeds.bbci.co.uk/news/rss.xml"
RT_FEED = "https://www.rt.com/rss/"


class World:
    pass


@pytest.fixture
def world():
    w = World()
    now = timezone.now()
    w.user = User.objects.create_user("reeder", "reeder@example.org", "the account password 1")
    w.row, w.password = app_passwords.create(w.user, "Reeder")
    w.bbc = web_data.source("bbc", "BBC News", "https://www.bbc.co.uk/")
    w.rt = web_data.source("rt", "Russia Today", "https://www.rt.com/")
    w.other = web_data.source("other", "Other Paper", "https://other.example/")
    Feed.objects.create(source=w.bbc, url=BBC_FEED, kind="rss")
    Feed.objects.create(source=w.rt, url=RT_FEED, kind="rss")
    w.b = [web_data.article(w.bbc, n, published=now - timedelta(hours=n)) for n in range(1, 4)]
    w.r = [web_data.article(w.rt, 10 + n, published=now - timedelta(minutes=30 + 60 * n)) for n in range(1, 3)]
    w.old = web_data.article(w.bbc, 9, title="From last month", published=now - timedelta(days=30))
    w.elsewhere = web_data.article(w.other, 20, published=now)
    return w


def login(client: Client, username: str, password: str, **extra):
    return client.post(BASE + "/accounts/ClientLogin", {"Email": username, "Passwd": password, **extra})


@pytest.fixture
def auth(client, world) -> dict:
    response = login(client, "reeder", world.password)
    token = re.search(r"^Auth=(.+)$", response.content.decode(), re.M).group(1)
    return {"HTTP_AUTHORIZATION": f"GoogleLogin auth={token}"}


def get(client: Client, auth: dict, path: str, status: int = 200, **params):
    response = client.get(API + path, params, **auth)
    assert response.status_code == status, (path, response.status_code, response.content[:300])
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    return response


def post(client: Client, auth: dict, path: str, data, status: int = 200):
    response = client.post(API + path, data, **auth)
    assert response.status_code == status, (path, response.status_code, response.content[:300])
    return response


def follow(client, auth, feed_url: str, label: str = ""):
    data = {"ac": "subscribe", "s": f"feed/{feed_url}"}
    if label:
        data["a"] = f"user/-/label/{label}"
    assert post(client, auth, "subscription/edit", data).content == b"OK"


def ids_of(response) -> list[int]:
    return [int(ref["id"]) for ref in response.json()["itemRefs"]]


# --- signing in ---------------------------------------------------------------------------


def test_client_login_answers_three_lines(client, world):
    response = login(client, "reeder", world.password)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    token = app_passwords.auth_token(world.row)
    assert re.fullmatch(r"reeder/\d+/[0-9a-f]{40}", token)
    assert response.content == f"SID={token}\nLSID={token}\nAuth={token}\n".encode()
    assert "no-store" in response["Cache-Control"]
    response = login(client, "reeder", world.password, output="json")
    assert response.json() == {"SID": token, "LSID": token, "Auth": token}
    assert login(client, "reeder", world.password).content.decode().endswith(f"Auth={token}\n")  # stable


def test_client_login_refuses_wrong_and_account_passwords(client, world):
    for password in ["wrong", "the account password 1", ""]:
        response = login(client, "reeder", password)
        assert response.status_code == 401 and response["Google-Bad-Token"] == "true", password
        assert b"Auth=" not in response.content
    assert login(client, "nobody", world.password).status_code == 401
    assert client.put(BASE + "/accounts/ClientLogin").status_code == 405


def test_client_login_is_rate_limited(client, world, settings):
    settings.NEWSDESK_LOGIN_FAILURES_PER_USER = 3
    for _ in range(2):
        assert login(client, "reeder", "wrong").status_code == 401
    response = login(client, "reeder", "wrong")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    response = login(client, "reeder", world.password)  # refused before the password is checked
    assert response.status_code == 429 and b"Auth=" not in response.content
    other = Client(REMOTE_ADDR="10.9.9.9")
    assert login(other, "reeder", world.password).status_code == 200


def test_calls_need_the_token_and_die_with_the_app_password(client, world, auth):
    assert get(client, {}, "user-info", status=401)["Google-Bad-Token"] == "true"
    assert get(client, {"HTTP_AUTHORIZATION": "GoogleLogin auth=reeder/1/" + "0" * 40}, "user-info", status=401)
    assert get(client, {"HTTP_AUTHORIZATION": "Bearer x"}, "user-info", status=401)
    info = get(client, auth, "user-info").json()
    assert info == {
        "userId": str(world.user.pk),
        "userName": "reeder",
        "userProfileId": str(world.user.pk),
        "userEmail": "reeder@example.org",
    }
    assert AppPassword.objects.get().last_used_at is not None
    app_passwords.revoke(world.user, world.row.pk)
    get(client, auth, "user-info", status=401)


def test_edit_token_and_its_check(client, world, auth):
    response = get(client, auth, "token")
    token = response.content.decode()
    assert token.endswith("\n") and len(token.strip()) == 57
    item = str(world.b[0].pk)
    read = "user/-/state/com.google/read"
    assert post(client, auth, "edit-tag", {"i": item, "a": read, "T": "x" * 57}, status=401)
    assert not state.read_ids(world.user, [world.b[0].pk])
    assert post(client, auth, "edit-tag", {"i": item, "a": read, "T": token.strip()}).content == b"OK"
    assert state.read_ids(world.user, [world.b[0].pk]) == {world.b[0].pk}


def test_posts_need_no_csrf_cookie_but_the_token(world, auth):
    strict = Client(enforce_csrf_checks=True)
    item = str(world.b[0].pk)
    assert post(strict, auth, "edit-tag", {"i": item, "a": "user/-/state/com.google/starred"}).content == b"OK"
    assert Saved.objects.filter(user=world.user, article=world.b[0]).exists()
    assert post(strict, {}, "edit-tag", {"i": item, "r": "user/-/state/com.google/starred"}, status=401)
    assert Saved.objects.filter(user=world.user).exists()


def test_calls_are_rate_limited_per_app_password(client, world, auth, settings):
    settings.NEWSDESK_API_TOKEN_PER_MINUTE = 3
    for _ in range(3):
        get(client, auth, "user-info")
    response = client.get(API + "user-info", **auth)
    assert response.status_code == 429 and int(response["Retry-After"]) > 0


# --- subscriptions and tags -----------------------------------------------------------------


def test_subscribe_by_feed_url_list_edit_and_unsubscribe(client, world, auth):
    follow(client, auth, BBC_FEED, "News")
    follow(client, auth, BBC_FEED, "News")  # idempotent
    quick = post(client, auth, "subscription/quickadd", {"quickadd": RT_FEED}).json()
    assert quick == {"numResults": 1, "query": RT_FEED, "streamId": f"feed/{world.rt.pk}", "streamName": "Russia Today"}
    assert post(client, auth, "subscription/quickadd", {"quickadd": "https://unknown.example/feed"}).json() == {
        "numResults": 0,
        "query": "https://unknown.example/feed",
    }
    assert Follow.objects.filter(user=world.user).count() == 2
    subs = get(client, auth, "subscription/list", output="json").json()["subscriptions"]
    assert subs[0] == {
        "id": f"feed/{world.bbc.pk}",
        "title": "BBC News",
        "categories": [{"id": "user/-/label/News", "label": "News"}],
        "url": BBC_FEED,
        "htmlUrl": "https://www.bbc.co.uk/",
        "iconUrl": "",
        "sortid": f"{world.bbc.pk:08X}",
        "firstitemmsec": subs[0]["firstitemmsec"],
    }
    assert subs[1]["id"] == f"feed/{world.rt.pk}" and subs[1]["categories"] == []
    tags = get(client, auth, "tag/list", output="json").json()["tags"]
    assert tags == [
        {"id": "user/-/state/com.google/starred"},
        {"id": "user/-/label/News", "label": "News", "type": "folder"},
    ]
    # Move rt into News by its id, then take bbc out of it.
    post(client, auth, "subscription/edit", {"ac": "edit", "s": f"feed/{world.rt.pk}", "a": "user/-/label/News"})
    post(client, auth, "subscription/edit", {"ac": "edit", "s": f"feed/{world.bbc.pk}", "r": "user/-/label/News"})
    categories = dict(Follow.objects.values_list("source__slug", "category"))
    assert categories == {"bbc": "", "rt": "News"}
    post(client, auth, "subscription/edit", {"ac": "edit", "s": f"feed/{world.other.pk}", "t": "x"}, status=404)
    post(client, auth, "subscription/edit", {"ac": "subscribe", "s": "feed/https://unknown.example/"}, status=404)
    for _ in range(2):
        post(client, auth, "subscription/edit", {"ac": "unsubscribe", "s": f"feed/{world.rt.pk}"})
    assert list(Follow.objects.values_list("source__slug", flat=True)) == ["bbc"]


def test_unread_counts(client, world, auth):
    follow(client, auth, BBC_FEED, "News")
    follow(client, auth, RT_FEED)
    body = get(client, auth, "unread-count", output="json").json()
    counts = {row["id"]: row["count"] for row in body["unreadcounts"]}
    assert counts == {
        f"feed/{world.bbc.pk}": 3,  # the month-old one is under the new follow's watermark
        f"feed/{world.rt.pk}": 2,
        "user/-/label/News": 3,
        "user/-/state/com.google/reading-list": 5,
    }
    assert body["max"] == 5
    newest = {row["id"]: row["newestItemTimestampUsec"] for row in body["unreadcounts"]}
    assert newest[f"feed/{world.bbc.pk}"] == str(int(world.b[0].published_at.timestamp() * 1_000_000))
    post(client, auth, "edit-tag", {"i": [str(world.b[0].pk), str(world.r[0].pk)], "a": "user/-/state/com.google/read"})
    counts = {row["id"]: row["count"] for row in get(client, auth, "unread-count").json()["unreadcounts"]}
    assert counts["user/-/state/com.google/reading-list"] == 3 and counts[f"feed/{world.bbc.pk}"] == 2


# --- streams ------------------------------------------------------------------------------


def test_item_ids_filters_order_and_continuation(client, world, auth):
    follow(client, auth, BBC_FEED, "News")
    follow(client, auth, RT_FEED)
    newest_first = sorted([*world.b, *world.r, world.old], key=lambda a: a.published_at, reverse=True)
    everything = [a.pk for a in newest_first]
    reading = "user/-/state/com.google/reading-list"
    assert ids_of(get(client, auth, "stream/items/ids", s=reading, n=1000)) == everything
    # Pages of two, each continuation carried to the next call.
    seen, params = [], {"s": reading, "n": 2, "xt": "user/-/state/com.google/read"}
    for _ in range(5):
        body = get(client, auth, "stream/items/ids", **params).json()
        seen += [int(ref["id"]) for ref in body["itemRefs"]]
        if "continuation" not in body:
            break
        assert body["continuation"].isdigit()
        params["c"] = body["continuation"]
    assert seen == [pk for pk in everything if pk != world.old.pk]
    oldest_first = get(client, auth, "stream/items/ids", s=reading, n=100, r="o")
    assert ids_of(oldest_first) == everything[::-1]
    only_read = get(client, auth, "stream/items/ids", s=reading, n=100, it="user/-/state/com.google/read")
    assert ids_of(only_read) == [world.old.pk]
    since = int((world.r[0].published_at - timedelta(seconds=1)).timestamp())
    assert ids_of(get(client, auth, "stream/items/ids", s=reading, n=100, ot=since)) == everything[:2]
    until = int(world.b[0].published_at.timestamp())
    assert world.b[0].pk not in ids_of(get(client, auth, "stream/items/ids", s=reading, n=100, nt=until))
    feed = ids_of(get(client, auth, "stream/items/ids", s=f"feed/{world.rt.pk}", n=100))
    assert feed == [a.pk for a in world.r]
    label = ids_of(get(client, auth, "stream/items/ids", s="user/-/label/News", n=100))
    assert set(label) == {a.pk for a in [*world.b, world.old]}
    # Another spelling of the reader's own stream, and streams that are not theirs.
    assert ids_of(get(client, auth, "stream/items/ids", s=f"user/{world.user.pk}/state/com.google/reading-list", n=9))
    get(client, auth, "stream/items/ids", s=f"feed/{world.other.pk}", status=404)
    get(client, auth, "stream/items/ids", s="user/-/label/Nope", status=404)
    post(client, auth, "edit-tag", {"i": str(world.elsewhere.pk), "a": "user/-/state/com.google/starred"})
    starred = get(client, auth, "stream/items/ids", s="user/-/state/com.google/starred", n=10)
    assert ids_of(starred) == [world.elsewhere.pk]  # saved from a source not followed


def test_item_contents_take_every_id_spelling(client, world, auth):
    follow(client, auth, BBC_FEED, "News")
    a, b, d = world.b[0], world.b[1], world.old
    # An id whose 16 hex digits are all decimal digits too (0x1234 is 4660, not 1234).
    Article.objects.filter(pk=world.r[0].pk).update(id=0x1234)
    c = Article.objects.get(pk=0x1234)
    spellings = [
        f"tag:google.com,2005:reader/item/{a.pk:016x}",  # long form
        str(b.pk),  # short form, decimal
        f"{c.pk:016x}",  # Reeder: 16 hex digits
        f"tag:google.com,2005:reader/item/{d.pk:x}",  # NetNewsWire: long form, unpadded
    ]
    post(client, auth, "edit-tag", {"i": str(b.pk), "a": "user/-/state/com.google/starred"})
    body = post(client, auth, "stream/items/contents", {"i": spellings, "output": "json"}).json()
    assert [item["id"] for item in body["items"]] == [
        f"tag:google.com,2005:reader/item/{x.pk:016x}" for x in (a, b, c, d)
    ]
    first = body["items"][0]
    assert first["title"] == a.title and first["alternate"] == [{"href": a.url, "type": "text/html"}]
    assert first["origin"] == {
        "streamId": f"feed/{world.bbc.pk}",
        "title": "BBC News",
        "htmlUrl": "https://www.bbc.co.uk/",
    }
    assert first["published"] == int(a.published_at.timestamp())
    assert first["timestampUsec"] == str(int(a.created_at.timestamp() * 1_000_000))
    assert first["crawlTimeMsec"] == first["timestampUsec"][:-3]
    assert first["summary"]["content"] == f"<p>{a.description}</p>" == first["content"]["content"]
    assert first["categories"] == ["user/-/state/com.google/reading-list", "user/-/label/News"]
    assert "user/-/state/com.google/starred" in body["items"][1]["categories"]
    assert body["items"][2]["categories"] == []  # rt is not followed
    assert "user/-/state/com.google/read" in body["items"][3]["categories"]  # under the watermark
    post(client, auth, "stream/items/contents", {"i": ["nonsense"]}, status=400)


def test_stream_contents_by_path(client, world, auth):
    follow(client, auth, BBC_FEED)
    follow(client, auth, RT_FEED)
    body = get(
        client, auth, "stream/contents/user/-/state/com.google/reading-list", n=2, xt="user/-/state/com.google/read"
    ).json()
    assert body["id"] == "user/-/state/com.google/reading-list" and len(body["items"]) == 2
    rest = get(
        client,
        auth,
        "stream/contents/user/-/state/com.google/reading-list",
        n=10,
        c=body["continuation"],
        xt="user/-/state/com.google/read",
    ).json()
    assert "continuation" not in rest and len(rest["items"]) == 3
    by_url = get(client, auth, f"stream/contents/feed/{RT_FEED}", n=10).json()
    assert by_url["id"] == f"feed/{world.rt.pk}" and by_url["title"] == "Russia Today"
    assert [i["id"][-16:] for i in by_url["items"]] == [f"{a.pk:016x}" for a in world.r]


# --- read and starred, both ways -----------------------------------------------------------


def test_edit_tag_read_unread_starred(client, world, auth):
    follow(client, auth, BBC_FEED)
    read, starred = "user/-/state/com.google/read", "user/-/state/com.google/starred"
    pk = world.b[0].pk
    for _ in range(2):
        assert post(client, auth, "edit-tag", {"i": str(pk), "a": [read, starred]}).content == b"OK"
    assert state.read_ids(world.user, [pk]) == {pk}
    assert Saved.objects.filter(user=world.user, article_id=pk).count() == 1
    post(client, auth, "edit-tag", {"i": str(pk), "r": [read, starred]})
    assert not state.read_ids(world.user, [pk]) and not Saved.objects.exists()
    # Unread below the watermark (kept unread), then read again.
    post(client, auth, "edit-tag", {"i": f"tag:google.com,2005:reader/item/{world.old.pk:016x}", "r": read})
    assert not state.read_ids(world.user, [world.old.pk])
    post(client, auth, "edit-tag", {"i": str(world.old.pk), "a": read, "r": read}, status=400)
    post(client, auth, "edit-tag", {"i": str(pk), "a": "user/-/label/Whatever"})  # accepted, ignored
    # What the site does shows in the API: opening the page reads it.
    signed_in = Client()
    signed_in.force_login(world.user)
    signed_in.get(world.b[1].get_absolute_url())
    body = post(client, auth, "stream/items/contents", {"i": str(world.b[1].pk)}).json()
    assert read in body["items"][0]["categories"]


def test_mark_all_as_read(client, world, auth):
    follow(client, auth, BBC_FEED, "News")
    follow(client, auth, RT_FEED)
    middle = world.b[1].published_at
    ts = str(int(middle.timestamp() * 1_000_000))
    assert post(client, auth, "mark-all-as-read", {"s": f"feed/{world.bbc.pk}", "ts": ts}).content == b"OK"
    unread = set(state.followed_unread(world.user).values_list("pk", flat=True))
    assert unread == {world.b[0].pk, *(a.pk for a in world.r)}
    post(client, auth, "mark-all-as-read", {"s": "user/-/label/News"})
    assert set(state.followed_unread(world.user).values_list("pk", flat=True)) == {a.pk for a in world.r}
    post(
        client,
        auth,
        "mark-all-as-read",
        {"s": "user/-/state/com.google/reading-list", "ts": str(int(world.r[0].published_at.timestamp()) - 1)},
    )
    assert set(state.followed_unread(world.user).values_list("pk", flat=True)) == {world.r[0].pk}  # seconds work too
    post(client, auth, "mark-all-as-read", {"s": "user/-/label/Nope"}, status=404)
    post(client, auth, "mark-all-as-read", {"s": "user/-/state/com.google/reading-list"})
    assert not state.followed_unread(world.user).exists()


def test_unknown_calls_are_json_404_and_need_auth(client, world, auth):
    assert get(client, auth, "preference/stream/list", status=404).json() == {"error": "not supported"}
    assert get(client, {}, "preference/stream/list", status=401)


def test_the_requests_freshrss_documents(client, world):
    """docs/en/developers/06_GoogleReader_API.md's curl examples, as curl sends them."""
    response = client.get(BASE + f"/accounts/ClientLogin?Email=reeder&Passwd={world.password}")
    lines = response.content.decode().splitlines()
    token = app_passwords.auth_token(world.row)
    assert f"SID={token}" in lines and f"Auth={token}" in lines
    auth = {"HTTP_AUTHORIZATION": f"GoogleLogin auth={token}"}
    assert client.get(API + "subscription/list?output=json", **auth).json() == {"subscriptions": []}
    follow(client, auth, BBC_FEED)
    assert (
        client.get(API + "subscription/list?output=json", **auth).json()["subscriptions"][0]["id"]
        == f"feed/{world.bbc.pk}"
    )
    assert client.get(API + "unread-count?output=json", **auth).json()["max"] == 3
    assert client.get(API + "tag/list?output=json", **auth).json()["tags"][0] == {
        "id": "user/-/state/com.google/starred"
    }
    edit = client.get(API + "token", **auth).content
    assert re.fullmatch(rb"[0-9a-f]{57}\n", edit)
    contents = client.get(API + "stream/contents/reading-list", **auth).json()
    assert contents["id"] == "user/-/state/com.google/reading-list"
    assert [item["id"][-16:] for item in contents["items"]] == [f"{a.pk:016x}" for a in [*world.b, world.old]]
    response = client.post(
        API + "subscription/edit",
        f"ac=unsubscribe&s=feed/{world.bbc.pk}",
        content_type="application/x-www-form-urlencoded",
        **auth,
    )
    assert response.content == b"OK" and not Follow.objects.exists()


def test_folders_renamed_and_deleted_in_the_app(client, world, auth):
    follow(client, auth, BBC_FEED, "News")
    follow(client, auth, RT_FEED, "News")
    data = {"s": "user/-/label/News", "dest": "user/-/label/World"}
    assert post(client, auth, "rename-tag", data).content == b"OK"
    assert set(Follow.objects.values_list("category", flat=True)) == {"World"}
    post(client, auth, "rename-tag", data, status=404)  # no News any more
    assert post(client, auth, "disable-tag", {"s": "user/-/label/World"}).content == b"OK"
    assert set(Follow.objects.values_list("category", flat=True)) == {""} and Follow.objects.count() == 2


def test_a_feed_url_with_its_slashes_merged_by_a_proxy(client, world, auth):
    follow(client, auth, RT_FEED)
    merged = RT_FEED.replace("https://", "https:/")
    assert get(client, auth, f"stream/contents/feed/{merged}", n=5).json()["id"] == f"feed/{world.rt.pk}"


def test_a_batch_of_a_thousand_items_in_one_edit(client, world, auth):
    """1,000 `i` fields plus T and a, url-encoded as apps send them: more fields than
    Django's default cap of 1,000."""
    token = get(client, auth, "token").content.decode().strip()
    filler = [str(n) for n in range(10**6, 10**6 + 998)]  # ids of no article: ignored
    items = [str(world.b[0].pk), str(world.r[0].pk), *filler]
    body = urlencode({"i": items, "a": "user/-/state/com.google/read", "T": token}, doseq=True)
    response = client.post(API + "edit-tag", body, content_type="application/x-www-form-urlencoded", **auth)
    assert response.status_code == 200 and response.content == b"OK"
    assert state.read_ids(world.user, [world.b[0].pk, world.r[0].pk]) == {world.b[0].pk, world.r[0].pk}
