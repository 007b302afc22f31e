"""`{% story_primary_sources story as primary %}`: the documents a story's articles link
to (primary.py), for the story page's "Primary sources" box."""

from __future__ import annotations

from django import template

from newsdesk.perspectives.primary import PrimarySource, of_story
from newsdesk.stories.models import Story

register = template.Library()


@register.simple_tag
def story_primary_sources(story: Story) -> list[PrimarySource]:
    return of_story(story) if story is not None else []
