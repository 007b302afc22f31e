"""Moderator corrections to stories, each recorded as a StoryEvent that can be undone.

The clusterer decides alone as articles arrive; a moderator can take an article out of
a story it was wrongly joined to (the article then stands alone and is locked, so the
clusterer never puts it back), merge two stories, and undo either step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from newsdesk.articles.models import Article
from newsdesk.stories.models import Story, StoryEvent, StoryMember
from newsdesk.stories.refresh import refresh_stories
from newsdesk.stories.signals import send_stories_changed

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


class ModerationError(ValueError):
    """A step that cannot be taken, with a message for the moderator."""


def _changed(*story_ids: int) -> None:
    refresh_stories(story_ids)
    send_stories_changed(StoryMember.objects.filter(story_id__in=story_ids).values_list("article_id", flat=True))


@transaction.atomic
def detach(article: Article, by: AbstractBaseUser | None = None) -> Story:
    """Take `article` out of its story into a story of its own."""
    member = StoryMember.objects.select_for_update().filter(article=article).select_related("story").first()
    if member is None:
        raise ModerationError("this article is not in a story")
    old = member.story
    if old.members.count() == 1:
        raise ModerationError("this article is already alone in its story")
    new = Story.objects.create(
        title=article.title, representative=article, first_seen=article.published_at, last_seen=article.published_at
    )
    member.story, member.locked, member.similarity = new, True, 1.0
    member.save()
    StoryEvent.objects.create(kind=StoryEvent.Kind.DETACH, story=old, other=new, articles=[article.pk], by=by)
    _changed(old.pk, new.pk)
    return new


@transaction.atomic
def merge(into: Story, other: Story, by: AbstractBaseUser | None = None) -> Story:
    """Move every article of `other` into `into`; `other` then redirects to `into`."""
    into, other = Story.objects.get(pk=into.pk), Story.objects.get(pk=other.pk)
    if into.pk == other.pk:
        raise ModerationError("a story cannot be merged with itself")
    if into.merged_into_id or other.merged_into_id:
        raise ModerationError("one of these stories was already merged into another")
    moved = list(other.members.values_list("article_id", flat=True))
    other.members.update(story=into)
    Story.objects.filter(pk=other.pk).update(merged_into=into, updated_at=timezone.now())
    Story.objects.filter(merged_into=other).update(merged_into=into)
    StoryEvent.objects.create(kind=StoryEvent.Kind.MERGE, story=into, other=other, articles=moved, by=by)
    _changed(into.pk, other.pk)
    return into


@transaction.atomic
def undo(event: StoryEvent, by: AbstractBaseUser | None = None) -> None:
    """Reverse a merge or a detach, as long as the stories still exist."""
    event = StoryEvent.objects.select_for_update().get(pk=event.pk)
    if event.undone:
        raise ModerationError("this step was already undone")
    if event.other_id is None:
        raise ModerationError("a story this step involved no longer exists")
    if event.kind == StoryEvent.Kind.MERGE:
        Story.objects.filter(pk=event.other_id).update(merged_into=None)
        StoryMember.objects.filter(article_id__in=event.articles, story=event.story).update(
            story_id=event.other_id, locked=True
        )
    elif event.kind == StoryEvent.Kind.DETACH:
        StoryMember.objects.filter(article_id__in=event.articles, story_id=event.other_id).update(
            story=event.story, locked=True
        )
    else:
        raise ModerationError("this step cannot be undone")
    event.undone = True
    event.save(update_fields=["undone"])
    StoryEvent.objects.create(
        kind=StoryEvent.Kind.UNDO, story=event.story, other_id=event.other_id, articles=event.articles, by=by
    )
    _changed(event.story_id, event.other_id)
