"""For You: candidates from follows, from articles near what the reader saved or read
(the real vector index, on embeddings made here), and the day's top stories; one entry
per story with its best article for this reader; mutes; publisher diversity; reasons
and a score made of named weights; "more/less like this" and "hide this source" on the
next page load; a bounded number of queries whatever the number of follows."""

from __future__ import annotations

import html
import itertools
import re
from datetime import timedelta

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from newsdesk.articles.models import Article, ArticleHashtag, Enrichment, Hashtag, to_blob
from newsdesk.reader import foryou, interests, nudges, saved, state
from newsdesk.reader.models import Interest, Nudge
from newsdesk.sources.models import Source
from newsdesk.stories import index as vector_index
from newsdesk.stories.models import Story, StoryMember
from newsdesk.stories.vectors import DIMENSIONS
from tests.reader_support import fan_out_everything

pytestmark = pytest.mark.django_db
User = get_user_model()
_numbers = itertools.count(1)


@pytest.fixture
def reader():
    return User.objects.create_user("fy-reader", "fy@example.org", "a long password 42")


def source(slug: str) -> Source:
    found, _ = Source.objects.get_or_create(
        slug=slug, defaults={"name": slug.replace("-", " ").title(), "home_url": f"https://{slug}.example/"}
    )
    return found


def direction(*weights: float) -> np.ndarray:
    """A unit vector mostly along the first few axes: similar weights, similar texts."""
    vector = np.zeros(DIMENSIONS, dtype=np.float32)
    vector[: len(weights)] = weights
    return vector / np.linalg.norm(vector)


def article(
    src: Source,
    title: str,
    *,
    hours: float = 1.0,
    tags: tuple[str, ...] = (),
    section: str = "world",
    vector: np.ndarray | None = None,
    description: str = "",
) -> Article:
    n = next(_numbers)
    when = timezone.now() - timedelta(hours=hours)
    item = Article.objects.create(
        source=src,
        url=f"https://{src.slug}.example/{n}",
        title=title,
        description=description,
        content_hash=f"{n:040x}",
        published_at=when,
        created_at=when,
    )
    Enrichment.objects.create(
        article=item,
        section=section,
        published_at=when,
        embedding=to_blob(vector if vector is not None else direction(*np.random.default_rng(n).random(40))),
    )
    for position, slug in enumerate(tags):
        tag, _ = Hashtag.objects.get_or_create(slug=slug, defaults={"name": slug.replace("-", " ").title()})
        ArticleHashtag.objects.create(article=item, hashtag=tag, position=position, published_at=when)
    return item


def story(articles: list[Article], title: str) -> Story:
    times = [a.published_at for a in articles]
    found = Story.objects.create(
        title=title,
        representative=articles[0],
        first_seen=min(times),
        last_seen=max(times),
        article_count=len(articles),
        publisher_count=len({a.source_id for a in articles}),
        hashtags=sorted({link.hashtag.slug for a in articles for link in a.article_hashtags.all()}),
    )
    for item in articles:
        StoryMember.objects.create(article=item, story=found, joined_at=item.published_at)
    return found


def index_all() -> None:
    vector_index.add_articles(Article.objects.values_list("pk", flat=True))


def entries(user) -> list[foryou.Entry]:
    return foryou.for_you(user).entries


def titles(user) -> list[str]:
    return [entry.article.title for entry in entries(user)]


def reasons(entry: foryou.Entry) -> list[str]:
    return [reason.text for reason in entry.reasons]


# --- candidates, entries and reasons ---------------------------------------------------------


def test_one_entry_per_story_with_its_best_article_for_this_reader_and_why(reader):
    kyiv = [
        article(source("alpha"), "Kyiv talks open", hours=2, tags=("kyiv",)),
        article(source("beta"), "Talks in Kyiv begin", hours=1, tags=("kyiv",)),
        article(source("gamma"), "Kyiv: the talks", hours=3, tags=("kyiv",)),
    ]
    talks = story(kyiv, "Talks open in Kyiv")
    lone = article(source("delta"), "A harbour reopens", hours=1, tags=("harbour",))
    interests.follow(reader, "hashtag", "kyiv")
    interests.follow(reader, "source", "gamma")
    interests.follow(reader, "hashtag", "harbour")
    found = entries(reader)
    assert [e.article.title for e in found].count("Kyiv: the talks") == 1
    assert not {"Kyiv talks open", "Talks in Kyiv begin"} & {e.article.title for e in found}
    first = found[0]
    # gamma's article is the oldest of the three, but the reader follows gamma.
    assert first.article == kyiv[2] and first.story_id == talks.pk and first.more_sources == 2
    assert reasons(first)[:2] == ["You follow #Kyiv", "You follow Gamma"]
    assert "Top story, 3 publishers" in reasons(first)
    assert [e.article for e in found][1] == lone and reasons(found[1]) == ["You follow #Harbour"]
    # The score is the sum of its named terms.
    for entry in found:
        assert entry.score == pytest.approx(sum(part.points for part in entry.parts), abs=0.01)
        assert {part.weight for part in entry.parts} <= set(foryou.WEIGHTS)
    by_weight = {part.weight: part.points for part in first.parts}
    assert by_weight[foryou.FOLLOWED_HASHTAG] == foryou.FOLLOWED_HASHTAG.value
    assert by_weight[foryou.COVERAGE] == pytest.approx(foryou.COVERAGE.value * np.log2(3))


def test_without_follows_the_top_stories_come_and_old_news_does_not(reader):
    top = story(
        [article(source(f"pub-{n}"), f"Flood coverage {n}", hours=1 + n) for n in range(4)], "Floods in the north"
    )
    article(source("old-pub"), "Last month's news", hours=24 * 30, tags=("kyiv",))
    interests.follow(reader, "hashtag", "kyiv")
    found = foryou.for_you(reader)
    assert found.follows == 1
    assert [e.story_id for e in found.entries] == [top.pk]
    assert reasons(found.entries[0]) == ["Top story, 4 publishers"] and found.entries[0].more_sources == 3


def test_followed_sections_stories_and_saved_searches_are_candidates(reader, settings):
    science = article(source("alpha"), "Comet seen at dawn", section="science")
    followed = article(source("beta"), "Ceasefire holds in the south")
    other = article(source("gamma"), "Ceasefire: the view from the north")
    pair = story([followed, other], "Ceasefire")
    match = article(source("delta"), "Zeppelin museum opens", section="lifestyle")
    article(source("delta"), "Nothing to see", section="lifestyle")
    interests.follow(reader, "section", "science")
    interests.follow(reader, "story", pair.pk)
    interests.follow(reader, "search", "q=zeppelin")
    assert match not in {e.article for e in entries(reader)}  # until the alerts' fan-out matched it
    fan_out_everything(settings)
    by_article = {e.article: reasons(e) for e in entries(reader)}
    assert by_article[science] == ["You follow Science"]
    ceasefire = next(r for a, r in by_article.items() if a in (followed, other))
    assert ceasefire[0] == "You follow the story “Ceasefire”"
    assert by_article[match] == ["Matches your saved search “zeppelin”"]
    assert "Nothing to see" not in {a.title for a in by_article}


def test_muted_things_never_appear(reader):
    kept = article(source("alpha"), "Budget passes", tags=("budget",))
    article(source("noisy"), "Budget: a noisy take", tags=("budget",))
    article(source("beta"), "Budget and the royal family", tags=("budget",))
    article(source("gamma"), "Budget and the football", tags=("budget", "football"))
    article(source("delta"), "Budget in sport", tags=("budget",), section="sports")
    article(source("epsilon"), "Budget row", tags=("budget",), description="A Celebrity weighs in.")
    # A top story whose main hashtags include a muted one leaves with all its articles.
    story(
        [article(source(f"p{n}"), f"Cup final {n}", tags=("football",)) for n in range(3)]
        + [article(source("alpha"), "Cup final and the budget", tags=("budget",))],
        "Cup final",
    )
    interests.follow(reader, "hashtag", "budget")
    for kind, key in [("source", "noisy"), ("hashtag", "football"), ("section", "sports"), ("word", "royal family")]:
        interests.mute(reader, kind, key)
    interests.mute(reader, "word", "celebrity")
    assert titles(reader) == [kept.title]


def test_no_publisher_fills_the_page(reader, monkeypatch):
    busy = source("busy")
    for n in range(6):  # with the quiet ones: the newest PER_FOLLOW of the hashtag
        article(busy, f"Busy item {n}", hours=n * 0.1, tags=("elections",))
    quiet = [article(source(f"quiet-{n}"), f"Quiet item {n}", hours=5 + n, tags=("elections",)) for n in range(2)]
    interests.follow(reader, "hashtag", "elections")
    interests.follow(reader, "source", "busy")
    found = foryou.for_you(reader, limit=5)
    publishers = [e.article.source.slug for e in found.entries]
    assert publishers.count("busy") == foryou.PER_PUBLISHER
    assert {q.title for q in quiet} <= {e.article.title for e in found.entries}
    # With too little else, the page is still filled.
    assert len(foryou.for_you(reader, limit=8).entries) == 8


def test_articles_near_what_the_reader_saved_or_read(reader):
    seed = article(source("alpha"), "Glaciers retreat faster", vector=direction(1, 0.1))
    near = article(source("beta"), "Ice loss in the Alps", vector=direction(1, 0.2, 0.1))
    read = article(source("gamma"), "Rates rise again", vector=direction(0, 0, 0, 1))
    near_read = article(source("delta"), "Central bank moves", vector=direction(0, 0, 0.1, 1))
    article(source("epsilon"), "Unrelated festival", vector=direction(0, 0, 0, 0, 0, 1))
    index_all()
    saved.save(reader, seed)
    state.opened(reader, read.pk)
    by_article = {e.article: reasons(e) for e in entries(reader)}
    assert by_article[near] == ["Like “Glaciers retreat faster”, which you saved"]
    assert by_article[near_read] == ["Like “Rates rise again”, which you read"]
    assert "Unrelated festival" not in {a.title for a in by_article}
    assert seed not in by_article  # the seeds themselves are not suggested back


def test_more_less_and_hide_take_effect_on_the_next_page_load(reader):
    seed = article(source("alpha"), "Volcano erupts in Iceland", vector=direction(1, 0.1), tags=("iceland",))
    close = article(source("beta"), "Lava reaches the sea", vector=direction(1, 0.15), tags=("iceland",))
    far = article(source("gamma"), "Iceland's football team", vector=direction(0, 0, 1), tags=("iceland",))
    far_near = article(source("delta"), "A team in the north", vector=direction(0, 0, 1, 0.1))
    index_all()
    interests.follow(reader, "hashtag", "iceland")
    client = Client()
    client.force_login(reader)
    page = client.get(reverse("reader:for-you")).content.decode()
    assert seed.title in page and close.title in page and html.escape(far.title) in page
    assert far_near.title not in page
    # "Less like this" on the volcano: it goes, and its neighbour sinks below the others.
    client.post(reverse("reader:nudge", args=[seed.pk]), {"do": "less"})
    client.post(reverse("reader:nudge", args=[seed.pk]), {"do": "less"})  # idempotent
    assert Nudge.objects.filter(user=reader).count() == 1
    found = entries(reader)
    assert seed not in [e.article for e in found]
    assert [e.article for e in found][-1] == close
    assert any(p.weight is foryou.LESS_LIKE for p in found[-1].parts)
    # "More like this" on the football: its neighbour comes, saying why.
    response = client.post(reverse("reader:nudge", args=[far.pk]), {"do": "more"}, HTTP_HX_REQUEST="true")
    assert "Noted: more like this" in response.content.decode() and "Undo" in response.content.decode()
    by_article = {e.article: reasons(e) for e in entries(reader)}
    assert by_article[far_near] == ["More like “Iceland's football team”, as you asked"]
    # Undo, then hide a source from its entry.
    client.post(reverse("reader:nudge", args=[far.pk]), {"do": "undo"})
    assert far_near not in {e.article for e in entries(reader)}
    # "Hide <publisher>" is the same form's third button: a mute of the article's source.
    response = client.post(reverse("reader:nudge", args=[far.pk]), {"do": "hide", "next": reverse("reader:for-you")})
    assert response["Location"] == reverse("reader:for-you")
    assert far not in {e.article for e in entries(reader)}
    assert Interest.objects.filter(user=reader, kind="source", key="gamma", muted=True).exists()
    assert nudges.current(reader, [seed.pk, far.pk]) == {seed.pk: False}


def test_already_read_articles_sink_and_the_story_shows_an_unread_one(reader):
    first = article(source("alpha"), "Storm hits the coast", hours=1, tags=("storm",))
    second = article(source("beta"), "Coast counts storm damage", hours=2, tags=("storm",))
    story([first, second], "Storm")
    other = article(source("gamma"), "Storm season starts", hours=3, tags=("storm",))
    interests.follow(reader, "hashtag", "storm")
    assert entries(reader)[0].article == first
    state.mark_read(reader, [first.pk, other.pk])
    found = entries(reader)
    assert found[0].article == second and not found[0].read
    assert found[-1].article == other and found[-1].read
    assert any(p.weight is foryou.ALREADY_READ for p in found[-1].parts)


# --- the pages -------------------------------------------------------------------------------


def test_for_you_page_and_how_page(reader, client):
    article(source("alpha"), "Kyiv talks open", tags=("kyiv",))
    interests.follow(reader, "hashtag", "kyiv")
    response = client.get(reverse("reader:for-you"))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]
    client.force_login(reader)
    response = client.get(reverse("reader:for-you"))
    text = response.content.decode()
    assert (
        response.status_code == 200
        and "no-store" in response["Cache-Control"]
        and "private" in response["Cache-Control"]
    )
    assert "Kyiv talks open" in text and "You follow #Kyiv" in text and 'href="/hashtags/kyiv/"' in text
    assert re.search(r"Score \d+\.\d\d", text) and "More like this" in text and "Hide Alpha" in text
    assert 'href="/reading/for-you/"' in client.get(reverse("reader:saved")).content.decode()  # in the reader nav
    how = Client().get(reverse("reader:for-you-how")).content.decode()  # public: it holds no reader
    for weight in foryou.WEIGHTS:
        assert weight.name.capitalize() in how
    assert f"more than {foryou.PER_PUBLISHER} of the {foryou.PAGE}" in how and "+3.0" in how and "-2.0" in how


def test_a_new_reader_is_told_how_to_make_it_theirs(reader, client):
    client.force_login(reader)
    text = client.get(reverse("reader:for-you")).content.decode()
    assert "Make this page yours" in text and "Nothing for you" in text


def test_the_number_of_queries_does_not_grow_with_follows(reader):
    tags = [f"topic-{n}" for n in range(30)]
    for n, slug in enumerate(tags):
        article(source(f"pub-{n % 12}"), f"Item {n}", hours=n * 0.2, tags=(slug,))
    few, many = User.objects.create_user("few"), User.objects.create_user("many")
    for slug in tags[:2]:
        interests.follow(few, "hashtag", slug)
    for slug in tags:
        interests.follow(many, "hashtag", slug)
    for n in range(12):
        interests.follow(many, "source", f"pub-{n}")
    interests.follow(many, "section", "world")
    interests.mute(many, "word", "nothing")
    foryou.for_you(few)  # shared caches warmed
    counted = []
    for user in (few, many):
        with CaptureQueriesContext(connection) as queries:
            found = foryou.for_you(user)
        counted.append(len(queries.captured_queries))
        assert found.entries
    assert counted[1] <= counted[0] + 2, counted  # a source lookup for mutes, nothing per follow
    assert counted[1] <= 16, counted
