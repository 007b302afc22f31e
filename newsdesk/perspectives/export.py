"""The perspectives as plain data, for the API (newsdesk/api/schemas.py declares their
schemas): a story's coverage with its blindspot flags, a story at a glance, a
publisher's profile."""

from __future__ import annotations

from collections.abc import Iterable

from newsdesk.perspectives import blindspots, coverage
from newsdesk.perspectives.changes import corrected_per_story
from newsdesk.perspectives.models import ClaimAlignment
from newsdesk.perspectives.profiles import profile_of
from newsdesk.sources.models import Source
from newsdesk.stories.models import Story


def story_coverage(stories: Iterable[Story]) -> dict[int, dict]:
    """Each story's breakdown and blindspot flags by story id: one lookup for all."""
    found = coverage.breakdowns(stories)
    site = blindspots.site_baseline()
    return {
        pk: {
            **breakdown.as_data(),
            "blindspots": [
                {
                    "rule": flag.rule.key,
                    "title": flag.rule.title,
                    "groups": list(flag.groups),
                    "statement": flag.statement,
                }
                for flag in blindspots.flags(breakdown, site)
            ],
        }
        for pk, breakdown in found.items()
    }


def stories_at_a_glance(stories: Iterable[Story], covered: dict[int, dict]) -> dict[int, dict]:
    """Each story in a few numbers (schemas.StoryGlance), by id, from its coverage as
    `story_coverage` gives it: two queries for any number of stories (the alignments'
    stored counts and the corrected members), none per story."""
    stories = list(stories)
    ids = [s.pk for s in stories]
    counts = {
        pk: (agreements, conflicts)
        for pk, agreements, conflicts in ClaimAlignment.objects.filter(story_id__in=ids).values_list(
            "story_id", "agreement_count", "conflict_count"
        )
    }
    corrected = corrected_per_story(ids)
    out = {}
    for pk in ids:
        data = covered.get(pk) or {"publishers": 0, "dimensions": []}
        dimensions = {d["key"]: d["parts"] for d in data["dimensions"]}
        agreements, conflicts = counts.get(pk, (0, 0))
        out[pk] = {
            "publishers": data["publishers"],
            "kinds": [_glance(p) for p in dimensions.get("kind", [])],
            "regions": [_glance(p) for p in dimensions.get("region", [])],
            "agreements": agreements,
            "conflicts": conflicts,
            "corrected_articles": corrected.get(pk, 0),
        }
    return out


def _glance(part: dict) -> dict:
    return {"key": part["key"], "label": part["label"], "count": part["count"]}


def source_profile(source: Source) -> dict:
    profile = profile_of(source)
    assert profile is not None  # a Source instance always has one
    return profile.as_data()
