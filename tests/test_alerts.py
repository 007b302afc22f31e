"""Alerts: new articles fanned out to the followers of their story, hashtags and saved
searches (never to anyone who muted them), once per batch however often its task runs;
the notifications page and API; what the scheduler queues."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from newsdesk.api.models import ApiToken
from newsdesk.reader.briefings import fanout, notifications, percolate, schedule
from newsdesk.reader.briefings.models import Activity, AlertMark, BriefingSettings, FanoutBatch
from newsdesk.reader.briefings.tasks import fanout_task, plan_mail_task
from newsdesk.reader.models import Interest
from newsdesk.search.backends import search
from newsdesk.stories.models import Story
from tests import briefing_data as data
from tests import web_data

pytestmark = pytest.mark.django_db
Kind = data.Kind


@pytest.fixture
def world():
    found = web_data.build_world()
    assert fanout.plan() == []  # the watermark starts at the newest article: no alerts for the archive
    return found


def counts(user) -> dict[tuple[str, str], int]:
    """The reader's unread notifications: new articles under each followed thing."""
    return {(f.interest.kind, f.interest.key): f.count for f in notifications.gather(user.pk) if f.unread}


def latest(user, kind: str) -> int | None:
    return next(f.latest for f in notifications.gather(user.pk) if f.interest.kind == kind)


def run_all() -> int:
    return sum(fanout_task.call(batch_id) for batch_id in fanout.plan())


def test_new_coverage_reaches_followers_of_its_story_hashtags_and_searches(world):
    story = world.story
    alice = data.reader("alice")
    data.follow(alice, Kind.STORY, story.pk, story.title)
    data.follow(alice, Kind.HASHTAG, "vladimir-putin", "#Vladimir Putin")
    data.follow(alice, Kind.SEARCH, "q=harbour+walls", "“harbour walls”")
    data.follow(alice, Kind.SECTION, "world", "World")  # sections do not alert
    bob = data.reader("bob")  # follows the hashtag, muted a publisher
    data.follow(bob, Kind.HASHTAG, "vladimir-putin")
    data.mute(bob, Kind.SOURCE, "bbc")
    carol = data.reader("carol")  # follows the story, muted the hashtag
    data.follow(carol, Kind.STORY, story.pk)
    data.mute(carol, Kind.HASHTAG, "vladimir-putin")
    dave = data.reader("dave")  # follows the story, muted a word of one headline
    data.follow(dave, Kind.STORY, story.pk)
    data.mute(dave, Kind.WORD, "prisoner exchange")
    erin = data.reader("erin")
    data.follow(erin, Kind.HASHTAG, "belarus")  # nothing new for her

    putin = (("vladimir-putin", "Vladimir Putin"),)
    data.coverage(
        "bbc",
        101,
        title="Kyiv and Moscow agree a prisoner exchange",
        body=data.BODIES["ceasefire"],
        story=story,
        hashtags=putin,
    )
    a2 = data.coverage(
        "rt", 102, title="Putin welcomes the swap", body=data.BODIES["exchange"], story=story, hashtags=putin
    )
    data.copy_of(a2, "dw", 103, story)  # a copy is not new coverage
    a4 = data.coverage("ap", 104, title="Storm batters the coast", body=data.BODIES["harbour"])
    assert run_all() > 0

    assert counts(alice) == {
        (Kind.STORY, str(story.pk)): 2,
        (Kind.HASHTAG, "vladimir-putin"): 2,
        (Kind.SEARCH, "q=harbour+walls"): 1,
    }
    assert counts(bob) == {(Kind.HASHTAG, "vladimir-putin"): 1}  # a1 is from the muted BBC
    assert counts(carol) == {}  # both articles carry the muted hashtag
    assert counts(dave) == {(Kind.STORY, str(story.pk)): 1}  # a1's headline has the muted phrase
    assert counts(erin) == {}
    # The nav's badge says the same: things with news, after the reader's mutes.
    badges = [notifications.unread_count(u.pk) for u in (alice, bob, carol, dave, erin)]
    assert badges == [len(counts(u)) for u in (alice, bob, carol, dave, erin)] and badges[1:] == [1, 0, 1, 0]
    assert latest(alice, Kind.HASHTAG) == a2.pk and latest(alice, Kind.SEARCH) == a4.pk
    # One row per article and followed key, whoever and however many follow it.
    assert Activity.objects.filter(kind=Kind.HASHTAG, key="vladimir-putin").count() == 2
    assert not Activity.objects.filter(kind=Kind.HASHTAG, key="belarus").exists()  # nothing new under it
    assert not Activity.objects.filter(kind=Kind.SECTION).exists()

    # Running a batch again (a retried task) counts nothing twice.
    for batch in FanoutBatch.objects.all():
        assert fanout_task.call(batch.pk) == 0
    assert counts(alice)[(Kind.STORY, str(story.pk))] == 2

    # More coverage adds to the count; once read, only what arrives after counts.
    data.coverage("rt", 105, title="Second swap planned", body=data.BODIES["exchange"], story=story)
    run_all()
    assert counts(alice)[(Kind.STORY, str(story.pk))] == 3
    assert notifications.mark_read(alice.pk) == 3
    assert notifications.mark_read(alice.pk) == 0  # twice is once
    data.coverage("bbc", 106, title="Swap completed", body=data.BODIES["exchange"], story=story)
    run_all()
    assert counts(alice) == {(Kind.STORY, str(story.pk)): 1}
    assert AlertMark.objects.filter(user=alice).count() == 3
    # Opening the story's page (the reader's pages move the follow's seen_at) reads it too.
    Interest.objects.filter(user=alice, kind=Kind.STORY).update(seen_at=timezone.now())
    assert counts(alice) == {}


def test_articles_wait_for_placement_unless_they_never_get_there(world, settings):
    alice = data.reader("alice")
    data.follow(alice, Kind.HASHTAG, "odesa")
    waiting = data.coverage(
        "dw", 201, title="Odesa port reopens", body=data.BODIES["grain"], hashtags=(("odesa", "Odesa"),), placed=False
    )
    placed = data.coverage("dw", 202, title="Odesa grain", body=data.BODIES["grain"], hashtags=(("odesa", "Odesa"),))
    assert fanout.plan() == []  # the first new article is not in a story yet: nothing past it either
    assert not Activity.objects.exists()
    settings.NEWSDESK_ALERTS_WAIT = 60
    type(waiting).objects.filter(pk=waiting.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    batches = fanout.plan()
    assert len(batches) == 1 and FanoutBatch.objects.get(pk=batches[0]).last_id == placed.pk
    fanout_task.call(batches[0])
    assert counts(alice) == {(Kind.HASHTAG, "odesa"): 2}


def test_a_follow_of_a_merged_story_follows_the_story_it_became(world):
    old = Story.objects.create(title="Old story", first_seen=timezone.now(), last_seen=timezone.now())
    old.merged_into = world.story
    old.save()
    alice = data.reader("alice")
    data.follow(alice, Kind.STORY, old.pk, "Old story")
    data.coverage("bbc", 301, title="News on the merged story", body=data.BODIES["exchange"], story=world.story)
    run_all()
    assert counts(alice) == {(Kind.STORY, str(old.pk)): 1}


def test_batches_split_run_in_parallel_order_and_a_dead_one_is_queued_again(world, settings):
    settings.NEWSDESK_ALERTS_BATCH = 2
    alice = data.reader("alice")
    data.follow(alice, Kind.HASHTAG, "odesa")
    for n in range(5):
        data.coverage("dw", 400 + n, title=f"Odesa {n}", body=data.BODIES["grain"], hashtags=(("odesa", "Odesa"),))
    batches = fanout.plan()
    # A backlog is cut in two for two workers (at least the setting, at most 5 times it).
    assert [fanout.batch_size(n) for n in (1, 5, 9, 40)] == [2, 3, 5, 10]
    assert len(batches) == 2
    fanout_task.call(batches[1])  # any order, any worker
    assert counts(alice) == {(Kind.HASHTAG, "odesa"): 2}
    # The first batch's task died: once its lease is over the scheduler queues it again.
    assert fanout.overdue() == []
    FanoutBatch.objects.filter(pk=batches[0]).update(leased_until=timezone.now() - timedelta(seconds=1))
    assert fanout.overdue() == [batches[0]]
    fanout_task.call(batches[0])
    assert counts(alice) == {(Kind.HASHTAG, "odesa"): 5}


# --- saved searches: the matcher agrees with the search page --------------------------------


QUERIES = [
    "harbour walls",
    '"harbour walls"',
    '"walls harbour"',
    "harbour -storm",
    "prisoners",  # stemmed: "prisoner" and "prisoners" are one word
    "exchanges istanbul",
    "Zürich",
    "grain odesa -insurers",
    "soldiers border",
]


def test_saved_searches_match_new_articles_as_the_search_page_does(world):
    articles = [
        data.coverage("bbc", 501, title="Kyiv and Moscow agree a prisoner exchange", body=data.BODIES["ceasefire"]),
        data.coverage("rt", 502, title="Swap under the Istanbul deal", body=data.BODIES["exchange"]),
        data.coverage("ap", 503, title="Storm batters the coast", body=data.BODIES["harbour"]),
        data.coverage("dw", 504, title="Walls of the harbour", body="The harbour is old. Its walls are older."),
        data.coverage("dw", 505, title="Grain ships sail", body=data.BODIES["grain"]),
        data.coverage("ap", 506, title="Banks in Zurich", body="Zurich bankers met on Monday. They said little."),
    ]
    ids = {a.pk for a in articles}
    docs = [
        percolate.Document.of(
            a.pk,
            (a.title, a.description, a.body_text),
            source=a.source.slug,
            section="world",
            hashtags=(),
            language="en",
            published=a.published_at,
        )
        for a in articles
    ]
    for query in QUERIES:
        key = f"q={query}"
        matched = set(percolate.match([key], docs).get(key, []))
        if connection.vendor == "sqlite":
            expected = {hit.article_id for hit in search(query, limit=100)[0]} & ids
            assert matched == expected, query
    assert set(percolate.match(["q=harbour+walls"], docs)["q=harbour+walls"]) == {articles[2].pk, articles[3].pk}
    assert set(percolate.match(['q="harbour walls"'], docs)['q="harbour walls"']) == {articles[2].pk}
    # Filters: source, section, hashtag, language and dates, as the search form has them.
    key = "q=harbour&source=ap"
    assert percolate.match([key], docs)[key] == [articles[2].pk]
    day = timezone.localdate()
    assert percolate.match([f"q=harbour&until={day - timedelta(days=1)}"], docs) == {}
    assert percolate.match(["q=harbour&language=de"], docs) == {}
    assert percolate.match(["q=-harbour"], docs) == {}  # nothing to match: exclusions only


# --- the notifications page ------------------------------------------------------------------


@pytest.fixture
def alerted(world):
    alice = data.reader("alice")
    data.follow(alice, Kind.STORY, world.story.pk, world.story.title)
    data.follow(alice, Kind.HASHTAG, "vladimir-putin", "#Vladimir Putin")
    data.coverage(
        "bbc",
        601,
        title="Kyiv and Moscow agree a prisoner exchange",
        body=data.BODIES["ceasefire"],
        story=world.story,
        hashtags=(("vladimir-putin", "Vladimir Putin"),),
    )
    run_all()
    client = Client()
    client.force_login(alice)
    return alice, client


def test_the_notifications_page_lists_and_marks_read(alerted, world):
    alice, client = alerted
    response = client.get(reverse("briefings:notifications"))
    text = response.content.decode()
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    world.story.refresh_from_db()  # its headline as coverage made it, not as it was followed
    assert (
        "#Vladimir Putin" in text and world.story.title in text and "Kyiv and Moscow agree a prisoner exchange" in text
    )
    assert re.search(r'class="badge"[^>]*>2<', text)  # the unread count the nav shows
    ids = [f.interest.pk for f in notifications.gather(alice.pk)]
    # htmx: the item comes back, read, in place.
    response = client.post(reverse("briefings:notifications-read"), {"i": ids[0]}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "<html" not in response.content.decode()
    assert f'id="notification-{ids[0]}"' in response.content.decode() and "Mark read" not in response.content.decode()
    assert notifications.unread_count(alice.pk) == 1
    # Without JavaScript: mark all as read up to the moment the page was shown.
    ts = re.search(r'name="ts" value="([^"]+)"', text).group(1)
    for _ in range(2):  # idempotent
        response = client.post(reverse("briefings:notifications-read"), {"all": "1", "ts": ts})
        assert response.status_code == 302 and response["Location"] == reverse("briefings:notifications")
    assert notifications.unread_count(alice.pk) == 0
    assert "All read" in client.get(reverse("briefings:notifications")).content.decode()


def test_notifications_are_the_readers_own(alerted, client):
    alice, _ = alerted
    mallory = data.reader("mallory")
    other = Client()
    other.force_login(mallory)
    ids = [f.interest.pk for f in notifications.gather(alice.pk)]
    other.post(reverse("briefings:notifications-read"), {"i": ids})
    assert notifications.unread_count(alice.pk) == 2
    assert "Kyiv and Moscow" not in other.get(reverse("briefings:notifications")).content.decode()
    response = client.get(reverse("briefings:notifications"))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]
    assert client.post(reverse("briefings:notifications-read"), {"all": "1"}).status_code == 302
    assert notifications.unread_count(alice.pk) == 2
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert strict.post(reverse("briefings:notifications-read"), {"all": "1"}).status_code == 403
    assert notifications.unread_count(alice.pk) == 2


def test_marking_read_is_rate_limited(alerted, settings):
    alice, client = alerted
    settings.NEWSDESK_READER_ACTIONS_PER_MINUTE = 2
    for _ in range(2):
        assert client.post(reverse("briefings:notifications-read"), {"i": 0}).status_code == 302
    response = client.post(reverse("briefings:notifications-read"), {"all": "1"})
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert notifications.unread_count(alice.pk) == 2


def test_a_thing_muted_after_it_was_followed_shows_nothing(alerted):
    alice, client = alerted
    from newsdesk.reader.models import Interest

    assert notifications.unread_count(alice.pk) == 2
    Interest.objects.filter(user=alice, kind=Kind.HASHTAG).update(muted=True)
    # The hashtag's notification goes, and so does the story's: its one new article carries the hashtag.
    assert notifications.unread_count(alice.pk) == 0
    text = client.get(reverse("briefings:notifications")).content.decode()
    assert "#Vladimir Putin" not in text and "Kyiv and Moscow agree" not in text


# --- the API ---------------------------------------------------------------------------------


def bearer(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.issue(user, 'test')[1]}"}


def test_api_notifications_list_and_mark_read(alerted, client):
    alice, _ = alerted
    auth = bearer(alice)
    assert client.get("/api/notifications").status_code == 401
    body = client.get("/api/notifications", **auth).json()
    assert body["count"] == 2 and body["unread"] == 2
    item = next(i for i in body["items"] if i["kind"] == "hashtag")
    assert (
        item["label"] == "#Vladimir Putin"
        and item["count"] == 1
        and item["site_url"].endswith("/hashtags/vladimir-putin/")
    )
    assert item["latest"]["title"] == "Kyiv and Moscow agree a prisoner exchange"
    mallory = data.reader("mallory")
    theirs = bearer(mallory)
    assert client.get("/api/notifications", **theirs).json()["count"] == 0
    response = client.post(
        "/api/notifications/read", json.dumps({"ids": [item["id"]]}), content_type="application/json", **theirs
    )
    assert response.json() == {"marked": 0, "unread": 0}
    response = client.post(
        "/api/notifications/read", json.dumps({"ids": [item["id"]]}), content_type="application/json", **auth
    )
    assert response.json() == {"marked": 1, "unread": 1}
    assert client.get("/api/notifications?unread=true", **auth).json()["count"] == 1
    response = client.post(
        "/api/notifications/read", json.dumps({"all": True}), content_type="application/json", **auth
    )
    assert response.json() == {"marked": 1, "unread": 0}
    assert client.post("/api/notifications/read", "{", content_type="application/json", **auth).status_code == 400


# --- the scheduler ------------------------------------------------------------------------------


def queued(task) -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=task.module_path, status="READY"))


def test_the_scheduler_queues_fanout_batches_and_the_mail_planner_only_when_due(world, settings):
    settings.NEWSDESK_ALERTS_EVERY = 0
    settings.NEWSDESK_MAIL_PLAN_EVERY = 0
    assert not schedule.tick()  # nothing new, nobody takes email: nothing queued
    assert not queued(fanout_task) and not queued(plan_mail_task)
    alice = data.reader("alice")
    data.follow(alice, Kind.HASHTAG, "odesa")
    data.coverage("dw", 701, title="Odesa", body=data.BODIES["grain"], hashtags=(("odesa", "Odesa"),))
    BriefingSettings.objects.create(user=alice, alerts_interval="hourly")
    done = schedule.tick()
    assert done.fanout_batches == 1 and done.mail_plans == 1
    [row] = queued(fanout_task)
    assert fanout_task.call(*row.args_kwargs["args"]) == 1
    assert len(queued(plan_mail_task)) == 1


def test_an_idle_pass_is_cheap(world, settings, django_assert_max_num_queries):
    settings.NEWSDESK_ALERTS_EVERY = 0
    settings.NEWSDESK_MAIL_PLAN_EVERY = 0
    schedule.tick()
    with django_assert_max_num_queries(5):
        schedule.tick()
    start = time.perf_counter()
    for _ in range(20):
        schedule.tick()
    assert (time.perf_counter() - start) / 20 < 0.05
