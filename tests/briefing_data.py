"""Test data for briefings and alerts, built through the ORM on top of tests/web_data.py:
readers with follows and mutes (Interest rows, written directly), new coverage joining
a story, and the story's multi-source summary computed by the real refresh code."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from newsdesk.articles.models import Article
from newsdesk.reader.models import Interest
from newsdesk.stories.models import NearDuplicate, Story, StoryMember
from newsdesk.stories.refresh import refresh
from tests import web_data

User = get_user_model()
Kind = Interest.Kind

BODIES = {
    "ceasefire": (
        "Negotiators in Istanbul agreed on a prisoner exchange late on Monday. "
        "The exchange covers about a thousand soldiers from each side, officials said. "
        "Further talks on a ceasefire are planned for next week."
    ),
    "exchange": (
        "Russia and Ukraine swapped hundreds of prisoners on Tuesday under the Istanbul deal. "
        "Buses carrying the released soldiers crossed the border near Sumy. "
        "Families waited for hours at the crossing."
    ),
    "grain": (
        "Grain shipments from Odesa resumed after a pause of three weeks. "
        "Insurers had raised premiums sharply for vessels in the Black Sea. "
        "Traders expect prices to ease."
    ),
    "harbour": (
        "Harbour walls collapsed in the storm overnight, port officials said. "
        "Repairs to the harbour walls will take months. "
        "Fishing boats were moved to a neighbouring port."
    ),
}


def reader(name: str, email: str | None = None):
    return User.objects.create_user(name, email if email is not None else f"{name}@example.org", "a long password 42")


def follow(user, kind: str, key: str, label: str = "", *, seen_at: datetime | None = None) -> Interest:
    return Interest.objects.create(
        user=user, kind=kind, key=str(key), label=label, muted=False, seen_at=seen_at or timezone.now()
    )


def mute(user, kind: str, key: str) -> Interest:
    return Interest.objects.create(user=user, kind=kind, key=str(key), label=key, muted=True)


def coverage(
    source_slug: str,
    n: int,
    *,
    title: str,
    body: str,
    story: Story | None = None,
    hashtags: tuple[tuple[str, str], ...] = (),
    section: str = "world",
    published: datetime | None = None,
    joined: datetime | None = None,
    placed: bool = True,
    description: str = "",
) -> Article:
    """A new article, enriched (summary sentences 0 and 1), tagged and, when `placed`,
    in `story` (or a story of its own): as the pipeline leaves it."""
    names = {"rt": "Russia Today", "bbc": "BBC News", "evil": "Gazette", "dw": "Deutsche Welle", "ap": "AP News"}
    homes = {"rt": "https://www.rt.com/", "bbc": "https://www.bbc.co.uk/", "dw": "https://www.dw.com/"}
    src = web_data.source(
        source_slug, names.get(source_slug, source_slug), homes.get(source_slug, f"https://{source_slug}.example/")
    )
    item = web_data.article(
        src, n, title=title, body_text=body, published=published or timezone.now(), description=description or title
    )
    web_data.enrich(item, section=section)
    for position, (slug, name) in enumerate(hashtags):
        web_data.tag(item, slug, name, position=position)
    if placed:
        if story is None:
            story = web_data.story_of([item], title)
        else:
            StoryMember.objects.create(article=item, story=story, joined_at=joined or timezone.now())
        refresh(story)
    return item


def copy_of(original: Article, source_slug: str, n: int, story: Story) -> Article:
    item = coverage(source_slug, n, title=original.title, body=original.body_text, story=story)
    NearDuplicate.objects.create(article=item, original=original, similarity=0.98)
    return item


def summarised_world():
    """tests/web_data's world, its story with a real multi-source summary and a second
    top story, both covered by two publishers today."""
    world = web_data.build_world()
    refresh(world.story)
    earlier = timezone.now() - timedelta(hours=3)
    grain_story = None
    first = coverage("dw", 901, title="Grain shipments resume from Odesa", body=BODIES["grain"], published=earlier)
    grain_story = first.story_member.story
    coverage(
        "ap", 902, title="Odesa grain ships sail again", body=BODIES["grain"].replace("three", "3"), story=grain_story
    )
    grain_story.refresh_from_db()
    return world, grain_story
