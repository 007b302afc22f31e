"""Stories in the database: aggregates, moderator corrections and their undo, the story
page and feed, the vector index kept in step with the database, and related articles."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from newsdesk.articles.models import Article, ArticleHashtag, Enrichment, Hashtag, to_blob
from newsdesk.sources.models import Source
from newsdesk.stories import index, moderation
from newsdesk.stories.models import NearDuplicate, Story, StoryEvent, StoryMember
from newsdesk.stories.refresh import refresh

pytestmark = pytest.mark.django_db

BODY = (
    "The city council approved the new tram line on Monday after a long debate. "
    "Construction will start next spring and the first trams should run within three years. "
    "Opponents said the cost of the project had doubled since it was first proposed."
)


def unit(seed: int, base: np.ndarray | None = None, noise: float = 1.0) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(384).astype(np.float32) * noise
    if base is not None:
        v = v + base
    return v / np.linalg.norm(v)


@pytest.fixture
def sources():
    countries = ["GB", "US", "FR", "GB"]
    return [
        Source.objects.create(
            name=f"Paper {i}", slug=f"paper-{i}", home_url=f"https://p{i}.example/", country=countries[i]
        )
        for i in range(4)
    ]


def make(source, n: int, title: str, vector: np.ndarray, minutes_ago: int = 10, summary_sentences=(0,)) -> Article:
    article = Article.objects.create(
        source=source,
        url=f"https://{source.slug}.example/{n}",
        title=title,
        body_text=BODY,
        language="en",
        content_hash=f"h{n}",
        published_at=timezone.now() - timedelta(minutes=minutes_ago),
    )
    Enrichment.objects.create(
        article=article,
        summary="The council approved the tram line.",
        summary_sentences=list(summary_sentences),
        embedding=to_blob(vector),
        published_at=article.published_at,
    )
    return article


def story_of(*articles) -> Story:
    story = Story.objects.create(title="?", first_seen=timezone.now(), last_seen=timezone.now())
    for a in articles:
        StoryMember.objects.create(article=a, story=story)
    return refresh(story)


def test_refresh_counts_publishers_countries_and_cites_summary_sentences(sources):
    topic = unit(1)
    a = make(sources[0], 1, "Council approves new tram line", unit(2, topic, 0.1), 50)
    b = make(sources[1], 2, "New tram line approved by city council", unit(3, topic, 0.1), 30)
    c = make(sources[2], 3, "Tram line approved after long debate", unit(4, topic, 0.1), 20)
    d = make(sources[3], 4, "Council approves tram line", unit(5, topic, 0.1), 10)
    tag = Hashtag.objects.create(slug="tram", name="tram")
    for x in (a, b, c):
        ArticleHashtag.objects.create(article=x, hashtag=tag, published_at=x.published_at)
    story = story_of(a, b, c, d)
    assert story.article_count == 4
    assert story.publisher_count == 4 and story.country_count == 3
    assert story.first_seen == a.published_at and story.last_seen == d.published_at
    assert story.hashtags == ["tram"]
    assert story.title in {x.title for x in (a, b, c, d)}
    assert 1 <= len(story.summary) <= 3
    assert all(s["article"] in {a.pk, b.pk, c.pk, d.pk} and s["text"] in BODY for s in story.summary)


def test_detach_merge_and_undo(sources):
    topic = unit(1)
    a, b, c = (make(sources[i], i, f"Tram {i}", unit(10 + i, topic, 0.1)) for i in range(3))
    first, second = story_of(a, b), story_of(c)
    moderation.merge(first, second)
    assert set(first.members.values_list("article_id", flat=True)) == {a.pk, b.pk, c.pk}
    assert Story.objects.get(pk=second.pk).merged_into_id == first.pk
    merge_event = StoryEvent.objects.get(kind=StoryEvent.Kind.MERGE)
    moderation.undo(merge_event)
    assert Story.objects.get(pk=second.pk).merged_into_id is None
    assert set(StoryMember.objects.filter(story=second).values_list("article_id", flat=True)) == {c.pk}
    with pytest.raises(moderation.ModerationError):
        moderation.undo(merge_event)

    alone = moderation.detach(b)
    member = StoryMember.objects.get(article=b)
    assert member.story == alone and member.locked
    assert Story.objects.get(pk=first.pk).article_count == 1
    moderation.undo(StoryEvent.objects.get(kind=StoryEvent.Kind.DETACH))
    assert StoryMember.objects.get(article=b).story_id == first.pk
    with pytest.raises(moderation.ModerationError):
        moderation.merge(first, first)


def test_story_page_folds_copies_and_lets_moderators_correct(client, sources):
    topic = unit(1)
    a = make(sources[0], 1, "Council approves new tram line", unit(2, topic, 0.1), 50)
    b = make(sources[1], 2, "Tram line approved", unit(3, topic, 0.1), 30)
    copy = make(sources[2], 3, "Council approves new tram line (wire)", unit(2, topic, 0.1), 20)
    NearDuplicate.objects.create(article=copy, original=a, similarity=0.95)
    story = story_of(a, b, copy)
    page = client.get(reverse("story", args=[story.pk])).content.decode()
    assert "Also published by" in page and "Paper 2" in page
    assert page.count(">Council approves new tram line (wire)<") == 0  # folded, not listed twice
    assert "Not this story" not in page  # readers cannot moderate
    assert client.get(reverse("story-rss", args=[story.pk])).status_code == 200
    assert client.post(
        reverse("story-moderate", args=[story.pk]), {"action": "detach", "article": b.pk}
    ).status_code in (302, 403)
    assert StoryMember.objects.get(article=b).story_id == story.pk

    moderator = User.objects.create_user("mod", password="a-long-password-1")
    moderator.groups.add(Group.objects.get(name="moderators"))
    client.force_login(moderator)
    assert "Not this story" in client.get(reverse("story", args=[story.pk])).content.decode()
    client.post(reverse("story-moderate", args=[story.pk]), {"action": "detach", "article": b.pk})
    assert StoryMember.objects.get(article=b).story_id != story.pk
    event = StoryEvent.objects.get(kind=StoryEvent.Kind.DETACH)
    assert event.by == moderator
    client.post(reverse("story-moderate", args=[story.pk]), {"action": "undo", "event": event.pk})
    assert StoryMember.objects.get(article=b).story_id == story.pk


def test_merged_story_redirects_to_the_story_it_joined(client, sources):
    a, b = make(sources[0], 1, "A", unit(1)), make(sources[1], 2, "B", unit(2))
    first, second = story_of(a), story_of(b)
    moderation.merge(first, second)
    response = client.get(reverse("story", args=[second.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("story", args=[first.pk])


def test_vector_index_syncs_and_rebuilds_from_the_database(settings, tmp_path, sources):
    settings.NEWSDESK_VECTOR_DIR = str(tmp_path / "vectors")
    topic = unit(1)
    articles = [make(sources[i % 4], i, f"T{i}", unit(100 + i, topic, 0.3)) for i in range(12)]
    assert index.sync() == 12
    assert index.sync() == 0  # nothing new
    reader = index.reader()
    assert len(reader) == 12
    query = Enrichment.objects.get(article=articles[0]).embedding
    found = reader.search(np.frombuffer(bytes(query), dtype=np.float16).astype(np.float32), 3)
    assert found[0][0] == articles[0].pk
    call_command("index", "--rebuild", stdout=open("/dev/null", "w"))
    assert articles[5].pk in index.VectorIndex.load(index.directory())
