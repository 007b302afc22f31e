"""RSS and Atom feeds of every listing (Django's syndication framework).

Each listing has an RSS 2.0 feed at `.../rss` and an Atom feed at `.../atom`; items
carry the article's headline, summary (or description), source, and a link to our
article page, with the publisher's URL as the item's source. Like the pages, a feed lists
each article text once and names the other publishers of a syndicated text. An item the
publisher corrected says so ("Corrected 6 Dec 2026 08:16 UTC"); a story's feed says in its
description where its publishers agree and differ, and each item that takes a side in a
conflict names it (newsdesk/perspectives/).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from django.contrib.syndication.views import Feed
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed

from newsdesk.articles.models import Article, Hashtag
from newsdesk.perspectives.alignment import StoryClaims, story_claims
from newsdesk.perspectives.changes import summaries
from newsdesk.sources.models import Source
from newsdesk.stories import copies
from newsdesk.stories.models import Story

ITEMS = 50

# What a feed lists the articles of (Django's `obj`, from `get_object`): None for the
# latest articles, else a source, a hashtag, a section or a story.
Of = TypeVar("Of")


def feed_articles() -> QuerySet[Article]:
    """What every feed lists from: articles with their source and enrichment, no HTML body."""
    return Article.objects.select_related("source", "enrichment").defer("body_html")


class ArticleFeed(Feed, Generic[Of]):
    """A feed of articles: their fields as items. Each feed says what it is of, and
    gives its title, description, link and `listing` for that."""

    def items(self, obj: Of) -> list[Article]:
        items = copies.also_published_by(self.fold(self.listing(obj))[:ITEMS])
        changed = summaries(item.pk for item in items)  # one query for the feed
        for item in items:
            found = changed.get(item.pk)
            item.corrected_at = found.corrected_at if found else None
        return items

    def listing(self, obj: Of) -> QuerySet[Article]:
        raise NotImplementedError

    def fold(self, articles: QuerySet[Article]) -> QuerySet[Article]:
        """Each text once (newsdesk/stories/copies.py)."""
        return copies.fold(articles)

    def item_title(self, item: Article) -> str:
        return item.title

    def item_description(self, item: Article) -> str:
        enrichment = getattr(item, "enrichment", None)
        text = (enrichment.summary if enrichment and enrichment.summary else item.description) or ""
        others = [source.name for source in getattr(item, "also_published_by", [])]
        if others:
            names = others[0] if len(others) == 1 else ", ".join(others[:-1]) + " and " + others[-1]
            text = f"{text} (Also published by {names}.)".strip()
        return " ".join(part for part in (text, *self.item_notes(item)) if part)

    def item_notes(self, item: Article) -> list[str]:
        """Short lines after the item's text: a correction, and what a feed adds."""
        corrected = getattr(item, "corrected_at", None)
        if corrected is None:
            return []
        at = timezone.localtime(corrected)
        return [f"(Corrected {at.day} {at:%b %Y %H:%M %Z}.)"]

    def item_link(self, item: Article) -> str:
        return item.get_absolute_url()

    def item_guid(self, item: Article) -> str:
        return item.url

    item_guid_is_permalink = False

    def item_pubdate(self, item: Article) -> datetime:
        return item.published_at

    def item_updateddate(self, item: Article) -> datetime:
        return item.updated_at

    def item_author_name(self, item: Article) -> str:
        return item.byline or item.source.name

    def item_categories(self, item: Article) -> list[str]:
        enrichment = getattr(item, "enrichment", None)
        return [enrichment.section] if enrichment and enrichment.section else []


class LatestFeed(ArticleFeed[None]):
    title = "newsdesk: latest"
    description = "The latest articles from every publisher."

    def link(self, obj: None = None) -> str:
        return reverse("home")

    def listing(self, obj: None) -> QuerySet[Article]:
        return feed_articles()

    def fold(self, articles: QuerySet[Article]) -> QuerySet[Article]:
        return copies.originals_only(articles)  # every original is listed


class SourceFeed(ArticleFeed[Source]):
    def get_object(self, request: HttpRequest, slug: str) -> Source:
        return get_object_or_404(Source, slug=slug)

    def title(self, obj: Source) -> str:
        return f"newsdesk: {obj.name}"

    def description(self, obj: Source) -> str:
        return f"Articles from {obj.name}."

    def link(self, obj: Source) -> str:
        return reverse("source", args=[obj.slug])

    def listing(self, obj: Source) -> QuerySet[Article]:
        return feed_articles().filter(source=obj)


class HashtagFeed(ArticleFeed[Hashtag]):
    def get_object(self, request: HttpRequest, slug: str) -> Hashtag:
        return get_object_or_404(Hashtag, slug=slug)

    def title(self, obj: Hashtag) -> str:
        return f"newsdesk: #{obj.name}"

    def description(self, obj: Hashtag) -> str:
        return f"Articles about {obj.name}."

    def link(self, obj: Hashtag) -> str:
        return reverse("hashtag", args=[obj.slug])

    def listing(self, obj: Hashtag) -> QuerySet[Article]:
        return feed_articles().filter(article_hashtags__hashtag=obj)


class SectionFeed(ArticleFeed[str]):
    def get_object(self, request: HttpRequest, section: str) -> str:
        return section

    def title(self, obj: str) -> str:
        return f"newsdesk: {obj}"

    def description(self, obj: str) -> str:
        return f"Articles in {obj}."

    def link(self, obj: str) -> str:
        return reverse("section", args=[obj])

    def listing(self, obj: str) -> QuerySet[Article]:
        return feed_articles().filter(enrichment__section=obj)


def atom(feed_class: type[ArticleFeed[Any]]) -> type[ArticleFeed[Any]]:
    """The same feed as Atom 1.0."""
    return type(
        f"Atom{feed_class.__name__}", (feed_class,), {"feed_type": Atom1Feed, "subtitle": feed_class.description}
    )


class StoryFeed(ArticleFeed[Story]):
    def title(self, obj: Story) -> str:
        return f"newsdesk story: {obj.title}"

    def get_object(self, request: HttpRequest, pk: int) -> Story:
        story = _followed(get_object_or_404(Story, pk=pk))
        story.claim_summary = story_claims(story)
        return story

    def description(self, obj: Story) -> str:
        line = agreement_line(_claims_of(obj))
        return " ".join(
            part for part in (f"Coverage of this story from {obj.publisher_count} publishers.", line) if part
        )

    def items(self, obj: Story) -> list[Article]:
        items = super().items(obj)
        found = _claims_of(obj)
        differs: dict[int, list[str]] = {}
        for conflict in found.conflicts:
            for version in conflict.versions:
                for cite in version.citations:
                    what = "who said it" if conflict.kind == "quote" else conflict.what
                    if what not in differs.setdefault(cite.article.pk, []):
                        differs[cite.article.pk].append(what)
        for item in items:
            item.differs_on = differs.get(item.pk, [])
        return items

    def item_notes(self, item: Article) -> list[str]:
        notes = super().item_notes(item)
        differs = getattr(item, "differs_on", [])
        if differs:
            notes.append(f"(Other publishers differ on: {', '.join(differs)}.)")
        return notes

    def link(self, obj: Story) -> str:
        return reverse("story", args=[obj.pk])

    def listing(self, obj: Story) -> QuerySet[Article]:
        return feed_articles().filter(story_member__story=obj)


def _claims_of(story: Story) -> StoryClaims:
    found = getattr(story, "claim_summary", None)
    return found if found is not None else story_claims(story)


def _followed(story: Story) -> Story:
    while story.merged_into_id:  # a merged story's feed follows the story it joined
        story = story.merged_into
    return story


def agreement_line(found: StoryClaims) -> str:
    """ "Its publishers agree on 3 claims and differ on 1 (deaths)." or "" when neither."""
    agree, differ = len(found.agreements), len(found.conflicts)
    if not agree and not differ:
        return ""
    parts = []
    if agree:
        parts.append(f"agree on {agree} claim{'s' if agree != 1 else ''}")
    if differ:
        whats = ", ".join(dict.fromkeys("who said it" if c.kind == "quote" else c.what for c in found.conflicts))
        parts.append(f"differ on {differ} ({whats})")
    return f"Its publishers {' and '.join(parts)}."
