"""RSS and Atom feeds of a story: its articles as they arrive, newest first."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse

from newsdesk.articles.models import Article
from newsdesk.stories.models import Story
from newsdesk.web.feeds import LatestFeed, atom, feed_articles


class StoryFeed(LatestFeed):
    def get_object(self, request, pk: int) -> Story:
        story = get_object_or_404(Story, pk=pk)
        while story.merged_into_id:  # a merged story's feed follows the story it joined
            story = story.merged_into
        return story

    def title(self, obj: Story) -> str:
        return f"newsdesk story: {obj.title}"

    def description(self, obj: Story) -> str:
        return f"Coverage of this story from {obj.publisher_count} publishers."

    def link(self, obj: Story) -> str:
        return reverse("story", args=[obj.pk])

    def listing(self, obj: Story) -> QuerySet[Article]:
        return feed_articles().filter(story_member__story=obj)


AtomStoryFeed = atom(StoryFeed)
