"""Which publishers cover which stories, read once per story version.

A story's publishers change only when its membership changes, and then `refresh`
(newsdesk/stories/refresh.py) moves its `updated_at`; so the source ids are kept in the
default cache under the story's id and `updated_at`, and a page of stories costs one
`get_many` plus one query for the stories not seen since they last changed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.core.cache import cache

from newsdesk.perspectives.breakdown import Breakdown, breakdown
from newsdesk.perspectives.profiles import all_profiles
from newsdesk.stories.models import Story, StoryMember

CACHE_SECONDS = 24 * 3600


def _key(story: Story) -> str:
    stamp = story.updated_at.timestamp() if story.updated_at else 0
    return f"newsdesk:coverage:{story.pk}:{stamp:.6f}"


def source_ids(stories: Iterable[Story]) -> dict[int, list[int]]:
    """Each story's publishers (source ids, sorted), by story id."""
    stories = list(stories)
    keys = {_key(story): story.pk for story in stories}
    found: dict[int, list[int]] = {}
    try:
        cached = cache.get_many(list(keys))
    except Exception:  # noqa: BLE001 - a cache outage costs a query, not the page
        cached = {}
    for key, ids in cached.items():
        found[keys[key]] = ids
    missing = [story.pk for story in stories if story.pk not in found]
    if missing:
        read: dict[int, set[int]] = defaultdict(set)
        pairs = StoryMember.objects.filter(story_id__in=missing).values_list("story_id", "article__source_id")
        for story_id, source_id in pairs.distinct():
            read[story_id].add(source_id)
        fresh = {pk: sorted(read.get(pk, ())) for pk in missing}
        found.update(fresh)
        by_pk = {pk: key for key, pk in keys.items()}
        try:
            cache.set_many({by_pk[pk]: ids for pk, ids in fresh.items()}, CACHE_SECONDS)
        except Exception:  # noqa: BLE001
            pass
    return found


def breakdowns(stories: Iterable[Story]) -> dict[int, Breakdown]:
    """Each story's breakdown by story id (see breakdown.py)."""
    profiles = all_profiles()
    ids = source_ids(stories)
    return {pk: breakdown(profiles[s] for s in sources if s in profiles) for pk, sources in ids.items()}


def breakdown_of(story: Story) -> Breakdown:
    return breakdowns([story])[story.pk]
