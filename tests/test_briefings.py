"""Briefings: the site's (top stories in cited sentences from several publishers) and the
reader's own (only coverage newer than their last look), on the web, in the private
feed and in the API; the settings page; nothing personal in anonymous pages."""

from __future__ import annotations

import re
from datetime import timedelta

import feedparser
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from newsdesk.api.models import ApiToken
from newsdesk.reader.briefings import mutes, personal, site, tokens
from newsdesk.reader.briefings.models import BriefingSettings, SiteBriefing
from newsdesk.reader.models import Interest
from newsdesk.stories.models import Story, StoryMember
from tests import briefing_data as data

pytestmark = pytest.mark.django_db
Kind = data.Kind


@pytest.fixture
def world():
    return data.summarised_world()


@pytest.fixture
def alice():
    return data.reader("alice")


@pytest.fixture
def signed_in(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def members(story) -> set[int]:
    return set(StoryMember.objects.filter(story=story).values_list("article_id", flat=True))


# --- the site briefing ---------------------------------------------------------------------------


def test_the_site_briefing_is_the_days_top_stories_in_cited_sentences(world, signed_in):
    main, grain = world
    today = site.current()
    by_story = {s["story"]: s for s in today.stories}
    assert set(by_story) == {main.story.pk, grain.pk}
    story = by_story[main.story.pk]
    assert 2 <= len(story["sentences"]) <= 3
    assert {s["article"] for s in story["sentences"]} <= members(main.story)
    assert len({s["source"] for s in story["sentences"]}) >= 2  # several publishers
    assert story["publishers"] == 2
    # One row per day, reused until it is older than an hour and a refresh is asked for.
    assert site.current().pk == today.pk and SiteBriefing.objects.count() == 1

    page = signed_in.get(reverse("briefings:briefing"))
    text = page.content.decode()
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    for line in story["sentences"]:
        # Each sentence is followed by a link to the article it comes from.
        cite = re.search(re.escape(str(escape(line["text"]))) + r' <a class="cite" href="([^"]+)"', text)
        assert cite and cite.group(1) == reverse("article", args=[line["article"]]), line
    assert "Today’s top stories" in text and grain.title in text


def escape(text: str) -> str:
    from django.utils.html import escape as html_escape

    return html_escape(text)


def test_a_readers_mutes_apply_to_the_site_briefing(world, alice):
    main, grain = world
    today = site.current()
    data.mute(alice, Kind.HASHTAG, "vladimir-putin")
    shown = site.for_reader(today.stories, mutes.of_user(alice.pk))
    assert [s["story"] for s in shown] == [grain.pk]
    Interest.objects.filter(user=alice).delete()
    data.mute(alice, Kind.SOURCE, "rt")
    shown = site.for_reader(today.stories, mutes.of_user(alice.pk))
    assert all(line["source_slug"] != "rt" for s in shown for line in s["sentences"])


# --- the personal briefing ------------------------------------------------------------------------


def test_whats_new_takes_sentences_only_from_coverage_newer_than_the_last_look(world, alice, signed_in, monkeypatch):
    main, _ = world
    story = main.story
    looked = timezone.now()
    follow = data.follow(alice, Kind.STORY, story.pk, story.title, seen_at=looked)
    assert personal.whats_new(alice.pk) == []
    text = signed_in.get(reverse("briefings:briefing")).content.decode()
    assert "Nothing new on the 1 story you follow" in text

    new = [
        data.coverage(
            "dw", 11, title="Prisoner exchange agreed in Istanbul", body=data.BODIES["ceasefire"], story=story
        ),
        data.coverage("ap", 12, title="Buses cross the border near Sumy", body=data.BODIES["exchange"], story=story),
    ]
    data.copy_of(new[1], "evil", 13, story)  # a copy adds nothing
    muted = data.coverage("bbc", 14, title="BBC on the swap", body=data.BODIES["exchange"], story=story)
    data.mute(alice, Kind.SOURCE, "bbc")

    [update] = personal.whats_new(alice.pk)
    assert update["story"] == story.pk and update["new_articles"] == 2 and update["publishers"] == 2
    cited = {line["article"] for line in update["sentences"]}
    assert cited and cited <= {a.pk for a in new}  # nothing from before the last look, nor the copy, nor BBC
    assert muted.pk not in cited
    assert len({line["source"] for line in update["sentences"]}) == 2
    # A story with more new coverage than is read for sentences counts the rest apart,
    # under the same rules (no copy, nothing muted).
    monkeypatch.setattr(personal, "MAX_ARTICLES", 1)
    [update] = personal.whats_new(alice.pk)
    assert update["new_articles"] == 2 and update["publishers"] == 2
    assert {line["article"] for line in update["sentences"]} <= {new[1].pk}  # the newest only
    monkeypatch.undo()

    page = signed_in.get(reverse("briefings:briefing"))
    text = page.content.decode()
    assert "What’s new on the stories you follow" in text and "2 new articles from 2 publishers" in text
    for line in update["sentences"]:
        assert reverse("article", args=[line["article"]]) in text
    # "Mark these as seen": up to the moment the page was shown.
    ts = re.search(r'name="ts" value="([^"]+)"', text).group(1)
    later = data.coverage("dw", 15, title="More buses arrive", body=data.BODIES["exchange"], story=story)
    for _ in range(2):
        response = signed_in.post(reverse("briefings:briefing-seen"), {"ts": ts, "story": story.pk})
        assert response.status_code == 302
    follow.refresh_from_db()
    assert follow.seen_at > looked
    [update] = personal.whats_new(alice.pk)
    assert {line["article"] for line in update["sentences"]} == {later.pk} and update["new_articles"] == 1
    # An email says only what is newer than the previous email too.
    assert personal.whats_new(alice.pk, not_before=timezone.now()) == []


def test_a_story_without_enriched_coverage_lists_headlines(world, alice):
    main, _ = world
    data.follow(alice, Kind.STORY, main.story.pk, seen_at=timezone.now())
    bare = data.coverage("dw", 21, title="Breaking: talks resume", body="", story=main.story)
    [update] = personal.whats_new(alice.pk)
    assert update["sentences"] == [] and update["headlines"][0]["title"] == bare.title


def test_the_briefing_page_without_follows(world, signed_in):
    text = signed_in.get(reverse("briefings:briefing")).content.decode()
    assert "You follow no story yet" in text
    client = Client()
    response = client.get(reverse("briefings:briefing"))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_an_earlier_days_briefing(world, signed_in):
    site.current()
    old = SiteBriefing.objects.create(day=timezone.localdate() - timedelta(days=2), stories=site.current().stories)
    text = signed_in.get(reverse("briefings:briefing")).content.decode()
    assert reverse("briefings:briefing-day", args=[old.day.isoformat()]) in text
    page = signed_in.get(reverse("briefings:briefing-day", args=[old.day.isoformat()]))
    assert page.status_code == 200 and world[1].title in page.content.decode()
    assert signed_in.get(reverse("briefings:briefing-day", args=["2001-01-01"])).status_code == 404
    assert signed_in.get(reverse("briefings:briefing-day", args=["yesterday"])).status_code == 404


# --- the private feed ------------------------------------------------------------------------------


def test_the_private_feed_has_a_revocable_address(world, alice, signed_in):
    main, _ = world
    data.follow(alice, Kind.STORY, main.story.pk, seen_at=timezone.now())
    data.coverage("dw", 31, title="Prisoner exchange agreed", body=data.BODIES["ceasefire"], story=main.story)
    text = signed_in.get(reverse("briefings:settings")).content.decode()
    assert "Create my feed address" in text
    signed_in.post(reverse("briefings:feed-token"), {"action": "new"})
    text = signed_in.get(reverse("briefings:settings")).content.decode()
    rss = re.search(r'id="feed-rss" type="text" readonly value="([^"]+)"', text).group(1)
    atom = re.search(r'id="feed-atom" type="text" readonly value="([^"]+)"', text).group(1)
    anonymous = Client()
    response = anonymous.get(rss)
    assert (
        response.status_code == 200
        and "no-store" in response["Cache-Control"]
        and "private" in response["Cache-Control"]
    )
    assert response["X-Robots-Tag"] == "noindex"
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    titles = [e.title for e in feed.entries]
    assert titles[0] == "What's new on the stories you follow" and titles[1].startswith("Briefing for ")
    assert "Prisoner exchange" in feed.entries[0].description or "prisoner exchange" in feed.entries[0].description
    assert all(
        link.startswith("http://testserver/articles/")
        for link in re.findall(r'href="([^"]+/articles/[^"]+)"', feed.entries[1].description)
    )
    atom_feed = feedparser.parse(anonymous.get(atom).content)
    assert not atom_feed.bozo and len(atom_feed.entries) == 2 and atom_feed.version == "atom10"
    # A new address ends the old one; turning the feed off ends every one.
    signed_in.post(reverse("briefings:feed-token"), {"action": "new"})
    assert anonymous.get(rss).status_code == 404
    text = signed_in.get(reverse("briefings:settings")).content.decode()
    rss2 = re.search(r'id="feed-rss" type="text" readonly value="([^"]+)"', text).group(1)
    assert rss2 != rss and anonymous.get(rss2).status_code == 200
    signed_in.post(reverse("briefings:feed-token"), {"action": "off"})
    assert anonymous.get(rss2).status_code == 404
    signed_in.post(reverse("briefings:feed-token"), {"action": "new"})
    assert anonymous.get(rss).status_code == 404 and anonymous.get(rss2).status_code == 404
    # Forged or altered tokens are nobody's.
    choice = BriefingSettings.objects.get(user=alice)
    good = tokens.feed_token(alice.pk, choice.feed_version)
    assert anonymous.get(reverse("briefings:feed-rss", args=[good])).status_code == 200
    other = data.reader("mallory")
    forged = f"{other.pk}." + good.split(".", 1)[1]
    assert anonymous.get(reverse("briefings:feed-rss", args=[forged])).status_code == 404
    assert anonymous.get(reverse("briefings:feed-rss", args=["1.1.nonsense"])).status_code == 404


# --- settings ---------------------------------------------------------------------------------------


def settings_form(**changes) -> dict:
    values = {
        "email": "alice@example.org",
        "briefing_email": "on",
        "briefing_hour": "7",
        "time_zone": "Europe/Berlin",
        "alerts_interval": "hourly",
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def test_settings_are_saved_and_bad_input_loses_nothing(alice, signed_in):
    text = signed_in.get(reverse("briefings:settings")).content.decode()
    assert 'value="Europe/Berlin"' in text and 'name="alerts_interval"' in text
    response = signed_in.post(reverse("briefings:settings"), settings_form(email="alice@new.example"))
    assert response.status_code == 302
    row = BriefingSettings.objects.get(user=alice)
    assert (row.briefing_email, row.briefing_hour, row.time_zone, row.alerts_interval) == (
        True,
        7,
        "Europe/Berlin",
        "hourly",
    )
    alice.refresh_from_db()
    assert alice.email == "alice@new.example"
    assert "Your email choices are saved." in signed_in.get(reverse("briefings:settings")).content.decode()
    # Twice is once.
    signed_in.post(reverse("briefings:settings"), settings_form(email="alice@new.example"))
    assert BriefingSettings.objects.filter(user=alice).count() == 1
    # Bad input: said next to the field, nothing saved, what was typed kept.
    for bad, field in [
        (settings_form(time_zone="Mars/Olympus_Mons", briefing_hour="9"), "time_zone"),
        (settings_form(briefing_hour="25"), "briefing_hour"),
        (settings_form(email="", briefing_hour="9"), "email"),
        (settings_form(email="not an address"), "email"),
        (settings_form(alerts_interval="weekly"), "alerts_interval"),
    ]:
        response = signed_in.post(reverse("briefings:settings"), bad)
        text = response.content.decode()
        assert response.status_code == 400, field
        assert "Nothing was saved" in text and 'class="errorlist"' in text, field
    row.refresh_from_db()
    assert (row.briefing_hour, row.time_zone) == (7, "Europe/Berlin")
    assert (
        "Give an email address"
        in signed_in.post(reverse("briefings:settings"), settings_form(email="")).content.decode()
    )
    # Without email at all, an address is not needed.
    response = signed_in.post(
        reverse("briefings:settings"), settings_form(email="", briefing_email=None, alerts_interval="off")
    )
    assert response.status_code == 302


def test_settings_need_csrf_a_reader_and_stay_under_the_limit(alice, signed_in, settings):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert strict.post(reverse("briefings:settings"), settings_form()).status_code == 403
    assert strict.post(reverse("briefings:feed-token"), {"action": "new"}).status_code == 403
    assert not BriefingSettings.objects.exists()
    assert Client().post(reverse("briefings:settings"), settings_form()).status_code == 302
    assert not BriefingSettings.objects.exists()
    settings.NEWSDESK_READER_ACTIONS_PER_MINUTE = 1
    assert signed_in.post(reverse("briefings:settings"), settings_form()).status_code == 302
    response = signed_in.post(reverse("briefings:settings"), settings_form(briefing_hour="9"))
    assert response.status_code == 429
    assert BriefingSettings.objects.get(user=alice).briefing_hour == 7


# --- the API ------------------------------------------------------------------------------------------


def test_api_briefings_need_a_token_and_are_the_tokens_users(world, alice, client):
    main, grain = world
    data.follow(alice, Kind.STORY, main.story.pk, seen_at=timezone.now())
    new = data.coverage("dw", 41, title="Prisoner exchange agreed", body=data.BODIES["ceasefire"], story=main.story)
    assert client.get("/api/briefing/site").status_code == 401
    assert client.get("/api/briefing/personal").status_code == 401
    auth = {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.issue(alice, 'test')[1]}"}
    body = client.get("/api/briefing/site", **auth).json()
    assert {s["story"] for s in body["stories"]} == {main.story.pk, grain.pk}
    line = body["stories"][0]["sentences"][0]
    assert line["site_url"] == f"http://testserver/articles/{line['article']}/" and line["source"]
    body = client.get("/api/briefing/personal", **auth).json()
    assert body["following"] == 1 and [u["story"] for u in body["updates"]] == [main.story.pk]
    assert {s["article"] for s in body["updates"][0]["sentences"]} == {new.pk}
    bob = data.reader("bob")
    theirs = {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.issue(bob, 'test')[1]}"}
    assert client.get("/api/briefing/personal", **theirs).json() == {"following": 0, "updates": []}


# --- nothing personal in anonymous pages ------------------------------------------------------------


def test_no_trace_of_a_reader_in_anonymous_pages(world, alice, signed_in, client, django_capture_on_commit_callbacks):
    main, grain = world
    urls = ["/", main.article.get_absolute_url(), reverse("story", args=[main.story.pk]), reverse("stories"), "/rss"]
    for url in urls:
        assert client.get(url).status_code == 200, url
    secret = "zebra-crossing-briefing-5521"
    alice.email = f"{secret}@example.org"
    alice.save()
    with django_capture_on_commit_callbacks(execute=True):
        data.follow(alice, Kind.STORY, main.story.pk, secret, seen_at=timezone.now())
        data.coverage("dw", 51, title="Prisoner exchange agreed", body=data.BODIES["ceasefire"], story=main.story)
        signed_in.post(reverse("briefings:feed-token"), {"action": "new"})
        signed_in.post(reverse("briefings:settings"), settings_form(email=alice.email))
    mine = [reverse("briefings:briefing"), reverse("briefings:notifications"), reverse("briefings:settings")]
    for url in mine:
        response = signed_in.get(url)
        assert (
            response.status_code == 200
            and "no-store" in response["Cache-Control"]
            and "private" in response["Cache-Control"]
        )
    assert secret in signed_in.get(reverse("briefings:settings")).content.decode()
    token = tokens.feed_token(alice.pk, BriefingSettings.objects.get(user=alice).feed_version)
    personal_traces = [
        secret,
        alice.get_username(),
        token,
        "Mark these as seen",
        "csrfmiddlewaretoken",
        "What’s new on the stories",
    ]
    for url in urls + mine:
        for _ in range(2):
            response = client.get(url)
            text = response.content.decode()
            for trace in personal_traces:
                assert trace not in text, (url, trace)
            assert "sessionid" not in response.cookies


def test_followed_stories_are_followed_through_merges_for_many_readers_at_once():
    now = timezone.now()

    def story(title: str, into=None) -> Story:
        return Story.objects.create(title=title, first_seen=now, last_seen=now, merged_into=into)

    final = story("Where it ended")
    middle = story("In between", into=final)
    first = story("Where it began", into=middle)
    alone = story("On its own")
    alice, bob, carol = data.reader("alice"), data.reader("bob"), data.reader("carol")
    earlier, later = now - timedelta(hours=5), now - timedelta(hours=1)
    a1 = data.follow(alice, Kind.STORY, first.pk, seen_at=earlier)
    a2 = data.follow(alice, Kind.STORY, final.pk, seen_at=later)  # the same story under its new id
    data.follow(bob, Kind.STORY, alone.pk, seen_at=earlier)
    data.follow(bob, Kind.STORY, "12345678901234567890")  # not a story id: ignored
    found = personal.followed_by([alice.pk, bob.pk, carol.pk])
    assert found[alice.pk] == {final.pk: (final, later, [a1.pk, a2.pk])}  # the later look, both follows
    assert list(found[bob.pk]) == [alone.pk] and found[carol.pk] == {}
    assert personal.followed(alice.pk) == found[alice.pk]
    # A merge that loops back is followed until it would come round again, not forever.
    Story.objects.filter(pk=final.pk).update(merged_into=first)
    assert set(personal.followed_by([alice.pk])[alice.pk]) <= {first.pk, middle.pk, final.pk}
