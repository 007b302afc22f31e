"""Every stage after storage tolerates any date the database holds.

Articles dated 0001-01-01 and 9999-12-31 are written straight into the database (as
older rows may hold them, whatever ingest filters today), then enrichment, story
placement, the vector index, related articles, trending, feeds out, search, the API and
the reader pages all run over them: nothing raises, every article gets a story, and a
far-future date does not age the real stories out of the clusterer or the index.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from newsdesk.ai import embeddings
from newsdesk.articles.models import Article, ArticleHashtag, Enrichment
from newsdesk.articles.trending import trending_hashtags
from newsdesk.pipeline.enrich import enrich_articles
from newsdesk.sources.models import Source
from newsdesk.stories import index as vector_index
from newsdesk.stories import tasks as story_tasks
from newsdesk.stories.models import Story, StoryMember
from newsdesk.stories.related_db import related_for
from newsdesk.stories.windows import earlier, effective_time, later

pytestmark = pytest.mark.django_db

FIRST_DAY = datetime(1, 1, 1, tzinfo=UTC)
LAST_SECOND = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
QUAKE = [
    "Strong earthquake strikes off the coast of northern Japan, tsunami warning issued",
    "Japan earthquake: magnitude 7.1 quake hits north-east coast, tsunami alert",
    "Tsunami warning lifted after powerful quake rattles northern Japan",
    "Northern Japan earthquake: residents evacuate as tsunami warning is issued",
    "Japan quake: tsunami warning for northern coast after strong earthquake",
]
ENTITIES = "Prime Minister Fumio Kishida said the government in Tokyo was assessing the damage in Sendai."


def body(n: int, title: str) -> str:
    """A text of its own (not a near-duplicate of the others) naming the same people and places."""
    lines = " ".join(f"Report {n} line {i} adds detail number {n * 100 + i}." for i in range(30))
    return f"{title}. {ENTITIES} {lines}"


@pytest.fixture(autouse=True)
def _own_vector_dir(settings, tmp_path):
    settings.NEWSDESK_VECTOR_DIR = str(tmp_path / "vectors")
    vector_index._reader = None
    yield
    vector_index._reader = None


def make(source: Source, n: int, title: str, published: datetime) -> Article:
    return Article.objects.create(
        source=source,
        url=f"https://{source.slug}.example/{n}",
        title=title,
        body_text=body(n, title),
        language="en",
        content_hash=f"hash-{n}",
        published_at=published,
    )


def test_window_helpers_stop_at_the_ends_of_the_calendar():
    assert earlier(FIRST_DAY, timedelta(days=3)) == datetime.min.replace(tzinfo=UTC)
    assert later(LAST_SECOND, timedelta(days=3)) == datetime.max.replace(tzinfo=UTC)
    now = timezone.now()
    assert earlier(now, timedelta(days=3)) == now - timedelta(days=3)
    assert effective_time(LAST_SECOND, now) == now
    assert effective_time(FIRST_DAY, now) == FIRST_DAY


def test_every_stage_tolerates_dates_at_the_ends_of_the_calendar(client, settings):
    now = timezone.now()
    sources = [
        Source.objects.create(name=f"Paper {i}", slug=f"paper-{i}", home_url=f"https://p{i}.example/", country="GB")
        for i in range(5)
    ]
    normal = [make(sources[i], i, QUAKE[i], now - timedelta(minutes=50 - i)) for i in range(3)]
    odd = [make(sources[3], 3, QUAKE[3], FIRST_DAY), make(sources[4], 4, QUAKE[4], LAST_SECOND)]
    batch = [a.pk for a in normal + odd]

    assert enrich_articles(batch) == 5
    assert set(Enrichment.objects.values_list("published_at", flat=True)) >= {FIRST_DAY, LAST_SECOND}
    assert story_tasks.place_in_stories_task.call(batch) == 5
    assert StoryMember.objects.filter(article_id__in=batch).count() == 5
    # A 9999 member does not make its story "fresh" for ever.
    assert not Story.objects.filter(last_seen__gt=timezone.now()).exists()

    # The clusterer was not aged out by the far-future article: later coverage of the
    # same event joins the story of the real articles.
    later_one = make(sources[0], 10, "Japan earthquake: tsunami warning issued for the northern coast", timezone.now())
    enrich_articles([later_one.pk])
    story_tasks.place_in_stories_task.call([later_one.pk])
    quake_story = StoryMember.objects.get(article=normal[0]).story_id
    assert StoryMember.objects.get(article=later_one).story_id == quake_story

    # The vector index kept the real week (a 9999 window would have pushed it out).
    reader = vector_index.reader()
    found = {pk for pk, _ in reader.search(embeddings.embed([QUAKE[0]])[0], 10)}
    assert {a.pk for a in normal} <= found

    everything = normal + odd + [later_one]
    for item in everything:
        related_for(item)
        page = client.get(reverse("article", args=[item.pk]))
        assert page.status_code == 200, item.published_at
    trending_hashtags()
    slug = ArticleHashtag.objects.values_list("hashtag__slug", flat=True).first()
    urls = [
        reverse("home"),
        reverse("stories"),
        reverse("story", args=[quake_story]),
        reverse("story-rss", args=[quake_story]),
        reverse("story-atom", args=[quake_story]),
        reverse("feed-rss"),
        reverse("feed-atom"),
        reverse("source-rss", args=["paper-4"]),
        reverse("source-atom", args=["paper-3"]),
        reverse("source", args=["paper-4"]),
        reverse("sources"),
        "/search/?q=earthquake",
        "/api/articles",
        "/sitemap.xml",
        "/news-sitemap.xml",
    ]
    if slug:
        urls += [reverse("hashtag", args=[slug]), reverse("hashtag-rss", args=[slug])]
    for url in urls:
        assert client.get(url).status_code == 200, url
    for story in Story.objects.all():
        assert client.get(reverse("story", args=[story.pk])).status_code == 200
