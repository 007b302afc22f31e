"""A real reader-app client against a running newsdesk: Miniflux's own Python client
for the Google Reader API (the `google-reader` package, tested by its authors against
Miniflux and FreshRSS) talks HTTP to the live server, logs in with an app password,
subscribes by feed URL, syncs unread and starred ids, fetches the items and changes
their state, as NetNewsWire or Reeder do on each sync."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from django.contrib.auth import get_user_model
from django.utils import timezone

from newsdesk.reader import app_passwords, state
from newsdesk.reader.models import Follow, Saved
from newsdesk.sources.models import Feed
from tests import web_data

google_reader = pytest.importorskip("google_reader", reason="bin/_install installs it with the test extras")

pytestmark = pytest.mark.django_db(transaction=True)
User = get_user_model()
FEED = "https://feeds.bbci.co.uk/news/rss.xml"
READ = "user/-/state/com.google/read"
STARRED = "user/-/state/com.google/starred"
READING_LIST = "user/-/state/com.google/reading-list"


@pytest.fixture
def site(live_server):
    user = User.objects.create_user("netnewswire", "nnw@example.org", "account password 123")
    _, password = app_passwords.create(user, "NetNewsWire")
    bbc = web_data.source("bbc", "BBC News", "https://www.bbc.co.uk/")
    Feed.objects.create(source=bbc, url=FEED, kind="rss")
    now = timezone.now()
    articles = [web_data.article(bbc, n, published=now - timedelta(minutes=n)) for n in range(1, 6)]
    # The app's keep-alive connection is closed before the test ends, while the live
    # server still shares the test database with its request threads.
    with requests.Session() as session:
        client = google_reader.Client(live_server.url + "/api/greader.php", session=session)
        yield client, user, password, bbc, articles


def test_a_sync_as_a_reader_app_does_it(site):
    client, user, password, bbc, articles = site
    with pytest.raises(google_reader.AuthenticationError):
        client.login("netnewswire", "account password 123")  # the account password is not for apps
    auth = client.login("netnewswire", password)
    token = client.get_token(auth)
    assert len(token) == 57
    info = client.get_user_info(auth)
    assert info.user_name == "netnewswire" and info.user_email == "nnw@example.org"

    added = client.quick_add_subscription(auth, token, FEED)
    assert added.num_results == 1 and added.stream_id == f"feed/{bbc.pk}" and added.stream_name == "BBC News"
    assert client.edit_subscription(
        auth, token, f"feed/{bbc.pk}", "edit", add_label_id=google_reader.get_label_id("World")
    )
    subscriptions = client.list_subscriptions(auth)
    assert [(s.id, s.title, s.url, [c.label for c in s.categories]) for s in subscriptions] == [
        (f"feed/{bbc.pk}", "BBC News", FEED, ["World"])
    ]
    assert [t.id for t in client.list_tags(auth)] == [STARRED, "user/-/label/World"]

    # Unread ids, page by page, then their contents.
    unread, continuation = [], None
    while True:
        page = client.get_stream_items_ids(auth, READING_LIST, limit=2, exclude_target=READ, continuation=continuation)
        unread += [ref.id for ref in page.item_refs]
        continuation = page.continuation
        if not continuation:
            break
    assert unread == [str(a.pk) for a in articles]
    contents = client.get_stream_items_contents(auth, token, unread[:3])
    assert [item.id for item in contents.items] == [google_reader.get_long_item_id(a.pk) for a in articles[:3]]
    assert contents.items[0].origin.stream_id == f"feed/{bbc.pk}" and contents.items[0].title == articles[0].title
    assert contents.items[0].alternate[0].href == articles[0].url

    # Read and starred, with the long ids the contents gave.
    first, second = contents.items[0].id, contents.items[1].id
    assert client.edit_tags(auth, token, [first, second], add_tags=[READ])
    assert client.edit_tags(auth, token, [second], add_tags=[STARRED])
    assert state.read_ids(user, [a.pk for a in articles]) == {articles[0].pk, articles[1].pk}
    assert list(Saved.objects.filter(user=user).values_list("article_id", flat=True)) == [articles[1].pk]
    starred = client.get_stream_items_ids(auth, STARRED, include_target=STARRED)
    assert [ref.id for ref in starred.item_refs] == [str(articles[1].pk)]
    assert client.edit_tags(auth, token, [first], remove_tags=[READ])
    remaining = client.get_stream_items_ids(auth, READING_LIST, exclude_target=READ)
    assert [ref.id for ref in remaining.item_refs] == [str(a.pk) for a in articles if a.pk != articles[1].pk]

    assert client.mark_all_as_read(auth, token, "user/-/label/World")
    assert client.get_stream_items_ids(auth, READING_LIST, exclude_target=READ).item_refs == []
    with pytest.raises(google_reader.ResourceNotFoundError):
        client.mark_all_as_read(auth, token, "user/-/label/Nowhere")

    assert client.edit_subscription(auth, token, f"feed/{bbc.pk}", "unsubscribe")
    assert not Follow.objects.filter(user=user).exists() and client.list_subscriptions(auth) == []
    app_passwords.revoke(user, user.app_passwords.get().pk)
    with pytest.raises(google_reader.AuthenticationError):
        client.get_user_info(auth)
